"""The command line's arguments: every subcommand, its options and their checks. No work happens here.

Each subcommand names the function that runs it (``handler``); the modules holding them import
their heavy libraries inside the functions, so ``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from orchestration.cli import bench, demo, pipeline, reasoning, status, ui, world

DEFAULT_SCENARIO_HELP = "scenario YAML (default: commerce_sim/scenarios/default.yaml)"


class _Formatter(argparse.HelpFormatter):
    """Shows an option's default where it has a real one (not None, not a flag's False)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and "%(default)" not in text:
            text += " (default: %(default)s)"
        return text


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (use YYYY-MM-DD)") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be 1 or more")
    return value


def _port(text: str) -> int:
    value = _positive(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port (1 .. 65535)")
    return value


def _existing_file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text}: no such file")
    return path


def _size_options(parser: argparse.ArgumentParser, days_help: str) -> None:
    parser.add_argument("--scenario", type=_existing_file, help=DEFAULT_SCENARIO_HELP)
    parser.add_argument("--days", type=_positive, help=days_help)
    parser.add_argument("--products", type=_positive, help="number of products (default: the scenario's)")
    parser.add_argument("--customers", type=_positive, help="number of customers at the start (default: the scenario's)")
    parser.add_argument("--seed", type=int, help="random seed (default: the scenario's)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentic-commerce",
        description="Agentic Commerce: simulate a shop, run its data platform (perception and reasoning) through "
                    "Dagster, inspect the results. Runtime state lives in $AGENTIC_COMMERCE_DATA_DIR (default ./data).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, handler, help_: str, description: str) -> argparse.ArgumentParser:
        created = sub.add_parser(name, help=help_, description=description, formatter_class=_Formatter)
        created.set_defaults(handler=handler)
        return created

    demo_parser = command(
        "demo", demo.demo, "simulate a shop, run perception and reasoning through Dagster, print a summary",
        "Simulate a year of the default shop (or what the options say), ingest and validate it, build the marts, "
        "train and gate the forecast and elasticity models and serve them, all through Dagster against the "
        "persistent Dagster home in the data directory; print rows, checks, timings and how to query the result. "
        "On an existing world only what is new runs.")
    _size_options(demo_parser, "days of history to simulate (default: the scenario's history_days, 365)")
    demo_parser.add_argument("--fresh", action="store_true",
                             help="delete the existing world, landing zone, warehouse, models and Dagster history first")

    simulate = command(
        "simulate", world.simulate, "create the embedded world or advance it by some days",
        "Without a world: create one from a scenario and simulate its whole history (--days overrides its length). "
        "With a world: advance it by --days days (default 1). Each day's batches land in the landing zone.")
    _size_options(simulate, "new world: days of history (default: the scenario's); existing world: days to "
                            "advance (default 1)")
    simulate.add_argument("--reset", action="store_true", help="replace an existing world (its landing batches too)")

    ingest = command(
        "ingest", pipeline.ingest, "ingest landed dates, rebuild the marts, refresh forecasts",
        "Ingest and validate landed dates (one Dagster run per range), rebuild the marts and the analyst database, "
        "and refresh the forecasts when champion models exist. Without dates: every landed date not yet ingested. "
        "Dates that never landed, are still landing or are being ingested by another run are refused.")
    ingest.add_argument("--date", type=_date, help="a single batch date (YYYY-MM-DD)")
    ingest.add_argument("--start", type=_date, help="first date of a range")
    ingest.add_argument("--end", type=_date, help="last date of a range (inclusive)")
    ingest.add_argument("--force", action="store_true", help="ingest dates again even if their batches did not change")

    train = command(
        "train", reasoning.train, "train both models, gate them against the champions, refresh forecasts",
        "Run the train_models job (demand_forecast and price_elasticity: fit before a time-based holdout, score "
        "against the champion, register in MLflow, promote only a winner), then refresh_forecasts, through Dagster. "
        "With too little history the models skip training and say why.")
    train.add_argument("--no-refresh", action="store_true", help="only train; do not refresh the forecasts")
    command("forecast", reasoning.forecast, "refresh forecasts and elasticities from the champion models",
            "Run the refresh_forecasts job: 14-day demand forecasts and elasticities from models:/<name>@champion "
            "into the reasoning schema, then republish the analyst database.")

    bench_parser = sub.add_parser("bench", help="benchmarks that print figures (`bench models`, `bench boundary`)",
                                  description="Benchmarks that print figures. `bench models` compares our forecast "
                                              "and elasticity models with baselines and the simulated world's truth; "
                                              "`bench boundary` feeds the boundary validator damaged batches.")
    bench_sub = bench_parser.add_subparsers(dest="bench_target", metavar="TARGET", required=True)
    models = bench_sub.add_parser(
        "models", formatter_class=_Formatter,
        help="forecast, elasticity and counterfactual accuracy against baselines and the truth",
        description="Simulate the scenario (cached under $AGENTIC_COMMERCE_DATA_DIR/bench/), run perception through "
                    "Dagster, fit every model before one time-based holdout and score it. Prints a table; "
                    "--json writes every figure.")
    models.set_defaults(handler=bench.bench_models)
    models.add_argument("--scenario", type=_existing_file, help=DEFAULT_SCENARIO_HELP)
    models.add_argument("--json", type=Path, dest="json_path", help="write the full result as JSON here")
    models.add_argument("--products", type=_positive, help="override the scenario's number of products")
    models.add_argument("--days", type=_positive, help="override the scenario's days of history")
    models.add_argument("--holdout-days", type=_positive, default=28,
                        help="days at the end held out (two 14-day forecast origins)")
    models.add_argument("--rebuild", action="store_true", help="re-simulate even if a cached world exists")
    boundary = bench_sub.add_parser(
        "boundary", formatter_class=_Formatter,
        help="adversarial landing batches through the boundary validator: no escaped exception, nothing lost",
        description="Generate damaged batches for every source and format (bytes, encodings, field sizes, numbers, "
                    "dates, identifiers, manifests), validate them with the code the ingest asset runs, and count "
                    "blocked, loaded and quarantined outcomes, escaped exceptions and broken invariants "
                    "(landed = loaded + quarantined). Exits 1 if anything escaped or broke.")
    boundary.set_defaults(handler=bench.bench_boundary)
    boundary.add_argument("--examples", type=_positive, default=2000, help="batches to generate")
    boundary.add_argument("--seed", type=int, default=0, help="random seed of the generator")
    boundary.add_argument("--json", type=Path, dest="json_path", help="write the full result as JSON here")

    command("publish", pipeline.publish, "refresh the read-only analyst database from the warehouse",
            "Copy the marts and reasoning tables into a new analytics.duckdb and swap it in atomically.")
    command("status", status.status, "the data directory: world, landing zone, warehouse, models, forecasts",
            "Summarize what is in the data directory: the world, landed and ingested dates, rows per source, "
            "the champion models and the newest forecasts.")
    check = command("check-scenario", world.check_scenario, "validate a scenario YAML file",
                    "Validate a scenario file against the schema and print what it describes.")
    check.set_defaults(uses_data_dir=False)
    check.add_argument("path", type=Path, help="the scenario YAML file")
    dbt = command("dbt-parse", pipeline.dbt_parse, "(re)build the dbt manifest dagster-dbt loads",
                  "Run `dbt parse` when the dbt project changed since the last manifest (done by `make install`).")
    dbt.add_argument("--force", action="store_true", help="parse even if the manifest looks current")
    ui_parser = command(
        "ui", ui.ui, "serve the Dagster UI and the MLflow UI over the data directory",
        "Start `dagster dev` (workspace.yaml: sensors and automation run) and an MLflow server with one worker, "
        "both over the data directory; their logs go to <data>/logs. Ctrl-C stops both.")
    ui_parser.add_argument("--dagster-port", type=_port, default=3000, help="port of the Dagster UI")
    ui_parser.add_argument("--mlflow-port", type=_port, default=5000, help="port of the MLflow UI")
    ui_parser.add_argument("--host", default="127.0.0.1", help="interface both servers listen on")
    sql = command("sql", ui.sql, "open the DuckDB shell on the analyst database (read-only)",
                  "Open `duckdb -readonly` on analytics.duckdb; any further arguments go to duckdb, e.g. "
                  "`agentic-commerce sql -c 'SELECT count(*) FROM fct_daily_sales'`.")
    sql.set_defaults(passes_arguments_on=True)
    return parser
