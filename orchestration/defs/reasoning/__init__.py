"""Reasoning: demand forecasts and causal price elasticities, trained and served through MLflow.

Two jobs:

- ``train_models`` (weekly schedule): fit a candidate of each model before a time-based holdout,
  score it and the current champion on that holdout, register it, and move the alias ``champion``
  only if it won; an asset check per model records the comparison;
- ``refresh_forecasts`` (after every successful ``build_marts`` run): load each model's champion and
  write today's forecasts and elasticities, with the model version used, to the ``reasoning`` schema
  of the warehouse, then republish the analyst database.
"""

import dagster as dg

from orchestration.defs.reasoning.models import model_assets
from orchestration.defs.reasoning.serving import serving_assets
from orchestration.defs.reasoning.triggers import build_refresh_sensor, build_retrain_schedule

TRAIN_JOB = "train_models"
REFRESH_JOB = "refresh_forecasts"


def reasoning_definitions(build_job) -> dg.Definitions:
    models = model_assets()
    serving = serving_assets()
    train_job = dg.define_asset_job(
        TRAIN_JOB, selection=dg.AssetSelection.assets(*models),
        description="Train candidates of demand_forecast and price_elasticity, gate them against the champions "
                    "on a time-based holdout, register them in MLflow.")
    refresh_job = dg.define_asset_job(
        REFRESH_JOB, selection=dg.AssetSelection.assets(*serving),
        description="Forecast demand for the next 14 days and publish elasticities with the champion models.")
    return dg.Definitions(
        assets=[*models, *serving],
        jobs=[train_job, refresh_job],
        schedules=[build_retrain_schedule(train_job)],
        sensors=[build_refresh_sensor(build_job, refresh_job)],
    )
