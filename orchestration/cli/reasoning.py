"""``train`` and ``forecast``: the reasoning jobs through Dagster, and what they served."""

from __future__ import annotations

from orchestration.cli.errors import CliError
from orchestration.cli.output import say, step_line
from orchestration.cli.platform import Platform

def run_reasoning(platform: Platform, *, train: bool = True, refresh: bool = True) -> list:
    """Train and gate both models (``train``), then refresh forecasts from the champions (``refresh``).

    A failed training run stops there: nothing is served from a half-finished training. When the
    models skipped training (too little history) and no champion exists, there is nothing to refresh.
    """
    from orchestration.jobs import REFRESH_JOB, TRAIN_JOB

    if not platform.paths.warehouse.exists():
        raise CliError(f"no warehouse at {platform.paths.warehouse}: run `agentic-commerce demo` (or ingest) first")
    runner = platform.runner("reasoning")
    reports = []
    if train:
        say(f"  training and gating both models (MLflow store: {platform.paths.mlflow})")
        reports.append(runner.run(TRAIN_JOB))
        step_line(reports[-1])
        for check in reports[-1].checks:
            say(f"    {check.asset} {check.check}: {_gate_word(check)}: {check.description or ''}"[:240])
        if not reports[-1].success or not reports[-1].materialized:
            return reports
    if refresh:
        say("  refreshing forecasts and elasticities from the champions")
        reports.append(runner.run(REFRESH_JOB))
        step_line(reports[-1])
    return reports


def skipped_reason(reports: list) -> str | None:
    """Why training was skipped (too little history), from its gate checks; None when it ran."""
    for report in reports:
        for check in report.checks:
            if check.metadata.get("skipped"):
                return check.metadata.get("reason") or check.description
    return None


def _gate_word(check) -> str:
    if check.metadata.get("skipped"):
        return "skipped"
    if check.metadata.get("promoted"):
        return "promoted"
    return "kept the champion (tie)" if check.passed else "kept the champion (candidate worse)"


def print_reasoning_summary(platform: Platform) -> None:
    from warehouse.reports import elasticity_summary, forecast_summary

    analytics = platform.paths.analytics
    forecast = forecast_summary(analytics) if analytics.is_file() else None
    elasticity = elasticity_summary(analytics) if analytics.is_file() else None
    if forecast is None or elasticity is None:
        say("  reasoning tables not published yet")
        return
    say(f"  reasoning.demand_forecasts: {forecast.rows:,} rows from origin {forecast.origin:%Y-%m-%d} for "
        f"{forecast.products} products (demand_forecast v{forecast.model_version}), "
        f"{forecast.planned_promotion_rows:,} on scheduled promotion days; next 7 days: "
        f"{forecast.mean_next_7_days:,.0f} units expected (sum of row means)")
    say(f"  reasoning.price_elasticities: {elasticity.products} products (price_elasticity "
        f"v{elasticity.model_version}), median elasticity {elasticity.median_elasticity:.2f}, weak first stage "
        f"for {elasticity.weak_instrument_pct:.1f}%")


def train(args) -> int:
    platform = Platform()
    reports = run_reasoning(platform, train=True, refresh=not args.no_refresh)
    reason = skipped_reason(reports)
    if reason:
        say(f"  not trained: {reason}")
    elif not args.no_refresh:
        print_reasoning_summary(platform)
    return 0 if all(r.success for r in reports) else 1


def forecast(args) -> int:
    from orchestration.cli.pipeline import champions_exist

    platform = Platform()
    if not champions_exist(platform):
        raise CliError("no champion models yet: run `agentic-commerce train` first")
    reports = run_reasoning(platform, train=False)
    print_reasoning_summary(platform)
    return 0 if all(r.success for r in reports) else 1
