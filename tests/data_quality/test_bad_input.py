"""Every kind of bad input, for every source: it is either quarantined row by row or blocks its batch — never
loaded silently, never lost.

Each case copies the clean landing zone, damages one file of the day-2 batch of one source, validates both days
and checks that:

- the damage is reported in words: a blocked batch names the file and the problem, a quarantined row carries
  a reason that says what is wrong with it;
- the untouched day-1 batch still loads completely;
- for every batch, rows landed = rows loaded + rows quarantined, both in the result and, after storing it in a
  fresh DuckDB file, counted in ``raw.*`` and ``ingest.quarantine`` (``reconcile``);
- a blocked batch loses nothing: every row that can be read from its files is quarantined with the
  batch-blocked reason, nothing of that date reaches ``raw.*``, and the landed files are left as they were.

Row-level damage is "exported by the source system": the manifest entry is rewritten to match the file.
Damage after export (empty, truncated, re-encoded files) leaves the manifest as it was.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data_quality.boundary import validate_source
from data_quality.contracts import SOURCES
from data_quality.manifest import MANIFEST_FILE
from data_quality.suites import Reference
from warehouse.connection import connect
from warehouse.raw import reconcile, store_validation

MONTH = dt.timedelta(days=30)
MARK = "@@LATIN1@@"  # placeholder replaced by a latin-1 byte after serializing
SOURCES_BY_FILE = {t.file_name: t for s in SOURCES.values() for t in s.tables}


# --- the damage ---------------------------------------------------------------------------------------------------

def month_after_batch(value, batch_date: dt.date):
    """A date (or a moment, keeping its time of day) 30 days after the batch date, in the value's representation."""
    day = batch_date + MONTH
    if isinstance(value, dt.datetime):
        return dt.datetime.combine(day, value.timetz())
    if isinstance(value, dt.date):
        return day
    if "T" in value:
        return f"{day.isoformat()}T{value.split('T', 1)[1]}"
    return day.isoformat()


@dataclass(frozen=True)
class Cell:
    """Set ``column`` of data row ``row`` (0-based) to ``value`` (or ``value(old, batch_date)`` when callable)."""

    row: int
    column: str
    value: object
    reason: str | None = None  # expected in the row's reasons; None: the type error coerce reports

    def apply(self, rows: list[dict], batch_date: dt.date) -> None:
        old = rows[self.row].get(self.column)
        rows[self.row][self.column] = self.value(old, batch_date) if callable(self.value) else self.value


@dataclass(frozen=True)
class RowCase:
    """The source system exported bad rows: they are quarantined with their reasons, the rest of the batch loads."""

    file: str
    edit: Callable[[list[dict], dt.date], list[dict]]  # (records, batch date) -> records
    expected: dict[int, list[str]]  # 1-based row number in the file -> fragments expected in its reasons
    values: dict[int, dict] | None = None  # 1-based row number -> bad values its quarantined record must show


@dataclass(frozen=True)
class BlockCase:
    """The batch is structurally unusable: it is blocked, naming ``file`` and the problem."""

    file: str
    damage: Callable  # (landing, source, date, file) -> None
    problem: list[str]  # fragments expected in the problem that names the file
    manifest_consistent: bool = False  # the damage was exported, so the manifest describes the file


def cells(file: str, *edits: Cell) -> RowCase:
    def edit(rows, batch_date):
        for cell in edits:
            cell.apply(rows, batch_date)
        return rows

    expected: dict[int, list[str]] = {}
    values: dict[int, dict] = {}
    table = SOURCES_BY_FILE[file]
    for cell in edits:
        reason = cell.reason or f"{cell.column}: expected {table.column(cell.column).type}, got {cell.value!r}"
        expected.setdefault(cell.row + 1, []).append(reason)
        if cell.value is not None and not callable(cell.value):
            values.setdefault(cell.row + 1, {})[cell.column] = cell.value
    return RowCase(file, edit, expected, values)


def _conflicting(value):
    if isinstance(value, bool) or value is None:
        return "X"
    if isinstance(value, (int, float)):
        return value + 1
    return f"{value}X"


def duplicate(file: str, row: int, key: str, differing_column: str) -> RowCase:
    """A row re-sent value for value (the first copy loads) and a copy that conflicts (none loads)."""
    def edit(rows, batch_date):
        conflict = dict(rows[row], **{differing_column: _conflicting(rows[row].get(differing_column))})
        return rows[: row + 1] + [dict(rows[row]), conflict] + rows[row + 1:]

    conflict = f"duplicate {key} within the batch"
    return RowCase(file, edit, {row + 1: [conflict], row + 2: [f"exact duplicate of row {row + 1}"],
                                row + 3: [conflict]})


def _missing(column):
    def damage(landing, source, date, file):
        landing.rewrite(source, date, file, lambda rows: [{k: v for k, v in r.items() if k != column} for r in rows])
    return damage


def _extra(landing, source, date, file):
    landing.rewrite(source, date, file, lambda rows: [{**r, "surprise": "x"} for r in rows])


def _empty(landing, source, date, file):
    landing.file(source, date, file).write_bytes(b"")


def _truncated(landing, source, date, file):
    path = landing.file(source, date, file)
    payload = path.read_bytes()
    path.write_bytes(payload[: len(payload) // 2])


def _latin1(row, column, exported):
    def damage(landing, source, date, file):
        def edit(rows):
            rows[row][column] = f"{rows[row][column]}{MARK}"
            return rows

        count = landing.rewrite(source, date, file, edit, reexport=False)
        path = landing.file(source, date, file)
        path.write_bytes(path.read_bytes().replace(MARK.encode(), b"\xe9"))
        if exported:
            landing.reexport(source, date, file, rows=count)
    return damage


@dataclass(frozen=True)
class BinaryTextCase:
    """A Parquet string column exported as BINARY: valid UTF-8 everywhere except one latin-1 byte in ``row``.

    Bytes that are valid UTF-8 are text; the one value that is not is a type error of its row (quarantined).
    """

    file: str
    row: int
    column: str

    @property
    def expected(self) -> dict[int, list[str]]:
        return {self.row + 1: [f"{self.column}: expected string", "not valid UTF-8"]}

    def apply(self, landing, source, date) -> None:
        path = landing.file(source, date, self.file)
        table = pq.read_table(path)
        values = [None if v is None else v.encode("utf-8") for v in table.column(self.column).to_pylist()]
        values[self.row] = (values[self.row] or b"x") + b"\xe9"
        index = table.schema.get_field_index(self.column)
        table = table.set_column(index, pa.field(self.column, pa.binary()), pa.array(values, type=pa.binary()))
        pq.write_table(table, path)
        landing.reexport(source, date, self.file, rows=table.num_rows)


def _no_manifest(landing, source, date, file):
    (landing.batch(source, date) / MANIFEST_FILE).unlink()


@dataclass(frozen=True)
class Spec:
    """Where each case hits one source (the closest analogue where a case cannot apply literally)."""

    main: str  # the file the structural cases damage
    wrong_type: RowCase
    negative: RowCase
    absurd: RowCase
    duplicate: RowCase
    unknown_reference: RowCase
    missing_column: str
    future_date: RowCase | None
    text: tuple[str, int, str] | None  # (file, row, column) of a text value for the latin-1 byte
    parquet_text: tuple[str, int, str] | None = None  # (file, row, column) of a Parquet string column


IN_FUTURE = "is after the batch date (in the future)"
UNKNOWN_PRODUCT = "unknown product_id (not in the catalog)"
PRICE = "price must be positive and below 100,000"


def _new_purchase_order(batch_date: dt.date) -> dict:
    return {"po_id": "PO-FUTURE-1", "product_id": "P00001", "warehouse_id": "WH-NORTH", "quantity": "10",
            "unit_cost": "5.0", "ordered_on": (batch_date + MONTH).isoformat(),
            "expected_on": (batch_date + MONTH + dt.timedelta(days=4)).isoformat(), "origin": "legacy"}


SPECS: dict[str, Spec] = {
    "catalog": Spec(
        main="products.jsonl",
        wrong_type=cells("products.jsonl", Cell(0, "list_price", "abc"), Cell(1, "launched_on", "not-a-date"),
                         Cell(2, "image_count", 3.5), Cell(3, "updated_at", "yesterday")),
        negative=cells("products.jsonl", Cell(0, "list_price", -5.0, "list_price must be positive and below 100,000")),
        absurd=cells("products.jsonl", Cell(0, "list_price", 1e9, "list_price must be positive and below 100,000")),
        duplicate=duplicate("products.jsonl", 2, "product_id", "name"),
        # The catalog is where product ids come from: it cannot reference an unknown one. The nearest reference
        # violation is a value outside the catalog's own vocabulary.
        unknown_reference=cells("products.jsonl",
                                Cell(0, "status", "bogus", "status not in active|inactive|discontinued")),
        missing_column="sku",  # optional JSON keys may be absent in JSON lines; a required one may not
        future_date=cells("products.jsonl", Cell(0, "updated_at", month_after_batch, "updated_at " + IN_FUTURE)),
        text=("products.jsonl", 1, "name"),
    ),
    "orders": Spec(
        main="order_lines.csv",
        wrong_type=cells("order_lines.csv", Cell(0, "quantity", "abc"), Cell(1, "line_number", "1.5"),
                         Cell(2, "unit_price", "12,99")),
        negative=cells("order_lines.csv", Cell(0, "quantity", -1, "quantity must be between 1 and 1000")),
        absurd=cells("order_lines.csv", Cell(0, "quantity", 100_000, "quantity must be between 1 and 1000")),
        duplicate=duplicate("order_lines.csv", 2, "order_id, line_number", "promo_id"),
        unknown_reference=cells("order_lines.csv", Cell(0, "product_id", "P99999", UNKNOWN_PRODUCT)),
        missing_column="quantity",
        future_date=cells("orders.csv", Cell(0, "ordered_at", month_after_batch, "ordered_at " + IN_FUTURE)),
        text=("orders.csv", 1, "customer_id"),
    ),
    "inventory": Spec(
        main="inventory_snapshot.parquet",
        wrong_type=cells("inventory_snapshot.parquet", Cell(0, "on_hand", "abc"),
                         Cell(1, "snapshot_date", "not-a-date")),
        negative=cells("inventory_snapshot.parquet",
                       Cell(0, "on_hand", -5, "on_hand must be between 0 and 10,000,000")),
        absurd=cells("inventory_snapshot.parquet",
                     Cell(0, "on_hand", 100_000_000, "on_hand must be between 0 and 10,000,000")),
        duplicate=duplicate("inventory_snapshot.parquet", 2, "warehouse_id, product_id", "on_hand"),
        unknown_reference=cells("inventory_snapshot.parquet", Cell(0, "product_id", "P99999", UNKNOWN_PRODUCT)),
        missing_column="on_hand",
        # The snapshot must carry exactly the batch date (a future one is reported as "differs from the batch
        # date", see test_future_snapshot_date); purchase orders are the inventory table with a "not in the
        # future" rule. The clean world placed no purchase order on day 2, so the WMS exports one.
        future_date=None,  # built per batch date by row_case()
        text=("warehouses.csv", 1, "name"),
        parquet_text=("inventory_snapshot.parquet", 1, "warehouse_id"),
    ),
    "prices": Spec(
        main="prices.csv",
        wrong_type=cells("prices.csv", Cell(0, "price", "abc"), Cell(1, "price_date", "not-a-date")),
        negative=cells("prices.csv", Cell(0, "price", -5.0, PRICE)),
        absurd=cells("prices.csv", Cell(0, "price", 1e9, PRICE)),
        duplicate=duplicate("prices.csv", 2, "product_id, channel", "promo_id"),
        unknown_reference=cells("prices.csv", Cell(0, "product_id", "P99999", UNKNOWN_PRODUCT)),
        missing_column="price",
        # A price list is for its own day: any other date (a future one included) is rejected as such.
        future_date=cells("prices.csv",
                          Cell(0, "price_date", month_after_batch, "price_date differs from the batch date")),
        text=("prices.csv", 1, "currency"),
    ),
    "competitor_prices": Spec(
        main="competitor_prices.jsonl",
        wrong_type=cells("competitor_prices.jsonl", Cell(0, "price", "abc"), Cell(1, "in_stock", "maybe"),
                         Cell(2, "scraped_at", "not-a-date")),
        negative=cells("competitor_prices.jsonl", Cell(0, "price", -5.0, PRICE)),
        absurd=cells("competitor_prices.jsonl", Cell(
            0, "price", lambda old, _: round(old * 100, 2),
            "competitor price is less than 0.2x or more than 5x our list price (scrape error)")),
        duplicate=duplicate("competitor_prices.jsonl", 2, "competitor, product_id", "competitor_sku"),
        unknown_reference=cells("competitor_prices.jsonl", Cell(0, "product_id", "P99999", UNKNOWN_PRODUCT)),
        missing_column="price",
        future_date=cells("competitor_prices.jsonl",
                          Cell(0, "scraped_at", month_after_batch, "scraped_at " + IN_FUTURE)),
        text=("competitor_prices.jsonl", 1, "competitor"),
    ),
    "customers": Spec(
        main="customers.parquet",
        wrong_type=cells("customers.parquet", Cell(0, "marketing_opt_in", "maybe"),
                         Cell(1, "signup_date", "not-a-date")),
        # Customer profiles have no quantity or price. The nearest "impossible value" cases: a required field the
        # CDP left empty, and a raw e-mail address where a hash belongs.
        negative=cells("customers.parquet", Cell(0, "segment", None, "segment is missing")),
        absurd=cells("customers.parquet", Cell(0, "email_sha256", "jane.doe@example.com",
                                               "email_sha256 is not a hex digest (raw e-mail?)")),
        duplicate=duplicate("customers.parquet", 2, "customer_id", "region"),
        # No product on a profile: the reference it carries is the preferred channel.
        unknown_reference=cells("customers.parquet",
                                Cell(0, "preferred_channel", "carrier-pigeon", "unknown preferred_channel")),
        missing_column="marketing_opt_in",
        future_date=cells("customers.parquet", Cell(0, "updated_at", month_after_batch, "updated_at " + IN_FUTURE),
                          Cell(1, "signup_date", month_after_batch, "signup_date " + IN_FUTURE)),
        text=None,  # Parquet only: the encoding case is a BINARY column with a latin-1 byte
        parquet_text=("customers.parquet", 1, "segment"),
    ),
    "sessions": Spec(
        main="sessions.parquet",
        wrong_type=cells("sessions.parquet", Cell(0, "page_views", "abc"), Cell(1, "started_at", "not-a-date")),
        negative=cells("sessions.parquet", Cell(0, "page_views", -3, "page_views outside [1, 10000]")),
        absurd=cells("sessions.parquet", Cell(0, "page_views", 1_000_000, "page_views outside [1, 10000]")),
        duplicate=duplicate("sessions.parquet", 2, "session_id", "device"),
        # Sessions carry no product; their cart events do.
        unknown_reference=cells("cart_events.jsonl", Cell(0, "product_id", "P99999", UNKNOWN_PRODUCT)),
        missing_column="page_views",
        future_date=cells("sessions.parquet", Cell(0, "started_at", month_after_batch, "started_at " + IN_FUTURE),
                          Cell(0, "ended_at", month_after_batch, "ended_at " + IN_FUTURE)),
        text=("cart_events.jsonl", 1, "status"),
        parquet_text=("sessions.parquet", 1, "device"),
    ),
    "promotions": Spec(
        main="promotions.csv",  # the clean day-2 calendar holds one promotion: every case damages row 0
        wrong_type=cells("promotions.csv", Cell(0, "discount_pct", "abc"), Cell(0, "starts_on", "not-a-date")),
        negative=cells("promotions.csv", Cell(0, "discount_pct", -10.0, "discount_pct must be above 0 and at most 90")),
        absurd=cells("promotions.csv", Cell(0, "discount_pct", 500.0, "discount_pct must be above 0 and at most 90")),
        duplicate=duplicate("promotions.csv", 0, "promo_id", "promo_type"),
        unknown_reference=cells("promotions.csv", Cell(0, "product_id", "P99999", UNKNOWN_PRODUCT)),
        missing_column="discount_pct",
        future_date=cells("promotions.csv", Cell(0, "updated_at", month_after_batch, "updated_at " + IN_FUTURE)),
        text=("promotions.csv", 0, "promo_type"),
    ),
}


ROW_CASES = ("wrong_type", "negative", "absurd", "duplicate", "unknown_reference", "future_date")
BLOCK_CASES = ("missing_column", "extra_column", "empty_file", "truncated_file", "bad_encoding",
               "bad_encoding_exported", "no_manifest")


def row_case(source: str, case: str, batch_date: dt.date, landing) -> RowCase:
    if source == "inventory" and case == "future_date":
        path = landing.file(source, batch_date, "purchase_orders.csv")
        existing = len(path.read_text().splitlines()) - 1
        return RowCase("purchase_orders.csv", lambda rows, date: rows + [_new_purchase_order(date)],
                       {existing + 1: ["ordered_on " + IN_FUTURE]})
    return getattr(SPECS[source], case)


def block_case(source: str, case: str) -> BlockCase | BinaryTextCase:
    spec = SPECS[source]
    main = spec.main
    if case == "missing_column":
        return BlockCase(main, _missing(spec.missing_column), [f"missing column(s) {spec.missing_column}"], True)
    if case == "extra_column":
        return BlockCase(main, _extra, ["unexpected column(s) surprise", "schema drift"], True)
    if case == "empty_file":
        return BlockCase(main, _empty, ["empty"])
    if case == "truncated_file":
        return BlockCase(main, _truncated, ["truncated"])
    if case in ("bad_encoding", "bad_encoding_exported"):
        exported = case == "bad_encoding_exported"
        if spec.text is None:  # a Parquet-only source: no text encoding to break, but a BINARY string column
            file, row, column = spec.parquet_text
            return BinaryTextCase(file, row, column)
        file, row, column = spec.text
        line = row + (2 if file.endswith(".csv") else 1)  # the header is line 1 of a CSV file
        return BlockCase(file, _latin1(row, column, exported), ["not valid UTF-8", f"(line {line})"], exported)
    if case == "no_manifest":
        return BlockCase(MANIFEST_FILE, _no_manifest, ["missing — the batch is incomplete"])
    raise KeyError(case)


CASES = [(source, case) for source, spec in SPECS.items() for case in ROW_CASES + BLOCK_CASES
         if not (case == "bad_encoding_exported" and spec.text is None)]  # Parquet only: one encoding case
CASES += [(source, "bad_encoding_parquet") for source, spec in SPECS.items()
          if spec.parquet_text is not None and spec.text is not None]


# --- what must hold -------------------------------------------------------------------------------------------------

def declared_rows(landing, source: str, date: dt.date) -> int:
    return sum(entry["rows"] for entry in landing.manifest(source, date)["files"])


def readable_rows(landing, source: str, date: dt.date) -> int:
    """Rows that can be read from a batch's files without the validator: what a blocked batch must quarantine.

    A batch without manifest is incomplete (maybe still being written), so none of its rows are read yet; a file
    that is not valid UTF-8 cannot be read as text; a Parquet file that does not open has no rows.
    """
    directory = landing.batch(source, date)
    if not (directory / MANIFEST_FILE).is_file():
        return 0
    total = 0
    for table in SOURCES[source].tables:
        payload = (directory / table.file_name).read_bytes()
        if not payload:
            continue
        if table.format == "parquet":
            try:
                total += pq.read_table(pa.BufferReader(payload)).num_rows
            except (pa.ArrowException, OSError):
                pass
            continue
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            continue
        lines = [line for line in text.split("\n") if line]
        total += len(lines) - (1 if table.format == "csv" else 0)
    return total


def validate(landing, source: str):
    reference = Reference() if source == "catalog" else landing.reference
    return validate_source(landing.root, SOURCES[source], landing.dates, reference)


def check_balanced(landing, source: str, result, db: Path) -> None:
    day1, day2 = landing.dates
    outcomes = {b.batch_date: b for b in result.batches}
    assert sorted(outcomes) == [day1, day2]
    for outcome in result.batches:
        assert outcome.rows_landed == outcome.rows_loaded + outcome.rows_quarantined, outcome
    first = outcomes[day1]
    assert first.status == "loaded" and not first.problems, first
    assert first.rows_quarantined == 0
    assert first.rows_loaded == first.rows_landed == declared_rows(landing, source, day1)
    assert not (result.quarantine["batch_date"] == day1).any()

    store_validation(db, result, "bad-input-test")
    balance = reconcile(db, source, landing.dates)
    assert len(balance) == 2
    assert balance["balanced"].all(), balance.to_dict("records")
    with connect(db, read_only=True) as connection:
        in_raw = sum(connection.execute(f"SELECT count(*) FROM raw.{t.table} WHERE _batch_date = ?",
                                        [day1]).fetchone()[0] for t in SOURCES[source].tables)
    assert in_raw == first.rows_loaded


def _not_json(constant: str):
    raise AssertionError(f"{constant} in a quarantined record is not JSON")


def day2_quarantine(result, landing):
    q = result.quarantine
    return q[q["batch_date"] == landing.dates[1]]


# --- the test ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("source", "case"), CASES, ids=[f"{s}-{c}" for s, c in CASES])
def test_bad_input_is_quarantined_or_blocked_never_lost(landing, tmp_path, source, case):
    day2 = landing.dates[1]
    if case in ROW_CASES:
        spec = row_case(source, case, day2, landing)
        landing.rewrite(source, day2, spec.file, lambda rows: spec.edit(rows, day2))
    elif case == "bad_encoding_parquet":
        spec = BinaryTextCase(*SPECS[source].parquet_text)
    else:
        spec = block_case(source, case)
    if isinstance(spec, BinaryTextCase):
        spec.apply(landing, source, day2)
    elif isinstance(spec, BlockCase):
        spec.damage(landing, source, day2, spec.file)
    landed_before = landing.snapshot(source, day2)

    result = validate(landing, source)

    check_balanced(landing, source, result, tmp_path / "warehouse.duckdb")
    outcome = next(b for b in result.batches if b.batch_date == day2)
    quarantined = day2_quarantine(result, landing)
    if isinstance(spec, (RowCase, BinaryTextCase)):
        table = SOURCES_BY_FILE[spec.file].table
        assert outcome.status == "loaded", outcome.message
        assert outcome.rows_landed == declared_rows(landing, source, day2)
        assert sorted(zip(quarantined["table_name"], quarantined["row_number"])) == \
               sorted((table, number) for number in spec.expected), quarantined[["row_number", "reasons"]]
        for row in quarantined.itertuples():
            for fragment in spec.expected[row.row_number]:
                assert fragment in row.reasons, (fragment, row.reasons)
            assert all(part and part not in ("nan", "None") for part in row.reasons.split("; ")), row.reasons
            assert row.source_file.endswith(f"{source}/{day2}/{spec.file}")
            assert row.failed_expectations
            record = json.loads(row.record, parse_constant=_not_json)  # the row as landed, as strict JSON
            for column, value in ((getattr(spec, "values", None) or {}).get(row.row_number) or {}).items():
                assert str(record[column]) == str(value), (column, record)
        assert outcome.rows_quarantined == len(spec.expected)
    else:
        assert outcome.status == "blocked"
        assert any(spec.file in problem and all(fragment in problem for fragment in spec.problem)
                   for problem in outcome.problems), outcome.problems
        if spec.manifest_consistent:  # the export itself is bad: the manifest does describe the file
            assert not any("checksum" in p or "manifest declares" in p for p in outcome.problems), outcome.problems
        elif case == "truncated_file":
            assert "checksum" in outcome.message or "manifest declares" in outcome.message
        assert outcome.rows_loaded == 0
        assert outcome.rows_quarantined == outcome.rows_landed == readable_rows(landing, source, day2)
        assert len(quarantined) == outcome.rows_landed
        assert quarantined["reasons"].str.startswith("batch blocked: ").all()
        for record in quarantined["record"]:
            json.loads(record, parse_constant=_not_json)
        assert (quarantined["failed_expectations"] == "batch_blocked").all()
        assert landing.snapshot(source, day2) == landed_before  # the validator never touches landed files
        with connect(tmp_path / "warehouse.duckdb", read_only=True) as connection:
            for table in SOURCES[source].tables:
                rows = connection.execute(f"SELECT count(*) FROM raw.{table.table} WHERE _batch_date = ?",
                                          [day2]).fetchone()[0]
                assert rows == 0, f"blocked {table.table} rows reached raw"


def test_future_snapshot_date(landing, tmp_path):
    """An inventory snapshot dated a month after its batch is rejected; the rule is 'the batch date exactly'."""
    day2 = landing.dates[1]
    landing.rewrite("inventory", day2, "inventory_snapshot.parquet",
                    lambda rows: [{**r, "snapshot_date": day2 + MONTH} if i == 0 else r for i, r in enumerate(rows)])
    result = validate(landing, "inventory")
    check_balanced(landing, "inventory", result, tmp_path / "warehouse.duckdb")
    quarantined = day2_quarantine(result, landing)
    assert quarantined[["table_name", "row_number"]].values.tolist() == [["inventory_snapshot", 1]]
    assert "snapshot_date differs from the batch date" in quarantined["reasons"].iat[0]
