"""What each ``agentic-commerce`` subcommand does (argument parsing lives in ``orchestration.cli``)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from orchestration.cli import CliError
from orchestration.settings import PROJECT_ROOT, DataPaths, export_environment

EXAMPLE_QUERY = """\
SELECT p.category,
       sum(s.units)                  AS units,
       round(sum(s.revenue), 0)      AS revenue,
       round(avg(s.is_stockout::INT) * 100, 1) AS stockout_pct
FROM fct_daily_sales s JOIN dim_products p USING (product_id)
WHERE s.date > (SELECT max(date) FROM fct_daily_sales) - INTERVAL 30 DAY
GROUP BY ALL ORDER BY revenue DESC"""


def _say(message: str) -> None:
    print(message, flush=True)


# ------------------------------------------------------------------------------------------ world
def _scenario(args):
    from commerce_sim.scenario import ScenarioError, load_scenario

    try:
        scenario = load_scenario(args.scenario)
        return scenario.with_overrides(days=args.days, products=args.products, customers=args.customers,
                                       seed=args.seed)
    except ScenarioError as error:
        raise CliError(str(error)) from None


def _world_exists(paths: DataPaths) -> bool:
    return (paths.simulator / "state" / "state.pkl").is_file()


def _remove_world(paths: DataPaths) -> None:
    for path in (paths.simulator, paths.landing):
        shutil.rmtree(path, ignore_errors=True)


def _progress(done: int, total: int, date: dt.date) -> None:
    if done == total or done % 30 == 0:
        _say(f"  simulated {done:>4}/{total} days (up to {date})")


def _open_world(paths: DataPaths):
    from commerce_sim.simulator import Simulator, StateError

    try:
        return Simulator.open(paths.simulator, paths.landing)
    except StateError as error:
        raise CliError(str(error)) from None


def simulate(args) -> int:
    from commerce_sim.simulator import Simulator

    paths = export_environment()
    if args.reset:
        _remove_world(paths)
    if _world_exists(paths):
        if args.scenario or args.products or args.customers or args.seed is not None:
            raise CliError(f"a world already exists in {paths.simulator}; its scenario cannot change — "
                           "advance it with `simulate --days N`, or start over with --reset")
        sim = _open_world(paths)
        days = args.days or 1
        _say(f"advancing the world from {sim.current_date} by {days} day(s)")
    else:
        scenario = _scenario(args)
        sim = Simulator.create(scenario, paths.simulator, paths.landing)
        days = scenario.history_days
        _say(f"created world '{scenario.name}' ({scenario.catalog.n_products} products, "
             f"{len(scenario.channels)} channels, {len(scenario.warehouses)} warehouses, "
             f"{scenario.customers.n_customers} customers); simulating {days} days from {scenario.start_date}")
    summary = sim.advance(days, progress=_progress)
    _say(f"landed {summary.days} day(s) {summary.first_date} .. {summary.last_date} into {paths.landing} "
         f"in {summary.seconds:.1f} s")
    return 0


# ------------------------------------------------------------------------------------------ pipeline
def _landed_dates(paths: DataPaths) -> list[dt.date]:
    dates = {p.parent.name for p in paths.landing.glob("*/*/_manifest.json")}
    return sorted(dt.date.fromisoformat(d) for d in dates)


def _run(start: dt.date, end: dt.date) -> list:
    from orchestration.partitions import DAILY
    from orchestration.runner import run_perception

    first = DAILY.start.date()
    if start < first:
        raise CliError(f"{start} is before the first daily partition {first}; set "
                       f"AGENTIC_COMMERCE_PARTITIONS_START={start} (it must be set for `make ui` too)")
    last = dt.date.fromisoformat(DAILY.get_last_partition_key())
    if end > last:
        raise CliError(f"{end} is after the last daily partition {last}: partitions follow the real calendar, "
                       f"and the simulated world has run ahead of the calendar")
    paths = export_environment()
    log = paths.root / "logs" / f"pipeline-{dt.datetime.now():%Y%m%d-%H%M%S}.log"
    _say(f"ingesting {start} .. {end} as one Dagster run, then building the marts (dbt output: {log}) ...")
    reports = run_perception(start, end, output_log=log, log_level="INFO")  # INFO: one line per step
    for report in reports:
        failed = report.checks_failed
        _say(f"  {report.job}: run {report.run_id} {'succeeded' if report.success else 'FAILED'} in "
             f"{report.seconds:.1f} s; {len(report.checks) - len(failed)}/{len(report.checks)} checks passed")
        for check in failed:
            _say(f"    check {check.asset}:{check.check} {check.severity}: {check.description or ''}"[:300])
        if report.failure:
            _say(f"    failure: {report.failure[:500]}")
    if len(reports) == 1 and not reports[0].success:
        _say("  the marts were not rebuilt: nothing downstream uses a batch that failed its checks")
    return reports


def _succeeded(reports: list) -> bool:
    return len(reports) == 2 and all(report.success for report in reports)


def ingest(args) -> int:
    paths = export_environment()
    if args.date and (args.start or args.end):
        raise CliError("give either --date or --start/--end, not both")
    if args.date:
        start = end = args.date
    elif args.start or args.end:
        if not (args.start and args.end):
            raise CliError("a range needs both --start and --end")
        start, end = args.start, args.end
    else:
        dates = _landed_dates(paths)
        if not dates:
            raise CliError(f"nothing has landed in {paths.landing}: run `agentic-commerce simulate` first")
        start, end = dates[0], dates[-1]
    if end < start:
        raise CliError(f"--end {end} is before --start {start}")
    return 0 if _succeeded(_run(start, end)) else 1


def publish(args) -> int:
    from orchestration.publish import publish_analytics

    paths = export_environment()
    try:
        summary = publish_analytics(paths.warehouse, paths.analytics)
    except (FileNotFoundError, RuntimeError) as error:
        raise CliError(str(error)) from None
    _say(f"published {len(summary.tables)} tables to {summary.path} in {summary.seconds:.1f} s")
    return 0


def dbt_parse(args) -> int:
    from orchestration.dbt import prepare_manifest

    _say(f"dbt manifest: {prepare_manifest()}")
    return 0


def check_scenario(args) -> int:
    from commerce_sim.scenario import ScenarioError, load_scenario

    try:
        scenario = load_scenario(args.path)
    except ScenarioError as error:
        raise CliError(str(error)) from None
    _say(f"{args.path}: valid scenario '{scenario.name}': {scenario.catalog.n_products} products in "
         f"{len(scenario.catalog.categories)} categories, {len(scenario.channels)} channels, "
         f"{len(scenario.warehouses)} warehouses, {scenario.customers.n_customers} customers, "
         f"{scenario.history_days} days from {scenario.start_date}, seed {scenario.seed}")
    return 0


# ------------------------------------------------------------------------------------------ reasoning
def _run_reasoning(paths: DataPaths, *, train: bool = True, refresh: bool = True) -> list:
    from orchestration.runner import run_reasoning

    if not paths.analytics.exists():
        raise CliError(f"no analyst database at {paths.analytics}: run `agentic-commerce demo` (or ingest) first")
    log = paths.root / "logs" / f"reasoning-{dt.datetime.now():%Y%m%d-%H%M%S}.log"
    what = {(True, True): "training and gating both models, then refreshing forecasts",
            (True, False): "training and gating both models",
            (False, True): "refreshing forecasts and elasticities from the champions"}[(train, refresh)]
    _say(f"{what} (MLflow store: {paths.mlflow}) ...")
    reports = run_reasoning(output_log=log, log_level="INFO", train=train, refresh=refresh)
    for report in reports:
        _say(f"  {report.job}: run {report.run_id} {'succeeded' if report.success else 'FAILED'} in {report.seconds:.1f} s")
        for check in report.checks:
            _say(f"    {check.asset} {check.check}: {'promoted' if check.passed else 'kept the champion'}: "
                 f"{check.description or ''}"[:240])
        if report.failure:
            _say(f"    failure: {report.failure[:500]}")
    return reports


def _print_reasoning_summary(paths: DataPaths) -> None:
    try:
        rows = _analytics_rows(paths, """
            SELECT min(origin), count(*), count(DISTINCT product_id), any_value(model_version),
                   round(sum(p50) FILTER (horizon <= 7)), round(sum(p10) FILTER (horizon <= 7)),
                   round(sum(p90) FILTER (horizon <= 7)), count(planned_discount_pct)
            FROM reasoning.demand_forecasts WHERE origin = (SELECT max(origin) FROM reasoning.demand_forecasts)""")
        elasticity = _analytics_rows(paths, """
            SELECT any_value(model_version), count(*), round(median(elasticity), 2),
                   round(avg(weak_instrument::INT) * 100, 1)
            FROM reasoning.price_elasticities""")
    except Exception as error:  # no reasoning tables yet: say so instead of failing the summary
        _say(f"  reasoning tables not published yet ({str(error).splitlines()[0][:120]})")
        return
    origin, count, products, version, p50, p10, p90, planned = rows[0]
    _say(f"  reasoning.demand_forecasts: {count:,} rows from origin {origin:%Y-%m-%d} for {products} products "
         f"(demand_forecast v{version}), {planned:,} of them on scheduled promotion days; next 7 days, summed "
         f"over rows: P50 {p50:,.0f} units (row P10s {p10:,.0f}, row P90s {p90:,.0f})")
    version, count, median, weak = elasticity[0]
    _say(f"  reasoning.price_elasticities: {count} products (price_elasticity v{version}), median elasticity "
         f"{median}, weak first stage for {weak}%")


def train(args) -> int:
    paths = export_environment()
    reports = _run_reasoning(paths, train=True, refresh=not args.no_refresh)
    if not args.no_refresh:
        _print_reasoning_summary(paths)
    return 0 if all(r.success for r in reports) else 1


def forecast(args) -> int:
    paths = export_environment()
    reports = _run_reasoning(paths, train=False)
    _print_reasoning_summary(paths)
    return 0 if all(r.success for r in reports) else 1


# ------------------------------------------------------------------------------------------ bench
def bench_models(args) -> int:
    """Simulate (or reuse) the scenario's world in its own data directory, run perception, benchmark."""
    import hashlib
    import json

    base = export_environment()
    scenario = _scenario(argparse_namespace(scenario=args.scenario, days=args.days, products=args.products))
    digest = hashlib.sha256(scenario.model_dump_json().encode()).hexdigest()[:8]
    paths = DataPaths(base.root / "bench" / f"{scenario.name}-{digest}")
    if args.rebuild:
        shutil.rmtree(paths.root, ignore_errors=True)
    export_environment(paths)
    started = time.perf_counter()
    if not paths.analytics.exists():
        from commerce_sim.simulator import Simulator

        _remove_world(paths)
        _say(f"[1/3] simulating '{scenario.name}' ({scenario.catalog.n_products} products, {scenario.history_days} days) "
             f"into {paths.root}")
        Simulator.create(scenario, paths.simulator, paths.landing).advance(scenario.history_days, progress=_progress)
        dates = _landed_dates(paths)
        _say("[2/3] perception through Dagster")
        if not _succeeded(_run(dates[0], dates[-1])):
            raise CliError(f"perception failed for the benchmark world in {paths.root}; see the log above")
    else:
        _say(f"[1-2/3] reusing the benchmark world in {paths.root} (--rebuild to simulate again)")
    prepare_seconds = time.perf_counter() - started
    from evaluation.model_benchmark import benchmark_models, format_table
    from ml.panel import PanelError, read_promotion_days, read_sales_panel

    _say("[3/3] fitting and scoring the models")
    panel = read_sales_panel(paths.analytics)
    try:
        promotions = read_promotion_days(paths.analytics)
    except PanelError as error:  # a world built by an older version, before the promotion calendar mart
        raise CliError(f"{error}; run `bench models` again with --rebuild") from error
    try:
        result = benchmark_models(panel, paths.simulator, holdout_days=args.holdout_days, promotions=promotions,
                                  progress=lambda message: _say(f"  {message} ..."))
    except ValueError as error:  # a world too small or a holdout too short for the models: say which
        raise CliError(f"cannot benchmark the world in {paths.root}: {error}") from error
    result["scenario"] = {"name": scenario.name, "path": str(args.scenario or "default"), "digest": digest,
                          "products": scenario.catalog.n_products, "days": scenario.history_days}
    result["timing"]["prepare_world_seconds"] = prepare_seconds
    _say("")
    _say(format_table(result))
    if args.json_path:
        args.json_path.parent.mkdir(parents=True, exist_ok=True)
        args.json_path.write_text(json.dumps(result, indent=2) + "\n")
        _say(f"\nwrote {args.json_path}")
    return 0


def argparse_namespace(**values):
    """The fields ``_scenario`` reads, for commands that only take some of them."""
    import argparse

    return argparse.Namespace(**{"customers": None, "seed": None, **values})


# ------------------------------------------------------------------------------------------ status
def _analytics_rows(paths: DataPaths, sql: str) -> list[tuple]:
    import duckdb

    with duckdb.connect(str(paths.analytics), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def status(args) -> int:
    paths = export_environment()
    _say(f"data directory: {paths.root}")
    if _world_exists(paths):
        sim = _open_world(paths)
        _say(f"  world: '{sim.scenario.name}', next simulated date {sim.current_date}")
    else:
        _say("  world: none (run `agentic-commerce simulate`)")
    dates = _landed_dates(paths)
    _say(f"  landing: {len(dates)} date(s)" + (f", {dates[0]} .. {dates[-1]}" if dates else ""))
    _say(f"  warehouse: {paths.warehouse if paths.warehouse.exists() else 'not built yet'}")
    if paths.analytics.exists():
        published = _analytics_rows(paths, "SELECT max(published_at) FROM main._published")[0][0]
        _say(f"  analyst database: {paths.analytics} (published {published})")
        for source, batches, blocked, loaded, quarantined in _analytics_rows(paths, BATCH_TOTALS_SQL):
            _say(f"    {source:<18} {batches:>4} batches ({blocked} blocked) {loaded:>9,} rows loaded "
                 f"{quarantined:>6,} quarantined")
    else:
        _say("  analyst database: not published yet")
    return 0


BATCH_TOTALS_SQL = """
    SELECT source, count(*), count(*) FILTER (status = 'blocked'), sum(rows_loaded), sum(rows_quarantined)
    FROM (SELECT *, row_number() OVER (PARTITION BY source, batch_date ORDER BY ingested_at DESC) AS n
          FROM ingest.batches) WHERE n = 1 GROUP BY source ORDER BY source"""


# ------------------------------------------------------------------------------------------ demo
def demo(args) -> int:
    paths = export_environment()
    timings: dict[str, float] = {}
    if args.fresh:
        _say(f"--fresh: removing the world, landing zone, warehouse and Dagster history in {paths.root}")
        _remove_world(paths)
        for path in (paths.warehouse, paths.analytics, Path(f"{paths.warehouse}.wal")):
            path.unlink(missing_ok=True)
        shutil.rmtree(paths.dagster_home, ignore_errors=True)
    started = time.perf_counter()
    if _world_exists(paths):
        sim = _open_world(paths)
        wanted = _scenario(args)
        if (sim.scenario.catalog.n_products, sim.scenario.history_days) != (wanted.catalog.n_products,
                                                                          wanted.history_days) \
                and (args.days or args.products or args.scenario):
            raise CliError(f"{paths.simulator} already holds a world of {sim.scenario.catalog.n_products} products "
                           f"and {sim.scenario.history_days} days; run with --fresh (or `make clean`) to rebuild it")
        _say(f"[1/4] reusing the simulated world in {paths.simulator} (use --fresh to rebuild it)")
    else:
        scenario = _scenario(args)
        _say(f"[1/4] simulating {scenario.history_days} days of '{scenario.name}': {scenario.catalog.n_products} "
             f"products, {len(scenario.channels)} channels, {len(scenario.warehouses)} warehouses, "
             f"{scenario.customers.n_customers} customers")
        from commerce_sim.simulator import Simulator

        Simulator.create(scenario, paths.simulator, paths.landing).advance(scenario.history_days, progress=_progress)
    timings["simulate"] = time.perf_counter() - started
    dates = _landed_dates(paths)
    _say(f"[2/4] perception through Dagster (DAGSTER_HOME={paths.dagster_home})")
    started = time.perf_counter()
    reports = _run(dates[0], dates[-1])
    timings["perception (ingest run + build run)"] = time.perf_counter() - started
    reasoning = []
    from ml.training import ELASTICITY_HOLDOUT_DAYS, ELASTICITY_MIN_WEEKS, MIN_HISTORY_DAYS

    if _succeeded(reports) and len(dates) < MIN_HISTORY_DAYS:
        _say(f"[3/4] reasoning skipped: {len(dates)} days of history, the models need at least {MIN_HISTORY_DAYS} "
             f"(a {ELASTICITY_HOLDOUT_DAYS}-day holdout after {ELASTICITY_MIN_WEEKS} full weeks of prices and sales)")
    elif _succeeded(reports):
        _say("[3/4] reasoning through Dagster: train, gate, register, forecast")
        started = time.perf_counter()
        reasoning = _run_reasoning(paths)
        timings["reasoning (train run + forecast run)"] = time.perf_counter() - started
    _say("[4/4] summary")
    _print_summary(paths, reports + reasoning, timings)
    if reasoning:
        _say("")
        _say("Reasoning")
        _print_reasoning_summary(paths)
        _say(f"  MLflow store: {paths.mlflow} (make ui: MLflow on http://127.0.0.1:5000)")
    return 0 if _succeeded(reports) and all(r.success for r in reasoning) else 1


def _stage_times(reports) -> dict[str, float]:
    stages: dict[str, float] = {}
    for step, seconds in (item for report in reports for item in report.step_seconds.items()):
        if step.startswith("ingest_"):
            name = "ingest + validate " + step.removeprefix("ingest_")
        elif "dbt" in step:
            name = "dbt build (models + tests)"
        elif "analytics" in step:
            name = "publish analyst database"
        elif step.startswith("models__"):
            name = "train + gate " + step.removeprefix("models__")
        elif step.startswith("reasoning__"):
            name = "serve " + step.removeprefix("reasoning__")
        else:
            name = step
        stages[name] = seconds
    return stages


def _print_summary(paths: DataPaths, reports, timings: dict[str, float]) -> None:
    checks = [check for report in reports for check in report.checks]
    _say("")
    _say("Times")
    for stage, seconds in timings.items():
        _say(f"  {stage:<44} {seconds:7.1f} s")
    for stage, seconds in _stage_times(reports).items():
        _say(f"    {stage:<42} {seconds:7.1f} s")
    if paths.analytics.exists():
        _say("")
        _say("Rows per source (latest batch per date)")
        _say(f"  {'source':<18} {'batches':>7} {'blocked':>7} {'loaded':>11} {'quarantined':>11}")
        for source, batches, blocked, loaded, quarantined in _analytics_rows(paths, BATCH_TOTALS_SQL):
            _say(f"  {source:<18} {batches:>7} {blocked:>7} {loaded:>11,} {quarantined:>11,}")
        reasons = _analytics_rows(paths, """
            SELECT source || '.' || table_name, regexp_replace(reasons, 'row [0-9]+', 'row N', 'g'), count(*)
            FROM ingest.quarantine GROUP BY ALL ORDER BY 3 DESC LIMIT 6""")
        if reasons:
            _say("  top quarantine reasons:")
            for where, reason, count in reasons:
                _say(f"    {count:>5} x {where}: {reason[:90]}")
    failed = [check for check in checks if not check.passed]
    dbt_checks = [c for c in checks if c.asset.split("/")[0] in ("staging", "intermediate", "marts")]
    gate_checks = [c for c in checks if c.asset.startswith("models/")]
    _say("")
    _say(f"Checks: {len(checks) - len(failed)} passed, {len(failed)} failed "
         f"({len(checks) - len(dbt_checks) - len(gate_checks)} boundary checks on ingestion, {len(dbt_checks)} dbt "
         f"tests, {len(gate_checks)} champion gates)")
    for check in failed:
        _say(f"  FAILED {check.asset}:{check.check} ({check.severity}) {check.description or ''}"[:200])
    _say("")
    if paths.analytics.exists():
        _say(f"Analyst database: {paths.analytics}  (read-only snapshot, safe while pipelines run)")
        _say(f"  duckdb -readonly {paths.analytics}")
        _say("Example query (revenue by category, last 30 days):")
        _say("  " + EXAMPLE_QUERY.replace("\n", "\n  "))
        rows = _analytics_rows(paths, EXAMPLE_QUERY)
        _say(f"  {'category':<14} {'units':>8} {'revenue':>12} {'stockout %':>10}")
        for category, units, revenue, stockout in rows:
            _say(f"  {category:<14} {units:>8,} {revenue:>12,.0f} {stockout:>10}")
    _say("")
    _say("See the runs, checks and lineage: make ui  (Dagster on http://127.0.0.1:3000)")


# ------------------------------------------------------------------------------------------ ui
def _require_free_port(host: str, port: int, option: str) -> None:
    """Fail before starting anything when a port is taken (typically by another `make ui`): otherwise one
    server dies on start-up with a bare "Address already in use" and takes the other down with it."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: TIME_WAIT is no conflict
        try:
            probe.bind((host, port))
        except OSError as error:
            raise CliError(f"port {port} on {host} is not available ({error.strerror}): is another `make ui` "
                           f"running? Stop it or pick another port with {option}") from error


def ui(args) -> int:
    from orchestration.dbt import prepare_manifest
    from orchestration.instance import ensure_dagster_home

    _require_free_port(args.host, args.dagster_port, "--dagster-port")
    _require_free_port(args.host, args.mlflow_port, "--mlflow-port")
    paths = export_environment()
    ensure_dagster_home(paths)
    prepare_manifest()
    paths.mlflow.mkdir(parents=True, exist_ok=True)
    binaries = Path(sys.executable).parent
    commands = {
        "dagster": [str(binaries / "dagster"), "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"),
                    "-h", args.host, "-p", str(args.dagster_port)],
        "mlflow": [str(binaries / "mlflow"), "ui", "--backend-store-uri", f"sqlite:///{paths.mlflow / 'mlflow.db'}",
                   "--default-artifact-root", str(paths.mlflow / "artifacts"), "--host", args.host,
                   "--port", str(args.mlflow_port)],
    }
    processes = {name: subprocess.Popen(command, cwd=PROJECT_ROOT, env=os.environ.copy())
                 for name, command in commands.items()}
    _say(f"Dagster UI: http://{args.host}:{args.dagster_port}   MLflow UI: http://{args.host}:{args.mlflow_port}")
    _say(f"data directory: {paths.root}  (Ctrl-C stops both)")
    try:
        while all(process.poll() is None for process in processes.values()):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    exited = {name: p.returncode for name, p in processes.items() if p.returncode not in (0, None, -2, 130)}
    for name, code in exited.items():
        _say(f"{name} exited with code {code}; both servers are stopped (see its output above)")
    return 1 if exited else 0
