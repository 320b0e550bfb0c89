"""Jobs: named selections a person (or the command line) launches; automation needs none of them.

Selections are by group and key prefix, so no layer passes job objects to another.
"""

import dagster as dg

from orchestration.defs.analytics import ANALYTICS_KEY

INGEST_JOB = "ingest_landed_batches"
BUILD_JOB = "build_marts"
TRAIN_JOB = "train_models"
REFRESH_JOB = "refresh_forecasts"
MART_GROUPS = ("staging", "intermediate", "marts")


def jobs() -> list:
    publish = dg.AssetSelection.assets(ANALYTICS_KEY)
    return [
        dg.define_asset_job(INGEST_JOB, selection=dg.AssetSelection.groups("raw"),
                            description="Ingest and validate the landed batches of the selected dates into raw.* "
                                        "(with quarantine); one run for a range of dates."),
        dg.define_asset_job(BUILD_JOB, selection=dg.AssetSelection.groups(*MART_GROUPS) | publish,
                            description="Build the dbt staging, intermediate and mart models with their tests, then "
                                        "publish the analyst database."),
        dg.define_asset_job(TRAIN_JOB, selection=dg.AssetSelection.key_prefixes("models"),
                            description="Train candidates of demand_forecast and price_elasticity, gate them against "
                                        "the champions on a time-based holdout, register them in MLflow."),
        dg.define_asset_job(REFRESH_JOB, selection=dg.AssetSelection.key_prefixes("reasoning") | publish,
                            description="Forecast demand for the next 14 days and publish elasticities with the "
                                        "champion models, then publish the analyst database."),
    ]
