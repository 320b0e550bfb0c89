"""``agentic-commerce``: the command line the Makefile calls.

Subcommands: ``demo`` (the main job), ``simulate`` (create or advance the embedded world),
``ingest`` (run perception for dates), ``publish``, ``status``, ``check-scenario``, ``dbt-parse``
and ``ui``. Every subcommand has ``--help``. Heavy libraries are imported inside the commands, so
``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path


class CliError(Exception):
    """A problem the user can fix; printed without a traceback."""


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


def _existing_file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text}: no such file")
    return path


def _size_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", type=_existing_file, help="scenario YAML (default: commerce_sim/scenarios/default.yaml)")
    parser.add_argument("--days", type=_positive, help="days of history to simulate (default: the scenario's history_days)")
    parser.add_argument("--products", type=_positive, help="number of products (default: the scenario's)")
    parser.add_argument("--customers", type=_positive, help="number of customers at the start (default: the scenario's)")
    parser.add_argument("--seed", type=int, help="random seed (default: the scenario's)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentic-commerce",
        description="Agentic Commerce: simulate a shop, run its data platform through Dagster, inspect the results. "
                    "Runtime state lives in $AGENTIC_COMMERCE_DATA_DIR (default ./data).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = sub.add_parser("demo", help="simulate history, run perception through Dagster, print a summary",
                          description="Simulate a year of the default shop (or what the options say), run the "
                                      "perception graph through Dagster against the persistent Dagster home in the "
                                      "data directory, and print rows, checks, timings and how to query the result.")
    _size_options(demo)
    demo.add_argument("--fresh", action="store_true",
                      help="delete the existing world, landing zone, warehouse and Dagster history first")

    simulate = sub.add_parser("simulate", help="create the embedded world or advance it by some days",
                              description="Create a world from a scenario (if none exists, or with --reset) and "
                                          "simulate days, exporting each day's batches into the landing zone.")
    _size_options(simulate)
    simulate.add_argument("--reset", action="store_true", help="replace an existing world (its landing batches too)")

    ingest = sub.add_parser("ingest", help="run the perception job (ingest, validate, dbt, publish) for dates",
                            description="Run the perception job for one date or a range as one Dagster run. "
                                        "Without dates: every landed date.")
    ingest.add_argument("--date", type=_date, help="a single batch date (YYYY-MM-DD)")
    ingest.add_argument("--start", type=_date, help="first date of a range")
    ingest.add_argument("--end", type=_date, help="last date of a range (inclusive)")

    train = sub.add_parser("train", help="train both models, gate them against the champions, refresh forecasts",
                           description="Run the train_models job (demand_forecast and price_elasticity: fit before a "
                                       "time-based holdout, score against the champion, register in MLflow, promote "
                                       "only a winner), then refresh_forecasts, through Dagster.")
    train.add_argument("--no-refresh", action="store_true", help="only train; do not refresh the forecasts")
    sub.add_parser("forecast", help="refresh forecasts and elasticities from the champion models",
                   description="Run the refresh_forecasts job: 14-day demand forecasts and elasticities from "
                               "models:/<name>@champion into the reasoning schema, then republish.")
    bench = sub.add_parser("bench", help="benchmarks (`bench models`)",
                           description="Benchmarks that print figures. `bench models` compares our forecast and "
                                       "elasticity models with baselines and the simulated world's truth.")
    bench_sub = bench.add_subparsers(dest="bench_target", metavar="TARGET", required=True)
    bench_models = bench_sub.add_parser(
        "models", help="forecast, elasticity and counterfactual accuracy against baselines and the truth",
        description="Simulate the scenario (cached under $AGENTIC_COMMERCE_DATA_DIR/bench/), run perception through "
                    "Dagster, fit every model before one time-based holdout and score it. Prints a table; "
                    "--json writes every figure.")
    bench_models.add_argument("--scenario", type=_existing_file,
                              help="scenario YAML (default: commerce_sim/scenarios/default.yaml)")
    bench_models.add_argument("--json", type=Path, dest="json_path", help="write the full result as JSON here")
    bench_models.add_argument("--products", type=_positive, help="override the scenario's number of products")
    bench_models.add_argument("--days", type=_positive, help="override the scenario's days of history")
    bench_models.add_argument("--holdout-days", type=_positive, default=28,
                              help="days at the end held out (default 28: two 14-day forecast origins)")
    bench_models.add_argument("--rebuild", action="store_true", help="re-simulate even if a cached world exists")

    sub.add_parser("publish", help="refresh the read-only analyst database from the warehouse",
                   description="Copy the marts into a new analytics.duckdb and swap it in atomically.")
    sub.add_parser("status", help="show the data directory: world, landing zone, warehouse, analyst database",
                   description="Summarize what is in the data directory.")
    check = sub.add_parser("check-scenario", help="validate a scenario YAML file",
                           description="Validate a scenario file against the schema and print what it describes.")
    check.add_argument("path", type=Path, help="the scenario YAML file")
    sub.add_parser("dbt-parse", help="(re)build the dbt manifest dagster-dbt loads",
                   description="Run `dbt parse` when the dbt project changed since the last manifest.")
    ui = sub.add_parser("ui", help="serve the Dagster UI and the MLflow UI over the data directory",
                        description="Start `dagster dev` (workspace.yaml) and `mlflow ui` on the data directory.")
    ui.add_argument("--dagster-port", type=_positive, default=3000)
    ui.add_argument("--mlflow-port", type=_positive, default=5000)
    ui.add_argument("--host", default="127.0.0.1")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from orchestration import commands

    name = args.command if args.command != "bench" else f"bench_{args.bench_target}"
    handler = getattr(commands, name.replace("-", "_"))
    try:
        return int(handler(args) or 0)
    except CliError as error:
        print(f"agentic-commerce {args.command}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
