"""Land a planned batch: its files, its manifest, its folder, with every planned edit applied.

The order is the exporter's: files (with what the source system itself wrote into them: a
byte-order mark, CRLF, blank lines, bytes that are not UTF-8, a wrong header), then the manifest
describing them (or a broken one), then what happens after export (truncation, flipped bytes,
stray files, symbolic links, FIFOs). Deterministic: everything random was drawn by the planner.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import shutil
from pathlib import Path

from data_quality.fuzz.plan import Edit, PlannedBatch, PlannedTable, _csv_line, _render_json_line, render_csv_fields
from data_quality.manifest import MANIFEST_FILE, MANIFEST_VERSION

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_TICKS_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
_AFTER_EXPORT = ("truncate", "bitflip", "append_garbage")


def write_batch(landing_root: Path, batch: PlannedBatch) -> Path:
    """Write ``batch`` under ``landing_root/<source>/<date>/``; returns the batch folder."""
    directory = Path(landing_root) / batch.source / batch.batch_date.isoformat()
    directory.mkdir(parents=True)
    spare = Path(landing_root) / ".elsewhere" / batch.source / batch.batch_date.isoformat()
    edits = {}
    for edit in batch.edits:
        edits.setdefault(edit.table, []).append(edit)
    entries = []
    for table in batch.tables.values():
        name = table.contract.file_name
        payload = _encode(table, [e for e in edits.get(name, []) if e.kind in ("crlf", "blank_lines")])
        for edit in edits.get(name, []):
            payload = _exported(edit, payload)
        (directory / name).write_bytes(payload)
        rows = 0 if any(e.kind == "empty" for e in edits.get(name, [])) else len(table.rows)
        entries.append({"name": name, "table": table.contract.table, "format": table.contract.format, "rows": rows,
                        "bytes": len(payload), "sha256": hashlib.sha256(payload).hexdigest()})
    _write_manifest(directory, spare, batch, entries)
    for edit in batch.edits:
        if edit.kind in _AFTER_EXPORT:
            path = directory / edit.table
            path.write_bytes(_after_export(edit, path.read_bytes()))
        else:
            _folder(edit, directory, spare)
    return directory


# --- files ----------------------------------------------------------------------------------------------------------

def _encode(table: PlannedTable, layout_edits: list[Edit]) -> bytes:
    if table.contract.format == "parquet":
        return _parquet(table)
    if table.contract.format == "csv":
        lines = [_csv_line([written for written, _ in table.header])]
        lines += [row.line if row.line is not None else _csv_line(render_csv_fields(row, table)) for row in table.rows]
    else:
        lines = [row.line if row.line is not None else _render_json_line(row, table) for row in table.rows]
    ending = "\n"
    for edit in layout_edits:
        if edit.kind == "crlf":
            ending = "\r\n"
        else:  # blank lines at the planned places (the start, between records, the end)
            for share in edit.arg:
                lines.insert(int(share * (len(lines) + 1)), "")
    return "".join(line + ending for line in lines).encode("utf-8")


def _exported(edit: Edit, payload: bytes) -> bytes:
    """What the source system itself wrote: the manifest will describe these bytes."""
    if edit.kind == "bom":
        return b"\xef\xbb\xbf" + payload
    if edit.kind == "non_utf8":  # after an ASCII byte, so the bytes cannot join a valid sequence
        places = [0] + [i + 1 for i, byte in enumerate(payload) if byte < 0x80]
        place = places[len(payload) % len(places)]
        return payload[:place] + edit.arg + payload[place:]
    if edit.kind == "utf16":
        return payload.decode("utf-8").encode("utf-16")
    if edit.kind == "empty":
        return b""
    if edit.kind == "garbage_exported":
        rng = random.Random(edit.arg)
        return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 400)))
    if edit.kind == "bitflips_exported":
        rng = random.Random(edit.arg)
        data = bytearray(payload or b"\x00")
        for _ in range(rng.randrange(1, 6)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        return bytes(data)
    return payload


def _after_export(edit: Edit, payload: bytes) -> bytes:
    """Damage after the manifest was written: the file no longer matches it."""
    if not payload:
        return b"x"
    if edit.kind == "truncate":
        return payload[: max(0, len(payload) - edit.arg)]
    if edit.kind == "bitflip":
        data = bytearray(payload)
        data[int(edit.arg * len(data))] ^= 0x10
        return bytes(data)
    return payload + edit.arg


def _parquet(table: PlannedTable) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays, names = [], []
    for written, column in table.header:
        values = [row.raw.get(column) for row in table.rows] if column else ["x"] * len(table.rows)
        arrays.append(_arrow_array(values, table.layout.get(column, "string") if column else "string"))
        names.append(written)
    arrow = pa.Table.from_arrays(arrays, names=names)
    sink = pa.BufferOutputStream()
    rng = random.Random(len(table.rows) * 7919 + len(names))
    pq.write_table(arrow, sink, compression=rng.choice(("snappy", "zstd", "none", "gzip")),
                   row_group_size=rng.choice((None, 1, 3, 64)), use_dictionary=rng.random() < 0.5)
    return sink.getvalue().to_pybytes()


def _ticks(value, unit: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, tuple):  # ("days", n) or ("ticks", n): beyond what Python's date types hold
        return value[1] * (86_400_000 if value[0] == "days" and unit == "ms" else 1)
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
        delta = moment - _EPOCH
        micro = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        return micro * _TICKS_PER_SECOND[unit] // 1_000_000 if unit != "day" else delta.days
    return (value - _EPOCH.date()).days * (86_400_000 if unit == "ms" else 1)


def _arrow_array(values: list, layout: str):
    import pyarrow as pa

    if layout.startswith("timestamp["):
        unit, _, tz = layout[len("timestamp["):-1].partition(", ")
        return pa.array([_ticks(v, unit) for v in values], pa.int64()).view(pa.timestamp(unit, tz=tz or None))
    if layout == "date32":
        return pa.array([_ticks(v, "day") for v in values], pa.int32()).view(pa.date32())
    if layout == "date64":
        return pa.array([_ticks(v, "ms") for v in values], pa.int64()).view(pa.date64())
    if layout == "dictionary":
        return pa.array(values, pa.string()).dictionary_encode()
    types = {"string": pa.string(), "large_string": pa.large_string(), "binary": pa.binary(), "int64": pa.int64(),
             "int32": pa.int32(), "uint32": pa.uint32(), "uint64": pa.uint64(), "int8": pa.int8(),
             "float64": pa.float64(), "float32": pa.float32(), "decimal128": pa.decimal128(30, 9), "bool": pa.bool_()}
    return pa.array(values, types[layout])


# --- manifest and folder --------------------------------------------------------------------------------------------

def _write_manifest(directory: Path, spare: Path, batch: PlannedBatch, entries: list[dict]) -> None:
    from data_quality.contracts import SOURCES

    manifest = {"manifest_version": MANIFEST_VERSION, "source": batch.source,
                "source_system": SOURCES[batch.source].system, "batch_date": batch.batch_date.isoformat(),
                "batch_id": hashlib.sha256(json.dumps([(e["name"], e["sha256"]) for e in entries]).encode())
                .hexdigest()[:16],
                "exported_at": f"{batch.batch_date.isoformat()}T23:30:00Z", "files": entries}
    payload = None
    for edit in batch.edits:
        entry = next((e for e in entries if e["name"] == edit.table), None)
        if edit.kind == "no_manifest":
            return
        if edit.kind == "manifest_text":
            payload = edit.arg.encode("utf-8")
        elif edit.kind == "manifest_bytes":
            payload = edit.arg
        elif edit.kind == "file_name":
            entry["name"] = edit.arg
        elif edit.kind == "duplicate_entry":
            entries.append(dict(entry))
        elif edit.kind == "drop_field":
            del entry[edit.arg]
        elif edit.kind == "field":
            entry[edit.arg[0]] = edit.arg[1]
        elif edit.kind == "rows_off":
            entry["rows"] += edit.arg
        elif edit.kind == "bytes_off":
            entry["bytes"] += edit.arg
        elif edit.kind == "top":
            manifest[edit.arg[0]] = edit.arg[1]
        elif edit.kind == "drop_top":
            del manifest[edit.arg]
        elif edit.kind == "unknown_file":
            (directory / "surprise.csv").write_bytes(b"")
            entries.append({"name": "surprise.csv", "rows": 0, "bytes": 0, "sha256": hashlib.sha256(b"").hexdigest()})
    if payload is None:
        payload = (json.dumps(manifest, indent=2) + "\n").encode("utf-8")
    if any(edit.kind == "manifest_bom" for edit in batch.edits):
        payload = b"\xef\xbb\xbf" + payload
    path = directory / MANIFEST_FILE
    if any(edit.kind == "manifest_dir" for edit in batch.edits):
        path.mkdir()
    elif any(edit.kind == "manifest_symlink" for edit in batch.edits):
        spare.mkdir(parents=True, exist_ok=True)
        (spare / MANIFEST_FILE).write_bytes(payload)
        path.symlink_to(spare / MANIFEST_FILE)
    else:
        path.write_bytes(payload)


def _folder(edit: Edit, directory: Path, spare: Path) -> None:
    path = directory / edit.table if edit.table else None
    if edit.kind == "hidden_file":
        (directory / ".export.tmp").write_bytes(b"partial")
    elif edit.kind == "unlisted_file":
        (directory / edit.arg).write_bytes(b"a,b\n1,2\n")
    elif edit.kind == "unlisted_dir":
        (directory / edit.arg).mkdir()
    elif edit.kind == "symlink":
        spare.mkdir(parents=True, exist_ok=True)
        shutil.move(path, spare / path.name)
        path.symlink_to(spare / path.name)
    elif edit.kind == "fifo":
        path.unlink()
        os.mkfifo(path)
    elif edit.kind == "directory":
        path.unlink()
        path.mkdir()
    elif edit.kind == "absent":
        path.unlink()
