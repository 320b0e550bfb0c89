"""Run the platform's jobs in this process, against the persistent Dagster instance.

The command line (``ingest``, ``train``, ``demo``) uses this, so its runs, checks and lineage are in
the Dagster UI afterwards, exactly as if the sensors had launched them: a range of dates is one
ingestion run (the single-run backfill policy), then the marts, then reasoning — the order the
automation conditions would follow under the daemon.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from orchestration.defs.tags import STAGE_TAG
from orchestration.defs.perception.sensors import PARTITION_RANGE_END_TAG, PARTITION_RANGE_START_TAG
from orchestration.partitions import BATCH_DATES, run_ranges

LAUNCHED_BY_TAG = "agentic_commerce/launched_by"
PROGRESS_POLL_SECONDS = 0.5
ACTIVE_STATUSES = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
                   dg.DagsterRunStatus.STARTED]


@dataclass
class CheckOutcome:
    asset: str
    check: str
    passed: bool
    severity: str
    description: str | None
    metadata: dict = field(default_factory=dict)


@dataclass
class RunReport:
    job: str
    run_id: str
    success: bool
    seconds: float
    stage_seconds: dict[str, float] = field(default_factory=dict)
    checks: list[CheckOutcome] = field(default_factory=list)
    materialized: list[str] = field(default_factory=list)
    failure: str | None = None

    @property
    def checks_failed(self) -> list[CheckOutcome]:
        return [c for c in self.checks if not c.passed]


class JobRunner:
    """Executes the definitions' jobs in this process; tool output (dbt's) goes to ``output_log``."""

    def __init__(self, defs: dg.Definitions, instance: dg.DagsterInstance, *, log_level: str = "WARNING",
                 output_log: Path | None = None, on_report: Callable[[RunReport], None] | None = None,
                 on_step: Callable[[str, float], None] | None = None) -> None:
        self.defs = defs
        self.instance = instance
        self.log_level = log_level
        self.output_log = output_log
        self.on_report = on_report
        self.on_step = on_step  # (stage, seconds) as each step finishes, while the run goes on

    def run(self, name: str, *, tags: dict[str, str] | None = None, partition_key: str | None = None) -> RunReport:
        job = self.defs.resolve_job_def(name)
        started = dt.datetime.now(dt.UTC)
        # The full event log is in the Dagster UI; the terminal gets warnings and errors only.
        run_config = {"loggers": {"console": {"config": {"log_level": self.log_level}}}}
        run_id = str(uuid.uuid4())
        with contextlib.ExitStack() as stack:
            if self.output_log is not None:
                self.output_log.parent.mkdir(parents=True, exist_ok=True)
                stream = stack.enter_context(self.output_log.open("a"))
                stack.enter_context(contextlib.redirect_stdout(stream))
            if self.on_step is not None:
                stack.enter_context(_StepWatcher(self.instance, job, run_id, self.on_step))
            result = job.execute_in_process(instance=self.instance, run_config=run_config, raise_on_error=False,
                                            partition_key=partition_key, run_id=run_id,
                                            tags={LAUNCHED_BY_TAG: "cli", **(tags or {})})
        report = RunReport(name, result.run_id, result.success, (dt.datetime.now(dt.UTC) - started).total_seconds())
        for stats in self.instance.get_run_step_stats(result.run_id):
            if stats.start_time and stats.end_time:
                report.stage_seconds[_stage_name(job, stats.step_key)] = stats.end_time - stats.start_time
        for event in result.all_events:
            if event.event_type_value == "ASSET_CHECK_EVALUATION":
                data = event.event_specific_data
                report.checks.append(CheckOutcome(data.asset_key.to_user_string(), data.check_name, data.passed,
                                                  data.severity.value, data.description,
                                                  {k: v.value for k, v in data.metadata.items()}))
            elif event.event_type_value == "ASSET_MATERIALIZATION":
                key = event.event_specific_data.materialization.asset_key.to_user_string()
                if key not in report.materialized:
                    report.materialized.append(key)
            elif event.event_type_value == "STEP_FAILURE" and report.failure is None:
                error = event.event_specific_data.error
                report.failure = f"{event.step_key}: {_error_message(error)}"
        if self.on_report:
            self.on_report(report)
        return report

    def ingest(self, dates: list[dt.date]) -> list[RunReport]:
        """Register the dates as partitions and ingest them: one run per range of consecutive dates."""
        keys = sorted(date.isoformat() for date in dates)
        registered = self.instance.get_dynamic_partitions(BATCH_DATES.name)
        new = [key for key in keys if key not in registered]
        if new:
            self.instance.add_dynamic_partitions(BATCH_DATES.name, new)
        reports = []
        from orchestration.jobs import INGEST_JOB

        for start, end in run_ranges(keys, registered + new):
            if start == end:
                reports.append(self.run(INGEST_JOB, partition_key=start))
            else:
                reports.append(self.run(INGEST_JOB, tags={PARTITION_RANGE_START_TAG: start,
                                                          PARTITION_RANGE_END_TAG: end}))
            if not reports[-1].success:
                break
        return reports


def in_flight_dates(instance: dg.DagsterInstance) -> set[str]:
    """Batch dates an ingestion run that has not finished yet is working on (launched by anyone)."""
    from orchestration.jobs import INGEST_JOB

    busy: set[str] = set()
    registered = None
    for run in instance.get_runs(filters=dg.RunsFilter(job_name=INGEST_JOB, statuses=ACTIVE_STATUSES)):
        tags = run.tags
        if "dagster/partition" in tags:
            busy.add(tags["dagster/partition"])
        elif PARTITION_RANGE_START_TAG in tags:
            registered = registered or instance.get_dynamic_partitions(BATCH_DATES.name)
            start, end = registered.index(tags[PARTITION_RANGE_START_TAG]), registered.index(
                tags[PARTITION_RANGE_END_TAG])
            busy.update(registered[start:end + 1])
    return busy


class _StepWatcher:
    """Reports steps as they finish, from a thread that reads the run's step statistics."""

    def __init__(self, instance, job, run_id: str, on_step: Callable[[str, float], None]) -> None:
        self.instance, self.job, self.run_id, self.on_step = instance, job, run_id, on_step
        self.reported: set[str] = set()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> _StepWatcher:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()
        self._report()  # whatever finished after the last poll

    def _watch(self) -> None:
        while not self.stop.wait(PROGRESS_POLL_SECONDS):
            self._report()

    def _report(self) -> None:
        try:
            stats = self.instance.get_run_step_stats(self.run_id)
        except Exception:  # noqa: BLE001 - progress is best effort; the run's own report is authoritative
            return
        for stat in stats:
            if stat.end_time and stat.start_time and stat.step_key not in self.reported:
                self.reported.add(stat.step_key)
                self.on_step(_stage_name(self.job, stat.step_key), stat.end_time - stat.start_time)


def _stage_name(job, step_key: str) -> str:
    try:
        return job.graph.node_named(step_key).definition.tags.get(STAGE_TAG, step_key)
    except Exception:  # noqa: BLE001 - a step that is not a top-level op keeps its key
        return step_key


def _error_message(error) -> str:
    """The innermost cause of a step failure: the user's exception, not Dagster's wrapper."""
    while error is not None and error.cause is not None:
        error = error.cause
    return error.message.strip() if error else "failed"
