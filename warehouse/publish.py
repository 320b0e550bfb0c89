"""Publish the analyst database: a read-only snapshot of the marts, swapped in atomically.

The pipeline's warehouse has one writer at a time, so analysts never query it. After each
successful build, the marts (and the ingestion log and quarantine, which data engineers query) are
copied into a new DuckDB file that replaces ``analytics.duckdb`` with one rename. A session that
has the old file open keeps reading its snapshot; the next ``duckdb -readonly`` sees the new one.
Column documentation from dbt (persisted as DuckDB comments) is carried over.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from warehouse.connection import connect

PUBLISHED_SCHEMAS = ("marts", "reasoning")  # every table of these schemas
PUBLISHED_INGEST_TABLES = ("quarantine", "batches")  # and these of schema ingest (data engineers query them)
MART_SCHEMA = "marts"  # also exposed as views in ``main``: analysts write `from fct_daily_sales`


@dataclass
class PublishSummary:
    path: Path
    tables: dict[str, int]
    seconds: float


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def publish_analytics(warehouse: Path, analytics: Path, run_id: str | None = None) -> PublishSummary:
    started = dt.datetime.now(dt.UTC)
    if not Path(warehouse).is_file():
        raise FileNotFoundError(f"no warehouse at {warehouse}: run the perception pipeline first")
    temporary = analytics.with_name(f".{analytics.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    tables: dict[str, int] = {}
    with connect(temporary) as connection:
        connection.execute(f"ATTACH {_quote(str(warehouse))} AS wh (READ_ONLY)")
        listing = connection.execute("""
            SELECT schema_name, table_name, comment FROM duckdb_tables()
            WHERE database_name = 'wh' AND (list_contains(?, schema_name) OR
                  (schema_name = 'ingest' AND list_contains(?, table_name)))
            ORDER BY schema_name, table_name""", [list(PUBLISHED_SCHEMAS), list(PUBLISHED_INGEST_TABLES)]).fetchall()
        if not any(schema == MART_SCHEMA for schema, _, _ in listing):
            raise RuntimeError(f"{warehouse} has no marts yet: run dbt (the perception job) before publishing")
        for schema in sorted({schema for schema, _, _ in listing}):
            connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for schema, table, comment in listing:
            connection.execute(f"CREATE TABLE {schema}.{table} AS SELECT * FROM wh.{schema}.{table}")
            if comment:
                connection.execute(f"COMMENT ON TABLE {schema}.{table} IS {_quote(comment)}")
            if schema == MART_SCHEMA:
                connection.execute(f"CREATE VIEW main.{table} AS SELECT * FROM {MART_SCHEMA}.{table}")
            tables[f"{schema}.{table}"] = connection.execute(f"SELECT count(*) FROM {schema}.{table}").fetchone()[0]
        for schema, table, column, comment in connection.execute("""
                SELECT schema_name, table_name, column_name, comment FROM duckdb_columns()
                WHERE database_name = 'wh' AND comment IS NOT NULL""").fetchall():
            if f"{schema}.{table}" in tables:
                connection.execute(f'COMMENT ON COLUMN {schema}.{table}."{column}" IS {_quote(comment)}')
        connection.execute("CREATE TABLE main._published (published_at TIMESTAMP, run_id VARCHAR, warehouse VARCHAR)")
        connection.execute("INSERT INTO main._published VALUES (?, ?, ?)",
                           [started.replace(tzinfo=None), run_id, str(warehouse)])
        connection.execute("DETACH wh")
    os.replace(temporary, analytics)
    return PublishSummary(analytics, tables, (dt.datetime.now(dt.UTC) - started).total_seconds())
