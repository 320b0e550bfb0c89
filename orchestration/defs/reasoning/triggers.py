"""When reasoning runs: a weekly retrain, and a forecast refresh after every successful marts build."""

import dagster as dg

from orchestration.defs.perception.sensors import build_follow_up_sensor

RETRAIN_CRON = "0 3 * * 1"  # Mondays 03:00, after the night's ingestion


def build_retrain_schedule(train_job) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="weekly_model_retrain", job=train_job, cron_schedule=RETRAIN_CRON,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Retrains both models weekly; a candidate serves only if it beats the champion.")


def build_refresh_sensor(build_job, refresh_job) -> dg.SensorDefinition:
    return build_follow_up_sensor(
        "refresh_forecasts_after_build", build_job, refresh_job, "agentic_commerce/after_build_run",
        "Refreshes forecasts and elasticities from the champions after each successful marts build.")
