"""Property-based tests of the boundary (Hypothesis): whatever a file holds, no exception escapes, nothing is lost,
and every loaded value is what the file wrote under the contract.

Two levels. Values and files: arbitrary text, integers, floats, moments, bytes and JSON go through the readers,
the strict JSON parser and the typing rules directly (fast, many examples). Whole batches: the generator of
``data_quality.fuzz`` lands adversarial batches of every source (every accepted form of every value, and every kind
of damage) and ``validate_source`` — the ingest asset's own call — must keep every invariant. This suite's runs are
short and reproducible (derandomized); ``run_boundary_bench`` is the long run.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import random
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_quality import coerce as coerce_module
from data_quality import readers
from data_quality.coerce import coerce
from data_quality.contracts import (IDENTIFIER_PATTERN, INTEGER_MAX, INTEGER_MIN, SOURCES, TEXT_FORBIDDEN, Column,
                                    TableContract)
from data_quality.fuzz.bench import run_boundary_bench, run_group
from data_quality.fuzz.plan import plan_batch
from data_quality.fuzz.tables import FuzzWorld
from data_quality.manifest import MANIFEST_FILE, read_manifest
from data_quality.strict_json import StrictJSONError
from data_quality.strict_json import loads as strict_loads

QUICK = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
BATCHES = settings(max_examples=16, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow])
TABLES = [table for source in SOURCES.values() for table in source.tables]
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)  # lone surrogates included


def typed_one(value, column: Column):
    """(typed value or None, reason or None) for one raw value in a one-column table."""
    table = TableContract("test", "t", "csv", (column,))
    typed, reasons = coerce(pd.DataFrame({column.name: pd.Series([value], dtype=object)}), table)
    result = typed[column.name].iat[0]
    return (None if pd.isna(result) else result), reasons.iat[0]


# --- values -------------------------------------------------------------------------------------------------------

@QUICK
@given(st.integers(min_value=-(10 ** 30), max_value=10 ** 30), st.sampled_from(["text", "json"]))
def test_integers_load_exactly_or_are_rejected_for_their_range(number, form):
    value, reason = typed_one(str(number) if form == "text" else number, Column("n", "integer"))
    if INTEGER_MIN <= number <= INTEGER_MAX:
        assert (value, reason) == (number, None)
    else:
        assert value is None and "outside the 64-bit integer range" in reason


@QUICK
@given(st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(["repr", "json", "exponent"]))
def test_finite_floats_load_as_the_same_float(number, form):
    raw = {"repr": repr(number), "json": number, "exponent": f"{number:.17e}"}[form]
    value, reason = typed_one(raw, Column("x", "decimal"))
    assert reason is None and value == number


@QUICK
@given(ANY_TEXT, st.sampled_from(["integer", "decimal", "boolean", "date", "timestamp", "json", "id", "text"]))
def test_any_text_is_typed_or_rejected_with_a_reason_and_what_loads_obeys_the_rule(text, kind):
    column = Column("v", "string", identifier=kind == "id") if kind in ("id", "text") else Column("v", kind)
    value, reason = typed_one(text, column)
    assert (value is None) != (reason is None)
    if reason is not None:
        assert reason.startswith(f"v: expected {column.type}, got ")
    elif kind == "id":
        assert IDENTIFIER_PATTERN.fullmatch(value) and value == text
    elif kind == "text":
        assert value == text and not TEXT_FORBIDDEN.search(value)
    elif kind == "integer" and value is not None:
        assert INTEGER_MIN <= value <= INTEGER_MAX
    elif kind == "decimal" and value is not None:
        assert math.isfinite(value)


@QUICK
@given(st.datetimes(min_value=dt.datetime(1900, 1, 2), max_value=dt.datetime(2199, 12, 30)),
       st.integers(min_value=-14 * 60, max_value=14 * 60), st.booleans())
def test_rfc3339_timestamps_load_as_the_same_utc_moment(moment, offset, fraction):
    local = moment + dt.timedelta(minutes=offset)
    text = local.strftime("%Y-%m-%dT%H:%M:%S") + (f".{moment.microsecond:06d}" if fraction else "")
    text += f"{'+' if offset >= 0 else '-'}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
    value, reason = typed_one(text, Column("t", "timestamp"))
    assert reason is None
    assert value == pd.Timestamp(moment if fraction else moment.replace(microsecond=0))


def json_values():
    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner,
                                                                                            max_size=4), max_leaves=20)


@QUICK
@given(json_values())
def test_standard_json_reads_back_as_written(value):
    assert strict_loads(json.dumps(value)) == value
    assert strict_loads(json.dumps(value, ensure_ascii=False, indent=1)) == value


@QUICK
@given(st.text(st.characters(codec=None, exclude_categories=()), max_size=60)
       | st.sampled_from(['{"a": NaN}', "[Infinity]", "1e999", '{"a":1,"a":1}', '"\\ud800"', "[" * 5000, "1" * 5000]))
def test_strict_json_raises_nothing_but_its_own_error(text):
    try:
        strict_loads(text)
    except StrictJSONError as error:
        assert str(error)


# --- files ----------------------------------------------------------------------------------------------------------

@QUICK
@given(st.sampled_from(TABLES), st.binary(max_size=600) | st.text(max_size=300).map(str.encode))
def test_any_bytes_as_a_landed_file_parse_into_rows_or_problems_never_an_exception(table, payload):
    parsed = readers.parse_file(table, payload)
    assert parsed.frame is not None or parsed.problems
    if parsed.frame is not None:
        assert list(parsed.frame[readers.ROW_NUMBER]) == list(range(1, len(parsed.frame) + 1))
        coerce(parsed.frame, table)


@QUICK
@given(st.binary(max_size=400) | json_values().map(lambda v: json.dumps(v).encode()))
def test_any_bytes_as_a_manifest_are_read_or_rejected_never_an_exception(payload):
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / MANIFEST_FILE).write_bytes(payload)
        manifest = read_manifest(Path(folder), SOURCES["prices"], dt.date(2025, 1, 1))
    assert manifest is not None and manifest.problems  # nothing random is a complete manifest
    assert all(isinstance(p, str) and MANIFEST_FILE in p for p in manifest.problems)


CHANNELS = SOURCES["catalog"].table("channels")


def csv_line(fields: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(fields)  # "\r\n": a field holding a lone "\r" is quoted too
    return out.getvalue()[:-2]


@QUICK
@given(st.lists(st.lists(st.text(max_size=30), min_size=len(CHANNELS.columns), max_size=len(CHANNELS.columns)),
                max_size=8), st.booleans(), st.booleans())
def test_csv_fields_read_back_as_written_whatever_they_hold(records, bom, crlf):
    ending = "\r\n" if crlf else "\n"
    text = "".join(csv_line(record) + ending for record in [CHANNELS.column_names] + records)
    parsed = readers.parse_file(CHANNELS, (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    assert not parsed.problems, parsed.problems
    frame = parsed.frame[CHANNELS.column_names]
    assert frame.where(frame.notna(), None).values.tolist() == [[v or None for v in record] for record in records]
    assert parsed.frame[readers.PARSE_ERROR].isna().all()
    assert ("UTF-8 byte-order mark removed" in parsed.notes) is bom


PRICES_FEED = SOURCES["competitor_prices"].table("competitor_prices")
_ANY_VALUE = st.none() | st.booleans() | st.integers(-(2 ** 70), 2 ** 70) | st.floats() | st.text(max_size=12)
_TYPED_VALUE = {
    "string": st.text(max_size=12), "integer": st.integers(INTEGER_MIN, INTEGER_MAX), "boolean": st.booleans(),
    "decimal": st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2 ** 70), 2 ** 70),
    "timestamp": st.datetimes(min_value=dt.datetime(1800, 1, 1), timezones=st.just(dt.timezone.utc)).map(
        lambda m: m.isoformat().replace("+00:00", "Z")) | st.text(max_size=20),
}


def feed_records(wild: bool):
    """Records of the feed: values of each column's type (files the fast reader reads), or of any type at all."""
    def value(column: Column):
        typed = _TYPED_VALUE[column.type]
        return st.one_of(typed, _ANY_VALUE) if wild else typed if column.required else typed | st.none()
    return st.lists(st.fixed_dictionaries({c.name: value(c) for c in PRICES_FEED.columns}), min_size=1, max_size=6)


@QUICK
@given(st.booleans().flatmap(feed_records))
def test_the_fast_json_lines_reader_and_the_careful_one_agree(records):
    payload = "".join(json.dumps(r, ensure_ascii=False, allow_nan=True) + "\n" for r in records).encode()
    fast = readers._parse_jsonl_fast(PRICES_FEED, payload)
    careful = readers._parse_jsonl_lines(PRICES_FEED, payload.decode())
    if fast is None:
        return  # the fast reader declined: only the careful one reads this file
    assert fast.problems == careful.problems
    typed_fast, reasons_fast = coerce(fast.frame, PRICES_FEED)
    typed_careful, reasons_careful = coerce(careful.frame, PRICES_FEED)
    assert reasons_fast.tolist() == reasons_careful.tolist()
    pd.testing.assert_frame_equal(typed_fast[PRICES_FEED.column_names].astype(object),
                                  typed_careful[PRICES_FEED.column_names].astype(object))


# --- whole batches through validate_source ----------------------------------------------------------------------------

@BATCHES
@given(st.integers(min_value=0, max_value=2 ** 64 - 1), st.sampled_from(list(SOURCES)), st.integers(1, 4))
def test_generated_batches_of_every_source_keep_every_invariant(seed, source, count):
    with tempfile.TemporaryDirectory() as landing:
        outcome = run_group(Path(landing), source, count, random.Random(seed), seed)
    assert not outcome.escaped, outcome.escaped[0]
    assert not outcome.violations, "\n".join(outcome.violations[:5])
    assert len(outcome.result.batches) == count


def test_the_long_run_counts_every_batch():
    report = run_boundary_bench(12, seed=3)
    assert report["generated"] == 12 == report["blocked"] + report["loaded"]
    assert report["escaped_exceptions"] == report["violations"] == 0, report["failures"]
    assert report["rows_landed"] == report["rows_loaded"] + report["rows_quarantined"]
    assert report["batches_per_second"] > 0 and report["kinds"]
    with pytest.raises(ValueError, match="examples must be at least 1"):
        run_boundary_bench(0)


# --- the invariants can fail: a boundary that changes data silently is caught ------------------------------------------

def _seed_with(kind: str, source: str, count: int = 6) -> int:
    """A group seed whose planned batches include ``kind`` (the plans are drawn as run_group draws them)."""
    for seed in range(500):
        rng = random.Random(seed)
        world = FuzzWorld.draw(rng)
        plans = [plan_batch(rng, world, source, dt.date(2025, 1, 1) + dt.timedelta(days=i)) for i in range(count)]
        if any(kind in plan.kinds and not plan.blocked for plan in plans):
            return seed
    raise AssertionError(f"no seed below 500 plans {kind} for {source}")


def test_a_reader_that_skips_blank_lines_without_a_note_is_caught(monkeypatch, tmp_path):
    seed = _seed_with("blank_lines", "prices")
    monkeypatch.setattr(readers, "_blank_note", lambda count: [])
    outcome = run_group(tmp_path, "prices", 6, random.Random(seed), seed)
    assert any("no note says" in v and "blank line(s) skipped" in v for v in outcome.violations), outcome.violations


def test_a_typing_that_trims_identifiers_is_caught(monkeypatch, tmp_path):
    seed = _seed_with("value:string", "orders", 12)
    original = coerce_module._strings

    def trimming(values, kind, column):  # the behaviour the issue found: " P00001" loaded as a new id
        if column.identifier:
            values = values.map(lambda v: v.strip() if isinstance(v, str) and v.strip() else v)
        return original(values, kind, column)

    monkeypatch.setattr(coerce_module, "_strings", trimming)
    outcome = run_group(tmp_path, "orders", 12, random.Random(seed), seed)
    assert any("rows loaded" in v and "wrongly loaded" in v for v in outcome.violations), outcome.violations
