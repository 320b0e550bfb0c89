"""Fixtures for the boundary-validation tests: one clean tiny world, copied per test, and landing edits.

The world is simulated once per session with every data-defect rate at zero, so each rejection a
test sees comes from the test's own mutation. Tests only read the landing zone (``sim/`` is the
sealed truth) and each test works on its own copy of it.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from commerce_sim.scenario import load_scenario, parse_scenario
from commerce_sim.simulator import Simulator
from data_quality.manifest import MANIFEST_FILE

DAYS = 2

Rows = list[dict]


@dataclass(frozen=True)
class CleanWorld:
    landing: Path
    dates: list[dt.date]
    reference: object  # data_quality.suites.Reference: products, list prices, channels from the validated catalog


@pytest.fixture(scope="session")
def clean_world(tmp_path_factory) -> CleanWorld:
    from data_quality.boundary import validate_source
    from data_quality.contracts import SOURCES
    from data_quality.suites import Reference

    data = load_scenario().with_overrides(days=DAYS, products=25, customers=150).model_dump()
    data["data_defects"] = {name: 0.0 for name in data["data_defects"]}  # every rejection is the test's doing
    # Each case edits the first two rows of a batch: enough sign-ups that a day never lands fewer
    # (the default Poisson(6) can draw 1).
    data["customers"]["signups_per_day"] = 20.0
    data["promotions"]["rate_per_product_month"] = 3.0  # and enough planned promotions (25 products x 2 days)
    scenario = parse_scenario(data)
    base = tmp_path_factory.mktemp("clean_world")
    Simulator.create(scenario, base / "sim", base / "landing").advance(DAYS)
    dates = sorted(dt.date.fromisoformat(p.name) for p in (base / "landing" / "catalog").iterdir())
    assert len(dates) == DAYS
    # The reference the pipeline would use: the catalog validated first, against nothing.
    catalog = validate_source(base / "landing", SOURCES["catalog"], dates, Reference())
    assert not catalog.blocked and catalog.rows_quarantined == 0
    reference = Reference().extended_with("products", catalog.loaded["products"]) \
                           .extended_with("channels", catalog.loaded["channels"])
    return CleanWorld(base / "landing", dates, reference)


# --- reading and writing landed files the way the source systems do -------------------------------------------

def read_rows(path: Path) -> Rows:
    """A landed file as a list of records (CSV: strings, '' for empty; JSONL: JSON values; Parquet: Python values)."""
    if path.suffix == ".csv":
        return [dict(row) for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))]
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return pq.read_table(path).to_pylist()


def _columns(rows: Rows, header: list[str]) -> list[str]:
    columns = [c for c in header if any(c in row for row in rows)] if rows else list(header)
    for row in rows:
        columns += [c for c in row if c not in columns]
    return columns


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def encode_rows(rows: Rows, path: Path, header: list[str]) -> bytes:
    """Serialize records in the file's format. A Parquet column whose values no longer fit its type is written as
    strings (that is how a wrong type reaches us in Parquet); a new column is written as strings."""
    columns = _columns(rows, header)
    if path.suffix == ".csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_text(row.get(c)) for c in columns])
        return out.getvalue().encode("utf-8")
    if path.suffix == ".jsonl":
        return "".join(json.dumps({c: row[c] for c in columns if c in row}, ensure_ascii=False) + "\n"
                       for row in rows).encode("utf-8")
    original = pq.read_schema(path)
    arrays, fields = [], []
    for column in columns:
        values = [row.get(column) for row in rows]
        type_ = original.field(column).type if column in original.names else pa.string()
        try:
            array = pa.array(values, type=type_)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            array = pa.array([None if v is None else _text(v) for v in values], type=pa.string())
        arrays.append(array)
        fields.append(pa.field(column, array.type))
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_arrays(arrays, schema=pa.schema(fields)), sink)
    return sink.getvalue().to_pybytes()


def header_of(path: Path) -> list[str]:
    if path.suffix == ".csv":
        return next(csv.reader(io.StringIO(path.read_text(encoding="utf-8").split("\n", 1)[0])))
    if path.suffix == ".jsonl":
        rows = read_rows(path)
        return list(rows[0]) if rows else []
    return pq.read_schema(path).names


class Landing:
    """A private copy of the clean landing zone, with the edits the bad-input tests make to it."""

    def __init__(self, root: Path, world: CleanWorld):
        self.root = root
        self.dates = world.dates
        self.reference = world.reference

    def batch(self, source: str, date: dt.date) -> Path:
        return self.root / source / date.isoformat()

    def file(self, source: str, date: dt.date, name: str) -> Path:
        return self.batch(source, date) / name

    def manifest(self, source: str, date: dt.date) -> dict:
        return json.loads((self.batch(source, date) / MANIFEST_FILE).read_text())

    def write_manifest(self, source: str, date: dt.date, manifest: dict) -> None:
        (self.batch(source, date) / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")

    def rewrite(self, source: str, date: dt.date, name: str, edit: Callable[[Rows], Rows], *,
                reexport: bool = True) -> int:
        """Apply ``edit`` to the file's records and write them back in the file's format.

        ``reexport`` (default): the source system exported the bad data itself, so its manifest entry (rows,
        bytes, sha256, and the batch id derived from them) is rewritten to match. Returns the row count.
        """
        path = self.file(source, date, name)
        header = header_of(path)
        rows = edit(read_rows(path))
        path.write_bytes(encode_rows(rows, path, header))
        if reexport:
            self.reexport(source, date, name, rows=len(rows))
        return len(rows)

    def reexport(self, source: str, date: dt.date, name: str, rows: int) -> None:
        """Make the manifest entry of ``name`` describe the file as it is now, as the exporter would have."""
        manifest = self.manifest(source, date)
        payload = self.file(source, date, name).read_bytes()
        for entry in manifest["files"]:
            if entry["name"] == name:
                entry.update(rows=rows, bytes=len(payload), sha256=hashlib.sha256(payload).hexdigest())
                break
        else:
            raise KeyError(f"{name} is not in the {source} manifest")
        manifest["batch_id"] = hashlib.sha256(
            json.dumps([(f["name"], f["sha256"]) for f in manifest["files"]]).encode()).hexdigest()[:16]
        self.write_manifest(source, date, manifest)

    def snapshot(self, source: str, date: dt.date) -> dict[str, bytes]:
        """Every file of a batch directory with its bytes (to prove the validator leaves landed files alone)."""
        directory = self.batch(source, date)
        return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


@pytest.fixture
def landing(clean_world, tmp_path) -> Landing:
    root = tmp_path / "landing"
    shutil.copytree(clean_world.landing, root)
    return Landing(root, clean_world)
