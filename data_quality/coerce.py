"""Give raw landed values their contract types, recording every value that does not fit.

A value of the wrong type is a row-level problem ("quantity: expected integer, got 'abc'"): the row
goes to quarantine with that reason and the rest of the batch loads. Conversion is vectorized with
pandas; only the failing values are formatted into messages.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from data_quality.contracts import TableContract

_BOOLEAN_TEXT = {"true": True, "1": True, "yes": True, "y": True, "t": True,
                 "false": False, "0": False, "no": False, "n": False, "f": False}
_INVALID = "\x00invalid"


def _kind(values: pd.Series) -> str:
    """What the raw values are: string, number, bool, datetime, empty or mixed (checked per value)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return "datetime"
    if pd.api.types.is_bool_dtype(values):
        return "bool"
    if pd.api.types.is_numeric_dtype(values):
        return "number"
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    if inferred in ("string", "empty"):
        return inferred
    if inferred in ("integer", "floating", "mixed-integer-float", "decimal"):
        return "number"
    if inferred == "boolean":
        return "bool"
    if inferred in ("datetime", "datetime64", "date"):
        return "datetime"
    return "mixed"


def _numbers(values: pd.Series, kind: str) -> pd.Series:
    if kind == "bool":
        return pd.Series(np.nan, index=values.index)
    if kind == "mixed":  # booleans and containers are not numbers, even where Python would allow it
        values = values.map(lambda v: None if isinstance(v, (bool, np.bool_, dict, list, np.ndarray)) else v)
    numbers = pd.to_numeric(values.astype(object), errors="coerce").astype(float)
    return numbers.where(np.isfinite(numbers))


def _text(values: pd.Series, kind: str) -> tuple[pd.Series, np.ndarray]:
    if kind in ("string", "empty"):
        return values.astype(object).where(values.notna(), None), np.zeros(len(values), dtype=bool)

    def one(v):
        if v is None or isinstance(v, str):
            return v
        if isinstance(v, (bool, np.bool_, dict, list, np.ndarray)):
            return _INVALID
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return str(int(v))
        return str(v)

    out = values.astype(object).where(values.notna(), None).map(one)
    failed = (out == _INVALID).to_numpy()
    return out.where(~failed, None), failed


def _datetimes(values: pd.Series, kind: str) -> pd.Series:
    if kind == "datetime":
        parsed = pd.to_datetime(values, errors="coerce", utc=True)
    else:
        text = values.astype(object).map(
            lambda v: v if v is None or isinstance(v, str) else
            (v.isoformat() if hasattr(v, "isoformat") and not isinstance(v, (bool, np.bool_)) else _INVALID))
        parsed = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601")
    return parsed.dt.tz_localize(None).astype("datetime64[ns]")


def _json(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    def dump(v):
        if v is None:
            return None
        if isinstance(v, np.ndarray):
            v = v.tolist()
        if isinstance(v, (dict, list)):
            return json.dumps(v, sort_keys=True, default=str)
        if isinstance(v, str):
            try:
                json.loads(v)
            except ValueError:
                return _INVALID
            return v
        return _INVALID

    out = values.astype(object).where(values.notna(), None).map(dump)
    failed = (out == _INVALID).to_numpy()
    return out.where(~failed, None), failed


def _convert(values: pd.Series, type_: str) -> tuple[pd.Series, np.ndarray]:
    """Typed series and a mask of values that were present but could not be converted."""
    present = values.notna().to_numpy()
    kind = _kind(values)
    if type_ == "string":
        return _text(values, kind)
    if type_ in ("integer", "decimal"):
        numbers = _numbers(values, kind)
        failed = present & numbers.isna().to_numpy()
        if type_ == "decimal":
            return numbers, failed
        fractional = (numbers.notna() & (np.floor(numbers) != numbers)).to_numpy()
        return numbers.where(~fractional).astype("Int64"), failed | fractional
    if type_ == "boolean":
        if kind == "bool":
            out = values.astype("boolean")
        elif kind in ("string", "empty", "number"):
            out = values.astype(object).where(values.notna(), None).map(
                lambda v: None if v is None else _BOOLEAN_TEXT.get(str(v).strip().lower())).astype("boolean")
        else:
            out = values.map(lambda v: v if isinstance(v, (bool, np.bool_)) or v is None else
                             _BOOLEAN_TEXT.get(str(v).strip().lower()) if isinstance(v, str) else None)
            out = out.astype("boolean")
        return out, present & out.isna().to_numpy()
    if type_ in ("date", "timestamp"):
        parsed = _datetimes(values, kind)
        failed = present & parsed.isna().to_numpy()
        if type_ == "date":
            # A date column holds a calendar date, not a moment with a time of day.
            has_time = (parsed.notna() & (parsed != parsed.dt.normalize())).to_numpy()
            return parsed.where(~has_time), failed | has_time
        return parsed, failed
    if type_ == "json":
        return _json(values)
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
        converted, failed = _convert(values, column.type)
        failed = failed | undecodable
        typed[column.name] = converted
        if failed.any():
            raw = frame[column.name][failed]
            messages = [f"{column.name}: expected {column.type}, got {_show(v)}"
                        + (" (not valid UTF-8)" if bad else "") for v, bad in zip(raw, undecodable[failed])]
            reasons[failed] = [f"{old}; {new}" if isinstance(old, str) else new
                               for old, new in zip(reasons[failed], messages)]
    return typed, reasons


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
