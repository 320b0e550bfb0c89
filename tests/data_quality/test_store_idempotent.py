"""Storing validated batches (``warehouse.raw``): re-running the same dates replaces, never duplicates."""

from __future__ import annotations

import pytest

from data_quality.boundary import validate_source
from data_quality.contracts import SOURCES
from data_quality.suites import Reference
from warehouse.connection import connect
from warehouse.raw import reconcile, store_validation


def validate(landing, source):
    return validate_source(landing.root, SOURCES[source], landing.dates,
                           Reference() if source == "catalog" else landing.reference)


def table_counts(db, source) -> dict:
    """(table, batch date) -> rows in raw, plus quarantined rows per date, plus the batch log's size."""
    with connect(db, read_only=True) as connection:
        counts = {}
        for table in SOURCES[source].tables:
            for date, rows in connection.execute(
                    f"SELECT _batch_date, count(*) FROM raw.{table.table} GROUP BY 1").fetchall():
                counts[(table.table, date)] = rows
        for date, rows in connection.execute(
                "SELECT batch_date, count(*) FROM ingest.quarantine WHERE source = ? GROUP BY 1", [source]).fetchall():
            counts[("quarantine", date)] = rows
        counts["batch_status"] = connection.execute(
            "SELECT count(*) FROM ingest.batch_status WHERE source = ?", [source]).fetchone()[0]
    return counts


@pytest.mark.parametrize("source", list(SOURCES))
def test_storing_the_same_dates_twice_changes_nothing(landing, tmp_path, source):
    db = tmp_path / "warehouse.duckdb"
    day2 = landing.dates[1]
    if source == "orders":  # with a quarantined row, so that the quarantine is replaced too
        landing.rewrite("orders", day2, "order_lines.csv",
                        lambda rows: [{**r, "product_id": "P99999"} if i == 0 else r for i, r in enumerate(rows)])
    first = validate(landing, source)
    store_validation(db, first, "run-1")
    before = table_counts(db, source)

    store_validation(db, validate(landing, source), "run-2")

    assert table_counts(db, source) == before
    assert sum(v for k, v in before.items() if k != "batch_status" and k[0] != "quarantine") == first.rows_loaded
    assert before.get(("quarantine", day2), 0) == first.rows_quarantined == (1 if source == "orders" else 0)
    assert before["batch_status"] == 2
    with connect(db, read_only=True) as connection:
        attempts = connection.execute("SELECT count(*) FROM ingest.batches WHERE source = ?", [source]).fetchone()[0]
        runs = {r for (r,) in connection.execute(f"SELECT DISTINCT _run_id FROM raw.{SOURCES[source].tables[0].table}")
                .fetchall()}
    assert attempts == 4  # the log keeps every attempt; batch_status shows the latest
    assert runs <= {"run-2"}
    assert reconcile(db, source, landing.dates)["balanced"].all()


def test_a_blocked_rerun_keeps_the_loaded_rows_until_a_valid_batch_replaces_them(landing, tmp_path):
    db = tmp_path / "warehouse.duckdb"
    day2 = landing.dates[1]
    store_validation(db, validate(landing, "orders"), "run-1")
    loaded = table_counts(db, "orders")

    path = landing.file("orders", day2, "order_lines.csv")
    original = path.read_bytes()
    path.write_bytes(original[: len(original) // 2])  # damaged after export
    blocked = validate(landing, "orders")
    store_validation(db, blocked, "run-2")

    assert next(b for b in blocked.batches if b.batch_date == day2).status == "blocked"
    after = table_counts(db, "orders")
    assert {k: v for k, v in after.items() if k[0] != "quarantine"} == loaded  # the valid version stays
    assert after[("quarantine", day2)] == next(b for b in blocked.batches if b.batch_date == day2).rows_landed
    balance = reconcile(db, "orders", landing.dates)
    assert balance["balanced"].all() and balance["status"].tolist() == ["loaded", "blocked"]

    path.write_bytes(original)  # the source re-lands the batch intact
    store_validation(db, validate(landing, "orders"), "run-3")
    assert table_counts(db, "orders") == loaded
    assert reconcile(db, "orders", landing.dates)["balanced"].all()
