"""``status``: the data directory at a glance — world, landing zone, warehouse, models and forecasts."""

from __future__ import annotations

from orchestration.cli.output import say
from orchestration.cli.platform import Platform
from orchestration.cli.reasoning import print_reasoning_summary
from orchestration.cli.world import open_world


def status(args) -> int:
    from data_quality.landing_zone import complete_batches, ready_dates
    from warehouse.reports import ingested_batch_ids, published_at, source_totals

    platform = Platform()
    paths = platform.paths
    say(f"data directory: {paths.root}")
    if platform.world_exists():
        sim = open_world(platform)
        say(f"  world: '{sim.scenario.name}', next simulated date {sim.current_date}")
    else:
        say("  world: none (run `agentic-commerce simulate`)")
    landed = complete_batches(paths.landing)
    ready = ready_dates(landed)
    say(f"  landing: {len(landed)} date(s)" + (f", {min(landed)} .. {max(landed)}" if landed else "")
        + (f"; {len(landed) - len(ready)} still landing" if len(ready) < len(landed) else ""))
    say(f"  warehouse: {paths.warehouse if paths.warehouse.exists() else 'not built yet'}")
    if not paths.analytics.is_file():
        say("  analyst database: not published yet")
        return 0
    ingested = ingested_batch_ids(paths.analytics)
    new = [d for d in ready if ingested.get(d) != landed[d]]
    say(f"  analyst database: {paths.analytics} (published {published_at(paths.analytics):%Y-%m-%d %H:%M:%S})")
    say(f"  not ingested yet: {len(new)} landed date(s)" + (f", {new[0]} .. {new[-1]}" if new else ""))
    for row in source_totals(paths.analytics):
        say(f"    {row.source:<18} {row.batches:>4} batches ({row.blocked} blocked) {row.rows_loaded:>9,} rows loaded "
            f"{row.rows_quarantined:>6,} quarantined")
    say("  models and forecasts:")
    print_reasoning_summary(platform)
    return 0
