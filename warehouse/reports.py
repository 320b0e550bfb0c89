"""The questions the command line answers about a data directory, as SQL on the analyst database.

Every function reads the published snapshot (never the writer's warehouse, which may be locked by a
running pipeline) and returns plain rows; printing is the caller's business.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from warehouse.connection import connect

EXAMPLE_QUERY = """\
SELECT p.category,
       sum(s.units)                  AS units,
       round(sum(s.revenue), 0)      AS revenue,
       round(avg(s.is_stockout::INT) * 100, 1) AS stockout_pct
FROM fct_daily_sales s JOIN dim_products p USING (product_id)
WHERE s.date > (SELECT max(date) FROM fct_daily_sales) - INTERVAL 30 DAY
GROUP BY ALL ORDER BY revenue DESC"""
"""Revenue, units and stockouts by category over the last 30 days: the demo's example for analysts."""


# The latest attempt per source and date (the warehouse's view ingest.batch_status, which is not published).
LATEST_BATCHES = """
    (SELECT * FROM ingest.batches
     QUALIFY row_number() OVER (PARTITION BY source, batch_date ORDER BY ingested_at DESC) = 1)"""


@dataclass(frozen=True)
class SourceTotals:
    source: str
    batches: int
    blocked: int
    rows_loaded: int
    rows_quarantined: int


@dataclass(frozen=True)
class ForecastSummary:
    origin: dt.date
    rows: int
    products: int
    model_version: int
    planned_promotion_rows: int
    p50_next_7_days: float
    p10_next_7_days: float  # sums of row quantiles: not a quantile of the total
    p90_next_7_days: float
    mean_next_7_days: float


@dataclass(frozen=True)
class ElasticitySummary:
    model_version: int
    products: int
    median_elasticity: float
    weak_instrument_pct: float


def _rows(analytics: Path, sql: str, parameters: list | None = None) -> list[tuple]:
    with connect(analytics, read_only=True) as connection:
        return connection.execute(sql, parameters or []).fetchall()


def source_totals(analytics: Path) -> list[SourceTotals]:
    """Per source: batches (latest attempt per date), how many are blocked, rows loaded and quarantined."""
    return [SourceTotals(*row) for row in _rows(analytics, f"""
        SELECT source, count(*), count(*) FILTER (status = 'blocked'), coalesce(sum(rows_loaded), 0),
               coalesce(sum(rows_quarantined), 0)
        FROM {LATEST_BATCHES} GROUP BY source ORDER BY source""")]


def top_quarantine_reasons(analytics: Path, limit: int = 6) -> list[tuple[str, str, int]]:
    """(source.table, reason, rows) for the most frequent reasons rows were quarantined.

    Reasons that name another row (a duplicate of row 12) are counted together as "row N".
    """
    return _rows(analytics, """
        SELECT source || '.' || table_name, regexp_replace(reasons, 'row [0-9]+', 'row N', 'g'), count(*)
        FROM ingest.quarantine GROUP BY ALL ORDER BY 3 DESC, 1, 2 LIMIT ?""", [limit])


def published_at(analytics: Path) -> dt.datetime | None:
    return _rows(analytics, "SELECT max(published_at) FROM main._published")[0][0]


def ingested_batch_ids(analytics: Path) -> dict[str, dict[str, str]]:
    """date -> {source: batch_id} of every batch loaded (latest attempt), from the published batch log."""
    done: dict[str, dict[str, str]] = {}
    for date, source, batch_id in _rows(analytics, f"""
            SELECT strftime(batch_date, '%Y-%m-%d'), source, batch_id
            FROM {LATEST_BATCHES} WHERE status = 'loaded'"""):
        done.setdefault(date, {})[source] = batch_id
    return done


def example_query(analytics: Path) -> list[tuple]:
    return _rows(analytics, EXAMPLE_QUERY)


def forecast_summary(analytics: Path) -> ForecastSummary | None:
    """The newest forecast origin at a glance; None when no forecast was published yet."""
    rows = _rows(analytics, """
        SELECT origin, count(*), count(DISTINCT product_id), any_value(model_version),
               count(planned_discount_pct),
               sum(p50) FILTER (horizon <= 7), sum(p10) FILTER (horizon <= 7),
               sum(p90) FILTER (horizon <= 7), sum(mean) FILTER (horizon <= 7)
        FROM reasoning.demand_forecasts
        WHERE origin = (SELECT max(origin) FROM reasoning.demand_forecasts) GROUP BY origin""") \
        if _has_table(analytics, "reasoning", "demand_forecasts") else []
    return ForecastSummary(*rows[0]) if rows else None


def elasticity_summary(analytics: Path) -> ElasticitySummary | None:
    if not _has_table(analytics, "reasoning", "price_elasticities"):
        return None
    rows = _rows(analytics, """
        SELECT any_value(model_version), count(*), median(elasticity), avg(weak_instrument::INT) * 100
        FROM reasoning.price_elasticities HAVING count(*) > 0""")
    return ElasticitySummary(*rows[0]) if rows else None


def _has_table(analytics: Path, schema: str, table: str) -> bool:
    return bool(_rows(analytics, "SELECT 1 FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
                      [schema, table]))
