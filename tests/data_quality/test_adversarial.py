"""The input nobody planned for (issue "The boundary holds"): each kind the adversarial probe found, on the clean
world's own exports. Crashes became blocked batches or quarantined rows with a message; valid data with a byte-order
mark, blank lines or CRLF loads (and says so); nothing is silently accepted or changed.

Row-level damage is "exported by the source system" (the manifest describes the damaged file), as in
``test_bad_input``; each test checks landed = loaded + quarantined and that the untouched rows still load.
"""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest

from data_quality.boundary import validate_source
from data_quality.contracts import SOURCES
from data_quality.landing import read_batch
from data_quality.manifest import MANIFEST_FILE
from data_quality.suites import Reference


def validate(landing, source):
    return validate_source(landing.root, SOURCES[source], landing.dates,
                           Reference() if source == "catalog" else landing.reference)


def day2(result, landing):
    """The day-2 outcome and its quarantined rows; every batch balanced, day 1 untouched."""
    for outcome in result.batches:
        assert outcome.rows_landed == outcome.rows_loaded + outcome.rows_quarantined, outcome
    first = next(b for b in result.batches if b.batch_date == landing.dates[0])
    assert first.status == "loaded" and first.rows_quarantined == 0, first
    outcome = next(b for b in result.batches if b.batch_date == landing.dates[1])
    quarantine = result.quarantine[result.quarantine["batch_date"] == landing.dates[1]]
    return outcome, quarantine.sort_values("row_number")


def edit_text(landing, source, name, edit) -> None:
    """Rewrite a day-2 text file's lines with ``edit(lines) -> lines`` and re-export its manifest entry."""
    path = landing.file(source, landing.dates[1], name)
    lines = edit(path.read_text(encoding="utf-8").split("\n")[:-1])
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    landing.reexport(source, landing.dates[1], name, rows=len([x for x in lines if x]) - name.endswith(".csv"))


def set_cells(landing, source, name, changes: dict[int, dict]) -> None:
    """Set columns of day-2 data rows (0-based) to new values, as the source system would export them."""
    def edit(rows):
        for index, values in changes.items():
            rows[index].update(values)
        return rows
    landing.rewrite(source, landing.dates[1], name, edit)


def check_quarantined(quarantine, table: str, expected: dict[int, list[str]]) -> None:
    rows = quarantine[quarantine["table_name"] == table]
    assert sorted(rows["row_number"]) == sorted(expected), rows[["row_number", "reasons"]].to_dict("records")
    for number, reasons in zip(rows["row_number"], rows["reasons"]):
        for fragment in expected[number]:
            assert fragment in reasons, (fragment, reasons)


# --- crashes: now a quarantined row or a blocked batch with a message ---------------------------------------------

def test_a_csv_field_beyond_the_csv_modules_field_limit_quarantines_its_row(landing):
    set_cells(landing, "catalog", "channels.csv", {0: {"name": "y" * 200_000}})
    outcome, quarantine = day2(validate(landing, "catalog"), landing)
    assert outcome.status == "loaded", outcome.message
    check_quarantined(quarantine, "channels", {1: ["name: expected string", "longer than 65,536 characters (200,000)"]})


@pytest.mark.parametrize(("source", "name", "column"), [
    ("orders", "order_lines.csv", "quantity"),
    ("catalog", "products.jsonl", "image_count"),
    ("sessions", "cart_events.jsonl", "quantity"),
], ids=["csv", "jsonl", "jsonl-fast-path"])
def test_integers_beyond_64_bits_are_quarantined(landing, source, name, column):
    set_cells(landing, source, name, {0: {column: 99_999_999_999_999_999_999}, 1: {column: -(2 ** 63) - 1}})
    outcome, quarantine = day2(validate(landing, source), landing)
    assert outcome.status == "loaded", outcome.message
    table = SOURCES[source].table(name.split(".")[0]).table
    check_quarantined(quarantine, table, {1: [f"{column}: expected integer", "outside the 64-bit integer range"],
                                          2: [f"{column}: expected integer", "outside the 64-bit integer range"]})


def test_parquet_dates_and_timestamps_beyond_pandas_range_are_quarantined(landing):
    utc = dt.timezone.utc
    set_cells(landing, "customers", "customers.parquet", {
        0: {"signup_date": dt.date(9999, 12, 31)}, 1: {"updated_at": dt.datetime(1, 1, 1, tzinfo=utc)},
        2: {"signup_date": dt.date(1, 1, 1)}})
    outcome, quarantine = day2(validate(landing, "customers"), landing)
    assert outcome.status == "loaded", outcome.message
    check_quarantined(quarantine, "customers", {1: ["signup_date: expected date, got 9999-12-31", "outside"],
                                                2: ["updated_at: expected timestamp", "outside"],
                                                3: ["signup_date: expected date", "outside 1900-01-01 .. 2199-12-31"]})


@pytest.mark.parametrize("name", [7, None, ["orders.csv"], {"name": "orders.csv"}, 1.5, True])
def test_a_manifest_file_name_that_is_not_a_string_blocks_the_batch(landing, name):
    manifest = landing.manifest("orders", landing.dates[1])
    manifest["files"][0]["name"] = name
    landing.write_manifest("orders", landing.dates[1], manifest)
    batch = read_batch(landing.root, SOURCES["orders"], landing.dates[1])
    assert batch.blocked
    assert any("files[0]: file name must be a string" in p for p in batch.problems), batch.problems


# --- valid data that was blocked: now loaded, and the normalization recorded ------------------------------------------

@pytest.mark.parametrize(("bom", "crlf", "blank"), [(True, False, False), (False, True, False), (False, False, True),
                                                    (True, True, True)], ids=["bom", "crlf", "blank-lines", "all"])
def test_a_csv_with_bom_crlf_or_blank_lines_loads_and_the_normalization_is_recorded(landing, bom, crlf, blank):
    path = landing.file("prices", landing.dates[1], "prices.csv")
    lines = path.read_text(encoding="utf-8").split("\n")[:-1]
    if blank:
        lines = lines[:3] + ["", ""] + lines[3:] + [""]
    text = "".join(line + ("\r\n" if crlf else "\n") for line in lines)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    landing.reexport("prices", landing.dates[1], "prices.csv", rows=len([x for x in lines if x]) - 1)

    outcome, quarantine = day2(validate(landing, "prices"), landing)

    assert outcome.status == "loaded", outcome.message
    assert outcome.rows_quarantined == 0 and outcome.rows_loaded == len([x for x in lines if x]) - 1
    expected = ((["prices.csv: UTF-8 byte-order mark removed"] if bom else [])
                + (["prices.csv: 3 blank line(s) skipped"] if blank else [])
                + ([f"prices.csv: {len(lines)} CRLF line ending(s) read as line breaks"] if crlf else []))
    assert outcome.notes == expected
    assert all(f"normalized: {note}" in outcome.message for note in expected)


def test_a_json_lines_file_with_bom_crlf_and_blank_lines_loads(landing):
    path = landing.file("competitor_prices", landing.dates[1], "competitor_prices.jsonl")
    lines = path.read_text(encoding="utf-8").split("\n")[:-1]
    path.write_bytes(b"\xef\xbb\xbf" + "".join(line + "\r\n" for line in lines[:2] + [""] + lines[2:]).encode())
    landing.reexport("competitor_prices", landing.dates[1], "competitor_prices.jsonl", rows=len(lines))
    outcome, quarantine = day2(validate(landing, "competitor_prices"), landing)
    assert outcome.status == "loaded", outcome.message
    assert (outcome.rows_loaded, len(quarantine)) == (len(lines), 0)
    assert outcome.notes == ["competitor_prices.jsonl: UTF-8 byte-order mark removed",
                             "competitor_prices.jsonl: 1 blank line(s) skipped",
                             f"competitor_prices.jsonl: {len(lines) + 1} CRLF line ending(s) read as line breaks"]


# --- silent acceptance or alteration: now rejected with the reason -----------------------------------------------------

@pytest.mark.parametrize(("value", "why"), [
    (" P00001", "surrounding whitespace"), ("P00001 ", "surrounding whitespace"),
    ("\u0420" + "00001", "'Р' (U+0420 CYRILLIC CAPITAL LETTER ER) is not allowed"),
    ("P0000\u0031\u200b", "U+200B ZERO WIDTH SPACE"), ("P\u00a000001", "U+00A0 NO-BREAK SPACE"),
    ("\uff30" + "00001", "U+FF30 FULLWIDTH LATIN CAPITAL LETTER P"),
], ids=["leading-space", "trailing-space", "cyrillic-er", "zero-width", "nbsp", "fullwidth"])
def test_look_alike_or_padded_identifiers_are_quarantined_not_loaded_as_new_ids(landing, value, why):
    set_cells(landing, "prices", "prices.csv", {0: {"product_id": value}})
    outcome, quarantine = day2(validate(landing, "prices"), landing)
    assert outcome.status == "loaded", outcome.message
    check_quarantined(quarantine, "prices", {1: ["product_id: expected string", why]})


def test_a_look_alike_product_id_in_the_catalog_does_not_become_a_product(landing):
    original = json.loads(landing.file("catalog", landing.dates[1], "products.jsonl").read_text().split("\n")[1])
    look_alike = "\u0420" + original["product_id"][1:]  # Cyrillic Р for the Latin P
    set_cells(landing, "catalog", "products.jsonl", {1: {"product_id": look_alike}})
    result = validate(landing, "catalog")
    outcome, quarantine = day2(result, landing)
    assert outcome.status == "loaded", outcome.message
    check_quarantined(quarantine, "products", {2: ["product_id: expected string", "CYRILLIC CAPITAL LETTER ER"]})
    assert look_alike not in set(result.loaded["products"]["product_id"])


@pytest.mark.parametrize(("source", "name", "column", "written", "why"), [
    ("prices", "prices.csv", "price_date", "{d:%d.%m.%Y}", "dates are written YYYY-MM-DD"),
    ("prices", "prices.csv", "price_date", "{d:%Y%m%d}", "dates are written YYYY-MM-DD"),
    ("prices", "prices.csv", "price_date", "{d:%m/%d/%Y}", "dates are written YYYY-MM-DD"),
    ("prices", "prices.csv", "price_date", "{d:%Y-%m-%d}T00:00:00Z", "dates are written YYYY-MM-DD"),
    ("orders", "orders.csv", "ordered_at", "{d:%Y-%m-%d} 10:00:00", "timestamps are written"),
    ("orders", "orders.csv", "ordered_at", "{d:%Y-%m-%d}T10:00:00", "timestamps are written"),
    ("orders", "orders.csv", "ordered_at", "{d:%Y%m%d}T100000Z", "timestamps are written"),
    ("promotions", "promotions.csv", "updated_at", "{d:%Y-%m-%d}T10:00:00+0100", "timestamps are written"),
], ids=["dd.mm.yyyy", "yyyymmdd", "us-date", "date-with-time", "space-separator", "no-zone", "iso-basic",
        "offset-without-colon"])
def test_dates_in_another_format_are_quarantined_not_reinterpreted(landing, source, name, column, written, why):
    value = written.format(d=landing.dates[1])
    set_cells(landing, source, name, {0: {column: value}})
    outcome, quarantine = day2(validate(landing, source), landing)
    assert outcome.status == "loaded", outcome.message
    table = name.split(".")[0]
    check_quarantined(quarantine, table, {1: [f"{column}: expected", repr(value), why]})


@pytest.mark.parametrize(("source", "name", "column", "literal"), [
    ("catalog", "products.jsonl", "weight_kg", "NaN"),  # optional: it used to load as NULL without a word
    ("catalog", "products.jsonl", "list_price", "Infinity"),
    ("competitor_prices", "competitor_prices.jsonl", "price", "-Infinity"),
    ("competitor_prices", "competitor_prices.jsonl", "price", "NaN"),
])
def test_nan_and_infinity_literals_in_json_lines_are_quarantined(landing, source, name, column, literal):
    def edit(lines):
        record = json.loads(lines[0])
        record[column] = "@@"
        lines[0] = json.dumps(record).replace('"@@"', literal)
        return lines
    edit_text(landing, source, name, edit)
    outcome, quarantine = day2(validate(landing, source), landing)
    assert outcome.status == "loaded", outcome.message
    check_quarantined(quarantine, name.split(".")[0], {1: ["invalid JSON line", f"{literal.lstrip('-')} is not a JSON number"]})
    assert literal in json.loads(quarantine["record"].iat[0])["_raw_text"]


def test_duplicate_keys_in_a_json_object_are_quarantined(landing):
    edit_text(landing, "competitor_prices", "competitor_prices.jsonl",
              lambda lines: [lines[0][:-1] + ', "price": 0.01}'] + lines[1:])
    outcome, quarantine = day2(validate(landing, "competitor_prices"), landing)
    assert outcome.status == "loaded", outcome.message
    check_quarantined(quarantine, "competitor_prices", {1: ["invalid JSON line", "duplicate key 'price'"]})


def test_a_file_in_the_batch_folder_but_not_in_its_manifest_blocks_and_hidden_files_are_noted(landing):
    directory = landing.batch("orders", landing.dates[1])
    (directory / ".orders.csv.tmp").write_text("in progress")
    batch = read_batch(landing.root, SOURCES["orders"], landing.dates[1])
    assert not batch.blocked, batch.problems
    assert batch.notes == [".orders.csv.tmp: hidden entry in the batch folder, not in the manifest, not read"]

    (directory / "orders_late.csv").write_text("order_id\nX\n")
    batch = read_batch(landing.root, SOURCES["orders"], landing.dates[1])
    assert batch.problems == [f"{directory / 'orders_late.csv'}: in the batch folder but not in the manifest — a "
                              f"batch lists every file it contains"]


@pytest.mark.parametrize("field", ["sha256", "rows", "bytes"])
def test_a_manifest_without_checksums_or_counts_blocks(landing, field):
    manifest = landing.manifest("orders", landing.dates[1])
    for entry in manifest["files"]:
        del entry[field]
    landing.write_manifest("orders", landing.dates[1], manifest)
    batch = read_batch(landing.root, SOURCES["orders"], landing.dates[1])
    assert batch.blocked
    for name in ("orders.csv", "order_lines.csv"):
        assert any(f"{name}: manifest entry has no {field!r}" in p for p in batch.problems), batch.problems
    assert batch.rows_landed > 0  # the rows are still read, to be quarantined with the batch


@pytest.mark.parametrize("kind", ["symlink", "fifo", "directory"])
def test_data_files_must_be_regular_files(landing, kind, tmp_path):
    path = landing.file("prices", landing.dates[1], "prices.csv")
    if kind == "symlink":
        target = tmp_path / "elsewhere.csv"
        target.write_bytes(path.read_bytes())
        path.unlink()
        path.symlink_to(target)
    elif kind == "fifo":
        path.unlink()
        os.mkfifo(path)  # reading it would wait forever
    else:
        path.unlink()
        path.mkdir()
    batch = read_batch(landing.root, SOURCES["prices"], landing.dates[1])
    assert batch.problems == [f"{path}: not a regular file (a symbolic link, folder or device); data files must be "
                              f"written into the batch folder itself"]


def test_a_manifest_that_is_not_a_regular_file_blocks(landing, tmp_path):
    path = landing.batch("prices", landing.dates[1]) / MANIFEST_FILE
    target = tmp_path / MANIFEST_FILE
    target.write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(target)
    batch = read_batch(landing.root, SOURCES["prices"], landing.dates[1])
    assert batch.blocked and "not a regular file" in batch.problems[0]


@pytest.mark.parametrize("zone", ["*02:00", "Mars/Olympus"])
def test_a_parquet_timestamp_in_an_unknown_time_zone_blocks_its_batch(landing, zone):
    """Found by the long run: one flipped byte in the metadata turned "+02:00" into "*02:00", and pyarrow's
    conversion raised pytz's UnknownTimeZoneError (a KeyError), which escaped the boundary."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = landing.file("sessions", landing.dates[1], "sessions.parquet")
    table = pq.read_table(path)
    ticks = table.column("started_at").cast(pa.int64())
    table = table.set_column(table.schema.get_field_index("started_at"), "started_at",
                             ticks.cast(pa.int64()).combine_chunks().view(pa.timestamp("ms", tz=zone)))
    pq.write_table(table, path)
    landing.reexport("sessions", landing.dates[1], "sessions.parquet", rows=table.num_rows)
    outcome, quarantine = day2(validate(landing, "sessions"), landing)
    assert outcome.status == "blocked"
    assert any("unreadable Parquet column started_at" in p and "UnknownTimeZoneError" in p for p in outcome.problems), \
        outcome.problems
    assert len(quarantine) == outcome.rows_landed  # the readable file's rows, quarantined with the batch


def test_a_parquet_string_column_holding_bytes_that_are_not_utf8_quarantines_those_rows(landing):
    """Found by the long run: Arrow reads a STRING column without checking its bytes are UTF-8, and pandas failed on
    them later (in a concat, far from the file). The reader checks them: each such value is rejected by value."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = landing.file("customers", landing.dates[1], "customers.parquet")
    table = pq.read_table(path)
    values = [v.encode() for v in table.column("segment").to_pylist()]
    values[1] = b"bar\xffgain"
    offsets = [0]
    for value in values:
        offsets.append(offsets[-1] + len(value))
    segment = pa.Array.from_buffers(pa.large_string(), len(values), [
        None, pa.py_buffer(b"".join(o.to_bytes(8, "little") for o in offsets)), pa.py_buffer(b"".join(values))])
    table = table.set_column(table.schema.get_field_index("segment"), "segment", segment)
    pq.write_table(table, path)
    landing.reexport("customers", landing.dates[1], "customers.parquet", rows=table.num_rows)
    outcome, quarantine = day2(validate(landing, "customers"), landing)
    assert outcome.status == "loaded", outcome.message
    check_quarantined(quarantine, "customers", {2: ["segment: expected string, got b'bar\\xffgain' (not valid UTF-8)"]})
