"""Run the perception job for a range of dates through Dagster, against the persistent instance.

The CLI (``ingest``, ``demo``) uses this, so its runs, checks and lineage are in the Dagster UI
afterwards, exactly as the sensors would have launched them: a range of dates is one ingestion run
(the single-run backfill policy), followed by one run that builds the marts.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class CheckOutcome:
    asset: str
    check: str
    passed: bool
    severity: str
    description: str | None


@dataclass
class RunReport:
    job: str
    run_id: str
    success: bool
    seconds: float
    step_seconds: dict[str, float] = field(default_factory=dict)
    checks: list[CheckOutcome] = field(default_factory=list)
    failure: str | None = None

    @property
    def checks_failed(self) -> list[CheckOutcome]:
        return [c for c in self.checks if not c.passed]


def run_perception(start: dt.date, end: dt.date, instance=None, log_level: str = "WARNING",
                   output_log: Path | None = None) -> list[RunReport]:
    """Ingest the dates as one run, then — only if that succeeded — build the marts in a second run."""
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    from orchestration.defs.perception import BUILD_JOB, INGEST_JOB
    from orchestration.instance import get_instance

    if end < start:
        raise ValueError(f"end date {end} is before start date {start}")
    instance = instance or get_instance()
    ingest = run_job(INGEST_JOB, instance, log_level, {
        ASSET_PARTITION_RANGE_START_TAG: start.isoformat(), ASSET_PARTITION_RANGE_END_TAG: end.isoformat()},
        output_log)
    if not ingest.success:
        return [ingest]
    return [ingest, run_job(BUILD_JOB, instance, log_level, {"agentic_commerce/after_ingest_run": ingest.run_id},
                            output_log)]


def run_job(name: str, instance, log_level: str = "WARNING", tags: dict[str, str] | None = None,
            output_log: Path | None = None) -> RunReport:
    """Execute one job in this process; tool output (dbt's progress) goes to ``output_log`` if given."""
    from orchestration.definitions import defs

    job = defs.resolve_job_def(name)
    started = dt.datetime.now(dt.UTC)
    # The full event log is in the Dagster UI; the terminal gets warnings and errors only.
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    with contextlib.ExitStack() as stack:
        if output_log is not None:
            output_log.parent.mkdir(parents=True, exist_ok=True)
            stack.enter_context(contextlib.redirect_stdout(stack.enter_context(output_log.open("a"))))
        result = job.execute_in_process(instance=instance, run_config=run_config, raise_on_error=False,
                                        tags={"agentic_commerce/launched_by": "cli", **(tags or {})})
    seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
    report = RunReport(name, result.run_id, result.success, seconds)
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


def run_reasoning(instance=None, log_level: str = "WARNING", output_log: Path | None = None, *,
                  train: bool = True, refresh: bool = True) -> list[RunReport]:
    """Train and gate both models (``train``), then refresh forecasts from the champions (``refresh``).

    A failed training run stops there: nothing is served from a half-finished training.
    """
    from orchestration.defs.reasoning import REFRESH_JOB, TRAIN_JOB
    from orchestration.instance import get_instance

    instance = instance or get_instance()
    jobs = [job for job, wanted in ((TRAIN_JOB, train), (REFRESH_JOB, refresh)) if wanted]
    reports: list[RunReport] = []
    for job in jobs:
        reports.append(run_job(job, instance, log_level, None, output_log))
        if not reports[-1].success:
            break
    return reports
