"""Plan adversarial batches: what each file says, and what the boundary must make of it.

A ``PlannedBatch`` holds, per table, the rows as written (``raw``, in the file's format) and as
they must load (``values``), which rows must be rejected and with what reason, and the edits the
writer applies to files, manifest and folder. Its expected outcome is exact where the damage
determines it: a batch with a blocking edit must be blocked naming the problem; otherwise it must
load, every damaged row quarantined, every clean row loaded value for value, every tolerated
deviation recorded as a note. Edits whose effect on the content cannot be known (random bytes
that the exporter itself declared) only promise that nothing escapes and nothing is lost.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import random
from dataclasses import dataclass, field

import numpy as np

from data_quality.contracts import SOURCES, Column, TableContract
from data_quality.fuzz.tables import CLEAN_ROWS, FREE_COLUMN, REFERENCE_COLUMN, Draw, FuzzWorld
from data_quality.fuzz.values import (LINE_REJECTED, OMIT, RawJSON, boolean_text, csv_text, decimal_text,
                                      identifier, integer_text, json_token, rejected_forms, timestamp_text)
from data_quality.manifest import MANIFEST_FILE

ANY_REASON = ""  # a rejected row whose reason the plan does not predict word for word


@dataclass
class PlannedRow:
    values: dict[str, object]  # the typed values that must load (None: missing)
    raw: dict[str, object]  # what the file writes per column, in its format (JSON: token or OMIT)
    line: str | None = None  # the record's text when it is damaged as a whole (CSV, JSON lines)
    reject: str | None = None  # None: must load; else a fragment its quarantine reason contains
    kind: str = "clean"


@dataclass
class PlannedTable:
    contract: TableContract
    rows: list[PlannedRow]
    layout: dict[str, str]  # Parquet: the physical type of each column
    header: list[tuple[str, str | None]]  # (name as written, contract column it carries or None for an extra one)
    last_line_open: bool = False  # the last CSV record opens a quote it never closes: nothing may follow it


@dataclass(frozen=True)
class Edit:
    """Something the writer does to a file, the manifest or the folder (``table`` None: not about one file)."""

    kind: str
    table: str | None = None
    arg: object = None


@dataclass
class PlannedBatch:
    source: str
    batch_date: dt.date
    tables: dict[str, PlannedTable]
    edits: list[Edit] = field(default_factory=list)
    blocked: bool | None = False  # None: either outcome is acceptable
    problem: str | None = None  # a fragment a problem must contain when the batch is blocked
    notes: list[tuple[str, ...]] = field(default_factory=list)  # per expected note: fragments it contains
    content_known: bool = True

    @property
    def kinds(self) -> list[str]:
        rows = [row.kind for table in self.tables.values() for row in table.rows if row.kind != "clean"]
        return rows + [edit.kind for edit in self.edits]


# --- Parquet layouts: the physical type a column is written with ---------------------------------------------------

_LAYOUTS = {
    "string": ("string", "string", "string", "large_string", "dictionary", "binary"),
    "integer": ("int64", "int64", "int64", "int32", "uint32", "uint64", "float64", "string"),
    "decimal": ("float64", "float64", "float64", "float32", "decimal128", "string"),
    "boolean": ("bool", "bool", "bool", "string", "int8"),
    "date": ("date32", "date32", "date32", "date64", "string"),
    "timestamp": ("timestamp[us, UTC]", "timestamp[us, UTC]", "timestamp[ms, UTC]", "timestamp[s, UTC]",
                  "timestamp[ns, UTC]", "timestamp[us, +02:00]", "timestamp[ms, America/New_York]", "string"),
}
# Layouts that make every present value of the column wrong, and the reason fragment.
_WRONG_LAYOUTS = {"timestamp": ("timestamp[us]", "date32"), "date": ("timestamp[us, UTC]",),
                  "string": ("float64",), "integer": ("bool",)}


def _unit(layout: str) -> str | None:
    return layout[len("timestamp["):].split(",")[0].rstrip("]") if layout.startswith("timestamp[") else None


def _fit_layout(value, column: Column, layout: str):
    """The clean value as a column of this layout holds it (a float32 or a timestamp in seconds is coarser)."""
    if value is None:
        return None
    if layout == "float32":
        return float(np.float32(value))
    unit = _unit(layout)
    if unit in ("ms", "s") and column.type == "timestamp":
        micro = value.microsecond - value.microsecond % 1000 if unit == "ms" else 0
        return value.replace(microsecond=micro)
    return value


def _parquet_value(value, column: Column, layout: str, rng: random.Random):
    """What a Parquet column of ``layout`` holds for a clean value."""
    if value is None:
        return None
    if layout == "string":
        if column.type == "string":
            return value
        return {"integer": lambda: integer_text(value, rng).strip(" \t"), "decimal": lambda: decimal_text(value, rng),
                "boolean": lambda: boolean_text(value, rng), "date": lambda: value.isoformat(),
                "timestamp": lambda: timestamp_text(value, rng)}[column.type]()
    if layout == "binary":
        return value.encode("utf-8")
    if layout == "decimal128":
        return decimal.Decimal(repr(value))
    if layout in ("float64", "float32") and column.type == "integer":
        return float(value)
    if layout == "int8" and column.type == "boolean":
        return int(value)
    if column.type == "timestamp":
        return value.replace(tzinfo=dt.timezone.utc)
    return value


# --- damage -------------------------------------------------------------------------------------------------------

_BROKEN_JSON = ("{", '{"a": 1', "[1, 2", "{'a': 1}", '{"a": 1,}', '{"a": 01}', "nul", '{"a": "\\x41"}', '{"a" 1}',
                '{"a": 1}}', '{"a": tru}')
_NOT_OBJECTS = ("[1, 2]", "42", "null", '"text"', "true", "[]")


def _parsed(row: PlannedRow) -> bool:
    """Whether the strict parser reads the row's line as an object (and so sees its keys)."""
    return row.line is None and row.reject != LINE_REJECTED


def _render_json_line(row: PlannedRow, table: PlannedTable, duplicate: str | None = None) -> str:
    parts = []
    for written, column in table.header:
        token = row.raw.get(column, "x") if column else "x"
        if token is OMIT:
            continue
        text = token.text if isinstance(token, RawJSON) else json.dumps(token, ensure_ascii=False)
        parts.append(f"{json.dumps(written)}: {text}")
        if written == duplicate:
            parts.append(f"{json.dumps(written)}: {text}")
    return "{" + ", ".join(parts) + "}"


def render_csv_fields(row: PlannedRow, table: PlannedTable) -> list[str]:
    return [row.raw.get(column, "x") if column else "x" for _, column in table.header]


def _csv_line(fields: list[str]) -> str:
    import csv
    import io

    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(fields)  # "\r\n": a field holding "\r" alone is quoted too
    return out.getvalue()[:-2]


class _Planner:
    def __init__(self, rng: random.Random, world: FuzzWorld, source: str, batch_date: dt.date):
        self.rng = rng
        self.draw = Draw(rng, world, batch_date)
        self.contract = SOURCES[source]
        self.batch = PlannedBatch(source, batch_date, {})

    # clean rows, in every accepted form
    def table(self, contract: TableContract) -> PlannedTable:
        rng = self.rng
        count = rng.choice((1, 1, 2, 3, 4, 5, 8, 12)) if rng.random() < 0.95 else rng.randrange(20, 120)
        if contract.min_rows == 0 and rng.random() < 0.1:
            count = 0
        values = CLEAN_ROWS[contract.table](self.draw, count)
        layout = {c.name: rng.choice(_LAYOUTS[c.type]) for c in contract.columns if c.type in _LAYOUTS}
        rows = []
        for clean in values:
            clean = {c.name: _fit_layout(clean[c.name], c, layout.get(c.name, "")) if contract.format == "parquet"
                     else clean[c.name] for c in contract.columns}
            rows.append(PlannedRow(clean, self.render(clean, contract, layout)))
        header = [(c, c) for c in contract.column_names]
        if rng.random() < 0.2:
            rng.shuffle(header)  # any column order is accepted
        return PlannedTable(contract, rows, layout, header)

    def render(self, values: dict, contract: TableContract, layout: dict) -> dict:
        rng = self.rng
        if contract.format == "csv":
            return {c.name: csv_text(values[c.name], c, rng) for c in contract.columns}
        if contract.format == "jsonl":
            return {c.name: json_token(values[c.name], c, rng) for c in contract.columns}
        return {c.name: _parquet_value(values[c.name], c, layout[c.name], rng) for c in contract.columns}

    # row damage
    def damage_rows(self, table: PlannedTable) -> None:
        rng = self.rng
        clean = [row for row in table.rows if row.kind == "clean"]
        for row in rng.sample(clean, min(len(clean), rng.choice((1, 1, 2, 3)))):
            kinds = ["value", "value", "value", "missing"]
            if table.contract.table in REFERENCE_COLUMN:
                kinds.append("unknown_reference")
            if table.contract.format in ("csv", "jsonl"):
                kinds += ["line", "line"]
            if table.contract.key:
                kinds += ["exact_duplicate", "conflicting_duplicate"]
            getattr(self, f"_damage_{rng.choice(kinds)}")(table, row)

    def _reject(self, row: PlannedRow, kind: str, reason: str) -> None:
        row.kind, row.reject = kind, reason

    def _damage_value(self, table: PlannedTable, row: PlannedRow) -> None:
        rng = self.rng
        column = rng.choice(table.contract.columns)
        fmt = table.contract.format
        if fmt == "parquet":
            forms = self._parquet_forms(column, table.layout[column.name], row.values[column.name])
        else:
            forms = rejected_forms(column, row.values[column.name], self.batch.batch_date, csv=fmt == "csv")
        if not forms:
            return
        raw, reason = rng.choice(forms)
        row.raw[column.name] = raw
        self._reject(row, f"value:{column.type}", reason)

    def _parquet_forms(self, column: Column, layout: str, clean) -> list[tuple[object, str]]:
        """Values a Parquet column of ``layout`` can physically hold that the contract must reject."""
        typed = f"{column.name}: expected {column.type}"
        if layout in ("string", "large_string", "dictionary"):
            return [(raw, reason) for raw, reason in rejected_forms(column, clean, self.batch.batch_date, csv=False)
                    if isinstance(raw, str)]
        if layout == "binary":
            return [(b"caf\xe9", typed), (b"\xff\xfe", typed), (b"\xed\xa0\x80", typed), (b"\xc0\xaf", typed)]
        if layout in ("float64", "float32"):
            forms = [(float("nan"), typed), (float("inf"), typed), (float("-inf"), typed)]
            return forms + ([(1.5, typed), (2.0 ** 63, typed), (2.0 ** 60, typed)] if column.type == "integer" else [])
        if layout == "int8":
            return [(2, typed), (-1, typed)]
        if layout == "uint64":
            return [(2 ** 63 + 5, typed), (2 ** 64 - 1, typed)]
        if layout == "int64" and column.type == "integer":
            return [(2 ** 63 - 1, ANY_REASON), (-(2 ** 63), ANY_REASON)]  # fits the type, not the suite's range
        if layout in ("date32", "date64"):
            days = (-25_568, 84_006, -719_162, 2_932_896, 2 ** 31 - 1, -(2 ** 31))  # 1899-12-31, 2200-01-01, ...
            return [(dt.date(1970, 1, 1) + dt.timedelta(days=d), typed) if -719_162 <= d <= 2_932_896 else
                    (("days", d), typed) for d in days]
        if layout.startswith("timestamp[s"):
            return [(("ticks", t), typed) for t in (32_503_680_000, -2_208_988_801, 2 ** 52, -(2 ** 52))]
        if layout.startswith("timestamp[ns"):
            return [(("ticks", 1_736_935_200_000_000_001), typed), (("ticks", 9_000_000_000_000_000_000), typed)]
        return []

    def _damage_missing(self, table: PlannedTable, row: PlannedRow) -> None:
        required = [c for c in table.contract.columns if c.required]
        column = self.rng.choice(required)
        row.raw[column.name] = "" if table.contract.format == "csv" else None
        self._reject(row, "required_missing", f"{column.name} is missing")

    def _damage_unknown_reference(self, table: PlannedTable, row: PlannedRow) -> None:
        name = REFERENCE_COLUMN[table.contract.table]
        value = identifier(self.rng, 10 ** 6 + self.draw.unique())
        column = table.contract.column(name)
        row.raw[name] = _parquet_value(value, column, table.layout[name], self.rng) \
            if table.contract.format == "parquet" else value
        self._reject(row, "unknown_reference", "unknown")

    def _damage_line(self, table: PlannedTable, row: PlannedRow) -> None:
        rng = self.rng
        if table.contract.format == "jsonl":
            choice = rng.randrange(5)
            if choice == 0:
                row.line, reason = rng.choice(_BROKEN_JSON), LINE_REJECTED
            elif choice == 1:
                row.line, reason = rng.choice(_NOT_OBJECTS), "not an object"
            elif choice == 2:
                present = [w for w, c in table.header if c and row.raw.get(c) is not OMIT]
                row.line, reason = _render_json_line(row, table, rng.choice(present)), "duplicate key"
            elif choice == 3:
                line = _render_json_line(row, table)
                row.line, reason = line + " " + line, LINE_REJECTED
            else:
                row.line, reason = _render_json_line(row, table) + rng.choice((" x", ",", "]")), LINE_REJECTED
            self._reject(row, "json_line", reason)
            return
        fields = render_csv_fields(row, table)
        # A strict-mode error drops the rest of its physical line: only records on one line may break that way.
        one_line = not any("\n" in f or "\r" in f for f in fields)
        last = row is table.rows[-1] and '"' not in _csv_line(fields)  # nothing in it may close the open quote
        choice = rng.randrange(2 + one_line + (one_line and last))
        if choice == 0:
            row.line = _csv_line(fields + [rng.choice(("x", "", "surplus, with comma"))])
        elif choice == 1:
            row.line = _csv_line(fields[:-1])
        elif choice == 2:
            row.line = '"ab"c,' + _csv_line(fields[1:])
        else:  # an opening quote never closed: the rest of the file is one malformed record
            row.line = '"' + _csv_line(fields)
            table.last_line_open = True
        self._reject(row, "csv_line", "malformed CSV line")

    def _copy(self, row: PlannedRow, table: PlannedTable) -> PlannedRow:
        values = dict(row.values)
        return PlannedRow(values, self.render(values, table.contract, table.layout))

    @staticmethod
    def _end(table: PlannedTable) -> int:
        """Where the last inserted row may go: before a last line whose open quote takes in all that follows."""
        return len(table.rows) - table.last_line_open

    def _damage_exact_duplicate(self, table: PlannedTable, row: PlannedRow) -> None:
        copy = self._copy(row, table)
        self._reject(copy, "exact_duplicate", "exact duplicate of row")
        table.rows.insert(self.rng.randrange(table.rows.index(row) + 1, self._end(table) + 1), copy)

    def _damage_conflicting_duplicate(self, table: PlannedTable, row: PlannedRow) -> None:
        name = FREE_COLUMN[table.contract.table]
        if table.layout.get(name) in _WRONG_LAYOUTS.get(table.contract.column(name).type, ()):
            self._damage_exact_duplicate(table, row)  # no value of the free column can be written validly
            return
        copy = self._copy(row, table)
        while copy.values[name] == row.values[name]:
            replacement = CLEAN_ROWS[table.contract.table](self.draw, 1)
            if not replacement:
                return
            copy.values[name] = _fit_layout(replacement[0][name], table.contract.column(name),
                                            table.layout.get(name, ""))
        copy.raw = self.render(copy.values, table.contract, table.layout)
        self._reject(row, "conflicting_duplicate", "duplicate")
        self._reject(copy, "conflicting_duplicate", "duplicate")
        table.rows.insert(self.rng.randrange(self._end(table) + 1), copy)

    def wrong_layout(self, table: PlannedTable) -> None:
        columns = [c for c in table.contract.columns if c.type in _WRONG_LAYOUTS
                   and (c.type != "string" or c.identifier)]
        if not columns:
            return
        column = self.rng.choice(columns)
        layout = self.rng.choice(_WRONG_LAYOUTS[column.type])
        table.layout[column.name] = layout
        for row in table.rows:
            value = row.values[column.name]
            if value is None:
                continue
            if column.type == "timestamp" and layout == "date32":
                row.raw[column.name] = value.date()
            elif column.type == "date":
                row.raw[column.name] = dt.datetime.combine(value, dt.time(), dt.timezone.utc)
            elif column.type == "string":
                row.raw[column.name] = 1.5
            elif column.type == "integer":
                row.raw[column.name] = bool(value % 2)
            else:
                row.raw[column.name] = value  # naive timestamps
            self._reject(row, f"layout:{layout}", f"{column.name}: expected {column.type}")

    # edits of files, manifest and folder
    def normalize(self) -> None:
        rng = self.rng
        for table in self.batch.tables.values():
            if table.contract.format == "parquet":
                continue
            name = table.contract.file_name
            if rng.random() < 0.15:
                self.batch.edits.append(Edit("bom", name))
                self.batch.notes.append((f"{name}: UTF-8 byte-order mark removed",))
            if rng.random() < 0.15 and table.rows:
                self.batch.edits.append(Edit("crlf", name))
                self.batch.notes.append((f"{name}: ", "CRLF line ending(s) read as line breaks"))
            if rng.random() < 0.15 and not table.last_line_open:
                count = rng.randrange(1, 4)
                self.batch.edits.append(Edit("blank_lines", name, [rng.random() for _ in range(count)]))
                self.batch.notes.append((f"{name}: {count} blank line(s) skipped",))
        if rng.random() < 0.05:
            self.batch.edits.append(Edit("hidden_file"))
            self.batch.notes.append(("hidden entry in the batch folder",))
        if rng.random() < 0.03:
            self.batch.edits.append(Edit("manifest_bom"))
            self.batch.notes.append((f"{MANIFEST_FILE}: UTF-8 byte-order mark removed",))

    def block(self) -> None:
        rng = self.rng
        table = rng.choice(list(self.batch.tables.values()))
        name = table.contract.file_name
        text = table.contract.format in ("csv", "jsonl")
        options = [
            ("truncate", rng.randrange(1, 64), "checksum"), ("bitflip", rng.random(), "checksum"),
            ("append_garbage", bytes(rng.randrange(256) for _ in range(rng.randrange(1, 20))), "checksum"),
            ("no_manifest", None, "incomplete"),
            ("manifest", None, None), ("manifest", None, None), ("manifest", None, None),
            ("folder", None, None), ("folder", None, None),
        ]
        if table.contract.format != "jsonl" or any(_parsed(row) for row in table.rows):
            # JSON lines name their columns in the objects: with no object parsed there is no column to get wrong
            options += [("missing_column", None, "missing column"), ("extra_column", None, "unexpected column"),
                        ("renamed_column", None, "unexpected column")]
        if text:
            options += [("non_utf8", rng.choice((b"\xff", b"\xe9", b"\xc0\xaf", b"\xed\xa0\x80", b"\x80abc")),
                         "not valid UTF-8"), ("utf16", None, "not valid UTF-8")]
        if table.contract.format == "csv":
            options.append(("duplicate_column", None, "duplicated column"))
        if table.contract.min_rows:
            options.append(("empty", None, "empty"))
        moments = [c.name for c in table.contract.columns if c.type == "timestamp"]
        if table.contract.format == "parquet" and moments:
            options.append(("unknown_time_zone", rng.choice(moments), "unreadable Parquet column"))
        kind, arg, problem = rng.choice(options)
        if kind == "missing_column":
            drop = rng.choice([c for c in table.contract.columns if c.required])
            table.header = [(w, c) for w, c in table.header if c != drop.name]
            problem = f"missing column(s) {drop.name}"
        elif kind == "extra_column":
            table.header.insert(rng.randrange(len(table.header) + 1), (rng.choice(("surprise", "Product_ID", "")), None))
        elif kind == "renamed_column":
            # JSON lines name only the keys they hold: rename a column that a parsed line does hold
            held = [i for i, (_, c) in enumerate(table.header) if table.contract.format != "jsonl"
                    or any(_parsed(row) and row.raw.get(c) is not OMIT for row in table.rows)]
            index = rng.choice(held)
            written, column = table.header[index]
            names = [f" {written}", f"{written} ", written.upper(), written.replace("_", "\u2010"), written + "\u200b"]
            if index or table.contract.format != "csv":  # at the start of a CSV file it would be a byte-order mark
                names.append("\ufeff" + written)
            table.header[index] = (rng.choice([n for n in names if n != written]), column)
        elif kind == "unknown_time_zone":  # a zone no database knows: the column cannot be read at all
            table.layout[arg] = rng.choice(("timestamp[us, Mars/Olympus]", "timestamp[ms, *02:00]"))
            column = table.contract.column(arg)
            for row in table.rows:  # the batch is blocked: every row just needs a value the layout can hold
                row.raw[arg] = _parquet_value(row.values[arg], column, table.layout[arg], rng)
        elif kind == "duplicate_column":
            table.header.insert(rng.randrange(len(table.header) + 1), rng.choice(table.header))
        elif kind == "manifest":
            kind, arg, problem = self._manifest_damage(table)
        elif kind == "folder":
            kind, arg, problem = self._folder_damage(table)
        self.batch.edits.append(Edit(kind, name, arg))
        self.batch.blocked, self.batch.problem = True, problem

    def _manifest_damage(self, table: PlannedTable) -> tuple[str, object, str]:
        options = [
            ("manifest_text", "{", "not valid JSON"), ("manifest_text", "[]", "must be a JSON object"),
            ("manifest_text", '{"files": [], "files": []}', "duplicate key"),
            ("manifest_text", '{"manifest_version": NaN}', "not valid JSON"),
            ("manifest_text", "[" * 5000 + "]" * 5000, "not valid JSON"),
            ("manifest_bytes", b"\xff\xfe{}", "not valid UTF-8"),
            ("manifest_bytes", b" " * (1 << 20) + b"{}", "at most"),
            ("file_name", 7, "file name must be a string"), ("file_name", None, "file name must be a string"),
            ("file_name", ["a"], "file name must be a string"), ("file_name", {"a": 1}, "file name must be a string"),
            ("file_name", "../" + table.contract.file_name, "not a plain file name"),
            ("file_name", "/etc/passwd", "not a plain file name"), ("file_name", "", "not a plain file name"),
            ("duplicate_entry", None, "listed twice"),
            ("drop_field", "sha256", "has no 'sha256'"), ("drop_field", "rows", "has no 'rows'"),
            ("drop_field", "bytes", "has no 'bytes'"),
            ("field", ("sha256", "abc"), "sha256 must be"), ("field", ("sha256", None), "sha256 must be"),
            ("field", ("sha256", "A" * 64), "sha256 must be"),
            ("field", ("rows", "12"), "rows must be"), ("field", ("rows", True), "rows must be"),
            ("field", ("rows", -1), "rows must be"), ("field", ("rows", 1.0), "rows must be"),
            ("field", ("rows", 10 ** 30), "rows must be"), ("rows_off", 1, "manifest declares"),
            ("field", ("bytes", "x"), "bytes must be"), ("bytes_off", 1, "manifest says"),
            ("field", ("checksum", "x"), "not part of the manifest contract"),
            ("top", ("source", "orders" if self.contract.name != "orders" else "prices"), "manifest is for source"),
            ("top", ("source", 5), "manifest is for source"),
            ("top", ("batch_date", "2001-01-01"), "does not match the folder"),
            ("top", ("batch_date", self.batch.batch_date.strftime("%d.%m.%Y")), "does not match the folder"),
            ("top", ("manifest_version", 2), "manifest_version"), ("top", ("manifest_version", "1"), "manifest_version"),
            ("top", ("batch_id", " x"), "batch_id"), ("top", ("batch_id", 12), "batch_id"),
            ("top", ("files", {}), "'files' must be a list"), ("top", ("files", []), "'files' is empty"),
            ("top", ("surprise", 1), "not part of the manifest contract"),
            ("top", ("exported_at", "yesterday"), "exported_at"),
            ("drop_top", "batch_id", "has no 'batch_id'"), ("drop_top", "source", "has no 'source'"),
            ("drop_top", "files", "has no 'files'"), ("unknown_file", None, "not part of the"),
            ("manifest_symlink", None, "not a regular file"), ("manifest_dir", None, "not a regular file"),
        ]
        return self.rng.choice(options)

    def _folder_damage(self, table: PlannedTable) -> tuple[str, object, str]:
        return self.rng.choice([
            ("unlisted_file", "export_old.csv", "not in the manifest"),
            ("unlisted_file", table.contract.file_name + ".bak", "not in the manifest"),
            ("unlisted_file", MANIFEST_FILE + ".tmp", "not in the manifest"),
            ("unlisted_dir", "nested", "not in the manifest"),
            ("symlink", None, "not a regular file"), ("fifo", None, "not a regular file"),
            ("directory", None, "not a regular file"), ("absent", None, "listed in the manifest but not landed"),
        ])

    def either(self) -> None:
        """Random bytes the exporter declared as the file: anything may come of it but a crash or a lost row."""
        table = self.rng.choice(list(self.batch.tables.values()))
        kind = self.rng.choice(("garbage_exported", "bitflips_exported"))
        self.batch.edits.append(Edit(kind, table.contract.file_name, self.rng.getrandbits(64)))
        self.batch.blocked, self.batch.content_known = None, False


def plan_batch(rng: random.Random, world: FuzzWorld, source: str, batch_date: dt.date, *,
               damage: float = 0.6, block: float = 0.3, unknown: float = 0.05) -> PlannedBatch:
    """One batch of ``source`` for ``batch_date``: clean rows in any accepted form, and damage at these rates."""
    planner = _Planner(rng, world, source, batch_date)
    for contract in planner.contract.tables:
        planner.batch.tables[contract.table] = planner.table(contract)
    for table in planner.batch.tables.values():
        if table.contract.format == "parquet" and table.rows and rng.random() < damage / 10:
            planner.wrong_layout(table)  # first: it rejects every row with a value in the column
        if table.rows and rng.random() < damage:
            planner.damage_rows(table)
    planner.normalize()
    roll = rng.random()
    if roll < block:
        planner.block()
    elif roll < block + unknown:
        planner.either()
    return planner.batch
