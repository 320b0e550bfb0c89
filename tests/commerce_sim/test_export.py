"""The landing zone the world writes: complete batches, honest manifests, the platform's contracts, determinism."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import re
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from commerce_sim.export import EXTENSIONS, FILE_FORMATS, MANIFEST, LandingWriter
from commerce_sim.scenario import load_scenario
from commerce_sim.simulator import Simulator
from commerce_sim.truth import GroundTruth
from data_quality.contracts import SOURCES

DATE_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TIMESTAMP_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$")
# Nulls the scenario's data_defects put there on purpose (the platform's validation must catch them).
DEFECT_NULLS = {("prices", "prices", "price")}


def batches(landing: Path) -> list[Path]:
    return sorted(p for p in landing.glob("*/*") if p.is_dir())


def read_rows(path: Path, fmt: str) -> list[dict]:
    """Rows as plain Python values, the way a reader without a schema sees them."""
    if fmt == "parquet":
        return pq.read_table(path).to_pylist()
    if fmt == "jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return frame.to_dict("records")


def columns_of(path: Path, fmt: str) -> list[str] | None:
    """Column names a file declares (None for an empty JSON-lines file: it has no header to declare them)."""
    if fmt == "parquet":
        return pq.read_schema(path).names
    if fmt == "csv":
        return list(pd.read_csv(path, nrows=0).columns)
    rows = read_rows(path, fmt)
    return list(rows[0]) if rows else None


def _is_null(value) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def _text_matches(value: str, type_: str) -> bool:
    try:
        if type_ == "integer":
            return re.fullmatch(r"-?\d+", value) is not None
        if type_ == "decimal":
            return math.isfinite(float(value))
        if type_ == "boolean":
            return value in {"True", "False", "true", "false"}
        if type_ == "date":
            return DATE_TEXT.match(value) is not None and dt.date.fromisoformat(value) is not None
        if type_ == "timestamp":
            return TIMESTAMP_TEXT.match(value) is not None
        if type_ == "json":
            return isinstance(json.loads(value), (dict, list))
        return isinstance(value, str)
    except ValueError:
        return False


def _json_matches(value, type_: str) -> bool:
    if type_ == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_ == "decimal":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if type_ == "boolean":
        return isinstance(value, bool)
    if type_ in ("date", "timestamp", "string"):
        return isinstance(value, str) and _text_matches(value, type_)
    if type_ == "json":
        return isinstance(value, (dict, list))
    raise AssertionError(type_)


def _arrow_matches(arrow_type: pa.DataType, type_: str, rows: int) -> bool:
    if rows == 0 and pa.types.is_null(arrow_type):
        return True  # an empty frame has no types to give
    return {
        "string": pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type),
        "integer": pa.types.is_integer(arrow_type),
        "decimal": pa.types.is_floating(arrow_type) or pa.types.is_integer(arrow_type),
        "boolean": pa.types.is_boolean(arrow_type),
        "date": pa.types.is_date(arrow_type),
        "timestamp": pa.types.is_timestamp(arrow_type) and getattr(arrow_type, "tz", None) in ("UTC", "+00:00"),
        "json": pa.types.is_struct(arrow_type) or pa.types.is_string(arrow_type),
    }[type_]


# ----------------------------------------------------------------------------- layout and manifests
def test_file_formats_and_the_platform_contracts_describe_the_same_files():
    assert set(FILE_FORMATS) == set(SOURCES)
    for source, files in FILE_FORMATS.items():
        contract = SOURCES[source]
        assert {t.table: t.format for t in contract.tables} == files, source
        for table in contract.tables:
            assert table.file_name == table.table + EXTENSIONS[table.format]


def test_formats_are_a_mix_of_what_real_systems_emit(small_world):
    formats = {fmt for files in FILE_FORMATS.values() for fmt in files.values()}
    assert formats == {"csv", "jsonl", "parquet"}
    first = batches(small_world.landing)
    seen = set()
    for batch in first:
        for stem, fmt in FILE_FORMATS[batch.parent.name].items():
            payload = (batch / (stem + EXTENSIONS[fmt])).read_bytes()
            if fmt == "parquet":
                assert payload[:4] == b"PAR1" and payload[-4:] == b"PAR1"
            elif fmt == "jsonl" and payload:
                assert all(json.loads(line).__class__ is dict for line in payload.decode().splitlines())
            elif fmt == "csv":
                header = payload.decode().split("\n", 1)[0]
                assert header == ",".join(SOURCES[batch.parent.name].table(stem).column_names)
            seen.add(fmt)
    assert seen == {"csv", "jsonl", "parquet"}


def test_every_day_has_a_complete_batch_per_source(small_world):
    start = small_world.scenario.start_date
    expected_dates = {(start + dt.timedelta(days=i)).isoformat() for i in range(small_world.days)}
    assert {p.name for p in small_world.landing.iterdir()} == set(FILE_FORMATS)
    for source, files in FILE_FORMATS.items():
        directory = small_world.landing / source
        assert {p.name for p in directory.iterdir()} == expected_dates, source
        for batch in directory.iterdir():
            names = {p.name for p in batch.iterdir()}
            # every file of the source, the manifest, and nothing else (no temporary leftovers)
            assert names == {stem + EXTENSIONS[fmt] for stem, fmt in files.items()} | {MANIFEST}, batch


def test_manifests_match_the_files_they_describe(small_world):
    for batch in batches(small_world.landing):
        source = batch.parent.name
        manifest = json.loads((batch / MANIFEST).read_text())
        assert manifest["source"] == source
        assert manifest["batch_date"] == batch.name
        assert manifest["manifest_version"] == 1
        assert TIMESTAMP_TEXT.match(manifest["exported_at"])
        assert manifest["exported_at"].startswith(batch.name)
        listed = {entry["name"]: entry for entry in manifest["files"]}
        assert set(listed) == {stem + EXTENSIONS[fmt] for stem, fmt in FILE_FORMATS[source].items()}
        last_data_write = 0
        for name, entry in listed.items():
            path = batch / name
            payload = path.read_bytes()
            assert entry["format"] == FILE_FORMATS[source][entry["table"]]
            assert name == entry["table"] + EXTENSIONS[entry["format"]]
            assert entry["bytes"] == len(payload) == path.stat().st_size
            assert entry["sha256"] == hashlib.sha256(payload).hexdigest()
            assert entry["rows"] == len(read_rows(path, entry["format"])), f"{batch}/{name}"
            last_data_write = max(last_data_write, path.stat().st_mtime_ns)
        assert (batch / MANIFEST).stat().st_mtime_ns >= last_data_write  # the manifest comes last


def test_files_honour_the_platform_contracts(small_world):
    """Each file parses and has exactly the contract's columns, in order, with values of the contract's types."""
    checked = 0
    for batch in batches(small_world.landing):
        source = batch.parent.name
        for table in SOURCES[source].tables:
            path = batch / table.file_name
            declared = columns_of(path, table.format)
            rows = read_rows(path, table.format)
            if declared is None:
                assert rows == [] and table.format == "jsonl"
                continue
            assert declared == table.column_names, f"{path}: {declared} != {table.column_names}"
            parsed = {"csv": pd.read_csv, "parquet": pd.read_parquet,
                      "jsonl": lambda p: pd.read_json(p, lines=True, dtype=False)}[table.format](path)
            assert list(parsed.columns) == table.column_names and len(parsed) == len(rows), path
            assert len(rows) >= table.min_rows, path
            if table.format == "parquet":
                schema = pq.read_schema(path)
                for column in table.columns:
                    arrow_type = schema.field(column.name).type
                    assert _arrow_matches(arrow_type, column.type, len(rows)), f"{path}:{column.name} is {arrow_type}"
            matches = _json_matches if table.format in ("jsonl", "parquet") else _text_matches
            for column in table.columns:
                for row in rows:
                    value = row[column.name]
                    if table.format == "parquet" and column.type in ("date", "timestamp"):
                        continue  # typed by the schema check above
                    if _is_null(value):
                        assert not column.required or (source, table.table, column.name) in DEFECT_NULLS, (
                            f"{path}: required {column.name} is empty in {row}")
                        continue
                    assert matches(value, column.type), f"{path}: {column.name}={value!r} is not {column.type}"
            checked += 1
    assert checked >= small_world.days * sum(len(f) for f in FILE_FORMATS.values()) - small_world.days


def test_keys_are_unique_within_each_file(small_world):
    """Contract keys identify rows (order lines are exempt: injected duplicate lines are a data defect)."""
    for batch in batches(small_world.landing):
        for table in SOURCES[batch.parent.name].tables:
            if not table.key or table.table == "order_lines":
                continue
            rows = read_rows(batch / table.file_name, table.format)
            keys = [tuple(row[k] for k in table.key) for row in rows]
            assert len(keys) == len(set(keys)), f"{batch}/{table.file_name}: duplicate {table.key}"


# ----------------------------------------------------------------------------- re-landing is a no-op
def _one_day(tmp_path: Path, scenario) -> tuple[dt.date, dict]:
    simulator = Simulator.create(scenario, tmp_path / "sim", tmp_path / "unused")
    result = simulator.step()
    return result.date, result.exports


def _mtimes(directory: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in directory.iterdir()}


def test_relanding_an_identical_batch_changes_nothing(tmp_path, small_world):
    date, exports = _one_day(tmp_path, small_world.scenario)
    writer = LandingWriter(tmp_path / "landing")
    writer.write_day(date, exports)
    old = time.time() - 3600
    for batch in batches(tmp_path / "landing"):
        for path in batch.iterdir():
            os.utime(path, (old, old))
    before = {b: (_mtimes(b), {p.name: p.read_bytes() for p in b.iterdir()}) for b in batches(tmp_path / "landing")}

    writer.write_day(date, exports)

    for batch, (mtimes, contents) in before.items():
        assert _mtimes(batch) == mtimes, batch
        assert {p.name: p.read_bytes() for p in batch.iterdir()} == contents


def test_relanding_a_changed_batch_replaces_only_what_changed(tmp_path, small_world):
    date, exports = _one_day(tmp_path, small_world.scenario)
    writer = LandingWriter(tmp_path / "landing")
    manifest = writer.write_batch("orders", date, exports["orders"])
    old = time.time() - 3600
    for path in manifest.parent.iterdir():
        os.utime(path, (old, old))
    first_id = json.loads(manifest.read_text())["batch_id"]
    before = _mtimes(manifest.parent)

    tables = dict(exports["orders"], order_lines=exports["orders"]["order_lines"].iloc[:-1])
    writer.write_batch("orders", date, tables)

    after = _mtimes(manifest.parent)
    assert after["orders.csv"] == before["orders.csv"]
    assert after["order_lines.csv"] > before["order_lines.csv"]
    assert after[MANIFEST] > before[MANIFEST]
    updated = json.loads(manifest.read_text())
    assert updated["batch_id"] != first_id
    lines = {f["name"]: f for f in updated["files"]}["order_lines.csv"]
    assert lines["rows"] == len(exports["orders"]["order_lines"]) - 1


def test_a_damaged_manifest_is_rewritten(tmp_path, small_world):
    date, exports = _one_day(tmp_path, small_world.scenario)
    writer = LandingWriter(tmp_path / "landing")
    manifest = writer.write_batch("prices", date, exports["prices"])
    good = manifest.read_bytes()
    manifest.write_bytes(b"{not json")
    writer.write_batch("prices", date, exports["prices"])
    assert manifest.read_bytes() == good


# ----------------------------------------------------------------------------- determinism and persistence
def _landing_files(landing: Path) -> dict[str, bytes]:
    return {str(p.relative_to(landing)): p.read_bytes() for p in sorted(landing.rglob("*")) if p.is_file()}


def test_one_long_advance_equals_many_short_ones_across_reopening(tmp_path, small_world):
    """Same scenario and seed: 10 days in one call == 10 calls of one day, reopening the saved world each time."""
    root, landing = tmp_path / "sim", tmp_path / "landing"
    Simulator.create(small_world.scenario, root, landing)
    for _ in range(small_world.days):
        simulator = Simulator.open(root, landing)
        summary = simulator.advance(1)
        assert summary.days == 1
    assert Simulator.open(root, landing).current_date == small_world.scenario.start_date + dt.timedelta(
        days=small_world.days)

    expected = _landing_files(small_world.landing)
    actual = _landing_files(landing)
    assert sorted(actual) == sorted(expected)
    different = [name for name in expected if actual[name] != expected[name]]
    assert different == []
    pd.testing.assert_frame_equal(GroundTruth(root).daily(), GroundTruth(small_world.root).daily())
    pd.testing.assert_frame_equal(GroundTruth(root).products(), GroundTruth(small_world.root).products())


def test_advance_reports_what_it_wrote(tmp_path, small_world):
    simulator = Simulator.create(small_world.scenario, tmp_path / "sim", tmp_path / "landing")
    assert simulator.advance(0).days == 0
    summary = simulator.advance(3)
    start = small_world.scenario.start_date
    assert (summary.days, summary.first_date, summary.last_date) == (3, start, start + dt.timedelta(days=2))
    for source in FILE_FORMATS:
        manifests = [json.loads(p.read_text()) for p in (tmp_path / "landing" / source).glob(f"*/{MANIFEST}")]
        assert summary.rows[source] == sum(f["rows"] for m in manifests for f in m["files"])
    with pytest.raises(ValueError):
        simulator.advance(-1)


def test_a_day_without_new_or_changed_customers_exports_an_empty_customers_batch(tmp_path, scenario_changes):
    scenario = scenario_changes(load_scenario().with_overrides(products=10, customers=50, days=2),
                                {"customers.signups_per_day": 0.0, "customers.profile_update_rate": 0.0})
    simulator = Simulator.create(scenario, tmp_path / "sim", tmp_path / "landing")
    simulator.advance(2)
    day2 = tmp_path / "landing" / "customers" / (scenario.start_date + dt.timedelta(days=1)).isoformat()
    table = pq.read_table(day2 / "customers.parquet")
    assert table.num_rows == 0
    assert table.schema.names == SOURCES["customers"].table("customers").column_names
