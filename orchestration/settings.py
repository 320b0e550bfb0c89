"""Where runtime state lives: one data directory, set by one environment variable.

``AGENTIC_COMMERCE_DATA_DIR`` (default ``./data``) holds the landing zone, the writer's warehouse,
the published analyst database, the MLflow store, the Dagster home and the simulator. Every other
component asks this module for paths, so pointing the platform elsewhere is one variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DATA_DIR_ENV = "AGENTIC_COMMERCE_DATA_DIR"
WAREHOUSE_ENV = "AGENTIC_COMMERCE_WAREHOUSE"  # read by dbt's profiles.yml
PARTITIONS_START_ENV = "AGENTIC_COMMERCE_PARTITIONS_START"
DEFAULT_PARTITIONS_START = "2025-01-01"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


@dataclass(frozen=True)
class DataPaths:
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


def data_paths() -> DataPaths:
    """Paths from the environment, made absolute (dbt and DuckDB resolve relative paths differently)."""
    return DataPaths(Path(os.environ.get(DATA_DIR_ENV, "data")).expanduser().resolve())


def export_environment(paths: DataPaths | None = None) -> DataPaths:
    """Set the variables child tools read (dbt's warehouse path, Dagster's home) from the data dir."""
    paths = paths or data_paths()
    os.environ[DATA_DIR_ENV] = str(paths.root)
    os.environ[WAREHOUSE_ENV] = str(paths.warehouse)
    os.environ["DAGSTER_HOME"] = str(paths.dagster_home)
    return paths
