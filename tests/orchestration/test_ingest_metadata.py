"""What an ingest step reports on its raw tables, for one date and for ranges short and long."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pandas as pd
import pytest

from data_quality.boundary import BatchOutcome, ValidationResult
from data_quality.contracts import SOURCES
from orchestration.defs.perception.ingest import PER_DATE_TABLE_MAX_DATES, _table_results

START = dt.date(2025, 1, 1)


def _result(days: int) -> ValidationResult:
    dates = [START + dt.timedelta(days=i) for i in range(days)]
    loaded = pd.DataFrame({"_batch_date": [d for d in dates for _ in range(3)]})
    quarantine = pd.DataFrame({"table_name": pd.Series(dtype=str), "batch_date": pd.Series(dtype="datetime64[ns]")})
    batches = [BatchOutcome("promotions", d, f"b{i}", "loaded", 3, 3, 0, ["promotions.csv"]) for i, d in enumerate(dates)]
    return ValidationResult("promotions", {"promotions": loaded}, quarantine, batches, [])


def _materialization(days: int) -> dg.MaterializeResult:
    result = _result(days)
    balance = pd.DataFrame({"batch_date": [b.batch_date for b in result.batches], "rows_landed": 3,
                            "rows_loaded": 3, "rows_quarantined": 0, "balanced": True})
    events = list(_table_results(SOURCES["promotions"], "promotions", result, [], balance.iloc[0:0], balance))
    return next(e for e in events if isinstance(e, dg.MaterializeResult))


def test_a_single_date_reports_its_own_row_count():
    metadata = _materialization(1).metadata
    assert metadata["dagster/row_count"] == 3 and metadata["rows_loaded"] == 3


@pytest.mark.parametrize("days", [2, PER_DATE_TABLE_MAX_DATES])
def test_a_short_range_reports_its_totals_and_a_table_of_rows_per_date(days):
    metadata = _materialization(days).metadata
    assert "dagster/row_count" not in metadata and metadata["run_rows_loaded"] == 3 * days
    records = metadata["rows_per_date"].records
    assert [r.data["batch_date"] for r in records] == [str(START + dt.timedelta(days=i)) for i in range(days)]
    assert all(r.data["rows_loaded"] == 3 for r in records)


def test_a_long_range_points_to_the_batch_log_instead_of_copying_a_table_onto_every_partition():
    days = PER_DATE_TABLE_MAX_DATES + 1
    metadata = _materialization(days).metadata
    assert metadata["run_rows_loaded"] == 3 * days
    pointer = metadata["rows_per_date"]
    assert isinstance(pointer, dg.MarkdownMetadataValue) and "ingest.batch_status" in pointer.md_str
