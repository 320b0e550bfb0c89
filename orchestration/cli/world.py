"""``simulate`` and ``check-scenario``: the embedded commerce world."""

from __future__ import annotations

import shutil

from orchestration.cli.errors import CliError
from orchestration.cli.output import Progress, say
from orchestration.cli.platform import Platform


def load_scenario(path=None, *, days=None, products=None, customers=None, seed=None):
    """The scenario file (default: the shipped default) with the command line's overrides, validated."""
    from commerce_sim.scenario import ScenarioError
    from commerce_sim.scenario import load_scenario as load

    try:
        return load(path).with_overrides(days=days, products=products, customers=customers, seed=seed)
    except ScenarioError as error:
        raise CliError(str(error)) from None


def open_world(platform: Platform):
    from commerce_sim.simulator import Simulator, StateError

    try:
        return Simulator.open(platform.paths.simulator, platform.paths.landing)
    except StateError as error:
        raise CliError(str(error)) from None


def remove_world(platform: Platform) -> None:
    for path in (platform.paths.simulator, platform.paths.landing):
        shutil.rmtree(path, ignore_errors=True)


def create_world(platform: Platform, scenario) -> None:
    """Simulate ``scenario``'s whole history into the data directory, with a progress bar."""
    from commerce_sim.simulator import Simulator

    say(f"  '{scenario.name}': {scenario.catalog.n_products} products, {len(scenario.channels)} channels, "
        f"{len(scenario.warehouses)} warehouses, {scenario.customers.n_customers} customers, "
        f"{scenario.history_days} days from {scenario.start_date}")
    progress = Progress("simulating", scenario.history_days)
    Simulator.create(scenario, platform.paths.simulator, platform.paths.landing).advance(
        scenario.history_days, progress=lambda done, total, date: progress.update(done, f"(up to {date})"))


def simulate(args) -> int:
    platform = Platform()
    if args.reset:
        remove_world(platform)
    if platform.world_exists():
        if args.scenario or args.products or args.customers or args.seed is not None:
            raise CliError(f"a world already exists in {platform.paths.simulator}; its scenario cannot change — "
                           "advance it with `simulate --days N`, or start over with --reset")
        sim = open_world(platform)
        days = args.days or 1
        say(f"advancing the world from {sim.current_date} by {days} day(s)")
        progress = Progress("simulating", days)
        summary = sim.advance(days, progress=lambda done, total, date: progress.update(done, f"(up to {date})"))
    else:
        scenario = load_scenario(args.scenario, days=args.days, products=args.products, customers=args.customers,
                                 seed=args.seed)
        say(f"creating a world in {platform.paths.simulator}")
        create_world(platform, scenario)
        summary = None
    if summary is not None:
        say(f"landed {summary.days} day(s) {summary.first_date} .. {summary.last_date} into {platform.paths.landing} "
            f"in {summary.seconds:.1f} s")
    else:
        say(f"landed the history into {platform.paths.landing}")
    return 0


def check_scenario(args) -> int:
    scenario = load_scenario(args.path)
    say(f"{args.path}: valid scenario '{scenario.name}': {scenario.catalog.n_products} products in "
        f"{len(scenario.catalog.categories)} categories, {len(scenario.channels)} channels, "
        f"{len(scenario.warehouses)} warehouses, {scenario.customers.n_customers} customers, "
        f"{scenario.history_days} days from {scenario.start_date}, seed {scenario.seed}")
    return 0
