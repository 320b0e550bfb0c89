"""Values for generated batches: clean values, the forms a file may write them in, and forms it may not.

A clean value is the typed value that must load (``str``, ``int``, ``float``, ``bool``,
``datetime.date``, naive-UTC ``datetime.datetime``, or a ``dict`` for JSON columns). The ``*_text``
and ``json_token`` functions write it in any form the contract accepts, chosen at random, so that
every accepted form is exercised and must load as the same value. ``rejected_forms`` lists what a
source might write instead that the contract does not accept, each with the fragment its
quarantine reason must contain.
"""

from __future__ import annotations

import datetime as dt
import decimal
import random
import string
from dataclasses import dataclass

from data_quality.contracts import IDENTIFIER_MAX_CHARS, TEXT_MAX_CHARS, Column

UTC = dt.timezone.utc
EXACT_FLOAT = 2 ** 53


@dataclass(frozen=True)
class RawJSON:
    """A JSON token written exactly as given (NaN, 1e400, a 30-digit integer): what ``json.dumps`` would not write."""

    text: str


class _Omit:
    def __repr__(self) -> str:
        return "OMIT"


OMIT = _Omit()  # JSON lines: leave the key out of the object (a missing value)
LINE_REJECTED = "invalid JSON line"  # the reason of a JSON line the strict parser refuses


# --- clean values -----------------------------------------------------------------------------------------------------

_ID_FIRST = string.ascii_letters + string.digits
_ID_REST = _ID_FIRST + "._:-"
_TEXT_POOLS = (
    string.ascii_letters + string.digits + "      ",
    ",;\"'\t\n\r|\\/<>&%$#@!?*()[]{}=+-_.:~`^",
    "äöüßéèêçñøåÆŒœÀÉÍÓÚ",
    "ΑΒΓαβγДЖЗРрСсОо",  # Greek and Cyrillic, look-alikes of Latin letters included
    "中文字符日本語한국어",
    "😀🎉👍🏽🇩🇪\u200d",  # characters outside the basic plane, a zero-width joiner
    "\u0301\u0308\u200b\u00a0\ufeff\u2028\u2029\u0085\u202e\x80\x9f",  # combining, invisible, separators, C1
    "עברית العربية",
)


def identifier(rng: random.Random, unique: int | None = None) -> str:
    """An identifier in one of several real-world shapes; ``unique`` makes it distinct from every other."""
    style = rng.random()
    if style < 0.4:
        stem = rng.choice("PCOSWXR") + f"{rng.randrange(10 ** 6):06d}"
    elif style < 0.6:
        stem = "-".join(f"{rng.getrandbits(16 * n):0{4 * n}x}" for n in (2, 1, 1, 1, 3))
    else:
        stem = rng.choice(_ID_FIRST) + "".join(rng.choice(_ID_REST) for _ in range(rng.randrange(0, 24)))
    suffix = "" if unique is None else f"-{unique}"
    if rng.random() < 0.03:  # exactly as long as the contract allows
        stem = (stem + "0" * IDENTIFIER_MAX_CHARS)[: IDENTIFIER_MAX_CHARS - len(suffix)]
    return stem + suffix


def free_text(rng: random.Random, max_chars: int = 40, allow_empty: bool = False) -> str:
    length = rng.randrange(0 if allow_empty else 1, max_chars + 1)
    pools = rng.sample(_TEXT_POOLS, rng.randrange(1, len(_TEXT_POOLS) + 1))
    return "".join(rng.choice(rng.choice(pools)) for _ in range(length))


def decimal_between(rng: random.Random, low: float, high: float, places: int = 2, strict_low: bool = False) -> float:
    while True:
        value = round(rng.uniform(low, high), places)
        if (value > low if strict_low else value >= low) and value <= high:
            return value


def date_between(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=rng.randrange((last - first).days + 1))


def moment_between(rng: random.Random, first: dt.date, last: dt.date) -> dt.datetime:
    """A naive UTC moment on one of the days ``first`` .. ``last``, in whole seconds, milliseconds or microseconds."""
    day = date_between(rng, first, last)
    seconds = rng.randrange(86_400)
    micro = rng.choice((0, 0, rng.randrange(1000) * 1000, rng.randrange(1_000_000)))
    return dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=seconds, microseconds=micro)


def json_object(rng: random.Random, depth: int = 0) -> dict:
    def value(level):
        kind = rng.randrange(7 if level < 3 else 5)
        return [lambda: free_text(rng, 12, True), lambda: rng.randrange(-10 ** 6, 10 ** 6),
                lambda: decimal_between(rng, -1e4, 1e4, 3), lambda: rng.random() < 0.5, lambda: None,
                lambda: [value(level + 1) for _ in range(rng.randrange(4))], lambda: json_object(rng, level + 1)][kind]()
    return {free_text(rng, 10, True): value(depth) for _ in range(rng.randrange(5))}


# --- the forms a file may write a clean value in --------------------------------------------------------------------

def integer_text(value: int, rng: random.Random) -> str:
    forms = [str(value), f" {value} ", f"{value}.0", f"{value}."]
    if value >= 0:
        forms += [f"+{value}", f"00{value}"]
    return rng.choice(forms)


def decimal_text(value: float, rng: random.Random) -> str:
    exact = decimal.Decimal(repr(value))
    forms = [repr(value), format(exact, "f"), format(exact, "E"), format(exact, "e"), f" {value!r}\t",
             format(exact, "f") + ("0" if "." in format(exact, "f") else ".0")]
    if value >= 0:
        forms.append(f"+{value!r}")
    if repr(value).startswith("0."):
        forms.append(repr(value)[1:])  # ".25"
    return rng.choice(forms)


def boolean_text(value: bool, rng: random.Random) -> str:
    forms = ["true", "True", "TRUE", "1", "yes", "YES", "y", "t", "T", " true "] if value else \
            ["false", "False", "FALSE", "0", "no", "No", "n", "f", "F", "\tfalse"]
    return rng.choice(forms)


def timestamp_text(moment: dt.datetime, rng: random.Random) -> str:
    """RFC 3339 with a zone: Z or an offset (the local time shifted accordingly), fraction as long as needed or more."""
    offset = rng.choice((0, 0, 0, 60, 120, -300, 330, -570, 765, 840, -720))
    local = moment + dt.timedelta(minutes=offset)
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    digits = f"{moment.microsecond:06d}"
    if moment.microsecond:
        text += "." + rng.choice((digits, digits.rstrip("0")))
    elif rng.random() < 0.2:
        text += "." + "0" * rng.randrange(1, 7)
    if offset == 0 and rng.random() < 0.7:
        return text + "Z"
    sign = "+" if offset >= 0 else "-"
    return text + f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"


def csv_text(value, column: Column, rng: random.Random) -> str:
    """The CSV field for a clean value ("" is a missing value, so clean text is never empty in CSV)."""
    if value is None:
        return ""
    if column.type == "string":
        return value
    if column.type == "integer":
        return integer_text(value, rng)
    if column.type == "decimal":
        return decimal_text(value, rng)
    if column.type == "boolean":
        return boolean_text(value, rng)
    if column.type == "date":
        return value.isoformat()
    if column.type == "timestamp":
        return timestamp_text(value, rng)
    raise ValueError(f"no CSV form for a {column.type} column")


def json_token(value, column: Column, rng: random.Random):
    """The JSON value for a clean value: a Python value for ``json.dumps``, a ``RawJSON`` token, or ``OMIT``."""
    if value is None:
        return OMIT if not column.required and rng.random() < 0.5 else None
    if column.type == "string":
        return value
    if column.type == "integer":
        return rng.choice((value, value, float(value), integer_text(value, rng).strip(" \t")))
    if column.type == "decimal":
        forms = [value, value, repr(value), RawJSON(format(decimal.Decimal(repr(value)), "E"))]
        if float(value).is_integer() and abs(value) < EXACT_FLOAT:
            forms.append(int(value))
        return rng.choice(forms)
    if column.type == "boolean":
        return rng.choice((value, value, boolean_text(value, rng)))
    if column.type == "date":
        return value.isoformat()
    if column.type == "timestamp":
        return timestamp_text(value, rng)
    if column.type == "json":
        import json
        return rng.choice((value, value, json.dumps(value, ensure_ascii=rng.random() < 0.5)))
    raise ValueError(f"no JSON form for a {column.type} column")


# --- forms a file may not write -------------------------------------------------------------------------------------

_LOOK_ALIKES = {"P": "Р", "C": "С", "O": "О", "A": "А", "B": "В", "E": "Е", "H": "Н", "K": "К", "M": "М", "T": "Т",
                "X": "Х", "a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "0": "О"}


def look_alike(value: str) -> str:
    """The identifier with one character replaced by a Cyrillic look-alike (P00001 -> Р00001)."""
    for index, character in enumerate(value):
        if character in _LOOK_ALIKES:
            return value[:index] + _LOOK_ALIKES[character] + value[index + 1:]
    return "Р" + value


def _fullwidth(value: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in value)


def rejected_forms(column: Column, clean, batch_date: dt.date, csv: bool) -> list[tuple[object, str]]:
    """(what a file writes, fragment of the reason) for values the contract must reject in ``column``.

    Text forms apply to every format (a CSV field, a JSON string, a Parquet string); JSON-only tokens
    (numbers where text belongs, NaN, 1e400, lone surrogates) are included unless ``csv``.
    """
    typed = f"{column.name}: expected {column.type}"
    forms: list[tuple[object, str]] = []
    if column.type == "integer":
        forms = [(t, typed) for t in ("1.5", "1e3", "0x1F", "１２", "١٢", "1_000", "1,000", "12abc",
                                      "9223372036854775808", "-9223372036854775809", "99999999999999999999999",
                                      "NaN", "inf", "true", "--1", "+", "1" * 70)]
        if not csv:
            forms += [(1.5, typed), (RawJSON("9223372036854775808"), typed), (RawJSON("1" * 30), typed),
                      (True, typed), ([1], typed), ({"a": 1}, typed), (1e19, typed), (RawJSON("7" * 5000), LINE_REJECTED),
                      (RawJSON("NaN"), LINE_REJECTED), (RawJSON("-Infinity"), LINE_REJECTED)]
    elif column.type == "decimal":
        forms = [(t, typed) for t in ("1,5", "NaN", "nan", "inf", "-Infinity", "1e400", "１.５", "1.5.1", "--1", "1e",
                                      ".", "0x1p3", "1_000.5", "Infinity", "one", "1" * 70)]
        if not csv:
            forms += [(True, typed), ([1.5], typed), ({}, typed), (RawJSON("9" * 400), typed),
                      (RawJSON("NaN"), LINE_REJECTED), (RawJSON("Infinity"), LINE_REJECTED),
                      (RawJSON("1e400"), LINE_REJECTED)]
    elif column.type == "boolean":
        forms = [(t, typed) for t in ("maybe", "2", "truee", "ｔｒｕｅ", "yes please", "-1", "ja", "on")]
        if not csv:
            forms += [(2, typed), ([], typed), ({}, typed), (0.5, typed)]
    elif column.type == "date":
        day = batch_date
        forms = [(t, typed) for t in (day.strftime("%Y/%m/%d"), day.strftime("%d.%m.%Y"), day.strftime("%m/%d/%Y"),
                                      day.strftime("%Y%m%d"), day.strftime("%d-%m-%Y"), f"{day.isoformat()}T00:00:00Z",
                                      f" {day.isoformat()}", f"{day.isoformat()} ", "2025-02-30", "2025-13-01",
                                      "0001-01-01", "9999-12-31", "1899-12-31", "2200-01-01", f"+{day.isoformat()}",
                                      _fullwidth(day.isoformat()), day.isoformat()[:7], str(day.year))]
        if not csv:
            forms += [(int(day.strftime("%Y%m%d")), typed), (True, typed), ({}, typed)]
    elif column.type == "timestamp":
        moment = dt.datetime.combine(batch_date, dt.time(10, 30))
        base = moment.strftime("%Y-%m-%dT%H:%M:%S")
        forms = [(t, typed) for t in (base, base.replace("T", " ") + "Z", batch_date.isoformat(), base + ".1234567Z",
                                      base[:11] + "25:00:00Z", moment.strftime("%Y%m%dT%H%M%SZ"), base + "+0200",
                                      base.lower() + "z", moment.strftime("%m/%d/%Y %H:%M"), "9999-12-31T00:00:00Z",
                                      "1899-12-31T23:59:59Z", "2200-01-01T00:00:00+00:00",
                                      str(int(moment.replace(tzinfo=UTC).timestamp())), base + "+24:00", base + " UTC")]
        if not csv:
            forms += [(int(moment.replace(tzinfo=UTC).timestamp()), typed), (True, typed), ({}, typed)]
    elif column.type == "string" and column.identifier:
        value = clean if isinstance(clean, str) and clean else "P00001"
        forms = [(t, typed) for t in (f" {value}", f"{value} ", value[:1] + "\u00a0" + value[1:], look_alike(value),
                                      value + "\u200b", "", "x" * (IDENTIFIER_MAX_CHARS + 1), f"{value} 1", f"{value}\t",
                                      _fullwidth(value), value + "\x00", f"{value}/1", f"-{value}", f"{value}\n",
                                      "ß" + value, "y" * 140_000)]
        if csv:
            forms = [(t, f) for t, f in forms if t != ""]  # "" is a missing value in CSV
        else:
            forms += [(1.5, typed), (True, typed), ([], typed), ({}, typed),
                      (RawJSON('"\\ud800' + value + '"'), LINE_REJECTED)]
    elif column.type == "string":
        value = clean if isinstance(clean, str) else "text"
        forms = [(t, typed) for t in (value + "\x00", "\x01" + value, value + "\x7f", "\x1b[31m" + value,
                                      "t" * (TEXT_MAX_CHARS + 1), "y" * 140_000)]
        if not csv:
            forms += [(True, typed), ([], typed), ({"a": 1}, typed), (RawJSON('"abc\\udc00"'), LINE_REJECTED)]
    elif column.type == "json":
        forms = [(5, typed), ("not json", typed), ("[1", typed), ("5", typed), ("null", typed), (True, typed),
                 ('{"a": NaN}', typed), ('{"a": 1, "a": 2}', typed),
                 (RawJSON("[" * 3000 + "]" * 3000), LINE_REJECTED), (RawJSON('{"a": 1, "a": 2}'), LINE_REJECTED),
                 (RawJSON('{"a": NaN}'), LINE_REJECTED), (RawJSON('{"a": [1, Infinity]}'), LINE_REJECTED)]
    return forms
