"""What has landed: the complete batches in a landing zone, per date and source.

A batch is complete when its manifest exists (the exporter writes it last). The sensor, the command
line and the demo ask this module which dates can be ingested; reading a batch's content is
:mod:`data_quality.landing`'s business.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from data_quality.contracts import SOURCES
from data_quality.manifest import MANIFEST_FILE, is_complete

UNREADABLE_PREFIX = "unreadable:"  # batch id of a manifest that cannot be parsed: ingestion will block it


def complete_batches(landing_root: Path) -> dict[str, dict[str, str]]:
    """date (YYYY-MM-DD) -> {source: batch_id} for every batch under ``landing_root`` with a manifest.

    A manifest that cannot be read still counts (its batch id says so): ingesting it blocks the batch
    with the reason, which is better than never looking at it. Folders that are not dates are ignored.
    """
    found: dict[str, dict[str, str]] = {}
    for source in SOURCES:
        for manifest in (Path(landing_root) / source).glob(f"*/{MANIFEST_FILE}"):
            date = manifest.parent.name
            if not _is_date(date) or not is_complete(manifest.parent):
                continue
            try:
                batch_id = str(json.loads(manifest.read_text(encoding="utf-8")).get("batch_id"))
            except (ValueError, UnicodeDecodeError, OSError, AttributeError):
                batch_id = f"{UNREADABLE_PREFIX}{manifest.stat().st_mtime_ns}"
            found.setdefault(date, {})[source] = batch_id
    return found


def ready_dates(landed: dict[str, dict[str, str]]) -> list[str]:
    """Dates every source has completed: ingestion takes a date's sources together."""
    return sorted(date for date, batches in landed.items() if set(SOURCES) <= set(batches))


def missing_sources(batches: dict[str, str]) -> list[str]:
    return sorted(set(SOURCES) - set(batches))


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10
