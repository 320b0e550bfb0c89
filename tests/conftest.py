"""Shared fixtures: scenario tweaks and one small simulated world reused across test modules, and
one native thread per numeric library for the whole session.

Simulating is the expensive part of these tests, so every world is built once per session and only
read afterwards. Tests that need to change a world build their own copy.

Threads: numpy's BLAS and scikit-learn's OpenMP start a thread per core, and on the two-core
machines this suite runs on, pytest plus a fitting test (or two suites side by side) oversubscribe
the cores and their threads spin-wait: one double-ML test took 30.7 s, and 10.8 s with
``OMP_NUM_THREADS=1``. So the thread variables are set here, before numpy or scikit-learn is
imported (a value already in the environment wins, for whoever wants to measure with more), and
children (the CLI and Dagster runs the end-to-end tests start) inherit them; the session fixture
below also caps runtimes loaded before this file ran. Tests that need another count set it
themselves (``n_threads=``).
"""

from __future__ import annotations

import os

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
for _variable in THREAD_VARIABLES:  # before the imports below: runtimes read them when they load
    os.environ.setdefault(_variable, "1")

from collections.abc import Callable, Mapping  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

from commerce_sim.scenario import Scenario, load_scenario, parse_scenario  # noqa: E402
from commerce_sim.simulator import Simulator  # noqa: E402


PERCEIVED_WORLD_FIXTURES = {"paths", "platform", "perception_run"}  # tests/orchestration/conftest.py


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items):
    """Groups for ``pytest -n 2 --dist loadgroup`` (``make test``): each worker builds its own session and
    module fixtures, and the expensive ones (a simulated year, the small world perceived through
    Dagster) must be built once. So a test module runs on one worker, and every orchestration test
    that uses the perceived small world runs on the same one."""
    orchestration = Path(__file__).parent / "orchestration"
    for item in items:
        if item.get_closest_marker("xdist_group"):
            continue
        if item.path.is_relative_to(orchestration) and PERCEIVED_WORLD_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.xdist_group("perceived_small_world"))
        else:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


@pytest.fixture(scope="session", autouse=True)
def one_native_thread():
    """Caps the thread pools loaded before this file set the variables (e.g. numpy's BLAS, imported by a
    plugin) for the session; pools loaded later read the variables. scikit-learn is not imported for
    this: a session that never fits a model should not pay for it."""
    from threadpoolctl import threadpool_limits

    threads = os.environ["OMP_NUM_THREADS"]
    with threadpool_limits(limits=int(threads) if threads.isdigit() and int(threads) > 0 else 1):
        yield


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
