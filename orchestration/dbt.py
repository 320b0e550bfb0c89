"""The dbt project's manifest, which dagster-dbt builds its assets from.

The code location never runs dbt while it loads: ``make install`` (``agentic-commerce dbt-parse``)
and the test fixtures prepare ``target/manifest.json`` with :func:`prepare_manifest`, which runs
``dbt parse`` only when a project file is newer than the manifest (a few seconds, once). Loading the
definitions without one is an error that says how to make it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from orchestration.settings import DBT_PROJECT_DIR

PROJECT_FILE_SUFFIXES = {".sql", ".yml", ".yaml", ".md", ".csv"}


class ManifestMissingError(RuntimeError):
    """The dbt manifest was never prepared; the message says how to prepare it."""


def manifest_path() -> Path:
    return DBT_PROJECT_DIR / "target" / "manifest.json"


def _newest_source_mtime() -> float:
    newest = 0.0
    for path in DBT_PROJECT_DIR.rglob("*"):
        if path.suffix in PROJECT_FILE_SUFFIXES and "target" not in path.parts and "logs" not in path.parts:
            newest = max(newest, path.stat().st_mtime)
    return newest


def manifest_is_stale() -> bool:
    manifest = manifest_path()
    return not manifest.is_file() or manifest.stat().st_mtime < _newest_source_mtime()


def dbt_executable() -> str:
    beside_python = Path(sys.executable).parent / "dbt"
    return str(beside_python) if beside_python.exists() else (shutil.which("dbt") or "dbt")


def prepare_manifest(force: bool = False) -> Path:
    """Run ``dbt parse`` if the manifest is missing or older than the project files."""
    if force or manifest_is_stale():
        completed = subprocess.run(
            [dbt_executable(), "parse", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
             str(DBT_PROJECT_DIR), "--quiet"],
            cwd=DBT_PROJECT_DIR, capture_output=True, text=True,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"dbt parse failed in {DBT_PROJECT_DIR}:\n{completed.stdout}\n{completed.stderr}")
    return manifest_path()


def require_manifest() -> Path:
    """The prepared manifest, or an error naming the command that prepares it (no subprocess here)."""
    manifest = manifest_path()
    if not manifest.is_file():
        raise ManifestMissingError(f"no dbt manifest at {manifest}: run `make install` (or `agentic-commerce "
                                   f"dbt-parse`) before loading the Dagster definitions")
    return manifest
