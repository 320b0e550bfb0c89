"""``demo``: the main job — a simulated shop through perception and reasoning, then a summary.

On an existing world it only does what is new: dates already ingested with the same batches are
not ingested again, and the models retrain only when there is new data or no champion yet.
"""

from __future__ import annotations

import shutil
import time

from orchestration.cli.errors import CliError
from orchestration.cli.output import say
from orchestration.cli.platform import Platform
from orchestration.cli.reasoning import print_reasoning_summary, run_reasoning, skipped_reason
from orchestration.cli.world import create_world, load_scenario, open_world, remove_world


def demo(args) -> int:
    platform = Platform()
    paths = platform.paths
    if args.fresh:
        say(f"--fresh: removing the world, landing zone, warehouse, models and Dagster history in {paths.root}")
        remove_world(platform)
        for path in (paths.warehouse, paths.analytics, paths.warehouse.with_name(paths.warehouse.name + ".wal")):
            path.unlink(missing_ok=True)
        for directory in (paths.dagster_home, paths.mlflow):
            shutil.rmtree(directory, ignore_errors=True)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    if platform.world_exists():
        _refuse_a_different_world(platform, args)
        say(f"[1/4] reusing the simulated world in {paths.simulator} (--fresh rebuilds it)")
    else:
        say("[1/4] simulating the shop")
        create_world(platform, load_scenario(args.scenario, days=args.days, products=args.products,
                                             customers=args.customers, seed=args.seed))
    timings["simulate"] = time.perf_counter() - started

    from orchestration.cli.pipeline import champions_exist, plan_ingest, run_perception

    say(f"[2/4] perception through Dagster (Dagster home: {paths.dagster_home})")
    started = time.perf_counter()
    plan = plan_ingest(platform)
    reports = []
    if plan.unchanged:
        say(f"  {len(plan.unchanged)} date(s) already ingested with the same batches: not ingested again")
    if plan.to_ingest:
        reports = run_perception(platform, plan.to_ingest)
    else:
        say("  nothing new to ingest")
    timings["perception"] = time.perf_counter() - started
    perceived = all(r.success for r in reports) and paths.analytics.is_file()

    reasoning = []
    if not perceived:
        say("[3/4] reasoning skipped: perception did not succeed")
    elif plan.to_ingest or not champions_exist(platform):
        say("[3/4] reasoning through Dagster: train, gate, register, forecast")
        started = time.perf_counter()
        reasoning = run_reasoning(platform)
        timings["reasoning"] = time.perf_counter() - started
        reason = skipped_reason(reasoning)
        if reason:
            say(f"  reasoning skipped: {reason}")
    else:
        say("[3/4] reasoning: no new data and champions exist; nothing to train")
    say("[4/4] summary")
    print_summary(platform, reports + reasoning, timings)
    if reasoning or champions_exist(platform):
        say("")
        say("Reasoning")
        print_reasoning_summary(platform)
        say(f"  MLflow store: {paths.mlflow} (make ui: MLflow on http://127.0.0.1:5000)")
    return 0 if perceived and all(r.success for r in reasoning) else 1


def _refuse_a_different_world(platform: Platform, args) -> None:
    if not (args.days or args.products or args.scenario):
        return
    sim = open_world(platform)
    wanted = load_scenario(args.scenario, days=args.days, products=args.products)
    if (sim.scenario.catalog.n_products, sim.scenario.history_days) != (wanted.catalog.n_products,
                                                                      wanted.history_days):
        raise CliError(f"{platform.paths.simulator} already holds a world of {sim.scenario.catalog.n_products} "
                       f"products and {sim.scenario.history_days} days; run with --fresh (or `make clean`) to "
                       "rebuild it")


def print_summary(platform: Platform, reports: list, timings: dict[str, float]) -> None:
    from warehouse.reports import EXAMPLE_QUERY, example_query, source_totals, top_quarantine_reasons

    paths = platform.paths
    say("")
    say("Times")
    for stage, seconds in timings.items():
        say(f"  {stage:<44} {seconds:7.1f} s")
    for report in reports:
        for stage, seconds in report.stage_seconds.items():
            say(f"    {stage:<42} {seconds:7.1f} s")
    if paths.analytics.is_file():
        say("")
        say("Rows per source (latest batch per date)")
        say(f"  {'source':<18} {'batches':>7} {'blocked':>7} {'loaded':>11} {'quarantined':>11}")
        for row in source_totals(paths.analytics):
            say(f"  {row.source:<18} {row.batches:>7} {row.blocked:>7} {row.rows_loaded:>11,} "
                f"{row.rows_quarantined:>11,}")
        reasons = top_quarantine_reasons(paths.analytics)
        if reasons:
            say("  top quarantine reasons:")
            for where, reason, count in reasons:
                say(f"    {count:>5} x {where}: {reason[:90]}")
    checks = [check for report in reports for check in report.checks]
    failed = [check for check in checks if not check.passed]
    kinds = {"boundary checks on ingestion": ("raw",), "dbt tests": ("staging", "intermediate", "marts"),
             "champion gates": ("models",)}
    counts = ", ".join(f"{sum(c.asset.split('/')[0] in prefixes for c in checks)} {kind}"
                       for kind, prefixes in kinds.items())
    say("")
    say(f"Checks: {len(checks) - len(failed)} passed, {len(failed)} failed ({counts})"
        if checks else "Checks: none ran (nothing new)")
    for check in failed:
        say(f"  FAILED {check.asset}:{check.check} ({check.severity}) {check.description or ''}"[:200])
    say("")
    if paths.analytics.is_file():
        say(f"Analyst database: {paths.analytics}  (read-only snapshot, safe while pipelines run)")
        say(f"  make sql   (or: .venv/bin/duckdb -readonly {paths.analytics})")
        say("Example query (revenue by category, last 30 days):")
        say("  " + EXAMPLE_QUERY.replace("\n", "\n  "))
        say(f"  {'category':<14} {'units':>8} {'revenue':>12} {'stockout %':>10}")
        for category, units, revenue, stockout in example_query(paths.analytics):
            say(f"  {category:<14} {units:>8,} {revenue:>12,.0f} {stockout:>10}")
    say("")
    say("See the runs, checks and lineage: make ui  (Dagster on http://127.0.0.1:3000)")
    say(f"Library logs: {platform.log_file}")
