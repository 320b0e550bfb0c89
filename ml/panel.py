"""The daily sales panel every model trains on, read from the analyst mart ``fct_daily_sales``, and the
promotion calendar (``fct_promotion_days``) that plans the days a forecast covers.

One reader, so the forecast, the elasticity model and the benchmark see the same rows and types:
one row per product x channel x day, zero-filled, with the stockout flag that marks censored days.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

PANEL_COLUMNS = (
    "date", "product_id", "channel", "category", "units", "price", "regular_price", "list_price",
    "unit_cost", "is_promo", "discount_pct", "competitor_price", "is_stockout",
)


class PanelError(ValueError):
    """The sales panel cannot be read or is unusable; the message names the database and the problem."""


PROMOTION_COLUMNS = ("date", "product_id", "channel", "promo_id", "discount_pct", "announced_on")


def _read_mart(database: Path, table: str, columns, start, end) -> pd.DataFrame:
    """Rows of ``marts.<table>`` with ``date`` between ``start`` and ``end`` (inclusive), read-only, so it
    works on the published analyst copy while a pipeline writes."""
    import duckdb

    database = Path(database)
    if not database.is_file():
        raise PanelError(f"no warehouse at {database}: run the perception pipeline first (agentic-commerce demo)")
    where, parameters = [], []
    if start is not None:
        where.append("date >= ?")
        parameters.append(start)
    if end is not None:
        where.append("date <= ?")
        parameters.append(end)
    query = (f"select {', '.join(columns)} from marts.{table}"
             f"{' where ' + ' and '.join(where) if where else ''} order by date, product_id, channel")
    with duckdb.connect(str(database), read_only=True) as connection:
        try:
            return connection.execute(query, parameters).df()
        except duckdb.CatalogException as error:
            raise PanelError(f"{database} has no marts.{table}: build the marts first ({error})") from error


def read_sales_panel(database: Path, *, start: dt.date | None = None, end: dt.date | None = None) -> pd.DataFrame:
    """Rows of ``marts.fct_daily_sales`` between ``start`` and ``end`` (inclusive), sorted, typed."""
    frame = _read_mart(database, "fct_daily_sales", PANEL_COLUMNS, start, end)
    if frame.empty:
        raise PanelError(f"marts.fct_daily_sales in {database} has no rows between {start} and {end}")
    return normalize_panel(frame)


def read_promotion_days(database: Path, *, start: dt.date | None = None, end: dt.date | None = None) -> pd.DataFrame:
    """Rows of ``marts.fct_promotion_days`` (past and scheduled promotion days) between ``start`` and ``end``,
    typed; empty when none ran or are planned. :func:`ml.features.promotion_plan` turns them into a plan."""
    frame = _read_mart(database, "fct_promotion_days", PROMOTION_COLUMNS, start, end)
    for column in ("date", "announced_on"):
        frame[column] = pd.to_datetime(frame[column])
    for column in ("product_id", "channel", "promo_id"):
        frame[column] = frame[column].astype(str)
    frame["discount_pct"] = pd.to_numeric(frame["discount_pct"], errors="coerce").astype(float)
    return frame


def normalize_panel(frame: pd.DataFrame) -> pd.DataFrame:
    """Types the columns the models rely on; raises when one is missing."""
    missing = [c for c in PANEL_COLUMNS if c not in frame.columns]
    if missing:
        raise PanelError(f"the sales panel lacks columns {missing}")
    frame = frame.copy()
    frame["date"] = pd.to_datetime(frame["date"])
    for column in ("product_id", "channel", "category"):
        frame[column] = frame[column].astype(str)
    frame["units"] = pd.to_numeric(frame["units"]).fillna(0).astype("int64")
    for column in ("price", "regular_price", "list_price", "unit_cost", "discount_pct", "competitor_price"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    for column in ("is_promo", "is_stockout"):
        frame[column] = frame[column].fillna(False).astype(bool)
    return frame.sort_values(["date", "product_id", "channel"], ignore_index=True)
