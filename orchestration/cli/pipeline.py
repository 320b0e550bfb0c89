"""``ingest``, ``publish`` and ``dbt-parse``: perception, and what follows it, through Dagster.

``ingest`` runs what the sensors would launch for new dates: the ingestion (one run per range of
dates), the marts and the analyst database, and fresh forecasts when champions exist. It refuses
what cannot or should not run before anything starts: a date that never landed, a date still
landing, a date another run is ingesting right now, and (without ``--force``) a date already
ingested with the same batches.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from orchestration.cli.errors import CliError
from orchestration.cli.output import say, step_line
from orchestration.cli.platform import Platform


@dataclass
class IngestPlan:
    """Which of the asked dates to ingest, and which are skipped because nothing changed."""

    to_ingest: list[dt.date] = field(default_factory=list)
    unchanged: list[dt.date] = field(default_factory=list)


def plan_ingest(platform: Platform, start: dt.date | None = None, end: dt.date | None = None, *,
                force: bool = False) -> IngestPlan:
    """The dates between ``start`` and ``end`` (default: every landed date) that may be ingested now."""
    from data_quality.landing_zone import complete_batches, missing_sources

    landed = complete_batches(platform.paths.landing)
    if not landed:
        raise CliError(f"nothing has landed in {platform.paths.landing}: run `agentic-commerce simulate` first")
    known = sorted(landed)
    if start is None:
        wanted = [dt.date.fromisoformat(d) for d in known]
    else:
        wanted = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
        never = [d for d in wanted if d.isoformat() not in landed]
        if never:
            raise CliError(f"{_dates(never)} never landed (landed: {known[0]} .. {known[-1]}, {len(known)} date(s)); "
                           "nothing was run")
    waiting = {d: missing_sources(landed[d.isoformat()]) for d in wanted if missing_sources(landed[d.isoformat()])}
    if waiting and start is not None:
        first = min(waiting)
        raise CliError(f"{_dates(list(waiting))} still landing ({first} waits for {', '.join(waiting[first])}); "
                       "nothing was run")
    wanted = [d for d in wanted if d not in waiting]
    from orchestration.runner import in_flight_dates

    busy = in_flight_dates(platform.instance) & {d.isoformat() for d in wanted}
    if busy:
        raise CliError(f"{_dates(sorted(dt.date.fromisoformat(d) for d in busy))} being ingested by another run "
                       "right now (see the Dagster UI); nothing was run")
    ingested = _ingested(platform)
    plan = IngestPlan()
    for date in wanted:
        same = ingested.get(date.isoformat()) == landed[date.isoformat()]
        (plan.unchanged if same and not force else plan.to_ingest).append(date)
    return plan


def _ingested(platform: Platform) -> dict[str, dict[str, str]]:
    from warehouse.reports import ingested_batch_ids

    if not platform.paths.analytics.is_file():
        return {}
    return ingested_batch_ids(platform.paths.analytics)


def _dates(dates: list[dt.date]) -> str:
    shown = ", ".join(str(d) for d in dates[:3])
    return shown + (f" and {len(dates) - 3} more" if len(dates) > 3 else "")


def run_perception(platform: Platform, dates: list[dt.date]) -> list:
    """Ingest ``dates`` (one run per range), then build the marts and publish — if ingestion succeeded."""
    from orchestration.jobs import BUILD_JOB

    runner = platform.runner("perception")
    say(f"  ingesting {len(dates)} date(s) {dates[0]} .. {dates[-1]} (tool output: {runner.output_log})")
    reports = runner.ingest(dates)
    for report in reports:
        _report(report)
    if not all(r.success for r in reports):
        say("  the marts were not rebuilt: nothing downstream uses a batch that failed its checks")
        return reports
    say("  building the marts and publishing the analyst database")
    reports.append(runner.run(BUILD_JOB))
    _report(reports[-1])
    return reports


def champions_exist(platform: Platform) -> bool:
    from ml.registry import ModelRegistry
    from ml.training import ELASTICITY_MODEL, FORECAST_MODEL

    registry = ModelRegistry(platform.paths.mlflow)
    return all(registry.champion_version(name) is not None for name in (FORECAST_MODEL, ELASTICITY_MODEL))


def _report(report) -> None:
    step_line(report)
    for check in report.checks_failed:
        say(f"    check {check.asset}:{check.check} {check.severity}: {check.description or ''}"[:300])


def ingest(args) -> int:
    if args.date and (args.start or args.end):
        raise CliError("give either --date or --start/--end, not both")
    start = end = args.date
    if args.start or args.end:
        if not (args.start and args.end):
            raise CliError("a range needs both --start and --end")
        if args.end < args.start:
            raise CliError(f"--end {args.end} is before --start {args.start}")
        start, end = args.start, args.end
    platform = Platform()
    plan = plan_ingest(platform, start, end, force=args.force)
    if plan.unchanged:
        say(f"{len(plan.unchanged)} date(s) already ingested with the same batches, skipped "
            f"({_dates(plan.unchanged)}; --force ingests them again)")
    if not plan.to_ingest:
        say("nothing to ingest")
        return 0
    reports = run_perception(platform, plan.to_ingest)
    if not all(r.success for r in reports):
        return 1
    if not champions_exist(platform):
        say("  forecasts not refreshed: no champion models yet (run `agentic-commerce train`)")
        return 0
    from orchestration.cli.reasoning import run_reasoning

    return 0 if all(r.success for r in run_reasoning(platform, train=False)) else 1


def publish(args) -> int:
    from warehouse.publish import publish_analytics

    paths = Platform().paths
    try:
        summary = publish_analytics(paths.warehouse, paths.analytics)
    except (FileNotFoundError, RuntimeError) as error:
        raise CliError(str(error)) from None
    say(f"published {len(summary.tables)} tables to {summary.path} in {summary.seconds:.1f} s")
    return 0


def dbt_parse(args) -> int:
    from orchestration.dbt import prepare_manifest

    say(f"dbt manifest: {prepare_manifest(force=args.force)}")
    return 0
