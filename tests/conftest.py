"""Shared fixtures: scenario tweaks and one small simulated world reused across test modules.

Simulating is the expensive part of these tests, so every world is built once per session and only
read afterwards. Tests that need to change a world build their own copy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from commerce_sim.scenario import Scenario, load_scenario, parse_scenario
from commerce_sim.simulator import Simulator


def apply_changes(scenario: Scenario, changes: Mapping[str, Any]) -> Scenario:
    """A re-validated copy of ``scenario`` with dotted keys (``"demand.shock_sd"``) set to new values."""
    data = scenario.model_dump()
    for dotted, value in changes.items():
        node = data
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node[part]
        if leaf not in node:
            raise KeyError(f"{dotted} is not a scenario key")
        node[leaf] = value
    return parse_scenario(data, source=f"test overrides {sorted(changes)}")


@pytest.fixture(scope="session")
def scenario_changes() -> Callable[[Scenario, Mapping[str, Any]], Scenario]:
    """``scenario_changes(scenario, {"dotted.key": value})``: a validated variant of a scenario."""
    return apply_changes


@dataclass(frozen=True)
class SmallWorld:
    scenario: Scenario
    root: Path  # simulator state and sealed truth
    landing: Path
    days: int


SMALL_WORLD_DAYS = 10


@pytest.fixture(scope="session")
def small_world(tmp_path_factory) -> SmallWorld:
    """The default scenario shrunk to 40 products and 300 customers, simulated for 10 days (about 1 s).

    Default data-defect rates are kept: exports look like what the platform really receives.
    """
    scenario = load_scenario().with_overrides(products=40, customers=300, days=SMALL_WORLD_DAYS, seed=7)
    base = tmp_path_factory.mktemp("small_world")
    simulator = Simulator.create(scenario, base / "sim", base / "landing")
    simulator.advance(SMALL_WORLD_DAYS)
    return SmallWorld(scenario, base / "sim", base / "landing", SMALL_WORLD_DAYS)
