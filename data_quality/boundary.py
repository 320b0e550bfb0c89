"""The boundary validator: decide, for every landed row, whether it loads or goes to quarantine.

For one source and a range of batch dates:

1. read each batch (``data_quality.landing``): a batch with a structural problem is *blocked* — none
   of its rows load; the rows that could be read go to quarantine tagged with the batch problem;
2. type the rows of the usable batches (``data_quality.coerce``): wrong types quarantine the row;
3. run the source's Great Expectations suite (``data_quality.suites``) once over all rows of the
   range (one validation per table, not per file: GX costs ~0.1 s a call, a year has 365 batches);
   every failed row-level expectation quarantines the row with its reason.

Nothing is dropped: for every batch, rows landed = rows loaded + rows quarantined.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from data_quality.coerce import coerce
from data_quality.contracts import SourceContract, TableContract
from data_quality.landing import LandedBatch, read_batch
from data_quality.readers import PARSE_ERROR, RAW_TEXT, ROW_NUMBER
from data_quality.suites import BATCH_DATE, Reference, as_float_frame, derived_columns, describe, expectations

BATCH_ID = "_batch_id"
SOURCE_FILE = "_source_file"
QUARANTINE_COLUMNS = ["source", "table_name", "batch_date", "batch_id", "source_file", "row_number", "reasons",
                      "failed_expectations", "record"]


@dataclass
class BatchOutcome:
    source: str
    batch_date: dt.date
    batch_id: str | None
    status: str  # loaded | blocked
    rows_landed: int
    rows_loaded: int
    rows_quarantined: int
    files: list[str]
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was normalized on the way in (a byte-order mark, ...)

    @property
    def message(self) -> str:
        """The problems, then the normalizations: what the batch log records for people."""
        return "; ".join(self.problems + [f"normalized: {note}" for note in self.notes])


@dataclass
class ExpectationStat:
    table: str
    expectation: str
    reason: str
    evaluated_rows: int
    failed_rows: int


@dataclass
class ValidationResult:
    source: str
    loaded: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    batches: list[BatchOutcome]
    expectation_stats: list[ExpectationStat]

    @property
    def blocked(self) -> list[BatchOutcome]:
        return [b for b in self.batches if b.status == "blocked"]

    @property
    def rows_landed(self) -> int:
        return sum(b.rows_landed for b in self.batches)

    @property
    def rows_loaded(self) -> int:
        return sum(b.rows_loaded for b in self.batches)

    @property
    def rows_quarantined(self) -> int:
        return sum(b.rows_quarantined for b in self.batches)


_GX = threading.local()


def _gx_batch_definition():
    """One ephemeral GX context per thread, created on first use (importing GX takes seconds)."""
    if getattr(_GX, "definition", None) is None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        asset = context.data_sources.add_pandas("landing").add_dataframe_asset("landed_rows")
        _GX.definition = asset.add_batch_definition_whole_dataframe("whole_frame")
    return _GX.definition


def run_suite(table: str, frame: pd.DataFrame, reference: Reference) -> tuple[dict[int, list[str]], list[ExpectationStat]]:
    """Validate ``frame`` with the table's suite; return failed reasons per row index and per-expectation stats."""
    import great_expectations as gx

    suite = gx.ExpectationSuite(name=f"{table}_boundary", expectations=expectations(table, reference))
    failures: dict[int, list[str]] = {}
    stats: list[ExpectationStat] = []
    if frame.empty:
        return failures, [ExpectationStat(table, e.expectation_type, describe(e), 0, 0) for e in suite.expectations]
    batch = _gx_batch_definition().get_batch(batch_parameters={"dataframe": as_float_frame(frame)})
    result = batch.validate(suite, result_format={"result_format": "COMPLETE"})
    for item in result.results:
        config = item.expectation_config
        reason = (config.meta or {}).get("reason", config.type)
        if item.exception_info and item.exception_info.get("raised_exception"):
            raise RuntimeError(f"expectation {config.type} on {table} could not run: "
                               f"{item.exception_info.get('exception_message')}")
        indices = item.result.get("unexpected_index_list") or []
        for index in indices:
            failures.setdefault(int(index), []).append(reason)
        stats.append(ExpectationStat(table, config.type, reason, len(frame), len(set(indices))))
    return failures, stats


def _record_json(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    """Each row as it landed, as strict JSON (a non-finite number is shown as its text, e.g. "inf")."""
    def clean(value):
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if isinstance(value, float) and not math.isfinite(value):
            return repr(value)
        if isinstance(value, dict):
            return {str(k): clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value

    def missing(value) -> bool:  # pandas 3 holds empty text as NaN: NaN is not JSON, so it is left out like None
        return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value)

    return [json.dumps({c: clean(v) for c, v in zip(columns, row) if not missing(v)}, default=str,
                       ensure_ascii=False, allow_nan=False)
            for row in frame[columns].itertuples(index=False, name=None)]


def _quarantine_rows(source: str, table: TableContract, frame: pd.DataFrame, reasons: list[str],
                     failed: list[str]) -> pd.DataFrame:
    records = _record_json(frame, table.column_names)
    raw = frame[RAW_TEXT].tolist() if RAW_TEXT in frame else [None] * len(frame)
    # Only rows that could not be parsed have raw text; the others hold NaN (pandas 3), which is truthy.
    records = [json.dumps({"_raw_text": r}, ensure_ascii=False) if isinstance(r, str) and r else rec
               for rec, r in zip(records, raw)]
    return pd.DataFrame({
        "source": source,
        "table_name": table.table,
        "batch_date": pd.to_datetime(frame[BATCH_DATE]).dt.date,
        "batch_id": frame[BATCH_ID],
        "source_file": frame[SOURCE_FILE],
        "row_number": frame[ROW_NUMBER].astype("int64"),
        "reasons": reasons,
        "failed_expectations": failed,
        "record": records,
    }, columns=QUARANTINE_COLUMNS)


def _exact_duplicates(typed: pd.DataFrame, table: TableContract, checkable: np.ndarray) -> dict[int, int]:
    """Rows that repeat an earlier row of the same batch value for value: index -> first copy's row number.

    A system that re-sends a record has not sold twice: the first copy loads and the copies are
    quarantined. Rows that share a key but differ are a real conflict, left to the uniqueness
    expectation, which quarantines every one of them.
    """
    if not table.key:
        return {}
    columns = table.column_names + [BATCH_DATE]
    candidates = typed.loc[checkable, columns]
    repeated = candidates.duplicated(keep=False)
    if not repeated.any():
        return {}
    hashes = pd.util.hash_pandas_object(candidates[repeated].astype(str), index=False)
    first_row = typed.loc[hashes.index, ROW_NUMBER].groupby(hashes.to_numpy()).transform("first")
    later = candidates[repeated].duplicated(keep="first")
    return {int(i): int(first_row[i]) for i in later[later].index}


def _tagged(batch: LandedBatch, name: str) -> pd.DataFrame:
    landed = batch.tables[name]
    frame = landed.frame.copy()
    frame[BATCH_DATE] = pd.Timestamp(batch.batch_date)
    frame[BATCH_ID] = batch.batch_id
    frame[SOURCE_FILE] = str(landed.path)
    return frame


def validate_source(landing_root: Path, contract: SourceContract, dates: list[dt.date],
                    reference: Reference) -> ValidationResult:
    batches = [read_batch(landing_root, contract, date) for date in dates]
    quarantine_parts: list[pd.DataFrame] = []
    loaded: dict[str, pd.DataFrame] = {}
    stats: list[ExpectationStat] = []
    counts = {b.batch_date: [0, 0] for b in batches}  # date -> [loaded, quarantined]

    for batch in batches:
        if not batch.blocked:
            continue
        reason = f"batch blocked: {batch.problems[0]}" + (f" (+{len(batch.problems) - 1} more)"
                                                           if len(batch.problems) > 1 else "")
        for name, landed in batch.tables.items():
            frame = _tagged(batch, name)
            if len(frame):
                quarantine_parts.append(_quarantine_rows(contract.name, landed.contract, frame,
                                                         [reason] * len(frame), ["batch_blocked"] * len(frame)))
                counts[batch.batch_date][1] += len(frame)

    usable = [b for b in batches if not b.blocked]
    for table in contract.tables:
        parts = [_tagged(b, table.table) for b in usable if table.table in b.tables]
        if not parts:
            loaded[table.table] = pd.DataFrame()
            continue
        raw = pd.concat(parts, ignore_index=True)
        typed, type_reasons = coerce(raw, table)
        # A row that cannot be parsed or typed is quarantined for that reason alone.
        first_reason = raw[PARSE_ERROR].astype(object).where(raw[PARSE_ERROR].notna(), type_reasons)
        first_kind = np.where(raw[PARSE_ERROR].notna(), "parse_error", "type_mismatch").astype(object)
        checkable = first_reason.isna().to_numpy().copy()
        resent = _exact_duplicates(typed, table, checkable)
        for index, original in resent.items():
            first_reason.iat[index] = f"exact duplicate of row {original} in the batch (re-sent); the first copy loads"
            first_kind[index] = "exact_duplicate"
            checkable[index] = False
        frame = typed.loc[checkable, table.column_names + [BATCH_DATE]].copy()
        for name, values in derived_columns(table.table, frame, reference).items():
            frame[name] = values
        failures, table_stats = run_suite(table.table, frame, reference)
        stats.extend(table_stats)
        expectation_of_reason = {s.reason: s.expectation for s in table_stats}
        bad = ~checkable
        if failures:
            bad[list(failures)] = True
        rows = np.flatnonzero(bad)
        if rows.size:
            reasons = ["; ".join(failures[i]) if i in failures else first_reason.iat[i] for i in rows]
            kinds = [", ".join(dict.fromkeys(expectation_of_reason.get(r, r) for r in failures[i])) if i in failures
                     else first_kind[i] for i in rows]
            quarantine_parts.append(_quarantine_rows(contract.name, table, raw.iloc[rows], reasons, kinds))
        good = typed.loc[~bad, table.column_names + [BATCH_DATE, BATCH_ID, SOURCE_FILE, ROW_NUMBER]]
        loaded[table.table] = good.reset_index(drop=True)
        reference = reference.extended_with(table.table, loaded[table.table])
        per_date = pd.DataFrame({"date": raw[BATCH_DATE].dt.date, "bad": bad}).groupby("date")["bad"].agg(["sum", "size"])
        for date, row in per_date.iterrows():
            counts[date][0] += int(row["size"] - row["sum"])
            counts[date][1] += int(row["sum"])

    outcomes = [
        BatchOutcome(contract.name, b.batch_date, b.batch_id, "blocked" if b.blocked else "loaded", b.rows_landed,
                     counts[b.batch_date][0], counts[b.batch_date][1], b.files, list(b.problems), list(b.notes))
        for b in batches
    ]
    quarantine = (pd.concat(quarantine_parts, ignore_index=True) if quarantine_parts
                  else pd.DataFrame(columns=QUARANTINE_COLUMNS))
    return ValidationResult(contract.name, loaded, quarantine, outcomes, stats)
