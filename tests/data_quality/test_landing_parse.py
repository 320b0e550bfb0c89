"""Reading landed batches (``data_quality.landing``): single bad lines are rows with a parse error, bad manifests
block the batch."""

from __future__ import annotations

import json

import pytest

from data_quality.boundary import validate_source
from data_quality.contracts import SOURCES
from data_quality.landing import read_batch
from data_quality.manifest import MANIFEST_FILE
from data_quality.readers import PARSE_ERROR, RAW_TEXT
from warehouse.raw import reconcile, store_validation


def replace_lines(landing, source, name, changes: dict[int, str | None], *, reexport: bool = True) -> list[str]:
    """Replace physical lines (1-based; None drops the line) of a day-2 file; return the file's lines."""
    day2 = landing.dates[1]
    path = landing.file(source, day2, name)
    lines = path.read_text(encoding="utf-8").split("\n")
    for number, text in changes.items():
        lines[number - 1] = text
    lines = [line for line in lines if line is not None]
    path.write_text("\n".join(lines), encoding="utf-8")
    if reexport:
        data_lines = [line for line in lines if line][1 if name.endswith(".csv") else 0:]
        landing.reexport(source, day2, name, rows=len(data_lines))
    return lines


def test_malformed_csv_lines_are_quarantined_with_their_raw_text(landing, tmp_path):
    """A line with too many or too few fields is one quarantined row; the rest of the file loads."""
    day1, day2 = landing.dates
    original = landing.file("prices", day2, "prices.csv").read_text().split("\n")
    too_many = original[3] + ",surplus"
    too_few = original[5].rsplit(",", 1)[0]  # pandas alone would pad it with an empty currency and load it
    replace_lines(landing, "prices", "prices.csv", {4: too_many, 6: too_few})

    result = validate_source(landing.root, SOURCES["prices"], landing.dates, landing.reference)

    outcome = next(b for b in result.batches if b.batch_date == day2)
    assert outcome.status == "loaded", outcome.message
    assert (outcome.rows_landed, outcome.rows_quarantined) == (len(original) - 2, 2)
    assert outcome.rows_loaded == outcome.rows_landed - 2
    q = result.quarantine.sort_values("row_number")
    assert q["row_number"].tolist() == [3, 5]  # data rows 3 and 5 are file lines 4 and 6
    assert q["reasons"].tolist() == ["malformed CSV line: expected 8 fields, found 9",
                                     "malformed CSV line: expected 8 fields, found 7"]
    assert (q["failed_expectations"] == "parse_error").all()
    assert [json.loads(r) for r in q["record"]] == [{"_raw_text": too_many}, {"_raw_text": too_few}]
    store_validation(tmp_path / "w.duckdb", result, "parse-test")
    assert reconcile(tmp_path / "w.duckdb", "prices", landing.dates)["balanced"].all()


def test_jsonl_lines_that_are_not_objects_are_quarantined(landing):
    day2 = landing.dates[1]
    lines = landing.file("competitor_prices", day2, "competitor_prices.jsonl").read_text().split("\n")
    replace_lines(landing, "competitor_prices", "competitor_prices.jsonl", {2: "[1, 2]", 4: '{"price": 3', 5: "42"})

    result = validate_source(landing.root, SOURCES["competitor_prices"], landing.dates, landing.reference)

    outcome = next(b for b in result.batches if b.batch_date == day2)
    assert outcome.status == "loaded", outcome.message
    assert outcome.rows_landed == len([line for line in lines if line])
    q = result.quarantine.sort_values("row_number")
    assert q["row_number"].tolist() == [2, 4, 5]
    reasons = q["reasons"].tolist()
    assert reasons[0] == "JSON line is a list, not an object"
    assert reasons[1].startswith("invalid JSON line: ")
    assert reasons[2] == "JSON line is a int, not an object"
    assert [json.loads(r)["_raw_text"] for r in q["record"]] == ["[1, 2]", '{"price": 3', "42"]
    assert outcome.rows_loaded == outcome.rows_landed - 3


def test_a_cut_off_jsonl_file_blocks_but_its_complete_lines_are_read(landing):
    day2 = landing.dates[1]
    path = landing.file("competitor_prices", day2, "competitor_prices.jsonl")
    lines = path.read_text().split("\n")
    path.write_text("\n".join(lines[:3]) + "\n" + lines[3][:20])

    batch = read_batch(landing.root, SOURCES["competitor_prices"], day2)

    assert any("last line (4) is cut off — truncated file" in p for p in batch.problems), batch.problems
    frame = batch.tables["competitor_prices"].frame
    assert len(frame) == 4
    assert frame[PARSE_ERROR].notna().tolist() == [False, False, False, True]
    assert frame[RAW_TEXT].iat[3] == lines[3][:20]


def test_a_missing_column_blocks_but_the_rows_are_read(landing):
    day2 = landing.dates[1]
    rows = landing.rewrite("prices", day2, "prices.csv", lambda rs: [{k: v for k, v in r.items() if k != "price"}
                                                                     for r in rs])
    batch = read_batch(landing.root, SOURCES["prices"], day2)
    assert batch.blocked and any("missing column(s) price" in p for p in batch.problems)
    assert batch.rows_landed == rows
    assert batch.tables["prices"].frame["price"].isna().all()


def _edit_manifest(landing, source, change):
    day2 = landing.dates[1]
    manifest = landing.manifest(source, day2)
    change(manifest)
    landing.write_manifest(source, day2, manifest)


@pytest.mark.parametrize(("change", "problem"), [
    (lambda m: m.update(source="orders"), "manifest is for source 'orders', landed under 'prices'"),
    (lambda m: m.update(batch_date="2024-12-31"), "manifest batch_date '2024-12-31' does not match the folder"),
    (lambda m: m["files"].append({"name": "surprise.csv", "rows": 1}), "surprise.csv: file is not part of the prices"),
    (lambda m: m["files"].clear(), "prices.csv: missing from the manifest"),
], ids=["other-source", "other-date", "unknown-file", "file-not-listed"])
def test_a_manifest_that_does_not_describe_the_batch_blocks_it(landing, change, problem):
    _edit_manifest(landing, "prices", change)
    batch = read_batch(landing.root, SOURCES["prices"], landing.dates[1])
    assert batch.blocked
    assert any(problem in p for p in batch.problems), batch.problems


def test_a_manifest_that_is_not_json_or_lists_an_absent_file_blocks(landing):
    day2 = landing.dates[1]
    (landing.batch("prices", day2) / MANIFEST_FILE).write_text('{"files": [')
    batch = read_batch(landing.root, SOURCES["prices"], day2)
    assert batch.blocked and "manifest is not valid JSON" in batch.problems[0]

    landing.file("orders", day2, "orders.csv").unlink()
    batch = read_batch(landing.root, SOURCES["orders"], day2)
    assert any("orders.csv: listed in the manifest but not landed" in p for p in batch.problems), batch.problems
