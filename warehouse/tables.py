"""Derived tables the platform writes after ingestion: forecasts, elasticities, later decisions.

One operation, keyed replacement in a single transaction, so a re-run for the same key (a forecast
origin) replaces its rows and keeps the history of other keys.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from warehouse.connection import connect


def replace_rows(path: Path, schema: str, table: str, frame: pd.DataFrame, *, key: dict | None = None) -> int:
    """Write ``frame`` into ``schema.table``: replace the rows matching ``key`` (or all rows), in one transaction.

    Creates the table from the frame on first use; returns the table's row count afterwards. A column
    the table lacks is added (older rows read NULL there), so a model that reports more than its
    predecessor does not break the history already written.
    """
    with connect(path) as connection:
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        connection.register("incoming", frame)
        connection.execute(f"CREATE TABLE IF NOT EXISTS {schema}.{table} AS SELECT * FROM incoming LIMIT 0")
        existing = {row[0] for row in connection.execute(f"DESCRIBE {schema}.{table}").fetchall()}
        for name, column_type, *_ in connection.execute("DESCRIBE incoming").fetchall():
            if name not in existing:
                connection.execute(f'ALTER TABLE {schema}.{table} ADD COLUMN "{name}" {column_type}')
        connection.execute("BEGIN")
        if key:
            where = " AND ".join(f'"{column}" = ?' for column in key)
            connection.execute(f"DELETE FROM {schema}.{table} WHERE {where}", list(key.values()))
        else:
            connection.execute(f"DELETE FROM {schema}.{table}")
        connection.execute(f"INSERT INTO {schema}.{table} BY NAME SELECT * FROM incoming")
        connection.execute("COMMIT")
        connection.unregister("incoming")
        return connection.execute(f"SELECT count(*) FROM {schema}.{table}").fetchone()[0]
