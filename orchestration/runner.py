"""Run the perception job for a range of dates through Dagster, against the persistent instance.

The CLI (``ingest``, ``demo``) uses this, so its runs, checks and lineage are in the Dagster UI
afterwards, exactly as if launched there. A range is one run (the single-run backfill policy).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass
class CheckOutcome:
    asset: str
    check: str
    passed: bool
    severity: str
    description: str | None


@dataclass
class RunReport:
    run_id: str
    success: bool
    seconds: float
    step_seconds: dict[str, float] = field(default_factory=dict)
    checks: list[CheckOutcome] = field(default_factory=list)
    failure: str | None = None

    @property
    def checks_failed(self) -> list[CheckOutcome]:
        return [c for c in self.checks if not c.passed]


def run_perception(start: dt.date, end: dt.date, instance=None, log_level: str = "WARNING") -> RunReport:
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    from orchestration.defs.perception import PERCEPTION_JOB
    from orchestration.definitions import defs
    from orchestration.instance import get_instance

    if end < start:
        raise ValueError(f"end date {end} is before start date {start}")
    instance = instance or get_instance()
    job = defs.resolve_job_def(PERCEPTION_JOB)
    tags = {ASSET_PARTITION_RANGE_START_TAG: start.isoformat(), ASSET_PARTITION_RANGE_END_TAG: end.isoformat(),
            "dagster/agentic_commerce/launched_by": "cli"}
    started = dt.datetime.now(dt.UTC)
    # The full event log is in the Dagster UI; the terminal gets warnings and errors only.
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    result = job.execute_in_process(instance=instance, tags=tags, run_config=run_config, raise_on_error=False)
    seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
    report = RunReport(result.run_id, result.success, seconds)
    for stats in instance.get_run_step_stats(result.run_id):
        if stats.start_time and stats.end_time:
            report.step_seconds[stats.step_key] = stats.end_time - stats.start_time
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            report.checks.append(CheckOutcome(data.asset_key.to_user_string(), data.check_name, data.passed,
                                              data.severity.value, data.description))
        if event.event_type_value == "STEP_FAILURE" and report.failure is None:
            error = event.event_specific_data.error
            report.failure = f"{event.step_key}: {error.message.strip() if error else 'failed'}"
    return report
