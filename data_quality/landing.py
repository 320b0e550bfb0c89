"""Read landed batches: the folder, its manifest and its files — the structural checks.

Everything that makes a batch unusable as a whole is found here and reported as a batch problem
naming the file and what is wrong: no manifest (the batch is incomplete), a manifest that breaks
its contract (``data_quality.manifest``), a file missing, not in the contract, not a regular file,
or in the folder without being in the manifest, content that does not match the manifest (changed
or truncated after export), and whatever makes a file unreadable (``data_quality.readers``).
Everything that is wrong with single rows is kept as a row with a parse error, so it can be
quarantined with its reason instead of being dropped. Raw values are returned untyped; typing is
``data_quality.coerce``'s job.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from data_quality.contracts import SourceContract, TableContract
from data_quality.manifest import MANIFEST_FILE, ListedFile, is_regular_file, read_manifest
from data_quality.readers import parse_file


@dataclass
class LandedTable:
    contract: TableContract
    path: Path
    frame: pd.DataFrame  # contract columns (raw values) + _row_number + _parse_error + _raw_text
    rows_declared: int | None


@dataclass
class LandedBatch:
    """One source's batch for one date, read but not yet validated row by row."""

    source: str
    batch_date: dt.date
    directory: Path
    batch_id: str | None = None
    tables: dict[str, LandedTable] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # tolerated deviations that were normalized, per file

    @property
    def blocked(self) -> bool:
        return bool(self.problems)

    @property
    def rows_landed(self) -> int:
        return sum(len(t.frame) for t in self.tables.values())

    @property
    def files(self) -> list[str]:
        return sorted(t.path.name for t in self.tables.values())


def batch_directory(landing_root: Path, source: str, batch_date: dt.date) -> Path:
    return Path(landing_root) / source / batch_date.isoformat()


def read_batch(landing_root: Path, contract: SourceContract, batch_date: dt.date) -> LandedBatch:
    directory = batch_directory(landing_root, contract.name, batch_date)
    batch = LandedBatch(contract.name, batch_date, directory)
    if not directory.is_dir():
        batch.problems.append(f"no batch landed: {directory} does not exist")
        return batch
    manifest = read_manifest(directory, contract, batch_date)
    if manifest is None:
        batch.problems.append(f"{directory / MANIFEST_FILE}: missing — the batch is incomplete (a batch is complete "
                              f"only when its manifest exists)")
        return batch
    batch.problems += manifest.problems
    batch.notes += manifest.notes
    batch.batch_id = manifest.batch_id or _manifest_hash(directory)
    if not manifest.readable:
        return batch  # nothing is known about the batch's files
    listed = manifest.files
    expected = {t.file_name: t for t in contract.tables}
    for name in sorted(set(listed) - set(expected)):
        batch.problems.append(f"{directory / name}: file is not part of the {contract.name} contract "
                              f"(expected {', '.join(sorted(expected))})")
    _check_unlisted(batch, set(listed))
    for name, table in expected.items():
        path = directory / name
        if name not in listed:
            batch.problems.append(f"{path}: missing from the manifest (the batch must contain {name})")
        elif not os.path.lexists(path):
            batch.problems.append(f"{path}: listed in the manifest but not landed")
        elif not is_regular_file(path):
            batch.problems.append(f"{path}: not a regular file (a symbolic link, folder or device); data files must "
                                  f"be written into the batch folder itself")
        else:
            landed = _read_file(batch, table, path, listed[name])
            if landed is not None:
                batch.tables[table.table] = landed
    return batch


def _manifest_hash(directory: Path) -> str | None:
    """An id for a batch whose manifest has no usable batch_id (the batch is blocked; its rows still need one)."""
    path = directory / MANIFEST_FILE
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if is_regular_file(path) else None


def _check_unlisted(batch: LandedBatch, listed: set[str]) -> None:
    """Entries of the folder the manifest does not list: they block the batch, or (hidden files) are noted.

    Hidden entries (".name") are what exporters write before renaming a file into place; they are
    reported in the batch's notes, not silently skipped, and do not block it.
    """
    for entry in sorted(os.listdir(batch.directory)):
        if entry == MANIFEST_FILE or entry in listed:
            continue
        if entry.startswith("."):
            batch.notes.append(f"{entry}: hidden entry in the batch folder, not in the manifest, not read")
        else:
            batch.problems.append(f"{batch.directory / entry}: in the batch folder but not in the manifest — a batch "
                                  f"lists every file it contains")


def _read_file(batch: LandedBatch, table: TableContract, path: Path, listed: ListedFile) -> LandedTable | None:
    try:
        payload = path.read_bytes()
    except OSError as error:
        batch.problems.append(f"{path}: cannot be read ({error.strerror or error})")
        return None
    if listed.sha256 and hashlib.sha256(payload).hexdigest() != listed.sha256:
        size = f" ({len(payload)} bytes, manifest says {listed.bytes})" if listed.bytes is not None else ""
        batch.problems.append(f"{path}: content does not match the manifest checksum — changed or truncated "
                              f"after export{size}")
    elif listed.bytes is not None and len(payload) != listed.bytes:
        batch.problems.append(f"{path}: has {len(payload)} bytes, manifest says {listed.bytes}")
    parsed = parse_file(table, payload)
    batch.notes += [f"{path.name}: {note}" for note in parsed.notes]
    batch.problems += [f"{path}: {problem}" for problem in parsed.problems]
    if parsed.frame is None:
        return None
    rows = len(parsed.frame)
    if not payload:
        if listed.rows or table.min_rows:
            batch.problems.append(f"{path}: file is empty (0 bytes)" +
                                  (f", manifest declares {listed.rows} rows" if listed.rows else ""))
    else:
        if listed.rows is not None and rows != listed.rows:
            batch.problems.append(f"{path}: has {rows} rows, manifest declares {listed.rows} — truncated or "
                                  f"incomplete file")
        if rows < table.min_rows:
            batch.problems.append(f"{path}: has {rows} rows; a {table.table} batch needs at least {table.min_rows}")
    return LandedTable(table, path, parsed.frame, listed.rows)
