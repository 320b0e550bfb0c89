"""What ingestion writes into the warehouse: raw tables, the quarantine, the batch log.

Every writer runs in one Dagster pool (limit 1, ``orchestration.resources``), because DuckDB allows
one writing process per file; connections are short (:mod:`warehouse.connection`).

Tables:
- ``raw.<table>``: validated rows of each landed file, typed per ``data_quality.contracts``, with
  ``_batch_date``, ``_batch_id``, ``_source_file``, ``_row_number``, ``_loaded_at``, ``_run_id``;
- ``ingest.quarantine``: every rejected row with its reasons, file and line, and the raw record;
- ``ingest.batches``: one row per batch and ingestion attempt (append-only history), with rows
  landed, loaded and quarantined and the problems of blocked batches.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from data_quality.boundary import QUARANTINE_COLUMNS, ValidationResult
from data_quality.contracts import DUCKDB_TYPES, SOURCES, TableContract
from data_quality.suites import Reference
from warehouse.connection import connect

META_COLUMNS = {"_batch_date": "DATE", "_batch_id": "VARCHAR", "_source_file": "VARCHAR", "_row_number": "BIGINT",
                "_loaded_at": "TIMESTAMP", "_run_id": "VARCHAR"}

INGEST_DDL = """
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS ingest;
CREATE TABLE IF NOT EXISTS ingest.quarantine (
    source VARCHAR, table_name VARCHAR, batch_date DATE, batch_id VARCHAR, source_file VARCHAR,
    row_number BIGINT, reasons VARCHAR, failed_expectations VARCHAR, record VARCHAR,
    run_id VARCHAR, quarantined_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS ingest.batches (
    source VARCHAR, batch_date DATE, batch_id VARCHAR, status VARCHAR, rows_landed BIGINT,
    rows_loaded BIGINT, rows_quarantined BIGINT, files VARCHAR, message VARCHAR,
    run_id VARCHAR, ingested_at TIMESTAMP);
CREATE OR REPLACE VIEW ingest.batch_status AS
    SELECT * EXCLUDE (attempt) FROM (
        SELECT *, row_number() OVER (PARTITION BY source, batch_date ORDER BY ingested_at DESC) AS attempt
        FROM ingest.batches) WHERE attempt = 1;
"""


def raw_table_ddl(table: TableContract) -> str:
    columns = [f'"{c.name}" {DUCKDB_TYPES[c.type]}' for c in table.columns]
    columns += [f"{name} {type_}" for name, type_ in META_COLUMNS.items()]
    return f"CREATE TABLE IF NOT EXISTS raw.{table.table} ({', '.join(columns)})"


def ensure_schema(connection) -> None:
    connection.execute(INGEST_DDL)
    for source in SOURCES.values():
        for table in source.tables:
            connection.execute(raw_table_ddl(table))


def _select_list(table: TableContract) -> str:
    casts = []
    for column in table.columns:
        if column.type == "date":
            casts.append(f'CAST("{column.name}" AS DATE) AS "{column.name}"')
        else:
            casts.append(f'CAST("{column.name}" AS {DUCKDB_TYPES[column.type]}) AS "{column.name}"')
    return ", ".join(casts)


def store_validation(path: Path, result: ValidationResult, run_id: str) -> None:
    """Replace the loaded batches' raw rows and their quarantine, and log every batch, in one transaction.

    Blocked batches leave raw rows of their date untouched: if an earlier, valid version of that
    batch was loaded it stays until a valid replacement lands.
    """
    contract = SOURCES[result.source]
    now = pd.Timestamp.now(tz="UTC").tz_localize(None)
    loaded_dates = [b.batch_date for b in result.batches if b.status == "loaded"]
    all_dates = [b.batch_date for b in result.batches]
    with connect(path) as connection:
        ensure_schema(connection)
        connection.execute("BEGIN TRANSACTION")
        try:
            if loaded_dates:
                dates = pd.DataFrame({"d": pd.to_datetime(loaded_dates)})
                connection.register("replaced_dates", dates)
                for table in contract.tables:
                    connection.execute(
                        f"DELETE FROM raw.{table.table} WHERE _batch_date IN (SELECT CAST(d AS DATE) FROM replaced_dates)")
                    rows = result.loaded.get(table.table)
                    if rows is None or rows.empty:
                        continue
                    connection.register("incoming", rows)
                    connection.execute(
                        f"INSERT INTO raw.{table.table} SELECT {_select_list(table)}, CAST(_batch_date AS DATE), "
                        f"_batch_id, _source_file, _row_number, ?, ? FROM incoming", [now, run_id])
                    connection.unregister("incoming")
                connection.unregister("replaced_dates")
            touched = pd.DataFrame({"d": pd.to_datetime(all_dates)})
            connection.register("touched_dates", touched)
            connection.execute(
                "DELETE FROM ingest.quarantine WHERE source = ? AND batch_date IN "
                "(SELECT CAST(d AS DATE) FROM touched_dates)", [result.source])
            connection.unregister("touched_dates")
            if len(result.quarantine):
                connection.register("quarantined", result.quarantine[QUARANTINE_COLUMNS])
                connection.execute(
                    "INSERT INTO ingest.quarantine SELECT source, table_name, CAST(batch_date AS DATE), batch_id, "
                    "source_file, row_number, reasons, failed_expectations, record, ?, ? FROM quarantined",
                    [run_id, now])
                connection.unregister("quarantined")
            log = pd.DataFrame([{
                "source": b.source, "batch_date": b.batch_date, "batch_id": b.batch_id, "status": b.status,
                "rows_landed": b.rows_landed, "rows_loaded": b.rows_loaded, "rows_quarantined": b.rows_quarantined,
                "files": ", ".join(b.files), "message": b.message or None,
            } for b in result.batches])
            connection.register("batch_log", log)
            connection.execute(
                "INSERT INTO ingest.batches SELECT source, CAST(batch_date AS DATE), batch_id, status, rows_landed, "
                "rows_loaded, rows_quarantined, files, message, ?, ? FROM batch_log", [run_id, now])
            connection.unregister("batch_log")
            connection.execute("COMMIT")
        except Exception:
            connection.execute("ROLLBACK")
            raise


def reconcile(path: Path, source: str, dates: list[dt.date]) -> pd.DataFrame:
    """Per batch: landed, loaded and quarantined as logged, and as actually present in the tables."""
    contract = SOURCES[source]
    counts = " + ".join(
        f"(SELECT count(*) FROM raw.{t.table} r WHERE r._batch_id = s.batch_id AND r._batch_date = s.batch_date)"
        for t in contract.tables)
    with connect(path) as connection:
        connection.register("wanted", pd.DataFrame({"d": pd.to_datetime(dates)}))
        frame = connection.execute(f"""
            SELECT s.batch_date, s.batch_id, s.status, s.rows_landed, s.rows_loaded, s.rows_quarantined,
                   CASE WHEN s.status = 'loaded' THEN {counts} ELSE 0 END AS rows_in_raw,
                   (SELECT count(*) FROM ingest.quarantine q
                     WHERE q.source = s.source AND q.batch_date = s.batch_date) AS rows_in_quarantine
            FROM ingest.batch_status s
            WHERE s.source = ? AND s.batch_date IN (SELECT CAST(d AS DATE) FROM wanted)
            ORDER BY s.batch_date""", [source]).df()
    frame["balanced"] = ((frame["rows_landed"] == frame["rows_loaded"] + frame["rows_quarantined"])
                         & (frame["rows_loaded"] == frame["rows_in_raw"])
                         & (frame["rows_quarantined"] == frame["rows_in_quarantine"]))
    return frame


def reference_data(path: Path) -> Reference:
    """Products, list prices, channels and warehouses known to the warehouse, for row-level checks."""
    if not Path(path).exists():
        return Reference()
    with connect(path) as connection:
        ensure_schema(connection)
        products = connection.execute("""
            SELECT product_id, arg_max(list_price, _batch_date) AS list_price
            FROM raw.products GROUP BY product_id""").df()
        channels = connection.execute("SELECT DISTINCT channel_id FROM raw.channels").df()
        warehouses = connection.execute("SELECT DISTINCT warehouse_id FROM raw.warehouses").df()
    return Reference(
        products=frozenset(products["product_id"]),
        list_price=dict(zip(products["product_id"], products["list_price"].astype(float))),
        channels=frozenset(channels["channel_id"]),
        warehouses=frozenset(warehouses["warehouse_id"]),
    )
