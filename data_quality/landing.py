"""Read landed batches: manifest, files, encoding, parsing and columns — the structural checks.

Everything that makes a batch unusable as a whole is found here and reported as a batch problem
naming the file and what is wrong: no manifest (the batch is incomplete), a file missing or not in
the contract, content that does not match the manifest (changed or truncated after export), bad
encoding, an unreadable file, missing or unexpected columns (schema drift), too few rows.
Everything that is wrong with single rows (a malformed CSV line, an invalid JSON line) is kept as a
row with a parse error, so it can be quarantined with its reason instead of being dropped.
Raw values are returned untyped (object columns); typing happens in ``data_quality.typing``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from data_quality.contracts import SourceContract, TableContract

MANIFEST = "_manifest.json"
ROW_NUMBER = "_row_number"
PARSE_ERROR = "_parse_error"
RAW_TEXT = "_raw_text"  # the original line, kept for rows that could not be parsed


@dataclass
class LandedTable:
    contract: TableContract
    path: Path
    frame: pd.DataFrame  # contract columns (object dtype) + _row_number + _parse_error
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


def is_complete(directory: Path) -> bool:
    return (directory / MANIFEST).is_file()


def read_batch(landing_root: Path, contract: SourceContract, batch_date: dt.date) -> LandedBatch:
    directory = batch_directory(landing_root, contract.name, batch_date)
    batch = LandedBatch(contract.name, batch_date, directory)
    if not directory.is_dir():
        batch.problems.append(f"no batch landed: {directory} does not exist")
        return batch
    manifest = _read_manifest(batch, contract)
    if manifest is None:
        return batch
    listed = {entry.get("name"): entry for entry in manifest.get("files", []) if isinstance(entry, dict)}
    expected = {t.file_name: t for t in contract.tables}
    for name in sorted(set(listed) - set(expected)):
        batch.problems.append(f"{directory / str(name)}: file is not part of the {contract.name} contract "
                              f"(expected {', '.join(sorted(expected))})")
    for name, table in expected.items():
        path = directory / name
        if name not in listed:
            batch.problems.append(f"{path}: missing from the manifest (the batch must contain {name})")
            continue
        if not path.is_file():
            batch.problems.append(f"{path}: listed in the manifest but not landed")
            continue
        landed = _read_file(batch, table, path, listed[name])
        if landed is not None:
            batch.tables[table.table] = landed
    return batch


def _read_manifest(batch: LandedBatch, contract: SourceContract) -> dict | None:
    path = batch.directory / MANIFEST
    if not path.is_file():
        batch.problems.append(
            f"{path}: missing — the batch is incomplete (a batch is complete only when its manifest exists)")
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        batch.problems.append(f"{path}: manifest is not valid JSON ({error})")
        return None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        batch.problems.append(f"{path}: manifest must be an object with a 'files' list")
        return None
    if manifest.get("source") not in (None, contract.name):
        batch.problems.append(f"{path}: manifest is for source {manifest.get('source')!r}, landed under {contract.name!r}")
    if manifest.get("batch_date") not in (None, batch.batch_date.isoformat()):
        batch.problems.append(
            f"{path}: manifest batch_date {manifest.get('batch_date')!r} does not match the folder {batch.batch_date}")
    batch.batch_id = str(manifest.get("batch_id") or hashlib.sha256(path.read_bytes()).hexdigest()[:16])
    return manifest


def _read_file(batch: LandedBatch, table: TableContract, path: Path, entry: dict) -> LandedTable | None:
    payload = path.read_bytes()
    declared_rows = entry.get("rows") if isinstance(entry.get("rows"), int) else None
    if entry.get("sha256") and hashlib.sha256(payload).hexdigest() != entry["sha256"]:
        size = f"{len(payload)} bytes, manifest says {entry.get('bytes')}" if entry.get("bytes") else ""
        batch.problems.append(f"{path}: content does not match the manifest checksum — changed or truncated "
                              f"after export ({size})".replace(" ()", ""))
    if not payload:
        if declared_rows or table.min_rows:
            batch.problems.append(f"{path}: file is empty (0 bytes)" +
                                  (f", manifest declares {declared_rows} rows" if declared_rows else ""))
        frame = _empty_frame(table)
        return LandedTable(table, path, frame, declared_rows)
    try:
        if table.format == "csv":
            frame = _parse_csv(batch, table, path, payload)
        elif table.format == "jsonl":
            frame = _parse_jsonl(batch, table, path, payload)
        else:
            frame = _parse_parquet(batch, table, path, payload)
    except _Unreadable as error:
        batch.problems.append(f"{path}: {error}")
        return None
    if frame is None:
        return None
    if declared_rows is not None and len(frame) != declared_rows:
        batch.problems.append(f"{path}: has {len(frame)} rows, manifest declares {declared_rows} — truncated or "
                              f"incomplete file")
    if len(frame) < table.min_rows:
        batch.problems.append(f"{path}: has {len(frame)} rows; a {table.table} batch needs at least {table.min_rows}")
    return LandedTable(table, path, frame, declared_rows)


class _Unreadable(Exception):
    pass


def _empty_frame(table: TableContract) -> pd.DataFrame:
    frame = pd.DataFrame({name: pd.Series(dtype=object) for name in table.column_names})
    frame[ROW_NUMBER] = pd.Series(dtype="int64")
    frame[PARSE_ERROR] = pd.Series(dtype=object)
    frame[RAW_TEXT] = pd.Series(dtype=object)
    return frame


def _decode(path: Path, payload: bytes) -> str:
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError as error:
        line = payload[: error.start].count(b"\n") + 1
        raise _Unreadable(f"not valid UTF-8: byte 0x{payload[error.start]:02x} at offset {error.start} "
                          f"(line {line}); the export must be UTF-8") from None


def _check_columns(batch: LandedBatch, table: TableContract, path: Path, columns: list[str]) -> bool:
    expected = table.column_names
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    missing = [c for c in expected if c not in columns]
    extra = [c for c in columns if c not in expected]
    if duplicated:
        batch.problems.append(f"{path}: duplicated column(s) {', '.join(duplicated)}")
    if missing:
        batch.problems.append(f"{path}: missing column(s) {', '.join(missing)}")
    if extra:
        batch.problems.append(f"{path}: unexpected column(s) {', '.join(extra)} — schema drift; update the "
                              f"{table.source} contract if the change is intended")
    # Missing columns block the batch, but the rows are still read (missing values empty) so that they can be
    # quarantined with the batch problem instead of vanishing from the landed count. Duplicated names cannot be
    # mapped to contract columns unambiguously.
    return not duplicated


def _finish(frame: pd.DataFrame, table: TableContract, row_numbers, parse_errors=None, raw=None) -> pd.DataFrame:
    """Contract columns in contract order (values untyped: typing is data_quality.coerce's job)."""
    frame = frame.reindex(columns=table.column_names)
    frame[ROW_NUMBER] = list(row_numbers)
    frame[PARSE_ERROR] = parse_errors
    frame[RAW_TEXT] = raw
    return frame.reset_index(drop=True)


def _parse_csv(batch, table, path, payload) -> pd.DataFrame | None:
    text = _decode(path, payload)
    header = next(csv.reader(io.StringIO(text.split("\n", 1)[0])), [])
    if not _check_columns(batch, table, path, header):
        return None
    # pandas rejects lines with too many fields but silently pads lines with too few: check every width first.
    if all(len(record) == len(header) for record in csv.reader(io.StringIO(text))):
        try:  # fast path: well-formed CSV
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""],
                                on_bad_lines="error", engine="c")
            return _finish(frame, table, range(1, len(frame) + 1), None)
        except (pd.errors.ParserError, ValueError):
            pass
    rows, errors, raw = [], [], []
    reader = csv.reader(io.StringIO(text))
    next(reader)
    for record in reader:
        if len(record) == len(header):
            rows.append([value if value != "" else None for value in record])
            errors.append(None)
            raw.append(None)
        else:
            rows.append([None] * len(header))
            errors.append(f"malformed CSV line: expected {len(header)} fields, found {len(record)}")
            raw.append(",".join(record))
    frame = pd.DataFrame(rows, columns=header)
    return _finish(frame, table, range(1, len(frame) + 1), errors, raw)


def _parse_jsonl(batch, table, path, payload) -> pd.DataFrame | None:
    text = _decode(path, payload)
    fast = _parse_jsonl_fast(payload, table)
    if fast is not None:
        present = list(fast.columns) + [c for c in table.column_names
                                        if c not in fast.columns and not table.column(c).required]
        if not _check_columns(batch, table, path, present):
            return None
        return _finish(fast, table, range(1, len(fast) + 1))
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    elif lines:
        try:
            json.loads(lines[-1])
        except ValueError:  # the complete lines are still read (and quarantined with the batch problem)
            batch.problems.append(f"{path}: last line ({len(lines)}) is cut off — truncated file")
    records, errors, raw = [], [], []
    for line in lines:
        try:
            value = json.loads(line)
        except ValueError as error:
            value, problem = {}, f"invalid JSON line: {error.msg} at column {error.colno}"
        else:
            problem = None if isinstance(value, dict) else f"JSON line is a {type(value).__name__}, not an object"
        if problem:
            records.append({})
            errors.append(problem)
            raw.append(line)
        else:
            records.append(value)
            errors.append(None)
            raw.append(None)
    keys: list[str] = []
    seen: set[str] = set()
    for record in records:
        for key in record:
            if key not in seen:
                seen.add(key)
                keys.append(key)
    present = keys if records else table.column_names
    if not _check_columns(batch, table, path, present + [c for c in table.column_names
                                                         if c not in seen and not table.column(c).required]):
        return None
    if not records:
        return _empty_frame(table)
    frame = pd.DataFrame.from_records(records, columns=table.column_names)
    return _finish(frame, table, range(1, len(records) + 1), errors, raw)


def _parse_jsonl_fast(payload: bytes, table: TableContract) -> pd.DataFrame | None:
    """Arrow's C++ reader for well-formed files; None sends odd files to the line-by-line parser.

    Dates and timestamps are read as text, as written (Arrow would otherwise parse them and a
    quarantined record would no longer show the value the source sent).
    """
    import pyarrow as pa
    import pyarrow.json as pa_json

    if not payload.endswith(b"\n"):
        return None  # possibly cut off: the careful parser reports exactly where
    as_text = pa.schema([(c.name, pa.string()) for c in table.columns if c.type in ("date", "timestamp")])
    options = pa_json.ParseOptions(explicit_schema=as_text, unexpected_field_behavior="infer")
    try:
        return pa_json.read_json(pa.BufferReader(payload), parse_options=options).to_pandas()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None


def _parse_parquet(batch, table, path, payload) -> pd.DataFrame | None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        arrow = pq.read_table(pa.BufferReader(payload))
    except (pa.ArrowException, OSError) as error:
        raise _Unreadable(f"unreadable Parquet file (truncated or corrupt): {error}") from None
    if not _check_columns(batch, table, path, arrow.column_names):
        return None
    # The writer's pandas metadata is not trusted: a column it calls "str" may hold BINARY values that are not
    # UTF-8, which pandas would fail to convert; typing (and rejecting such values) is coerce's job.
    try:
        frame = arrow.to_pandas(ignore_metadata=True)
    except pa.ArrowException as error:
        raise _Unreadable(f"unreadable Parquet file (cannot convert its columns): {error}") from None
    return _finish(frame, table, range(1, len(frame) + 1), None)
