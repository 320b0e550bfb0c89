"""The readers of the marts the models use: the daily sales panel and the promotion calendar."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from ml.panel import PANEL_COLUMNS, PanelError, read_promotion_days, read_sales_panel


@pytest.fixture()
def warehouse(tmp_path):
    path = tmp_path / "analytics.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("""create table marts.fct_promotion_days as select * from (values
            (date '2025-03-02', 'P2', 'web', 'PR2', 20.0, 'markdown', date '2025-02-20'),
            (date '2025-03-01', 'P1', 'app', 'PR1', 10.0, 'agent',    date '2025-02-25'),
            (date '2025-03-09', 'P1', 'app', 'PR3', 15.0, 'markdown', date '2025-03-05'))
            t(date, product_id, channel, promo_id, discount_pct, promo_type, announced_on)""")
    return path


def test_promotion_days_are_read_typed_sorted_and_filtered_by_date(warehouse):
    days = read_promotion_days(warehouse)
    assert list(days["promo_id"]) == ["PR1", "PR2", "PR3"]  # sorted by date, product, channel
    assert pd.api.types.is_datetime64_any_dtype(days["date"])
    assert pd.api.types.is_datetime64_any_dtype(days["announced_on"])
    assert days["discount_pct"].dtype == float
    window = read_promotion_days(warehouse, start=pd.Timestamp("2025-03-02").date(),
                                 end=pd.Timestamp("2025-03-08").date())
    assert list(window["promo_id"]) == ["PR2"]
    assert read_promotion_days(warehouse, start=pd.Timestamp("2026-01-01").date()).empty  # none planned: empty


def test_missing_database_or_mart_names_the_problem(warehouse, tmp_path):
    with pytest.raises(PanelError, match="no warehouse at"):
        read_promotion_days(tmp_path / "nowhere.duckdb")
    with pytest.raises(PanelError, match="has no marts.fct_daily_sales: build the marts first"):
        read_sales_panel(warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"create table marts.fct_daily_sales as select {', '.join(f'null as {c}' for c in PANEL_COLUMNS)}"
                    " where false")
    with pytest.raises(PanelError, match="no rows between"):
        read_sales_panel(warehouse)
