"""The landing sensor requests one run per range of new, complete dates, and nothing twice."""

import json

import dagster as dg
import pytest

from data_quality.contracts import SOURCES
from orchestration.defs.perception.sensors import consecutive_ranges, plan_runs

ALL = {source: "b1" for source in SOURCES}


def test_consecutive_dates_become_one_range():
    assert consecutive_ranges(["2025-01-03", "2025-01-01", "2025-01-02", "2025-01-05"]) == [
        ("2025-01-01", "2025-01-03"), ("2025-01-05", "2025-01-05")]


def test_dates_wait_until_every_source_has_landed():
    partial = {k: v for k, v in ALL.items() if k != "orders"}
    ready, waiting, invalid = plan_runs({"2025-01-01": partial, "2025-01-02": ALL}, {}, {}, {"2025-01-01", "2025-01-02"})
    assert [d for d, _ in ready] == ["2025-01-02"]
    assert waiting == {"2025-01-01": ["orders"]}
    assert invalid == []


def test_already_ingested_or_requested_batches_are_not_requested_again():
    landed = {"2025-01-01": ALL, "2025-01-02": ALL, "2025-01-03": ALL}
    ingested = {"2025-01-01": ALL}
    first, _, _ = plan_runs(landed, ingested, {}, set(landed))
    assert [d for d, _ in first] == ["2025-01-02", "2025-01-03"]
    cursor = dict(first)
    again, _, _ = plan_runs(landed, ingested, cursor, set(landed))
    assert again == []
    relanded = dict(landed, **{"2025-01-02": dict(ALL, orders="b2")})  # a corrected batch re-landed
    changed, _, _ = plan_runs(relanded, ingested, cursor, set(landed))
    assert [d for d, _ in changed] == ["2025-01-02"]


def test_dates_outside_the_partitions_are_reported_not_requested():
    ready, _, invalid = plan_runs({"1999-01-01": ALL}, {}, {}, {"2025-01-01"})
    assert ready == [] and invalid == ["1999-01-01"]


def _evaluate(root, cursor=None):
    from orchestration.definitions import defs
    from orchestration.resources import DataDirectory

    sensor = defs.resolve_sensor_def("landing_batches_sensor")
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, cursor=cursor,
                                          resources={"data_dir": DataDirectory(root=str(root))})
        return sensor(context), context.cursor


def test_sensor_requests_one_ranged_run_for_a_landed_backlog(tiny_world, paths, tmp_path):
    import shutil

    shutil.copytree(paths.landing, tmp_path / "landing")  # landed, never ingested
    result, cursor = _evaluate(tmp_path)
    requests = result if isinstance(result, list) else [result]
    assert len(requests) == 1
    assert requests[0].tags["dagster/asset_partition_range_start"] == tiny_world.start_date.isoformat()
    assert len(json.loads(cursor)) == 4
    again, _ = _evaluate(tmp_path, cursor)
    assert isinstance(again, dg.SkipReason)


def test_sensor_skips_batches_the_ingestion_log_lists_as_loaded(tiny_world, paths, tmp_path):
    """The fast twin of the end-to-end test below: the published ingestion log (``ingest.batches`` in
    the analyst database, with the warehouse's own DDL) lists every landed batch as loaded."""
    import shutil

    import duckdb

    from orchestration.defs.perception.sensors import landed_batches
    from orchestration.resources import DataDirectory
    from orchestration.warehouse import INGEST_DDL

    shutil.copytree(paths.landing, tmp_path / "landing")
    landed = landed_batches(tmp_path / "landing")
    with duckdb.connect(str(DataDirectory(root=str(tmp_path)).paths.analytics)) as connection:
        connection.execute(INGEST_DDL)
        connection.executemany(
            "INSERT INTO ingest.batches (source, batch_date, batch_id, status, ingested_at) "
            "VALUES (?, CAST(? AS DATE), ?, 'loaded', now())",
            [(source, date, batch_id) for date, batches in landed.items() for source, batch_id in batches.items()])
    result, _ = _evaluate(tmp_path)
    assert isinstance(result, dg.SkipReason), result


@pytest.mark.slow  # a real perception run (~30-50 s); the twin above covers the sensor's side in seconds
def test_sensor_skips_batches_the_pipeline_already_ingested(perception_run, paths):
    result, _ = _evaluate(paths.root)
    assert isinstance(result, dg.SkipReason), result
