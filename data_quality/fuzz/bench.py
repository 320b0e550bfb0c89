"""Run generated batches through the boundary, many at a time, and count what became of them.

Batches are validated in groups: one source, many batch dates, one ``validate_source`` call — the
call the ingest asset makes for a range of partitions — so that Great Expectations' fixed cost per
call is shared the way a multi-day ingest shares it. A group whose validation raises is validated
batch by batch again to find the batches that make it raise; each such batch counts as one escaped
exception. ``run_boundary_bench`` is what ``agentic-commerce bench boundary --examples N`` runs.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from data_quality.boundary import ValidationResult, validate_source
from data_quality.contracts import SOURCES
from data_quality.fuzz.oracle import check
from data_quality.fuzz.plan import PlannedBatch, plan_batch
from data_quality.fuzz.tables import FuzzWorld
from data_quality.fuzz.write import write_batch

FIRST_DATE = dt.date(2025, 1, 1)
GROUP_SIZE = 40
MAX_REPORTED = 20


@dataclass
class GroupOutcome:
    """One group of generated batches: the plans, the result, and whatever broke an invariant or escaped."""

    source: str
    seed: int | None
    batches: list[PlannedBatch]
    result: ValidationResult | None = None
    violations: list[str] = field(default_factory=list)
    escaped: list[str] = field(default_factory=list)  # a traceback per batch whose validation raised


def run_group(landing_root: Path, source: str, count: int, rng: random.Random, seed: int | None = None) -> GroupOutcome:
    """Plan ``count`` batches of ``source`` with ``rng``, land them under ``landing_root``, validate, check."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; known sources: {', '.join(SOURCES)}")
    if count < 1:
        raise ValueError(f"a group needs at least one batch, not {count}")
    world = FuzzWorld.draw(rng)
    dates = [FIRST_DATE + dt.timedelta(days=i) for i in range(count)]
    batches = [plan_batch(rng, world, source, date) for date in dates]
    for batch in batches:
        write_batch(landing_root, batch)
    outcome = GroupOutcome(source, seed, batches)
    try:
        outcome.result = validate_source(landing_root, SOURCES[source], dates, world.reference)
    except Exception:  # noqa: BLE001 - the point is to find and count any exception, whatever its type
        outcome.escaped = _escaping(landing_root, source, batches, world)
        return outcome
    outcome.violations = check(batches, outcome.result)
    return outcome


def _escaping(landing_root: Path, source: str, batches: list[PlannedBatch], world: FuzzWorld) -> list[str]:
    found = []
    for batch in batches:
        try:
            validate_source(landing_root, SOURCES[source], [batch.batch_date], world.reference)
        except Exception:  # noqa: BLE001
            found.append(f"{source} {batch.batch_date} ({', '.join(batch.kinds) or 'clean'}):\n"
                         f"{traceback.format_exc()}")
    return found or [f"{source}: the group raised, no batch alone does:\n{traceback.format_exc()}"]


def run_boundary_bench(examples: int, seed: int = 0, progress: Callable[[dict], None] | None = None) -> dict:
    """Generate ``examples`` batches (all sources in turn), validate them, and count the outcomes.

    Returns counts of batches (generated, blocked, loaded, loaded with quarantined rows, escaped
    exceptions, invariant violations), of rows (landed, loaded, quarantined), the damage kinds
    drawn, the first failures with the seed that reproduces their group, seconds and batches per
    second. ``progress`` is called with the running counts after every group.
    """
    if examples < 1:
        raise ValueError(f"examples must be at least 1, not {examples}")
    rng = random.Random(seed)
    sources = list(SOURCES)
    counts: Counter = Counter()
    kinds: Counter = Counter()
    failures: list[dict] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="boundary-bench-") as scratch:
        group = 0
        while counts["generated"] < examples:
            size = min(GROUP_SIZE, examples - counts["generated"])
            group_seed = rng.getrandbits(64)
            source = sources[group % len(sources)]
            root = Path(scratch) / f"group-{group}"
            outcome = run_group(root, source, size, random.Random(group_seed), group_seed)
            shutil.rmtree(root, ignore_errors=True)
            _count(outcome, counts, kinds)
            for text in outcome.escaped + outcome.violations:
                if len(failures) < MAX_REPORTED:
                    failures.append({"source": source, "group_seed": group_seed, "batches": size, "what": text})
            group += 1
            if progress:
                progress(_report(counts, kinds, failures, time.perf_counter() - started))
    return _report(counts, kinds, failures, time.perf_counter() - started)


def _count(outcome: GroupOutcome, counts: Counter, kinds: Counter) -> None:
    counts["generated"] += len(outcome.batches)
    counts["groups"] += 1
    counts["escaped_exceptions"] += len(outcome.escaped)
    counts["violations"] += len(outcome.violations)
    for batch in outcome.batches:
        kinds.update(set(batch.kinds) or {"clean"})
    if outcome.result is None:
        return
    for batch in outcome.result.batches:
        counts["blocked" if batch.status == "blocked" else "loaded"] += 1
        counts["loaded_with_quarantined_rows"] += batch.status == "loaded" and batch.rows_quarantined > 0
        counts["rows_landed"] += batch.rows_landed
        counts["rows_loaded"] += batch.rows_loaded
        counts["rows_quarantined"] += batch.rows_quarantined


def _report(counts: Counter, kinds: Counter, failures: list[dict], seconds: float) -> dict:
    return {
        "generated": counts["generated"], "blocked": counts["blocked"], "loaded": counts["loaded"],
        "loaded_with_quarantined_rows": counts["loaded_with_quarantined_rows"],
        "escaped_exceptions": counts["escaped_exceptions"],
        "violations": counts["violations"], "rows_landed": counts["rows_landed"], "rows_loaded": counts["rows_loaded"],
        "rows_quarantined": counts["rows_quarantined"], "groups": counts["groups"], "seconds": round(seconds, 1),
        "batches_per_second": round(counts["generated"] / seconds, 2) if seconds else 0.0,
        "kinds": dict(sorted(kinds.items())), "failures": list(failures),
    }
