"""The Dagster code location: every layer's definitions merged with the shared resources.

``dagster dev -w workspace.yaml`` (``make ui``) loads ``defs`` from here. Runs execute in one
process per run (heavy libraries import once per run; warehouse writers are serialized by the
``duckdb_warehouse`` pool, which is honoured across runs).
"""

from __future__ import annotations

import dagster as dg

from orchestration.defs.perception import BUILD_JOB, perception_definitions
from orchestration.defs.reasoning import reasoning_definitions
from orchestration.resources import default_data_directory
from orchestration.settings import export_environment

export_environment()



def _code_location() -> dg.Definitions:
    """All layers merged. Built inside a function: Dagster's loader refuses a module that holds more
    than one ``Definitions`` object at module scope, so ``defs`` must be the only one."""
    perception = perception_definitions()
    return dg.Definitions.merge(
        perception,
        reasoning_definitions(next(job for job in perception.jobs if job.name == BUILD_JOB)),
        dg.Definitions(resources={"data_dir": default_data_directory()}, executor=dg.in_process_executor),
    )


defs = _code_location()
