"""The landing sensor registers ready dates and requests one run per range; automation does the rest."""

import json
import shutil

import dagster as dg
import pytest

from data_quality.contracts import SOURCES
from data_quality.manifest import MANIFEST_FILE
from orchestration.defs.perception.sensors import plan_runs
from orchestration.partitions import run_ranges

ALL = {source: "b1" for source in SOURCES}


def test_consecutive_dates_registered_in_order_become_one_range():
    registered = ["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-05"]
    assert run_ranges(["2025-01-03", "2025-01-01", "2025-01-02", "2025-01-05"], registered) == [
        ("2025-01-01", "2025-01-03"), ("2025-01-05", "2025-01-05")]


def test_a_date_registered_late_never_slips_into_a_range():
    registered = ["2025-01-01", "2025-01-03", "2025-01-02"]  # 01-02 landed after 01-03
    assert run_ranges(["2025-01-01", "2025-01-02", "2025-01-03"], registered) == [
        ("2025-01-01", "2025-01-01"), ("2025-01-02", "2025-01-02"), ("2025-01-03", "2025-01-03")]


def test_dates_wait_until_every_source_has_landed():
    partial = {k: v for k, v in ALL.items() if k != "orders"}
    ready, waiting = plan_runs({"2025-01-01": partial, "2025-01-02": ALL}, {}, {})
    assert [d for d, _ in ready] == ["2025-01-02"]
    assert waiting == {"2025-01-01": ["orders"]}


def test_already_ingested_or_requested_batches_are_not_requested_again():
    landed = {"2025-01-01": ALL, "2025-01-02": ALL, "2025-01-03": ALL}
    ingested = {"2025-01-01": ALL}
    first, _ = plan_runs(landed, ingested, {})
    assert [d for d, _ in first] == ["2025-01-02", "2025-01-03"]
    cursor = dict(first)
    again, _ = plan_runs(landed, ingested, cursor)
    assert again == []
    relanded = dict(landed, **{"2025-01-02": dict(ALL, orders="b2")})  # a corrected batch re-landed
    changed, _ = plan_runs(relanded, ingested, cursor)
    assert [d for d, _ in changed] == ["2025-01-02"]


def test_folders_that_are_not_dates_are_not_batches(tmp_path):
    from data_quality.landing_zone import complete_batches

    for folder in ("2025-01-01", "latest", "2025-1-2"):
        (tmp_path / "orders" / folder).mkdir(parents=True)
        (tmp_path / "orders" / folder / MANIFEST_FILE).write_text('{"batch_id": "x"}')
    assert complete_batches(tmp_path) == {"2025-01-01": {"orders": "x"}}


def _evaluate(root, instance, cursor=None):
    from orchestration.definitions import build_defs, build_resources
    from orchestration.settings import DataPaths

    defs = build_defs(DataPaths(root))
    sensor = defs.resolve_sensor_def("landing_batches_sensor")
    with dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs,
                                 resources=build_resources(DataPaths(root))) as context:
        return sensor(context)


def test_sensor_registers_the_dates_and_requests_one_ranged_run_for_a_backlog(small_world, tmp_path):
    shutil.copytree(small_world.landing, tmp_path / "landing")  # landed, never ingested
    with dg.instance_for_test() as instance:
        result = _evaluate(tmp_path, instance)
        assert len(result.run_requests) == 1
        request = result.run_requests[0]
        first = small_world.scenario.start_date.isoformat()
        assert request.tags["dagster/asset_partition_range_start"] == first
        (added,) = result.dynamic_partitions_requests
        assert added.partitions_def_name == "batch_dates" and len(added.partition_keys) == small_world.days
        assert len(json.loads(result.cursor)) == small_world.days
        again = _evaluate(tmp_path, instance, result.cursor)
        assert not again.run_requests and again.skip_reason


def test_sensor_skips_batches_the_ingestion_log_lists_as_loaded(small_world, tmp_path):
    """The fast twin of the end-to-end test below: the published ingestion log (``ingest.batches`` in
    the analyst database, with the warehouse's own DDL) lists every landed batch as loaded."""
    import duckdb

    from data_quality.landing_zone import complete_batches
    from warehouse.raw import INGEST_DDL

    shutil.copytree(small_world.landing, tmp_path / "landing")
    landed = complete_batches(tmp_path / "landing")
    with duckdb.connect(str(tmp_path / "analytics.duckdb")) as connection:
        connection.execute(INGEST_DDL)
        connection.executemany(
            "INSERT INTO ingest.batches (source, batch_date, batch_id, status, ingested_at) "
            "VALUES (?, CAST(? AS DATE), ?, 'loaded', now())",
            [(source, date, batch_id) for date, batches in landed.items() for source, batch_id in batches.items()])
    with dg.instance_for_test() as instance:
        result = _evaluate(tmp_path, instance)
    assert not result.run_requests and "no new complete batches" in str(result.skip_reason)


@pytest.mark.slow  # a real perception run (~30-50 s); the twin above covers the sensor's side in seconds
def test_sensor_skips_batches_the_pipeline_already_ingested(perception_run, paths):
    with dg.instance_for_test() as instance:
        result = _evaluate(paths.root, instance)
    assert not result.run_requests and "no new complete batches" in str(result.skip_reason)
