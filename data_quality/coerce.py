"""Give raw landed values their contract types, recording every value that does not fit.

A value of the wrong type is a row-level problem ("quantity: expected integer, got 'abc'"): the row
goes to quarantine with that reason and the rest of the batch loads. Each type accepts exactly the
forms ``data_quality.contracts`` states (see ``data_quality/README.md``) and nothing is repaired:
a value is loaded as the file wrote it or rejected with the reason, never changed into something
else (an identifier is not trimmed, a date is not guessed from another format, a huge integer is
not rounded through a float). Conversion is vectorized where the values allow it; only the failing
values are formatted into messages.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import re
import unicodedata

import numpy as np
import pandas as pd

from data_quality.contracts import (DATE_MAX, DATE_MIN, IDENTIFIER_MAX_CHARS, IDENTIFIER_PATTERN, INTEGER_MAX,
                                    INTEGER_MIN, NUMBER_MAX_CHARS, TEXT_FORBIDDEN, TEXT_MAX_CHARS, Column,
                                    TableContract)
from data_quality.readers import Unrepresentable
from data_quality.strict_json import StrictJSONError
from data_quality.strict_json import loads as strict_loads

_BOOLEAN_TEXT = {"true": True, "1": True, "yes": True, "y": True, "t": True,
                 "false": False, "0": False, "no": False, "n": False, "f": False}
_BLANK = " \t"  # surrounding whitespace tolerated around numbers and booleans (never around identifiers or dates)
_INTEGER_TEXT = r"[ \t]*[+-]?[0-9]+(?:\.0*)?[ \t]*"
_DECIMAL_TEXT = r"[ \t]*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[ \t]*"
_DATE_TEXT = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_TIMESTAMP_TEXT = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:[0-9]{2})"
DATE_FORM = "dates are written YYYY-MM-DD"
TIMESTAMP_FORM = "timestamps are written YYYY-MM-DDTHH:MM:SS[.ffffff] with Z or ±HH:MM"
_INTEGER_RE, _DECIMAL_RE = re.compile(_INTEGER_TEXT), re.compile(_DECIMAL_TEXT)
_EXACT_FLOAT = 2 ** 53
_MIN_TS, _MAX_TS = pd.Timestamp(DATE_MIN), pd.Timestamp(DATE_MAX) + pd.Timedelta(days=1)


class _Converted:
    """One column's typed values, which present values failed, and why (None: no more to say than the value)."""

    def __init__(self, values: pd.Series, failed: np.ndarray, details: list | None = None):
        self.values = values
        self.failed = failed
        self.details = details if details is not None else [None] * len(values)


def _kind(values: pd.Series) -> str:
    """What the raw values are: string, number, bool, datetime, empty or mixed (checked per value)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return "datetime"
    if pd.api.types.is_bool_dtype(values):
        return "bool"
    if pd.api.types.is_numeric_dtype(values):
        return "number"
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    if inferred in ("string", "empty", "date"):
        return inferred
    return "mixed"


def _present(values: pd.Series) -> np.ndarray:
    return values.notna().to_numpy()


def _text_of(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.notna(), None)


def _per_value(values: pd.Series, convert, dtype) -> _Converted:
    """Apply ``convert(value) -> (typed, detail, failed)`` to each present value."""
    out, failed, details = [], [], []
    for value in values.astype(object):
        if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
            out.append(None)
            failed.append(False)
            details.append(None)
            continue
        typed, detail, bad = convert(value)
        out.append(None if bad else typed)
        failed.append(bad)
        details.append(detail)
    return _Converted(pd.Series(out, index=values.index, dtype=object).astype(dtype), np.array(failed, dtype=bool),
                      details)


# --- numbers ----------------------------------------------------------------------------------------------------------

def _is_bool(value) -> bool:
    return isinstance(value, (bool, np.bool_))


def _integer_value(value):
    if isinstance(value, Unrepresentable):
        return None, value.problem, True
    if _is_bool(value):
        return None, None, True
    if isinstance(value, str):
        text = value.strip(_BLANK)
        if len(value) > NUMBER_MAX_CHARS or not _INTEGER_RE.fullmatch(value):
            return None, None, True
        number = int(text.split(".")[0])
    elif isinstance(value, (int, np.integer)):
        number = int(value)
    elif isinstance(value, (float, np.floating, decimal.Decimal)):
        if not (math.isfinite(value) if isinstance(value, (float, np.floating)) else value.is_finite()):
            return None, "not a finite number", True
        if value != int(value):
            return None, "not a whole number", True
        if isinstance(value, (float, np.floating)) and abs(value) >= _EXACT_FLOAT:
            return None, "too large to be exact in a float; write it as an integer", True
        number = int(value)
    else:
        return None, None, True
    if not INTEGER_MIN <= number <= INTEGER_MAX:
        return None, "outside the 64-bit integer range", True
    return number, None, False


def _integers(values: pd.Series, kind: str) -> _Converted:
    if kind == "number" and pd.api.types.is_integer_dtype(values) and values.dtype != np.uint64 \
            and str(values.dtype) != "UInt64":
        return _Converted(values.astype("Int64"), np.zeros(len(values), dtype=bool))
    if kind in ("string", "empty"):
        text = _text_of(values)
        shaped = (text.str.fullmatch(_INTEGER_TEXT) & (text.str.len() <= NUMBER_MAX_CHARS)).fillna(False)
        shaped = shaped.to_numpy(dtype=bool)
        digits = text[shaped].str.strip(_BLANK).str.split(".").str[0]
        short = (digits.str.lstrip("+-").str.len() <= 18).to_numpy(dtype=bool)
        out = pd.Series(pd.NA, index=values.index, dtype="Int64")
        if short.any():
            out[digits.index[short]] = pd.to_numeric(digits[short]).astype("Int64")
        if not short.all():  # 19 digits or more: exact Python integers, checked against the range
            converted = _per_value(digits[~short], _integer_value, object)
            ok = ~converted.failed
            out[digits.index[~short][ok]] = converted.values[ok].astype("Int64")
            failed = _present(values) & ~shaped
            failed[np.flatnonzero(shaped)[~short][~ok]] = True
            details = [None] * len(values)
            for position, detail in zip(np.flatnonzero(shaped)[~short][~ok], np.array(converted.details)[~ok]):
                details[position] = detail
            return _Converted(out, failed, details)
        return _Converted(out, _present(values) & ~shaped)
    return _per_value(values, _integer_value, "Int64")


def _decimal_value(value):
    if isinstance(value, Unrepresentable):
        return None, value.problem, True
    if _is_bool(value):
        return None, None, True
    if isinstance(value, str):
        if len(value) > NUMBER_MAX_CHARS or not _DECIMAL_RE.fullmatch(value):
            return None, None, True
        number = float(value.strip(_BLANK))
    elif isinstance(value, (int, np.integer, float, np.floating, decimal.Decimal)):
        try:
            number = float(value)
        except (OverflowError, ValueError):  # a huge integer, a signaling NaN
            number = math.inf
    else:
        return None, None, True
    if not math.isfinite(number):
        return None, "not a finite number" if not isinstance(value, str) else "outside the 64-bit float range", True
    return number, None, False


def _decimals(values: pd.Series, kind: str) -> _Converted:
    if kind == "number" and values.dtype != object:
        numbers = values.astype(float)
        infinite = (numbers.notna() & ~np.isfinite(numbers)).to_numpy()
        details = ["not a finite number" if bad else None for bad in infinite] if infinite.any() else None
        return _Converted(numbers.where(~infinite), infinite, details)
    if kind in ("string", "empty"):
        text = _text_of(values)
        shaped = (text.str.fullmatch(_DECIMAL_TEXT) & (text.str.len() <= NUMBER_MAX_CHARS)).fillna(False)
        shaped = shaped.to_numpy(dtype=bool)
        numbers = pd.Series(np.nan, index=values.index)
        numbers[shaped] = pd.to_numeric(text[shaped].str.strip(_BLANK)).astype(float)
        infinite = shaped & ~np.isfinite(numbers.to_numpy())
        details = ["outside the 64-bit float range" if bad else None for bad in infinite] if infinite.any() else None
        return _Converted(numbers.where(~infinite), (_present(values) & ~shaped) | infinite, details)
    return _per_value(values, _decimal_value, float)


def _booleans(values: pd.Series, kind: str) -> _Converted:
    if kind == "bool":
        out = values.astype("boolean")
        return _Converted(out, _present(values) & out.isna().to_numpy())

    def one(value):
        if _is_bool(value):
            return bool(value), None, False
        if isinstance(value, (str, int, np.integer)) and not isinstance(value, Unrepresentable):
            parsed = _BOOLEAN_TEXT.get(str(value).strip(_BLANK).lower())
            return parsed, None, parsed is None
        return None, getattr(value, "problem", None), True

    return _per_value(values, one, "boolean")


# --- text -------------------------------------------------------------------------------------------------------------

def _identifier_problem(value: str) -> str:
    """Why a string is not an identifier, in words a person can act on."""
    if value == "":
        return "not an identifier: empty"
    if value.strip() != value:
        return "not an identifier: surrounding whitespace"
    if len(value) > IDENTIFIER_MAX_CHARS:
        return f"not an identifier: longer than {IDENTIFIER_MAX_CHARS} characters ({len(value):,})"
    for character in value:
        if not (character.isascii() and (character.isalnum() or character in "._:-")):
            name = unicodedata.name(character, "") if not 0xD800 <= ord(character) <= 0xDFFF else "SURROGATE"
            return (f"not an identifier: character {character!r} (U+{ord(character):04X}{' ' + name if name else ''}) "
                    f"is not allowed")
    return "not an identifier: must start with a letter or digit"


def _text_problem(value: str) -> str | None:
    if len(value) > TEXT_MAX_CHARS:
        return f"text longer than {TEXT_MAX_CHARS:,} characters ({len(value):,})"
    found = TEXT_FORBIDDEN.search(value)
    if found:
        code = ord(found.group())
        return f"{'lone surrogate' if 0xD800 <= code <= 0xDFFF else 'control character'} U+{code:04X} is not text"
    return None


def _strings(values: pd.Series, kind: str, column: Column) -> _Converted:
    """Identifiers: strings matching the identifier rule (or integers, written out). Free text: as sent."""
    def one(value):
        if isinstance(value, str):
            text = value
        elif isinstance(value, (int, np.integer)) and not _is_bool(value):
            text = str(int(value))
        elif not column.identifier and isinstance(value, (float, np.floating)) and math.isfinite(value):
            text = str(int(value)) if float(value).is_integer() else str(value)
        else:
            return None, getattr(value, "problem", None), True
        if column.identifier:
            ok = IDENTIFIER_PATTERN.fullmatch(text) is not None
            return (text, None, False) if ok else (None, _identifier_problem(text), True)
        problem = _text_problem(text)
        return (None, problem, True) if problem else (text, None, False)

    if kind not in ("string", "empty"):
        return _per_value(values, one, object)
    text = _text_of(values)
    if column.identifier:
        bad = _present(values) & ~text.str.fullmatch(IDENTIFIER_PATTERN.pattern).fillna(False).to_numpy(dtype=bool)
    else:
        bad = _present(values) & (text.str.contains(TEXT_FORBIDDEN.pattern, regex=True).fillna(False)
                                  | (text.str.len() > TEXT_MAX_CHARS)).to_numpy(dtype=bool)
    if not bad.any():
        return _Converted(text, bad)
    details = [one(v)[1] if b else None for v, b in zip(text, bad)]
    return _Converted(text.where(~bad, None), bad, details)


def _plain_json(value):
    """A JSON-ready copy of a nested value from Parquet (numpy arrays and scalars become lists and numbers)."""
    if isinstance(value, np.ndarray):
        return [_plain_json(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: _plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_json(v) for v in value]
    return value


def _json_value(value):
    """JSON columns hold an object or an array; stored as canonical JSON text (sorted keys)."""
    if isinstance(value, str):
        try:
            value = strict_loads(value)
        except StrictJSONError as error:
            return None, f"not JSON: {error}", True
    elif isinstance(value, (dict, list, np.ndarray)):
        value = _plain_json(value)
    else:
        return None, getattr(value, "problem", None), True
    if not isinstance(value, (dict, list)):
        return None, "a JSON object or array is expected", True
    try:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False)
        text.encode("utf-8")
    except (TypeError, ValueError, RecursionError) as error:
        return None, f"not JSON: {str(error)[:80]}", True
    return text, None, False


# --- dates and timestamps ---------------------------------------------------------------------------------------------

def _outside(moments: pd.Series) -> np.ndarray:
    return (moments.notna() & ((moments < _MIN_TS) | (moments >= _MAX_TS))).to_numpy(dtype=bool)


def _temporal_text(values: pd.Series, type_: str) -> _Converted:
    """Text in the one written form of the type; anything else (another format, no zone) is rejected."""
    form = DATE_FORM if type_ == "date" else TIMESTAMP_FORM
    text = _text_of(values)
    shaped = text.str.fullmatch(_DATE_TEXT if type_ == "date" else _TIMESTAMP_TEXT).fillna(False).to_numpy(dtype=bool)
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    outside = np.zeros(len(values), dtype=bool)
    if shaped.any():
        if type_ == "date":
            moments = pd.to_datetime(text[shaped], format="%Y-%m-%d", errors="coerce")
        else:
            moments = pd.to_datetime(text[shaped], format="ISO8601", utc=True, errors="coerce").dt.tz_localize(None)
        outside[shaped] = _outside(moments)
        parsed[shaped] = moments.where(~outside[shaped]).astype("datetime64[ns]")
    failed = _present(values) & parsed.isna().to_numpy()
    no_such = "no such date" if type_ == "date" else "no such date or time"
    details = [None if not bad else f"outside {DATE_MIN} .. {DATE_MAX}" if out else no_such if fits else form
               for bad, out, fits in zip(failed, outside, shaped)]
    return _Converted(parsed, failed, details)


def _temporal_moments(values: pd.Series, type_: str) -> _Converted:
    """A typed datetime column (Parquet timestamps): UTC, at most microseconds, in range; never a date."""
    present = _present(values)
    if type_ == "date":
        return _Converted(pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]"), present,
                          ["a date has no time of day" if p else None for p in present])
    if values.dt.tz is None:
        return _Converted(pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]"), present,
                          ["a timestamp needs a time zone (UTC)" if p else None for p in present])
    moments = values.dt.tz_convert("UTC").dt.tz_localize(None)
    outside = _outside(moments)
    fine = (moments.dt.nanosecond.fillna(0) != 0).to_numpy(dtype=bool)
    failed = outside | fine
    details = [f"outside {DATE_MIN} .. {DATE_MAX}" if out else "finer than microseconds" if f else None
               for out, f in zip(outside, fine)]
    return _Converted(moments.where(~failed).astype("datetime64[ns]"), failed, details)


def _temporal_value(value, type_: str):
    """(naive UTC timestamp, detail, failed) for one typed value of a date or timestamp column."""
    if isinstance(value, Unrepresentable):
        return None, value.problem, True
    try:
        if isinstance(value, dt.datetime):
            if type_ == "date":
                return None, "a date has no time of day", True
            if value.tzinfo is None:
                return None, "a timestamp needs a time zone (UTC)", True
            moment = pd.Timestamp(value).tz_convert("UTC").tz_localize(None)
            if moment.nanosecond:
                return None, "finer than microseconds", True
        elif isinstance(value, dt.date):
            if type_ == "timestamp":
                return None, "a date without time of day is not a timestamp", True
            moment = pd.Timestamp(value)
        else:
            return None, None, True
        inside = _MIN_TS <= moment < _MAX_TS
    except (OverflowError, ValueError):
        inside = False
    if not inside:
        return None, f"outside {DATE_MIN} .. {DATE_MAX}", True
    return moment, None, False


def _temporals(values: pd.Series, kind: str, type_: str) -> _Converted:
    if kind in ("string", "empty"):
        return _temporal_text(values, type_)
    if kind == "datetime":
        return _temporal_moments(values, type_)
    if kind == "date" and type_ == "date":  # calendar dates (Parquet DATE): in range, or rejected
        moments = pd.to_datetime(values, errors="coerce")
        outside = _outside(moments)
        details = [f"outside {DATE_MIN} .. {DATE_MAX}" if out else None for out in outside]
        return _Converted(moments.where(~outside).astype("datetime64[ns]"), outside, details)
    strings = np.array([isinstance(v, str) for v in values.astype(object)], dtype=bool)
    converted = _per_value(values.where(~strings, None), lambda v: _temporal_value(v, type_), object)
    typed = pd.to_datetime(converted.values, errors="coerce").astype("datetime64[ns]")
    if strings.any():  # text among typed values: each text value in the one written form
        text = _temporal_text(values[strings].astype(object), type_)
        typed[strings] = text.values
        converted.failed[strings] = text.failed
        for position, detail in zip(np.flatnonzero(strings), text.details):
            converted.details[position] = detail
    return _Converted(typed, converted.failed, converted.details)


# --- the table --------------------------------------------------------------------------------------------------------

def _convert(values: pd.Series, column: Column) -> _Converted:
    """Typed series and a mask of values that were present but could not be converted."""
    kind = _kind(values)
    type_ = column.type
    if type_ == "string":
        return _strings(values, kind, column)
    if type_ == "integer":
        return _integers(values, kind)
    if type_ == "decimal":
        return _decimals(values, kind)
    if type_ == "boolean":
        return _booleans(values, kind)
    if type_ in ("date", "timestamp"):
        return _temporals(values, kind, type_)
    if type_ == "json":
        return _per_value(values, _json_value, object)
    raise ValueError(f"unknown contract type {type_!r}")


def _decoded(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Bytes (a Parquet BINARY column) as text: valid UTF-8 is decoded, anything else is marked undecodable."""
    binary = (bytes, bytearray, memoryview)
    if (values.dtype != object or pd.api.types.infer_dtype(values, skipna=True) not in ("bytes", "mixed")
            or not any(isinstance(v, binary) for v in values)):
        return values, np.zeros(len(values), dtype=bool)
    out, undecodable = [], []
    for value in values:
        bad = False
        if isinstance(value, binary):
            try:
                value = bytes(value).decode("utf-8")
            except UnicodeDecodeError:
                value, bad = None, True
        out.append(value)
        undecodable.append(bad)
    return pd.Series(out, index=values.index, dtype=object), np.array(undecodable, dtype=bool)


def coerce(frame: pd.DataFrame, contract: TableContract) -> tuple[pd.DataFrame, pd.Series]:
    """Typed copy of ``frame`` and, per row, the type errors found (None when none)."""
    typed = frame.copy()
    reasons = pd.Series([None] * len(frame), index=frame.index, dtype=object)  # Series(None) is NaN in pandas 3
    for column in contract.columns:
        values, undecodable = _decoded(frame[column.name])
        converted = _convert(values, column)
        failed = converted.failed | undecodable
        typed[column.name] = converted.values
        if failed.any():
            raw = frame[column.name][failed]
            details = np.array(converted.details, dtype=object)[failed]
            messages = [f"{column.name}: expected {column.type}, got {_show(v)}"
                        + (" (not valid UTF-8)" if bad else f" ({detail})" if detail else "")
                        for v, bad, detail in zip(raw, undecodable[failed], details)]
            reasons[failed] = [f"{old}; {new}" if isinstance(old, str) else new
                               for old, new in zip(reasons[failed], messages)]
    return typed, reasons


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
