"""``bench``: benchmarks that print figures (``bench models``, ``bench boundary``)."""

from __future__ import annotations

import hashlib
import json
import shutil
import time

from orchestration.cli.errors import CliError
from orchestration.cli.output import Progress, say
from orchestration.cli.platform import Platform
from orchestration.cli.world import create_world, load_scenario
from orchestration.settings import DataPaths, data_paths


def bench_world(scenario, *, rebuild: bool = False) -> Platform:
    """The scenario simulated and perceived in its own data directory (``<data>/bench/<name>-<hash>``), reused."""
    from orchestration.cli.pipeline import plan_ingest, run_perception

    digest = hashlib.sha256(scenario.model_dump_json().encode()).hexdigest()[:8]
    root = data_paths().bench / f"{scenario.name}-{digest}"
    if rebuild:
        shutil.rmtree(root, ignore_errors=True)
    platform = Platform(DataPaths(root))
    if platform.paths.analytics.is_file():
        say(f"[1-2/3] reusing the benchmark world in {root} (--rebuild to simulate again)")
        return platform
    say(f"[1/3] simulating '{scenario.name}' ({scenario.catalog.n_products} products, {scenario.history_days} days) "
        f"into {root}")
    shutil.rmtree(root, ignore_errors=True)
    create_world(platform, scenario)
    say("[2/3] perception through Dagster")
    reports = run_perception(platform, plan_ingest(platform).to_ingest)
    if not all(r.success for r in reports):
        raise CliError(f"perception failed for the benchmark world in {root}; see the lines above")
    return platform


def bench_models(args) -> int:
    """Simulate (or reuse) the scenario's world, run perception, fit every model, score against the truth."""
    from evaluation.model_benchmark import benchmark_models, format_table
    from ml.panel import PanelError, read_promotion_days, read_sales_panel

    scenario = load_scenario(args.scenario, days=args.days, products=args.products)
    started = time.perf_counter()
    platform = bench_world(scenario, rebuild=args.rebuild)
    prepare_seconds = time.perf_counter() - started
    paths = platform.paths
    say("[3/3] fitting and scoring the models")
    panel = read_sales_panel(paths.analytics)
    try:
        promotions = read_promotion_days(paths.analytics)
    except PanelError as error:  # a world built by an older version, before the promotion calendar mart
        raise CliError(f"{error}; run `bench models` again with --rebuild") from error
    try:
        result = benchmark_models(panel, paths.simulator, holdout_days=args.holdout_days, promotions=promotions,
                                  progress=lambda message: say(f"  {message} ..."))
    except ValueError as error:  # a world too small or a holdout too short for the models: say which
        raise CliError(f"cannot benchmark the world in {paths.root}: {error}") from error
    result["scenario"] = {"name": scenario.name, "path": str(args.scenario or "default"),
                          "digest": paths.root.name.rsplit("-", 1)[-1],
                          "products": scenario.catalog.n_products, "days": scenario.history_days}
    result["timing"]["prepare_world_seconds"] = prepare_seconds
    say("")
    say(format_table(result))
    if args.json_path:
        args.json_path.parent.mkdir(parents=True, exist_ok=True)
        args.json_path.write_text(json.dumps(result, indent=2) + "\n")
        say(f"\nwrote {args.json_path}")
    return 0


def bench_boundary(args) -> int:
    """Generate adversarial landing batches for every source and count what the boundary made of them."""
    from data_quality.fuzz.bench import run_boundary_bench

    say(f"validating {args.examples:,} generated batches (seed {args.seed}) ...")
    progress = Progress("batches", args.examples, every=1000)
    result = run_boundary_bench(args.examples, seed=args.seed,
                                progress=lambda state: progress.update(min(state["generated"], args.examples)))
    say(f"generated {result['generated']:,} batches in {result['seconds']:.1f} s "
        f"({result['batches_per_second']:.1f} batches/s), {len(result['kinds'])} kinds of damage")
    say(f"  blocked with a message   {result['blocked']:>8,}")
    say(f"  loaded                   {result['loaded']:>8,} ({result['loaded_with_quarantined_rows']:,} with "
        "quarantined rows)")
    say(f"  rows landed = loaded + quarantined: {result['rows_landed']:,} = {result['rows_loaded']:,} + "
        f"{result['rows_quarantined']:,}")
    say(f"  escaped exceptions       {result['escaped_exceptions']:>8,}")
    say(f"  invariant violations     {result['violations']:>8,}")
    for failure in result["failures"][:5]:
        say(f"    {str(failure)[:300]}")
    if args.json_path:
        args.json_path.parent.mkdir(parents=True, exist_ok=True)
        args.json_path.write_text(json.dumps(result, indent=2, default=str) + "\n")
        say(f"wrote {args.json_path}")
    return 1 if result["escaped_exceptions"] or result["violations"] else 0
