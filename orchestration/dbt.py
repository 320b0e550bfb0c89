"""The dbt project as Dagster sees it, and keeping its manifest current.

dagster-dbt builds assets from ``target/manifest.json``. ``DbtProject.prepare_if_dev()`` only parses
under ``dagster dev``, so the CLI, the tests and the definitions module call ``prepare_manifest``,
which runs ``dbt parse`` only when a project file is newer than the manifest (a few seconds, once).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from orchestration.settings import DBT_PROJECT_DIR, export_environment

PROJECT_FILE_SUFFIXES = {".sql", ".yml", ".yaml", ".md", ".csv"}


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
        export_environment()
        completed = subprocess.run(
            [dbt_executable(), "parse", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
             str(DBT_PROJECT_DIR), "--quiet"],
            cwd=DBT_PROJECT_DIR, capture_output=True, text=True, env=os.environ.copy(),
        )
        if completed.returncode != 0:
            raise RuntimeError(f"dbt parse failed in {DBT_PROJECT_DIR}:\n{completed.stdout}\n{completed.stderr}")
    return manifest_path()
