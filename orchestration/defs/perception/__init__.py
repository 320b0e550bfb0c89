"""Perception: ingest landed batches, validate them at the boundary, model the marts with dbt.

- ``raw/*`` (group ``raw``): one asset per raw table, partitioned by batch date; the landing sensor
  registers each complete date and launches its ingestion (a backlog becomes one ranged run);
- ``staging/*``, ``intermediate/*``, ``marts/*`` (groups of the same names): the dbt models, with
  their tests as asset checks; they build when their raw parents update and pass their blocking
  checks, so a blocked batch builds nothing downstream.

The analyst database that publishes the marts lives in :mod:`orchestration.defs.analytics`: it is
downstream of reasoning's tables too.
"""

import dagster as dg

from orchestration.defs.perception.ingest import ingest_assets
from orchestration.defs.perception.sensors import build_landing_sensor
from orchestration.defs.perception.transform import build_dbt_assets, dbt_resource
from orchestration.jobs import INGEST_JOB


def perception_definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=[*ingest_assets(), build_dbt_assets()],
        sensors=[build_landing_sensor(INGEST_JOB)],
        resources={"dbt": dbt_resource()},
    )
