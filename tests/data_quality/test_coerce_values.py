"""Typing raw landed values (``data_quality.coerce``): what fits a contract type and what is a row-level error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data_quality.coerce import coerce
from data_quality.contracts import Column, TableContract


def convert(values, type_: str, dtype=object) -> tuple[list, list[bool]]:
    """(typed values, failed flags) for one column of the given contract type."""
    table = TableContract("test", "t", "csv", (Column("v", type_),))
    typed, reasons = coerce(pd.DataFrame({"v": pd.Series(values, dtype=dtype)}), table)
    out = [None if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v)) else v
           for v in typed["v"].tolist()]
    return out, reasons.notna().tolist()


def test_integers_from_text_and_whole_numbers():
    values, failed = convert(["3", "3.0", " 4 ", None], "integer")
    assert values == [3, 3, 4, None]
    assert failed == [False, False, False, False]  # a missing value is not a type error (not_null decides)
    values, failed = convert([3.0, 7], "integer")
    assert values == [3, 7] and failed == [False, False]


@pytest.mark.parametrize("bad", ["3.5", "abc", "12,99", "", True, 3.5])
def test_not_an_integer(bad):
    values, failed = convert([bad, "2"], "integer")  # "" reaches coerce only from JSON ("" in CSV is missing)
    assert failed == [True, False]
    assert values == [None, 2]


def test_booleans_are_not_numbers():
    _, failed = convert([True, False], "integer", dtype=bool)
    assert failed == [True, True]
    _, failed = convert([True, 1.5], "decimal")
    assert failed == [True, False]


def test_decimals_must_be_finite_numbers():
    values, failed = convert(["1.5", "1e3", "inf", "nan", "12,99"], "decimal")
    assert values[:2] == [1.5, 1000.0]
    assert failed == [False, False, True, True, True]


def test_dates_take_no_time_of_day():
    values, failed = convert(["2025-01-02", "2025-01-02T10:30:00Z", "not-a-date", "2025-02-30", "02/01/2025"], "date")
    assert values[0] == pd.Timestamp("2025-01-02")
    assert failed == [False, True, True, True, True]


def test_iso_timestamps_with_z_or_offset_are_utc():
    values, failed = convert(["2025-01-02T00:20:33Z", "2025-01-02T02:20:33+02:00", "2025-01-02T00:20:33.5Z",
                              "yesterday"], "timestamp")
    assert failed == [False, False, False, True]
    assert values[:3] == [pd.Timestamp("2025-01-02 00:20:33"), pd.Timestamp("2025-01-02 00:20:33"),
                          pd.Timestamp("2025-01-02 00:20:33.5")]
    assert all(v.tzinfo is None for v in values[:3])  # stored as naive UTC


def test_booleans_from_strings_numbers_and_json():
    values, failed = convert(["true", "False", "yes", "0", "TRUE", " no ", "maybe", None], "boolean")
    assert values == [True, False, True, False, True, False, None, None]
    assert failed == [False] * 6 + [True, False]
    values, failed = convert([True, None, "maybe"], "boolean")
    assert values == [True, None, None] and failed == [False, False, True]
    values, failed = convert([1, 0, 2], "boolean", dtype="int64")
    assert values == [True, False, None] and failed == [False, False, True]


def test_strings_accept_numbers_but_not_booleans_or_objects():
    values, failed = convert([3, 3.0, 3.5, True, {"a": 1}, "x"], "string")
    assert values[:3] == ["3", "3", "3.5"] and values[5] == "x"
    assert failed == [False, False, False, True, True, False]


def test_json_values_are_kept_as_json_text():
    values, failed = convert([{"b": 1, "a": 2}, '{"a": 1}', "not json"], "json")
    assert values[:2] == ['{"a": 2, "b": 1}', '{"a": 1}']
    assert failed == [False, False, True]


def test_bytes_are_text_only_when_valid_utf8():
    """A Parquet BINARY column: UTF-8 bytes are decoded, other bytes are a type error, never loaded as "b'...'"."""
    table = TableContract("test", "t", "parquet", (Column("name", "string"), Column("n", "integer")))
    frame = pd.DataFrame({"name": pd.Series(["plain", "Caf\u00e9".encode(), b"Caf\xe9", None], dtype=object),
                          "n": pd.Series([b"1", b"2", b"3", b"\xff"], dtype=object)})
    typed, reasons = coerce(frame, table)
    assert typed["name"].tolist()[:2] == ["plain", "Café"]
    assert typed["n"].tolist()[:3] == [1, 2, 3]
    assert reasons.tolist()[:2] == [None, None]
    assert reasons[2] == "name: expected string, got b'Caf\\xe9' (not valid UTF-8)"
    assert reasons[3] == "n: expected integer, got b'\\xff' (not valid UTF-8)"


def test_reasons_name_column_type_and_value_for_every_bad_value_of_a_row():
    table = TableContract("test", "t", "csv", (Column("quantity", "integer"), Column("price", "decimal"),
                                               Column("opt_in", "boolean")))
    frame = pd.DataFrame({"quantity": ["abc", "2"], "price": ["x", "1.0"], "opt_in": ["maybe", "true"]}, dtype=object)
    typed, reasons = coerce(frame, table)
    assert reasons[0] == ("quantity: expected integer, got 'abc'; price: expected decimal, got 'x'; "
                          "opt_in: expected boolean, got 'maybe'")
    assert reasons[1] is None
    assert typed.loc[1, "quantity"] == 2 and typed.loc[1, "opt_in"]
