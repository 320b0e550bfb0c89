"""The perception graph materialized through Dagster on the small world: the end-to-end contract."""

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from data_quality.contracts import SOURCES

pytestmark = pytest.mark.slow


def _query(path: Path, sql: str):
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def _series(world) -> int:
    return world.scenario.catalog.n_products * len(world.scenario.channels)


def test_history_is_ingested_in_one_run_and_the_marts_are_built(perception_run, paths, small_world):
    ingest, build = perception_run
    assert ingest.job == "ingest_landed_batches" and ingest.success, ingest.failure
    assert build.job == "build_marts" and build.success, build.failure
    assert not ingest.checks_failed
    assert not [c for c in build.checks_failed if c.severity == "ERROR"]
    assert len(ingest.checks) == 3 * sum(len(s.tables) for s in SOURCES.values())
    assert len(build.checks) > 100  # dbt tests, shown as asset checks
    (rows,) = _query(paths.analytics, "SELECT count(*) FROM marts.fct_daily_sales")
    assert rows[0] == _series(small_world) * small_world.days
    statuses = _query(paths.analytics, """
        SELECT source, count(*), bool_and(status = 'loaded'),
               bool_and(rows_landed = rows_loaded + rows_quarantined) FROM ingest.batches GROUP BY source""")
    assert {row[0] for row in statuses} == set(SOURCES)
    assert all(count == small_world.days and loaded and balanced for _, count, loaded, balanced in statuses)


def test_steps_are_named_by_their_stage(perception_run):
    ingest, build = perception_run
    assert "ingest + validate orders" in ingest.stage_seconds
    assert set(build.stage_seconds) == {"dbt build (models + tests)", "publish analyst database"}


def test_units_in_the_marts_reconcile_with_the_loaded_order_lines(perception_run, paths):
    with duckdb.connect(str(paths.warehouse), read_only=True) as connection:
        raw_units = connection.execute("SELECT sum(quantity) FROM raw.order_lines").fetchone()[0]
        mart_units = connection.execute("SELECT sum(units) FROM marts.fct_daily_sales").fetchone()[0]
        lines = connection.execute("SELECT count(*) FROM raw.order_lines").fetchone()[0]
        distinct = connection.execute(
            "SELECT count(DISTINCT (order_id, line_number)) FROM raw.order_lines").fetchone()[0]
    assert lines == distinct
    assert mart_units == raw_units


def test_the_promotion_calendar_mart_reaches_past_the_sales_and_knows_when_each_was_announced(perception_run, paths):
    raw = _query(paths.warehouse, """
        SELECT promo_id, min(_batch_date) FROM raw.promotions WHERE status <> 'cancelled' GROUP BY 1""")
    days = _query(paths.analytics, """
        SELECT promo_id, min(announced_on), max(announced_on), bool_and(announced_on < date),
               max(date) > (SELECT max(date) FROM marts.fct_daily_sales)
        FROM marts.fct_promotion_days GROUP BY 1""")
    assert raw, "the small world planned no promotion: the test would prove nothing"
    announced = dict(raw)
    assert {promo for promo, *_ in days} <= set(announced)
    for promo, first, last, before, _ in days:
        assert first == last == announced[promo] and before  # announced days before it runs
    assert any(future for *_, future in days)  # scheduled beyond the last day of sales


def test_the_dagster_home_records_the_runs_and_partitions_for_the_ui(perception_run, platform, small_world):
    import dagster as dg

    instance = platform.instance
    assert Path(instance.root_directory) == platform.paths.dagster_home
    jobs = {run.job_name for run in instance.get_runs()}
    assert {"ingest_landed_batches", "build_marts"} <= jobs
    dates = [(small_world.scenario.start_date + dt.timedelta(days=i)).isoformat() for i in range(small_world.days)]
    assert instance.get_dynamic_partitions("batch_dates") == dates  # exactly the landed days, none beyond
    assert instance.get_materialized_partitions(dg.AssetKey(["raw", "orders"])) == set(dates)


def test_a_ranged_run_reports_its_totals_as_such_and_rows_per_date(perception_run, platform):
    import dagster as dg

    ingest = perception_run[0]
    records = platform.instance.fetch_materializations(dg.AssetKey(["raw", "orders"]), limit=1000).records
    event = next(r.event_log_entry.asset_materialization for r in records if r.run_id == ingest.run_id)
    metadata = event.metadata
    assert "dagster/row_count" not in metadata  # the same event lands on every partition of the range
    per_date = metadata["rows_per_date"].value.records
    assert sum(record.data["rows_loaded"] for record in per_date) == metadata["run_rows_loaded"].value


def test_rerunning_a_partition_replaces_its_rows_and_reports_its_own_row_count(perception_run, platform,
                                                                                 small_world):
    import dagster as dg

    from orchestration.cli.pipeline import run_perception

    paths = platform.paths
    tables = [t.table for s in SOURCES.values() for t in s.tables]
    count_sql = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM raw.{t}" for t in tables)
    before = dict(_query(paths.warehouse, count_sql))
    day = small_world.scenario.start_date + dt.timedelta(days=1)
    reports = run_perception(platform, [day])
    assert all(report.success for report in reports) and len(reports) == 2
    assert dict(_query(paths.warehouse, count_sql)) == before
    (attempts,) = _query(paths.warehouse, f"SELECT count(*) FROM ingest.batches WHERE batch_date = '{day}'")
    assert attempts[0] == 2 * len(SOURCES)  # the log keeps every attempt; the status view shows the latest
    event = platform.instance.get_latest_materialization_event(dg.AssetKey(["raw", "orders"]))
    assert event.asset_materialization.partition == day.isoformat()
    loaded = _query(paths.warehouse, f"SELECT count(*) FROM raw.orders WHERE _batch_date = '{day}'")[0][0]
    assert event.asset_materialization.metadata["dagster/row_count"].value == loaded


def test_a_blocked_batch_fails_its_check_and_nothing_downstream_runs(perception_run, platform, small_world,
                                                                     tmp_path):
    from orchestration.cli.pipeline import run_perception

    paths = platform.paths
    day = small_world.scenario.start_date + dt.timedelta(days=2)
    prices = paths.landing / "prices" / day.isoformat() / "prices.csv"
    backup = tmp_path / "prices.csv"
    shutil.copy(prices, backup)
    published_before = _query(paths.analytics, "SELECT max(published_at) FROM main._published")[0][0]
    rows_before = _query(paths.warehouse, f"SELECT count(*) FROM raw.prices WHERE _batch_date = '{day}'")[0][0]
    lines = prices.read_text().splitlines()
    prices.write_text("\n".join(",".join(line.split(",")[:-1]) for line in lines) + "\n")  # drop 'currency'
    try:
        reports = run_perception(platform, [day])
        assert len(reports) == 1 and not reports[0].success  # the marts were not rebuilt
        failed = {(c.asset, c.check): c for c in reports[0].checks_failed}
        check = failed[("raw/prices", "batches_complete")]
        assert "prices.csv" in check.description and "missing column(s) currency" in check.description
        assert _query(paths.analytics, "SELECT max(published_at) FROM main._published")[0][0] == published_before
        # The previously loaded version of that batch is kept; the rejected rows are quarantined.
        assert _query(paths.warehouse, f"SELECT count(*) FROM raw.prices WHERE _batch_date = '{day}'")[0][0] \
            == rows_before
        quarantined = _query(paths.warehouse, f"""
            SELECT count(*), min(reasons) FROM ingest.quarantine WHERE source = 'prices' AND batch_date = '{day}'""")
        assert quarantined[0][0] == len(lines) - 1 and quarantined[0][1].startswith("batch blocked")
    finally:
        shutil.copy(backup, prices)
    reports = run_perception(platform, [day])
    assert [r.success for r in reports] == [True, True]


def test_analysts_query_the_published_database_while_a_writer_holds_the_warehouse(perception_run, paths,
                                                                                  small_world):
    duckdb_cli = Path(sys.executable).parent / "duckdb"
    query = "SELECT count(*) FROM fct_daily_sales"
    with duckdb.connect(str(paths.warehouse)):  # a pipeline step writing right now
        analyst = subprocess.run([str(duckdb_cli), "-readonly", str(paths.analytics), "-csv", "-c", query],
                                 capture_output=True, text=True, timeout=60)
        assert analyst.returncode == 0, analyst.stderr
        assert analyst.stdout.strip().splitlines()[-1] == str(_series(small_world) * small_world.days)
        blocked = subprocess.run([str(duckdb_cli), "-readonly", str(paths.warehouse), "-c", "SELECT 1"],
                                 capture_output=True, text=True, timeout=60)
        assert blocked.returncode != 0 and "lock" in blocked.stderr.lower()


def test_publishing_never_disturbs_an_open_analyst_session(perception_run, paths):
    from warehouse.publish import publish_analytics

    with duckdb.connect(str(paths.analytics), read_only=True) as session:
        before = session.execute("SELECT count(*) FROM fct_daily_sales").fetchone()[0]
        summary = publish_analytics(paths.warehouse, paths.analytics, run_id="test")
        assert session.execute("SELECT count(*) FROM fct_daily_sales").fetchone()[0] == before
    assert summary.tables["marts.fct_daily_sales"] == before
    assert _query(paths.analytics, "SELECT run_id FROM main._published")[0][0] == "test"
    comments = _query(paths.analytics, """
        SELECT count(*) FROM duckdb_columns() WHERE table_name = 'fct_daily_sales' AND comment IS NOT NULL""")
    assert comments[0][0] >= 10  # dbt column docs travel with the snapshot


def test_dbt_source_freshness_reads_when_each_raw_table_was_loaded(perception_run, paths):
    from orchestration.dbt import dbt_executable
    from orchestration.settings import DBT_PROJECT_DIR

    result = subprocess.run([dbt_executable(), "source", "freshness", "--project-dir", str(DBT_PROJECT_DIR),
                             "--profiles-dir", str(DBT_PROJECT_DIR), "--vars", f"{{warehouse_path: '{paths.warehouse}'}}",
                             "--target-path", str(paths.root / "dbt-freshness")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "PASS freshness of raw.orders" in result.stdout  # just loaded: fresh
