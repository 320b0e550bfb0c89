"""The persistent Dagster home inside the data directory, so the UI shows what the CLI ran."""

from __future__ import annotations

from pathlib import Path

from orchestration.settings import DataPaths

# Every warehouse writer runs in one pool and MLflow's SQLite store takes one writer too; with one
# slot per pool, DuckDB's single-writer lock is never contended, across concurrent runs too. Two
# runs at a time is what two cores carry.
DAGSTER_YAML = """\
# Written by agentic-commerce. Dagster instance settings for the embedded deployment.
concurrency:
  pools:
    default_limit: 1
  runs:
    max_concurrent_runs: 2
telemetry:
  enabled: false
"""


def ensure_dagster_home(paths: DataPaths) -> Path:
    """Create the Dagster home with its ``dagster.yaml`` (an existing file is left as the user edited it)."""
    home = paths.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    return home


def get_instance(paths: DataPaths):
    """The Dagster instance stored in the data directory, without reading or changing ``DAGSTER_HOME``."""
    import dagster as dg

    return dg.DagsterInstance.from_config(str(ensure_dagster_home(paths)))
