"""Parse one landed file (CSV, JSON lines, Parquet) into untyped rows, without ever raising on its content.

What a reader returns is what the file says: contract columns with raw values (object columns; typing
is ``data_quality.coerce``'s job), a row number per record, and for a record that cannot be parsed
its parse error and original text. A problem that makes the whole file unusable (not UTF-8, a
corrupt Parquet file, missing or unexpected columns) is returned as a file problem, which blocks the
batch. Tolerated deviations are accepted on purpose and recorded as notes, never silently:

- a UTF-8 byte-order mark at the start of a CSV or JSON lines file (spreadsheet exports write one);
- blank lines anywhere in a CSV or JSON lines file (skipped; they are not records and get no row number);
- CRLF or CR line endings.

Row numbers count records: the first data record of a CSV file (after its header) is row 1.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from data_quality.contracts import DATE_MAX, DATE_MIN, TableContract
from data_quality.strict_json import StrictJSONError
from data_quality.strict_json import loads as strict_loads

ROW_NUMBER = "_row_number"
PARSE_ERROR = "_parse_error"
RAW_TEXT = "_raw_text"  # the original text of a record that could not be parsed
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Unrepresentable:
    """A value the file holds that has no faithful pandas form (a NaN, a date beyond any engine's range).

    Readers hand it to coerce instead of a stand-in (NaN would read as "missing", an overflowing date
    would raise), and every contract type rejects it with ``problem``.
    """

    shown: str
    problem: str

    def __repr__(self) -> str:
        return self.shown

    __str__ = __repr__


NOT_A_NUMBER = Unrepresentable("NaN", "not a finite number")


@dataclass
class ParsedFile:
    """A file's rows (None when the file is unusable), the problems that block its batch, and what was normalized."""

    frame: pd.DataFrame | None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def parse_file(table: TableContract, payload: bytes) -> ParsedFile:
    if not payload:
        return ParsedFile(empty_frame(table))
    if table.format == "parquet":
        return _parse_parquet(table, payload)
    notes = []
    if payload.startswith(_BOM):
        payload = payload[len(_BOM):]
        notes.append("UTF-8 byte-order mark removed")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as error:
        line = payload[: error.start].count(b"\n") + 1
        offset = error.start + (len(_BOM) if notes else 0)
        return ParsedFile(None, [f"not valid UTF-8: byte 0x{payload[error.start]:02x} at offset {offset} "
                                 f"(line {line}); the export must be UTF-8"], notes)
    parsed = _parse_csv(table, text) if table.format == "csv" else _parse_jsonl(table, payload, text)
    parsed.notes[:0] = notes
    return parsed


def empty_frame(table: TableContract) -> pd.DataFrame:
    frame = pd.DataFrame({name: pd.Series(dtype=object) for name in table.column_names})
    frame[ROW_NUMBER] = pd.Series(dtype="int64")
    frame[PARSE_ERROR] = pd.Series(dtype=object)
    frame[RAW_TEXT] = pd.Series(dtype=object)
    return frame


def _column_problems(table: TableContract, columns: list[str]) -> tuple[list[str], bool]:
    """Problems with a file's column names, and whether its rows can still be mapped to contract columns."""
    expected = table.column_names
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    missing = [c for c in expected if c not in columns]
    extra = [c for c in columns if c not in expected]
    problems = []
    if duplicated:
        problems.append(f"duplicated column(s) {', '.join(map(_name, duplicated))}")
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if extra:
        problems.append(f"unexpected column(s) {', '.join(map(_name, extra))} — schema drift; update the "
                        f"{table.source} contract if the change is intended")
    # Missing columns block the batch, but the rows are still read (missing values empty) so that they can be
    # quarantined with the batch problem instead of vanishing from the landed count. Duplicated names cannot be
    # mapped to contract columns unambiguously.
    return problems, not duplicated


def _name(column: str) -> str:
    """A column name as written, quoted when it would otherwise hide something (spaces, invisible characters)."""
    return column if column.isascii() and column.isprintable() and column.strip() == column and column else repr(column)


def _finish(frame: pd.DataFrame, table: TableContract, parse_errors=None, raw=None) -> pd.DataFrame:
    """Contract columns in contract order, then row numbers, parse errors and raw text."""
    frame = frame.reindex(columns=table.column_names)
    frame[ROW_NUMBER] = np.arange(1, len(frame) + 1, dtype="int64")
    frame[PARSE_ERROR] = parse_errors
    frame[RAW_TEXT] = raw
    return frame.reset_index(drop=True)


def _blank_note(count: int) -> list[str]:
    return [f"{count} blank line(s) skipped"] if count else []


def _ending_notes(crlf: int, cr: int) -> list[str]:
    return ([f"{crlf} CRLF line ending(s) read as line breaks"] if crlf else []) + \
           ([f"{cr} CR line ending(s) read as line breaks"] if cr else [])


# --- CSV --------------------------------------------------------------------------------------------------------------

def _csv_records(text: str) -> Iterator[tuple[list[str] | None, str, str | None]]:
    """(fields, original text, csv error) per record; fields [] for a blank line, None when the record is malformed.

    The csv module reads quoted fields across lines; it is fed line by line so that each record's
    original text is known. ``strict`` makes it reject what it would otherwise quietly repair (a quote
    inside an unquoted field, text after a closing quote, a file ending inside quotes).
    """
    if csv.field_size_limit() < len(text) + 1:  # a field can never be longer than its file: no field limit applies
        csv.field_size_limit(len(text) + 1)
    if '"' not in text and "\r" not in text:  # no quoting, one line per record: splitting is parsing
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
        for line in lines:
            yield (line.split(",") if line else []), line, None
        return
    consumed: list[str] = []

    def lines():
        for line in io.StringIO(text, newline=""):
            consumed.append(line)
            yield line

    reader = csv.reader(lines(), strict=True)
    while True:
        consumed.clear()
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield None, "".join(consumed), str(error)
            continue
        yield record, "".join(consumed), None


def _parse_csv(table: TableContract, text: str) -> ParsedFile:
    header: list[str] | None = None
    rows, errors, raw = [], [], []
    blank = crlf = cr = 0
    for record, original, error in _csv_records(text):
        if original.endswith("\r\n"):
            crlf += 1
        elif original.endswith("\r"):
            cr += 1
        if record == []:
            blank += 1
            continue
        if header is None:
            if record is None:
                return ParsedFile(None, [f"unreadable CSV header: {error}"])
            header = record
            problems, usable = _column_problems(table, header)
            if not usable:
                return ParsedFile(None, problems)
            continue
        if record is not None and len(record) == len(header):
            rows.append([value if value != "" else None for value in record])
            errors.append(None)
            raw.append(None)
        else:
            rows.append([None] * len(header))
            errors.append(f"malformed CSV line: {error}" if record is None else
                          f"malformed CSV line: expected {len(header)} fields, found {len(record)}")
            raw.append(original.rstrip("\r\n"))
    notes = _blank_note(blank) + _ending_notes(crlf, cr)
    if header is None:
        return ParsedFile(empty_frame(table), [f"no header line (expected {','.join(table.column_names)})"], notes)
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    if not any(errors):
        errors = raw = None
    return ParsedFile(_finish(frame, table, errors, raw), problems, notes)


# --- JSON lines -------------------------------------------------------------------------------------------------------

def _parse_jsonl(table: TableContract, payload: bytes, text: str) -> ParsedFile:
    fast = _parse_jsonl_fast(table, payload)
    return fast if fast is not None else _parse_jsonl_lines(table, text)


def _parse_jsonl_lines(table: TableContract, text: str) -> ParsedFile:
    """The careful parser: line by line, strict JSON, every deviation reported."""
    lines = text.split("\n")
    problems = []
    if lines[-1] == "":
        lines.pop()
    elif lines[-1].strip("\r"):
        try:
            strict_loads(lines[-1])
        except StrictJSONError:  # the complete lines are still read (and quarantined with the batch problem)
            problems.append(f"last line ({len(lines)}) is cut off — truncated file")
    records, errors, raw = [], [], []
    blank = crlf = 0
    for line in lines:
        if line.endswith("\r"):
            crlf += 1
        if line in ("", "\r"):
            blank += 1
            continue
        try:
            value = strict_loads(line)
        except StrictJSONError as error:
            value, problem = None, f"invalid JSON line: {error}"
        else:
            problem = None if isinstance(value, dict) else f"JSON line is a {type(value).__name__}, not an object"
        records.append(value if problem is None else {})
        errors.append(problem)
        raw.append(line.rstrip("\r") if problem else None)
    # The columns are what the parsed objects hold; with none parsed there is nothing to say about columns
    # (every line is quarantined with its own reason).
    seen = list(dict.fromkeys(key for record in records for key in record))
    if any(error is None for error in errors):
        optional_absent = [c.name for c in table.columns if c.name not in seen and not c.required]
        problems += _column_problems(table, seen + optional_absent)[0]
    notes = _blank_note(blank) + _ending_notes(crlf, 0)
    if not records:
        return ParsedFile(empty_frame(table), problems, notes)
    frame = pd.DataFrame(records, columns=table.column_names, dtype=object)  # exact Python values, no float detour
    if not any(errors):
        errors = raw = None
    return ParsedFile(_finish(frame, table, errors, raw), problems, notes)


def _parse_jsonl_fast(table: TableContract, payload: bytes) -> ParsedFile | None:
    """Arrow's C++ reader for plain, well-formed files; None sends everything else to the careful parser.

    Arrow is faster but more lenient than the contract (it takes NaN and Infinity, skips blank
    lines, reads two objects on one line, turns a ``null`` line into a row of nulls) and pyarrow
    25 crashes the process on a file whose first value is ``null``. So it only reads files in which
    none of that can occur: every line starts with "{" and ends with "}", no blank line, no CR, no
    NaN or Infinity anywhere, and it must return one row per line; every contract column's type is
    given, so a value of another JSON type makes it fail and the careful parser reports that value.
    Tables with JSON columns always take the careful parser: Arrow would merge nested objects into
    one struct type. Dates and timestamps are read as text.
    """
    import pyarrow as pa
    import pyarrow.json as pa_json

    lines = payload.count(b"\n")
    if (not payload.startswith(b"{") or not payload.endswith(b"}\n") or payload.count(b"\n{") != lines - 1
            or payload.count(b"}\n") != lines or b"\r" in payload or b"NaN" in payload or b"Infinity" in payload
            or any(c.type == "json" for c in table.columns)):
        return None
    types = {"string": pa.string(), "integer": pa.int64(), "decimal": pa.float64(), "boolean": pa.bool_(),
             "date": pa.string(), "timestamp": pa.string()}
    schema = pa.schema([(c.name, types[c.type]) for c in table.columns])
    options = pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer")
    try:
        arrow = pa_json.read_json(pa.BufferReader(payload), parse_options=options)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    if arrow.num_rows != lines:  # not one object per line
        return None
    frame = arrow.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    if any(c.required and frame[c.name].isna().all() for c in table.columns):
        return None  # a key that may be absent from every line: the careful parser tells absent from null
    problems, _ = _column_problems(table, table.column_names + [c for c in frame.columns
                                                                 if c not in table.column_names])
    return ParsedFile(_finish(frame, table), problems)


# --- Parquet ----------------------------------------------------------------------------------------------------------

def _parse_parquet(table: TableContract, payload: bytes) -> ParsedFile:
    import pyarrow as pa
    import pyarrow.parquet as pq

    # Arrow reads whatever a file's metadata claims; on a corrupt file its Python layers raise more than
    # ArrowException (a time zone "*02:00" raises pytz's KeyError, a bad footer an IndexError). Each call that
    # reads the file is therefore guarded completely, and only that call: the failure is about the file.
    try:
        arrow = pq.read_table(pa.BufferReader(payload))
    except Exception as error:  # noqa: BLE001 - see above
        return ParsedFile(None, [f"unreadable Parquet file (truncated or corrupt): {_error(error)}"])
    problems, usable = _column_problems(table, arrow.column_names)
    if not usable:
        return ParsedFile(None, problems)
    # The writer's pandas metadata is not trusted: a column it calls "str" may hold BINARY values that are not
    # UTF-8, which pandas would fail to convert; typing (and rejecting such values) is coerce's job.
    columns = {}
    for name in table.column_names:
        if name not in arrow.column_names:
            continue
        try:
            columns[name] = _arrow_column(arrow.column(name))
        except Exception as error:  # noqa: BLE001 - see above
            return ParsedFile(None, problems + [f"unreadable Parquet column {name} ({arrow.schema.field(name).type}): "
                                                f"{_error(error)}"])
    frame = pd.DataFrame(columns, index=pd.RangeIndex(arrow.num_rows))
    return ParsedFile(_finish(frame, table), problems)


def _error(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:300]


def _arrow_column(column) -> pd.Series:
    """One Parquet column as pandas values that say what the file says.

    Dictionary-encoded columns are decoded; strings that are not UTF-8 stay bytes (coerce rejects
    each such value); integers stay exact (nullable, never via float); a NaN in a float column is
    ``NOT_A_NUMBER`` (not a missing value); dates and timestamps outside the contract's range become
    ``Unrepresentable`` values, so that coerce rejects them by value instead of a conversion overflowing.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    try:  # Arrow does not check on reading that a file's strings are UTF-8; pandas would fail later, anywhere
        column.validate(full=True)
    except pa.ArrowInvalid:
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            raise
        column = column.cast(pa.binary() if pa.types.is_string(column.type) else pa.large_binary())  # coerce rejects
    if pa.types.is_integer(column.type):
        return column.to_pandas(types_mapper=lambda t: pd.Int64Dtype() if t != pa.uint64() else pd.UInt64Dtype())
    if pa.types.is_floating(column.type):
        nan = pc.fill_null(pc.is_nan(column), False).to_numpy(zero_copy_only=False)
        if not nan.any():
            return column.to_pandas()
        values = column.to_pandas().astype(object).where(~nan & column.is_valid().to_numpy(zero_copy_only=False), None)
        values[nan] = NOT_A_NUMBER
        return values
    if pa.types.is_timestamp(column.type) or pa.types.is_date(column.type):
        return _arrow_temporal(column)
    return column.to_pandas()


def _arrow_temporal(column) -> pd.Series:
    import pyarrow as pa
    import pyarrow.compute as pc

    epoch = dt.date(1970, 1, 1)
    if pa.types.is_timestamp(column.type):
        unit, per_day = column.type.unit, {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000,
                                           "ns": 86_400_000_000_000}[column.type.unit]
    elif pa.types.is_date64(column.type):
        unit, per_day = "ms", 86_400_000
    else:
        unit, per_day = "day", 1
    ticks = column.cast(pa.int32() if pa.types.is_date32(column.type) else pa.int64()).cast(pa.int64())
    low, high = (DATE_MIN - epoch).days * per_day, ((DATE_MAX - epoch).days + 1) * per_day
    inside = pc.fill_null(pc.and_kleene(pc.greater_equal(ticks, low), pc.less(ticks, high)), True)
    outside = pc.invert(inside).to_numpy(zero_copy_only=False)
    if not outside.any():
        return column.to_pandas(date_as_object=True)
    kept = pc.if_else(inside, column, pa.nulls(len(column), column.type))
    values = kept.to_pandas(date_as_object=True).astype(object)
    values[outside] = [_out_of_range(int(t), unit, per_day) for t in ticks.to_numpy(zero_copy_only=False)[outside]]
    return values


def _out_of_range(ticks: int, unit: str, per_day: int) -> Unrepresentable:
    days = ticks // per_day
    try:
        shown = (dt.date(1970, 1, 1) + dt.timedelta(days=days)).isoformat()
    except OverflowError:
        shown = f"{ticks} {unit} from 1970-01-01"
    return Unrepresentable(shown, f"outside {DATE_MIN} .. {DATE_MAX}")
