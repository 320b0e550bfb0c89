"""JSON as the standard (RFC 8259) defines it, for every JSON text the boundary reads.

Python's ``json`` is lenient where a lenient reading changes data silently: it takes ``NaN`` and
``Infinity`` as numbers, keeps the last of two equal keys in one object, turns ``1e400`` into
infinity, accepts ``"\\ud800"`` (a lone surrogate no UTF-8 file or database can hold), and fails
with ``RecursionError`` or a bare ``ValueError`` on deep nesting or very long integers. ``loads``
turns every one of those into a ``StrictJSONError`` that says what is wrong, so readers can reject
the line, value or manifest instead of loading something else or crashing.
"""

from __future__ import annotations

import json
import math
import re

MAX_INTEGER_DIGITS = 4_000  # below Python's own limit (4,300) for turning digits into an int
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abAB]|\\u[dD][c-fC-F]")


class StrictJSONError(ValueError):
    """The text is not standard JSON, or holds something that cannot be loaded as it is written."""


class _Rejected(Exception):
    def __init__(self, message: str):
        self.message = message


def _constant(name: str):
    raise _Rejected(f"{name} is not a JSON number (only finite numbers are allowed)")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Rejected(f"number {text[:40]} is too large for a 64-bit float")
    return value


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise _Rejected(f"integer with {len(text.lstrip('-')):,} digits is too long")
    return int(text)


def _object(pairs: list[tuple[str, object]]) -> dict:
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise _Rejected(f"duplicate key {duplicate!r} in one object")
    return value


_DECODER = json.JSONDecoder(object_pairs_hook=_object, parse_constant=_constant, parse_float=_float,
                            parse_int=_int)


def loads(text: str):
    """The value of a JSON text, or ``StrictJSONError`` naming the problem (and its column where known)."""
    try:
        value = _DECODER.decode(text)
    except _Rejected as rejected:
        raise StrictJSONError(rejected.message) from None
    except json.JSONDecodeError as error:
        raise StrictJSONError(f"{error.msg} at column {error.colno}") from None
    except RecursionError:
        raise StrictJSONError("nested too deeply") from None
    except ValueError as error:  # e.g. a number the decoder cannot convert
        raise StrictJSONError(str(error)) from None
    if _SURROGATE_ESCAPE.search(text):
        _reject_lone_surrogates(value)
    return value


def _reject_lone_surrogates(value) -> None:
    """Escaped surrogate pairs decode to one character; a lone one stays a surrogate, which is not text."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise StrictJSONError("a \\u escape is a lone surrogate, not a Unicode character") from None
    except RecursionError:
        raise StrictJSONError("nested too deeply") from None
