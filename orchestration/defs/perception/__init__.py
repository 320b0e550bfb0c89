"""Perception: ingest landed batches, validate them at the boundary, model marts with dbt, publish."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.perception.ingest import ingest_assets
from orchestration.defs.perception.publish import build_publish_asset
from orchestration.defs.perception.sensors import build_landing_sensor
from orchestration.defs.perception.transform import build_dbt_assets, dbt_resource

PERCEPTION_JOB = "perception"


def perception_definitions() -> dg.Definitions:
    dbt_models = build_dbt_assets()
    marts = sorted((key for key in dbt_models.keys if key.path[0] == "marts"), key=lambda k: k.to_user_string())
    job = dg.define_asset_job(
        PERCEPTION_JOB, selection=dg.AssetSelection.groups("perception"),
        description="Ingest and validate the landed batches of the selected dates, build the dbt marts, "
                    "publish the analyst database.")
    return dg.Definitions(
        assets=[*ingest_assets(), dbt_models, build_publish_asset(marts)],
        jobs=[job],
        sensors=[build_landing_sensor(job)],
        resources={"dbt": dbt_resource()},
    )
