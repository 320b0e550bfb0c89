"""Dagster resources: the stores every asset reads and writes, configured from one data directory.

Each resource is a thin, configurable handle on a library that has no Dagster code (``warehouse``,
``ml.registry``), so agents, tools and tests use the same code without Dagster. Assets receive the
resources by name; tests swap them by passing others to :func:`orchestration.definitions.build_defs`.

Concurrency: DuckDB takes one process at a time (a reader is locked out by a writer in another
process) and MLflow's SQLite store one writer, so every asset that touches the warehouse or writes
MLflow runs in the one pool ``duckdb_warehouse`` (limit 1 in ``dagster.yaml``), honoured across runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from orchestration.settings import DataPaths

if TYPE_CHECKING:
    from ml.registry import ModelRegistry
    from warehouse.publish import PublishSummary

WAREHOUSE_POOL = "duckdb_warehouse"
DEFAULT_MLFLOW_UI = "http://127.0.0.1:5000"


class DataDirectory(dg.ConfigurableResource):
    """The runtime data directory (``AGENTIC_COMMERCE_DATA_DIR``); every store lives under it."""

    root: str

    @property
    def paths(self) -> DataPaths:
        return DataPaths(Path(self.root).expanduser().resolve())


class LandingZone(dg.ConfigurableResource):
    """Where the source systems drop their daily batches: ``landing/<source>/<YYYY-MM-DD>/``."""

    data_dir: DataDirectory

    @property
    def path(self) -> Path:
        return self.data_dir.paths.landing


class Warehouse(dg.ConfigurableResource):
    """The DuckDB file the pipeline writes (raw, staging, marts, reasoning): one writer at a time."""

    data_dir: DataDirectory

    @property
    def path(self) -> Path:
        return self.data_dir.paths.warehouse

    @contextlib.contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator:
        """A short connection that waits out another process's lock (``warehouse.connection``)."""
        from warehouse.connection import connect

        with connect(self.path, read_only=read_only) as connection:
            yield connection


class AnalystDatabase(dg.ConfigurableResource):
    """The read-only snapshot analysts query (``analytics.duckdb``), republished from the warehouse."""

    warehouse: Warehouse

    @property
    def path(self) -> Path:
        return self.warehouse.data_dir.paths.analytics

    def publish(self, run_id: str | None = None) -> PublishSummary:
        from warehouse.publish import publish_analytics

        return publish_analytics(self.warehouse.path, self.path, run_id)


class ModelRegistryResource(dg.ConfigurableResource):
    """The MLflow tracking store and model registry (SQLite + local artifacts in the data directory)."""

    data_dir: DataDirectory
    ui_url: str = DEFAULT_MLFLOW_UI  # where `make ui` serves MLflow; links in asset metadata point here

    def get_registry(self) -> ModelRegistry:
        from ml.registry import ModelRegistry

        return ModelRegistry(self.data_dir.paths.mlflow)

    def run_url(self, experiment_id: str, run_id: str) -> str:
        return f"{self.ui_url.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"
