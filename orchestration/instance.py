"""The persistent Dagster home inside the data directory, so the UI shows what the CLI ran."""

from __future__ import annotations

from pathlib import Path

from orchestration.settings import DataPaths, export_environment

# Every warehouse writer runs in the pool `duckdb_warehouse`; one slot means DuckDB's single-writer
# lock is never contended, across concurrent runs too.
DAGSTER_YAML = """\
# Written by agentic-commerce. Dagster instance settings for the embedded deployment.
concurrency:
  pools:
    default_limit: 1
  runs:
    max_concurrent_runs: 4
telemetry:
  enabled: false
"""


def ensure_dagster_home(paths: DataPaths | None = None) -> Path:
    paths = export_environment(paths)
    home = paths.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    return home


def get_instance(paths: DataPaths | None = None):
    import dagster as dg

    ensure_dagster_home(paths)
    return dg.DagsterInstance.get()
