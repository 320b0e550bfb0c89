"""The Dagster code location: every layer's definitions merged with the shared resources.

``dagster dev -w workspace.yaml`` (``make ui``) loads ``defs``, a lazy ``@dg.definitions`` function:
importing this module does nothing, and loading reads the prepared dbt manifest and the environment
(the data directory), nothing more. :func:`build_defs` builds the same definitions for any data
directory, which is how the command line and the tests run them.

Runs execute in one process per run (heavy libraries import once per run); warehouse and MLflow
writers are serialized by the ``duckdb_warehouse`` pool, which is honoured across runs. After
ingestion, what runs next is declarative: each downstream asset carries an ``AutomationCondition``
and Dagster's automation sensor evaluates them (every 15 s while the daemon runs).
"""

from __future__ import annotations

import os

import dagster as dg

from orchestration.settings import DATA_DIR_ENV, DataPaths, data_paths

AUTOMATION_SENSOR = "automation"
AUTOMATION_SECONDS = 15


def build_resources(paths: DataPaths | None = None) -> dict[str, dg.ConfigurableResource]:
    """The shared resources over ``paths``; without paths, over ``$AGENTIC_COMMERCE_DATA_DIR`` read when a
    run starts (``EnvVar``), or ``./data`` when the variable is not set."""
    from orchestration.resources import AnalystDatabase, DataDirectory, LandingZone, ModelRegistryResource, Warehouse

    if paths is not None:
        data_dir = DataDirectory(root=str(paths.root))
    elif DATA_DIR_ENV in os.environ:
        data_dir = DataDirectory(root=dg.EnvVar(DATA_DIR_ENV))
    else:
        data_dir = DataDirectory(root=str(data_paths().root))
    warehouse = Warehouse(data_dir=data_dir)
    return {"landing": LandingZone(data_dir=data_dir), "warehouse": warehouse,
            "analyst_db": AnalystDatabase(warehouse=warehouse), "model_registry": ModelRegistryResource(data_dir=data_dir)}


def build_defs(paths: DataPaths | None = None) -> dg.Definitions:
    """All layers merged, with resources over ``paths`` (see :func:`build_resources`)."""
    from orchestration.defs.analytics import analytics_definitions
    from orchestration.defs.perception import perception_definitions
    from orchestration.defs.reasoning import reasoning_definitions
    from orchestration.defs.reasoning.serving import serving_assets
    from orchestration.jobs import jobs

    perception = perception_definitions()
    marts = [key for asset in perception.assets for key in asset.keys if key.path[0] == "marts"]
    served = [key for asset in serving_assets() for key in asset.keys]
    automation = dg.AutomationConditionSensorDefinition(
        AUTOMATION_SENSOR, target=dg.AssetSelection.all(), minimum_interval_seconds=AUTOMATION_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Evaluates every asset's automation condition: marts after ingestion, forecasts after the "
                    "marts or a champion changed, the analyst database after any of them, weekly training.")
    return dg.Definitions.merge(
        perception,
        reasoning_definitions(),
        analytics_definitions(marts + served),
        dg.Definitions(jobs=jobs(), sensors=[automation], resources=build_resources(paths),
                       executor=dg.in_process_executor),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_defs()
