"""The invariants of the boundary, checked on a validation result against the batches as planned.

For every batch: rows landed = loaded + quarantined; a batch that must be blocked is blocked with a
problem naming what is wrong, and nothing of it loads; a batch that must load is not blocked, its
tolerated deviations are in its notes, every damaged row is quarantined with its reason, every
clean row is loaded, and every loaded value equals the value the file wrote under the contract.
For the whole result: every loaded value can be stored (text without control characters or lone
surrogates, identifiers by the identifier rule, finite floats, 64-bit integers, dates in range)
and every quarantined record is strict JSON. Returns the violations as sentences; none is the pass.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from data_quality.boundary import ValidationResult
from data_quality.contracts import (DATE_MAX, DATE_MIN, IDENTIFIER_PATTERN, INTEGER_MAX, INTEGER_MIN, TEXT_FORBIDDEN,
                                    Column, TableContract)
from data_quality.fuzz.plan import PlannedBatch, PlannedTable
from data_quality.suites import BATCH_DATE

_MIN_TS, _MAX_TS = pd.Timestamp(DATE_MIN), pd.Timestamp(DATE_MAX) + pd.Timedelta(days=1)


def check(batches: list[PlannedBatch], result: ValidationResult) -> list[str]:
    violations = _storable(result)
    outcomes = {b.batch_date: b for b in result.batches}
    for batch in batches:
        where = f"{batch.source} {batch.batch_date} ({', '.join(batch.kinds) or 'clean'})"
        outcome = outcomes.get(batch.batch_date)
        if outcome is None:
            violations.append(f"{where}: no outcome")
            continue
        quarantined = result.quarantine[pd.to_datetime(result.quarantine["batch_date"]).dt.date == batch.batch_date] \
            if len(result.quarantine) else result.quarantine
        loaded = {name: frame[frame[BATCH_DATE].dt.date == batch.batch_date] if len(frame) else frame
                  for name, frame in result.loaded.items()}
        rows_loaded = sum(len(frame) for frame in loaded.values())
        if outcome.rows_landed != outcome.rows_loaded + outcome.rows_quarantined:
            violations.append(f"{where}: landed {outcome.rows_landed} != loaded {outcome.rows_loaded} + "
                              f"quarantined {outcome.rows_quarantined}")
        if (rows_loaded, len(quarantined)) != (outcome.rows_loaded, outcome.rows_quarantined):
            violations.append(f"{where}: the outcome counts {outcome.rows_loaded} loaded and {outcome.rows_quarantined}"
                              f" quarantined, the frames hold {rows_loaded} and {len(quarantined)}")
        if outcome.status == "blocked":
            if not outcome.problems or not all(isinstance(p, str) and p.strip() for p in outcome.problems):
                violations.append(f"{where}: blocked without a problem in words: {outcome.problems!r}")
            if rows_loaded:
                violations.append(f"{where}: blocked, yet {rows_loaded} rows loaded")
        if batch.blocked is True:
            if outcome.status != "blocked":
                violations.append(f"{where}: must be blocked ({batch.problem}), but loaded")
            elif batch.problem and not any(batch.problem in p for p in outcome.problems):
                violations.append(f"{where}: blocked, but no problem says {batch.problem!r}: {outcome.problems}")
        elif batch.blocked is False:
            if outcome.status == "blocked":
                violations.append(f"{where}: must load, but blocked: {outcome.problems}")
            else:
                violations += _notes(where, batch, outcome.notes)
                if batch.content_known:
                    for table in batch.tables.values():
                        violations += _rows(where, table, loaded.get(table.contract.table, pd.DataFrame()),
                                            quarantined[quarantined["table_name"] == table.contract.table]
                                            if len(quarantined) else quarantined)
    return violations


def _notes(where: str, batch: PlannedBatch, notes: list[str]) -> list[str]:
    return [f"{where}: no note says {' ... '.join(fragments)!r}: {notes}" for fragments in batch.notes
            if not any(all(f in note for f in fragments) for note in notes)]


def _rows(where: str, table: PlannedTable, loaded: pd.DataFrame, quarantined: pd.DataFrame) -> list[str]:
    name = table.contract.table
    must_load = {i + 1 for i, row in enumerate(table.rows) if row.reject is None}
    must_reject = {i + 1: row for i, row in enumerate(table.rows) if row.reject is not None}
    got_loaded = set(loaded["_row_number"].astype(int)) if len(loaded) else set()
    got_rejected = dict(zip(quarantined["row_number"].astype(int), quarantined["reasons"])) if len(quarantined) else {}
    problems = []
    if got_loaded != must_load:
        problems.append(f"{where}: {name} rows loaded {sorted(got_loaded)[:20]}, expected {sorted(must_load)[:20]} "
                        f"(wrongly loaded: {_describe(table, got_loaded - must_load)})")
    if set(got_rejected) != set(must_reject):
        problems.append(f"{where}: {name} rows quarantined {sorted(got_rejected)[:20]}, expected "
                        f"{sorted(must_reject)[:20]} (wrongly quarantined: "
                        f"{[(n, got_rejected[n]) for n in sorted(set(got_rejected) - set(must_reject))][:3]})")
    for number, row in must_reject.items():
        reason = got_rejected.get(number)
        if reason is not None and row.reject and row.reject not in reason:
            problems.append(f"{where}: {name} row {number} ({row.kind}) quarantined for {reason!r}, expected a reason "
                            f"with {row.reject!r}")
    for record in loaded.to_dict("records"):
        number = int(record["_row_number"])
        if number not in must_load:
            continue
        expected = table.rows[number - 1].values
        for column in table.contract.columns:
            if not _equal(record[column.name], expected[column.name], column):
                problems.append(f"{where}: {name} row {number} loaded {column.name}={record[column.name]!r}, the file "
                                f"says {expected[column.name]!r} (written {table.rows[number - 1].raw.get(column.name)!r})")
    return problems


def _describe(table: PlannedTable, numbers: set[int]) -> list:
    return [(n, table.rows[n - 1].kind, table.rows[n - 1].reject) for n in sorted(numbers)[:3] if n <= len(table.rows)]


def _missing(value) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _equal(loaded, expected, column: Column) -> bool:
    if _missing(expected) or _missing(loaded):
        return _missing(expected) and _missing(loaded)
    if column.type in ("date", "timestamp"):
        return pd.Timestamp(loaded) == pd.Timestamp(expected)
    if column.type == "json":
        return json.loads(loaded) == expected
    if column.type == "integer":
        return int(loaded) == expected and not isinstance(loaded, (bool, np.bool_))
    if column.type == "decimal":
        return float(loaded) == float(expected)
    if column.type == "boolean":
        return bool(loaded) is bool(expected)
    return loaded == expected


def _storable(result: ValidationResult) -> list[str]:
    """Loaded values a warehouse can hold as they are, and quarantine rows a person can read."""
    from data_quality.contracts import SOURCES

    problems = []
    contracts: dict[str, TableContract] = {t.table: t for t in SOURCES[result.source].tables}
    for name, frame in result.loaded.items():
        if not len(frame):
            continue
        for column in contracts[name].columns:
            values = frame[column.name].dropna()
            bad = [v for v in values if not _storable_value(v, column)]
            if bad:
                problems.append(f"{result.source}: loaded {name}.{column.name} holds values that cannot be stored: "
                                f"{bad[:3]!r}")
    for record, reasons in zip(result.quarantine.get("record", []), result.quarantine.get("reasons", [])):
        try:
            json.loads(record, parse_constant=_not_json)
        except ValueError as error:
            problems.append(f"{result.source}: a quarantined record is not strict JSON ({error}): {record[:80]!r}")
        if not isinstance(reasons, str) or not reasons.strip() or any(p in ("nan", "None") for p in reasons.split("; ")):
            problems.append(f"{result.source}: a quarantined row has no reason in words: {reasons!r}")
    return problems


def _not_json(constant: str):
    raise ValueError(f"{constant} is not JSON")


def _storable_value(value, column: Column) -> bool:
    if column.type in ("string", "json"):
        if not isinstance(value, str) or TEXT_FORBIDDEN.search(value):
            return False
        return IDENTIFIER_PATTERN.fullmatch(value) is not None if column.identifier else True
    if column.type == "integer":
        return INTEGER_MIN <= int(value) <= INTEGER_MAX
    if column.type == "decimal":
        return math.isfinite(float(value))
    if column.type in ("date", "timestamp"):
        return _MIN_TS <= pd.Timestamp(value) < _MAX_TS
    return True
