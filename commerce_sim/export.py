"""Write each simulated day as source-system batches into the landing zone.

Layout (the landing contract of DESIGN.md)::

    landing/<source>/<YYYY-MM-DD>/<file>          one or more data files
    landing/<source>/<YYYY-MM-DD>/_manifest.json  written last: the batch is complete

Formats are what such systems really emit: the PIM and scrapers write JSON lines, the OMS, pricing
engine and promotion calendar write CSV, the WMS, CDP and clickstream write Parquet (the clickstream
cart events are JSON lines). Every file is written to a temporary name and renamed, and the manifest
(file names, formats, row counts, SHA-256 and sizes) comes last, so a reader never sees a half
batch. Writing a batch whose files are byte-identical to what is already there is a no-op.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

MANIFEST = "_manifest.json"
MANIFEST_VERSION = 1

# source -> file stem -> (format, source system)
FILE_FORMATS: dict[str, dict[str, str]] = {
    "catalog": {"products": "jsonl", "channels": "csv"},
    "orders": {"orders": "csv", "order_lines": "csv"},
    "inventory": {"inventory_snapshot": "parquet", "warehouses": "csv", "purchase_orders": "csv", "transfers": "csv"},
    "prices": {"prices": "csv"},
    "competitor_prices": {"competitor_prices": "jsonl"},
    "customers": {"customers": "parquet", "campaigns": "csv"},
    "sessions": {"sessions": "parquet", "cart_events": "jsonl"},
    "promotions": {"promotions": "csv"},
}
SOURCE_SYSTEMS = {
    "catalog": "PIM", "orders": "OMS", "inventory": "WMS", "prices": "pricing engine",
    "competitor_prices": "price scraper", "customers": "CDP", "sessions": "clickstream",
    "promotions": "promotion calendar",
}
EXTENSIONS = {"csv": ".csv", "jsonl": ".jsonl", "parquet": ".parquet"}


def _iso(value) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, (pd.Timestamp, dt.datetime, np.datetime64)):
        return pd.Timestamp(value).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _textual(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates and timestamps as ISO 8601 text, the way CSV and JSON exports carry them."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            out[column] = series.dt.strftime("%Y-%m-%dT%H:%M:%SZ").astype(object).where(series.notna(), None)
        elif series.dtype == object and len(series) and any(
            isinstance(v, (dt.date, pd.Timestamp)) for v in series.dropna().head(5)
        ):
            out[column] = [_iso(v) for v in series]
    return out


def encode(frame: pd.DataFrame, fmt: str) -> bytes:
    """Serialize rows exactly as the landing file will hold them."""
    if fmt == "csv":
        return _textual(frame).to_csv(index=False, lineterminator="\n").encode("utf-8")
    if fmt == "jsonl":
        if frame.empty:
            return b""
        return _textual(frame).to_json(orient="records", lines=True, force_ascii=False).encode("utf-8")
    if fmt == "parquet":
        table = pa.Table.from_pandas(_parquet_ready(frame), preserve_index=False)
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd")
        return sink.getvalue().to_pybytes()
    raise ValueError(f"unknown landing format {fmt!r}")


def _parquet_ready(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_datetime64_any_dtype(series) and series.dt.tz is None:
            out[column] = series.dt.tz_localize("UTC")
        elif series.dtype == object and len(series) and isinstance(series.dropna().head(1).tolist()[0]
                                                                   if series.notna().any() else None, pd.Timestamp):
            out[column] = pd.to_datetime(series, utc=True)
    return out


def _atomic_write(path: Path, payload: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(payload)
    os.replace(temporary, path)


class LandingWriter:
    """Writes batches under ``root`` following the landing contract."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def batch_dir(self, source: str, date: dt.date) -> Path:
        return self.root / source / date.isoformat()

    def write_day(self, date: dt.date, exports: dict[str, dict[str, pd.DataFrame]]) -> list[Path]:
        return [self.write_batch(source, date, tables) for source, tables in exports.items()]

    def write_batch(self, source: str, date: dt.date, tables: dict[str, pd.DataFrame]) -> Path:
        formats = FILE_FORMATS[source]
        directory = self.batch_dir(source, date)
        directory.mkdir(parents=True, exist_ok=True)
        files = []
        for stem, frame in tables.items():
            fmt = formats[stem]
            payload = encode(frame, fmt)
            name = stem + EXTENSIONS[fmt]
            files.append({
                "name": name, "table": stem, "format": fmt, "rows": int(len(frame)),
                "bytes": len(payload), "sha256": hashlib.sha256(payload).hexdigest(),
            })
            target = directory / name
            if not (target.is_file() and target.read_bytes() == payload):
                _atomic_write(target, payload)
        batch_id = hashlib.sha256(json.dumps([(f["name"], f["sha256"]) for f in files]).encode()).hexdigest()[:16]
        manifest_path = directory / MANIFEST
        if manifest_path.is_file():
            try:
                if json.loads(manifest_path.read_text()).get("batch_id") == batch_id:
                    return manifest_path  # re-landing identical data: nothing changes
            except (ValueError, UnicodeDecodeError):
                pass  # a damaged manifest is replaced below
        manifest = {
            "manifest_version": MANIFEST_VERSION,
            "source": source,
            "source_system": SOURCE_SYSTEMS[source],
            "batch_date": date.isoformat(),
            "batch_id": batch_id,
            "exported_at": dt.datetime.combine(date, dt.time(23, 30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "files": files,
        }
        _atomic_write(manifest_path, (json.dumps(manifest, indent=2) + "\n").encode("utf-8"))
        return manifest_path
