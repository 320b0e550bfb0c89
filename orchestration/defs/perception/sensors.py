"""React to newly completed landing batches: register their dates and ingest them.

A date is ready when every source has completed its batch for it (a partition run ingests all
sources). The sensor registers ready dates as partitions of ``batch_dates`` and requests one run per
range of consecutive new dates: a backlog of a year becomes one single-run backfill, not 365 runs.
Dates whose batches were already ingested with the same batch ids (per the published batch log) or
requested before (per the cursor) are not requested again: re-landing identical files is a no-op,
re-landing a corrected batch ingests it again.

What happens after ingestion is declarative (``AutomationCondition`` on the downstream assets,
evaluated by Dagster's automation sensor), so this sensor knows nothing of later layers.
"""

from __future__ import annotations

import hashlib
import json

import dagster as dg

from orchestration.partitions import BATCH_DATES, run_ranges
from orchestration.resources import AnalystDatabase, LandingZone

LANDING_SENSOR = "landing_batches_sensor"
POLL_SECONDS = 15
# Dagster's documented run tags for a single run over a range of partitions (a single-run backfill).
PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"


def _digest(batches: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(sorted(batches.items())).encode()).hexdigest()[:12]


def plan_runs(landed: dict[str, dict[str, str]], ingested: dict[str, dict[str, str]],
              cursor: dict[str, str]) -> tuple[list[tuple[str, str]], dict[str, list[str]]]:
    """Which dates to ingest, as (date, digest of its batch ids), and which still wait for sources.

    Pure, so the sensor's logic is testable without Dagster.
    """
    from data_quality.landing_zone import missing_sources

    ready, waiting = [], {}
    for date, batches in sorted(landed.items()):
        missing = missing_sources(batches)
        if missing:
            waiting[date] = missing
            continue
        digest = _digest(batches)
        if cursor.get(date) == digest or ingested.get(date) == batches:
            continue
        ready.append((date, digest))
    return ready, waiting


def ingested_batches(analyst_db: AnalystDatabase) -> dict[str, dict[str, str]]:
    """date -> {source: batch_id} already loaded, from the published batch log (best effort: an absent or
    older snapshot only means a date may be requested again, and re-runs replace, never duplicate)."""
    from warehouse.reports import ingested_batch_ids

    try:
        return ingested_batch_ids(analyst_db.path)
    except Exception:  # noqa: BLE001 - a missing or locked snapshot must not stop the sensor
        return {}


def range_request(start: str, end: str, run_key: str) -> dg.RunRequest:
    """One run over the partitions ``start`` .. ``end`` (a single partition when they are equal)."""
    if start == end:
        return dg.RunRequest(run_key=run_key, partition_key=start)
    return dg.RunRequest(run_key=run_key, tags={PARTITION_RANGE_START_TAG: start, PARTITION_RANGE_END_TAG: end})


def build_landing_sensor(ingest_job: str) -> dg.SensorDefinition:
    """The sensor, launching the job named ``ingest_job`` (resolved by name when the definitions merge)."""
    @dg.sensor(name=LANDING_SENSOR, job_name=ingest_job, minimum_interval_seconds=POLL_SECONDS,
               default_status=dg.DefaultSensorStatus.RUNNING,
               description="Registers dates whose landing batches all have manifests and launches their ingestion.")
    def landing_batches_sensor(context: dg.SensorEvaluationContext, landing: LandingZone,
                               analyst_db: AnalystDatabase) -> dg.SensorResult:
        from data_quality.landing_zone import complete_batches

        cursor = json.loads(context.cursor) if context.cursor else {}
        ready, waiting = plan_runs(complete_batches(landing.path), ingested_batches(analyst_db), cursor)
        if not ready:
            if waiting:
                first = min(waiting)
                return dg.SensorResult(skip_reason=f"{len(waiting)} date(s) still landing, e.g. {first} waits for "
                                                   f"{', '.join(waiting[first])}")
            return dg.SensorResult(skip_reason="no new complete batches")
        digests = dict(ready)
        registered = context.instance.get_dynamic_partitions(BATCH_DATES.name)
        new_keys = sorted(set(digests) - set(registered))
        requests = []
        for start, end in run_ranges(list(digests), registered + new_keys):
            keys = sorted(d for d in digests if start <= d <= end)
            run_key = f"{start}..{end}:" + hashlib.sha256("".join(digests[k] for k in keys).encode()).hexdigest()[:12]
            requests.append(range_request(start, end, run_key))
        cursor.update(digests)
        return dg.SensorResult(run_requests=requests, cursor=json.dumps(cursor, sort_keys=True),
                               dynamic_partitions_requests=[BATCH_DATES.build_add_request(new_keys)] if new_keys else [])

    return landing_batches_sensor
