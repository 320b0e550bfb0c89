"""Where runtime state lives: one data directory, set by one environment variable.

``AGENTIC_COMMERCE_DATA_DIR`` (default ``./data``) holds the landing zone, the writer's warehouse,
the published analyst database, the MLflow store, the Dagster home, the simulator and the logs.
Every other component asks this module for paths, so pointing the platform elsewhere is one
variable. Nothing here runs at import: callers ask for :func:`data_paths` when they need it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DATA_DIR_ENV = "AGENTIC_COMMERCE_DATA_DIR"
WAREHOUSE_ENV = "AGENTIC_COMMERCE_WAREHOUSE"  # dbt's profiles.yml falls back to it outside Dagster
DEFAULT_DATA_DIR = "data"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


@dataclass(frozen=True)
class DataPaths:
    """The layout of one data directory; every path is derived from ``root``."""

    root: Path

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def analytics(self) -> Path:
        return self.root / "analytics.duckdb"

    @property
    def mlflow(self) -> Path:
        return self.root / "mlflow"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def simulator(self) -> Path:
        return self.root / "sim"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def bench(self) -> Path:
        return self.root / "bench"


def data_paths(root: Path | str | None = None) -> DataPaths:
    """The data directory ``root``, or the one the environment names; absolute, because dbt and DuckDB
    resolve relative paths against different working directories."""
    chosen = root if root is not None else os.environ.get(DATA_DIR_ENV, DEFAULT_DATA_DIR)
    return DataPaths(Path(chosen).expanduser().resolve())


def child_environment(paths: DataPaths) -> dict[str, str]:
    """The environment for tools this process starts (Dagster's servers, dbt by hand): the data
    directory, dbt's warehouse path and the Dagster home, on top of the current environment."""
    return {**os.environ, DATA_DIR_ENV: str(paths.root), WAREHOUSE_ENV: str(paths.warehouse),
            "DAGSTER_HOME": str(paths.dagster_home)}
