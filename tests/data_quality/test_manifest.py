"""The manifest contract (``data_quality.manifest``): a strict schema, every violation a problem in words."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json

import pytest

from data_quality.contracts import SOURCES
from data_quality.manifest import MANIFEST_FILE, is_complete, read_manifest

DATE = dt.date(2025, 3, 4)
PAYLOAD = b"product_id,channel\n"
GOOD = {
    "manifest_version": 1, "source": "prices", "source_system": "pricing engine", "batch_date": "2025-03-04",
    "batch_id": "0123abcd", "exported_at": "2025-03-04T23:30:00Z",
    "files": [{"name": "prices.csv", "table": "prices", "format": "csv", "rows": 0, "bytes": len(PAYLOAD),
               "sha256": hashlib.sha256(PAYLOAD).hexdigest()}],
}


def read(tmp_path, document=None, raw: bytes | None = None):
    (tmp_path / MANIFEST_FILE).write_bytes(raw if raw is not None else json.dumps(document).encode())
    return read_manifest(tmp_path, SOURCES["prices"], DATE)


def changed(change) -> dict:
    document = copy.deepcopy(GOOD)
    change(document)
    return document


def test_a_manifest_that_keeps_the_contract_has_no_problems(tmp_path):
    manifest = read(tmp_path, GOOD)
    assert manifest.problems == [] and manifest.notes == [] and manifest.readable
    assert manifest.batch_id == "0123abcd"
    assert list(manifest.files) == ["prices.csv"] and manifest.files["prices.csv"].rows == 0
    assert is_complete(tmp_path)


def test_no_manifest_is_an_incomplete_batch(tmp_path):
    assert read_manifest(tmp_path, SOURCES["prices"], DATE) is None
    assert not is_complete(tmp_path)


@pytest.mark.parametrize(("change", "problem"), [
    (lambda m: m.pop("batch_id"), "manifest has no 'batch_id'"),
    (lambda m: m.pop("files"), "manifest has no 'files'"),
    (lambda m: m.update(extra=1), "manifest field 'extra' is not part of the manifest contract"),
    (lambda m: m.update(manifest_version=2), "manifest_version 2 is not supported"),
    (lambda m: m.update(manifest_version=True), "manifest_version True is not supported"),
    (lambda m: m.update(source="orders"), "manifest is for source 'orders', landed under 'prices'"),
    (lambda m: m.update(batch_date="04.03.2025"), "batch_date '04.03.2025' does not match the folder 2025-03-04 "
                                                  "(dates are YYYY-MM-DD)"),
    (lambda m: m.update(batch_id="has space"), "batch_id 'has space' is not an identifier"),
    (lambda m: m.update(exported_at="yesterday"), "exported_at 'yesterday' is not a timestamp"),
    (lambda m: m.update(source_system=3), "source_system must be a string, not a number"),
    (lambda m: m.update(files={}), "'files' must be a list, not an object"),
    (lambda m: m.update(files=[]), "'files' is empty"),
    (lambda m: m["files"].append("prices.csv"), "files[1] must be an object, not a string"),
    (lambda m: m["files"][0].update(name=7), "files[0]: file name must be a string, not a number (7)"),
    (lambda m: m["files"][0].update(name="../prices.csv"), "files[0]: file name '../prices.csv' is not a plain"),
    (lambda m: m["files"][0].update(name="prices.csv "), "files[0]: file name 'prices.csv ' is not a plain"),
    (lambda m: m["files"][0].update(name=MANIFEST_FILE), "is the manifest itself"),
    (lambda m: m["files"].append(dict(m["files"][0])), "prices.csv: listed twice in the manifest"),
    (lambda m: m["files"][0].pop("sha256"), "prices.csv: manifest entry has no 'sha256'"),
    (lambda m: m["files"][0].pop("rows"), "prices.csv: manifest entry has no 'rows'"),
    (lambda m: m["files"][0].update(rows="0"), "prices.csv: rows must be a whole number from 0 to"),
    (lambda m: m["files"][0].update(rows=False), "prices.csv: rows must be a whole number"),
    (lambda m: m["files"][0].update(bytes=-1), "prices.csv: bytes must be a whole number"),
    (lambda m: m["files"][0].update(bytes=19.0), "prices.csv: bytes must be a whole number"),
    (lambda m: m["files"][0].update(sha256="ABC"), "prices.csv: sha256 must be 64 lowercase hex digits"),
    (lambda m: m["files"][0].update(md5="x"), "prices.csv: manifest entry field 'md5' is not part of"),
    (lambda m: m["files"][0].update(format=1), "prices.csv: format must be a string"),
], ids=lambda value: None if callable(value) else value[:40])
def test_every_violation_of_the_schema_is_a_problem_naming_the_field(tmp_path, change, problem):
    manifest = read(tmp_path, changed(change))
    assert any(problem in p for p in manifest.problems), manifest.problems
    assert all(p.startswith(f"{tmp_path / MANIFEST_FILE}: ") for p in manifest.problems)


@pytest.mark.parametrize(("raw", "problem"), [
    (b"{", "manifest is not valid JSON"),
    (b'{"files": [], "files": []}', "manifest is not valid JSON (duplicate key 'files' in one object)"),
    (b'{"manifest_version": NaN}', "manifest is not valid JSON (NaN is not a JSON number"),
    (b"[" * 100_000, "manifest is not valid JSON (nested too deeply)"),
    (b"\xff\xfe{}", "manifest is not valid UTF-8 (byte offset 0)"),
    (b"[]", "manifest must be a JSON object, not a list"),
    (b" " * (1 << 20) + b"{}", "at most 1,048,576 are read"),
], ids=["cut", "duplicate-key", "nan", "deep", "utf16", "list", "huge"])
def test_an_unreadable_manifest_is_one_problem_and_nothing_else_is_read(tmp_path, raw, problem):
    manifest = read(tmp_path, raw=raw)
    assert len(manifest.problems) == 1 and problem in manifest.problems[0], manifest.problems
    assert not manifest.readable and manifest.files == {}


def test_a_byte_order_mark_on_the_manifest_is_tolerated_and_noted(tmp_path):
    manifest = read(tmp_path, raw=b"\xef\xbb\xbf" + json.dumps(GOOD).encode())
    assert manifest.problems == []
    assert manifest.notes == [f"{MANIFEST_FILE}: UTF-8 byte-order mark removed"]


def test_a_manifest_that_is_a_folder_or_link_is_not_a_complete_batch(tmp_path):
    (tmp_path / MANIFEST_FILE).mkdir()
    assert not is_complete(tmp_path)
    assert "not a regular file" in read_manifest(tmp_path, SOURCES["prices"], DATE).problems[0]
