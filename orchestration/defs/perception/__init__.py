"""Perception: ingest landed batches, validate them at the boundary, model marts with dbt, publish.

Two jobs, because their assets are partitioned differently:

- ``ingest_landed_batches``: the raw tables, daily-partitioned; launched by the landing sensor for
  new dates (a backlog becomes one ranged run);
- ``build_marts``: dbt (staging, intermediate, marts, with tests) and the analyst database, which
  are not partitioned; launched after every successful ingestion run. A failed ingestion — a
  blocked batch — launches nothing, so nothing downstream uses that batch.

Keeping them apart also keeps a year's backfill cheap: Dagster plans an event per asset and
partition, and unpartitioned assets in a ranged run would be planned 365 times each.
"""

import dagster as dg

from orchestration.defs.perception.ingest import ingest_assets
from orchestration.defs.perception.publish import build_publish_asset
from orchestration.defs.perception.sensors import build_after_ingest_sensor, build_landing_sensor
from orchestration.defs.perception.transform import build_dbt_assets, dbt_resource

INGEST_JOB = "ingest_landed_batches"
BUILD_JOB = "build_marts"


def perception_definitions() -> dg.Definitions:
    raw_assets = ingest_assets()
    dbt_models = build_dbt_assets()
    marts = sorted((key for key in dbt_models.keys if key.path[0] == "marts"), key=lambda k: k.to_user_string())
    publish = build_publish_asset(marts)
    ingest_job = dg.define_asset_job(
        INGEST_JOB, selection=dg.AssetSelection.assets(*raw_assets),
        description="Ingest and validate the landed batches of the selected dates into raw.* (with quarantine).")
    build_job = dg.define_asset_job(
        BUILD_JOB, selection=dg.AssetSelection.assets(dbt_models, publish),
        description="Build the dbt staging, intermediate and mart models with their tests, then publish the "
                    "analyst database.")
    return dg.Definitions(
        assets=[*raw_assets, dbt_models, publish],
        jobs=[ingest_job, build_job],
        sensors=[build_landing_sensor(ingest_job), build_after_ingest_sensor(ingest_job, build_job)],
        resources={"dbt": dbt_resource()},
    )
