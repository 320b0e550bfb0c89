"""Dagster resources: the data directory (landing zone, warehouse, analyst database) and dbt."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from orchestration.settings import DataPaths, data_paths


class DataDirectory(dg.ConfigurableResource):
    """The runtime data directory; everything the pipeline reads or writes lives under it."""

    root: str

    @property
    def paths(self) -> DataPaths:
        return DataPaths(root=Path(self.root))


def default_data_directory() -> DataDirectory:
    return DataDirectory(root=str(data_paths().root))
