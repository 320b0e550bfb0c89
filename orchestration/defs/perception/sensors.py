"""React to newly completed landing batches: launch ingestion for their partition(s).

A batch is complete when its manifest exists. The sensor waits until every source has completed
its batch for a date (a partition run ingests all sources), then requests one run per range of
consecutive new dates — a backlog of a year becomes one single-run backfill, not 365 runs.
Dates whose batches were already ingested with the same batch ids (per the published ingestion
log) or requested before (per the cursor) are not requested again: re-landing is a no-op.
"""


import datetime as dt
import hashlib
import json
from pathlib import Path

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from data_quality.contracts import SOURCES
from orchestration.partitions import DAILY
from orchestration.resources import DataDirectory

MANIFEST = "_manifest.json"


def landed_batches(landing: Path) -> dict[str, dict[str, str]]:
    """date -> {source: batch_id} for every complete batch under ``landing``."""
    found: dict[str, dict[str, str]] = {}
    for source in SOURCES:
        for manifest in (landing / source).glob(f"*/{MANIFEST}"):
            try:
                batch_id = str(json.loads(manifest.read_text(encoding="utf-8")).get("batch_id"))
            except (ValueError, UnicodeDecodeError, OSError):
                batch_id = f"unreadable:{manifest.stat().st_mtime_ns}"  # still worth a run: it will be blocked
            found.setdefault(manifest.parent.name, {})[source] = batch_id
    return found


def ingested_batches(analytics: Path) -> dict[str, dict[str, str]]:
    """date -> {source: batch_id} already loaded, from the published ingestion log (best effort)."""
    if not analytics.is_file():
        return {}
    try:
        import duckdb

        with duckdb.connect(str(analytics), read_only=True) as connection:
            rows = connection.execute("""
                SELECT strftime(batch_date, '%Y-%m-%d'), source, arg_max(batch_id, ingested_at)
                FROM ingest.batches WHERE status = 'loaded' GROUP BY ALL""").fetchall()
    except Exception:  # an older or locked snapshot only means we may re-request: runs are idempotent
        return {}
    done: dict[str, dict[str, str]] = {}
    for date, source, batch_id in rows:
        done.setdefault(date, {})[source] = batch_id
    return done


def _digest(batches: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(sorted(batches.items())).encode()).hexdigest()[:12]


def consecutive_ranges(dates: list[str]) -> list[tuple[str, str]]:
    ranges: list[tuple[str, str]] = []
    for date in sorted(dates):
        if ranges and dt.date.fromisoformat(date) - dt.date.fromisoformat(ranges[-1][1]) == dt.timedelta(days=1):
            ranges[-1] = (ranges[-1][0], date)
        else:
            ranges.append((date, date))
    return ranges


def plan_runs(landed, ingested, cursor: dict[str, str], valid_keys: set[str]):
    """Decide which date ranges to ingest. Pure, so the sensor's logic is testable without Dagster."""
    ready, waiting, invalid = [], {}, []
    for date, batches in sorted(landed.items()):
        missing = sorted(set(SOURCES) - set(batches))
        if missing:
            waiting[date] = missing
            continue
        if date not in valid_keys:
            invalid.append(date)
            continue
        digest = _digest(batches)
        if cursor.get(date) == digest or ingested.get(date) == batches:
            continue
        ready.append((date, digest))
    return ready, waiting, invalid


def build_landing_sensor(job) -> dg.SensorDefinition:
    @dg.sensor(job=job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
               description="Launches the perception job for dates whose landing batches all have manifests.")
    def landing_batches_sensor(context: dg.SensorEvaluationContext, data_dir: DataDirectory):
        paths = data_dir.paths
        cursor = json.loads(context.cursor) if context.cursor else {}
        landed = landed_batches(paths.landing)
        valid = set(DAILY.get_partition_keys(dynamic_partitions_store=None))
        ready, waiting, invalid = plan_runs(landed, ingested_batches(paths.analytics), cursor, valid)
        requests = []
        digests = dict(ready)
        for start, end in consecutive_ranges([date for date, _ in ready]):
            keys = [d for d in digests if start <= d <= end]
            run_key = f"{start}..{end}:" + hashlib.sha256("".join(digests[k] for k in sorted(keys)).encode()).hexdigest()[:12]
            tags = {ASSET_PARTITION_RANGE_START_TAG: start, ASSET_PARTITION_RANGE_END_TAG: end}
            requests.append(dg.RunRequest(run_key=run_key, tags=tags) if start != end
                            else dg.RunRequest(run_key=run_key, partition_key=start))
        cursor.update(digests)
        if not requests:
            reasons = []
            if waiting:
                first = min(waiting)
                reasons.append(f"{len(waiting)} date(s) still landing, e.g. {first} waits for {', '.join(waiting[first])}")
            if invalid:
                reasons.append(f"{len(invalid)} date(s) outside the partition range, e.g. {invalid[0]}")
            return dg.SkipReason("; ".join(reasons) or "no new complete batches")
        context.update_cursor(json.dumps(cursor, sort_keys=True))
        return requests

    return landing_batches_sensor


def build_follow_up_sensor(name: str, watched_job, request_job, tag: str, description: str) -> dg.SensorDefinition:
    """A sensor that launches ``request_job`` once after each successful run of ``watched_job``.

    The run key is the watched run's id, so a sensor tick that sees the same success twice launches once;
    the tag ``tag`` on the new run names the run that caused it.
    """
    @dg.run_status_sensor(name=name, run_status=dg.DagsterRunStatus.SUCCESS, monitored_jobs=[watched_job],
                          request_job=request_job, default_status=dg.DefaultSensorStatus.RUNNING,
                          description=description)
    def follow_up(context: dg.RunStatusSensorContext):
        return dg.RunRequest(run_key=f"after-{context.dagster_run.run_id}",
                             tags={tag: context.dagster_run.run_id})

    return follow_up


def build_after_ingest_sensor(ingest_job, build_job) -> dg.SensorDefinition:
    return build_follow_up_sensor(
        "build_marts_after_ingest", ingest_job, build_job, "agentic_commerce/after_ingest_run",
        "Rebuilds the marts and republishes the analyst database after each successful ingestion run.")
