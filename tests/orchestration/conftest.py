"""A tiny world and one Dagster home for the orchestration tests.

The data directory is chosen before any orchestration module is imported, because Dagster's
definitions bind their resources to it when they load (as they do under ``dagster dev``).
"""

import os
import tempfile
from pathlib import Path

import pytest

DATA_DIR = Path(tempfile.mkdtemp(prefix="agentic-commerce-test-"))
os.environ["AGENTIC_COMMERCE_DATA_DIR"] = str(DATA_DIR)

DAYS = 4
PRODUCTS = 20
CUSTOMERS = 150


@pytest.fixture(scope="session")
def paths():
    from orchestration.settings import export_environment

    return export_environment()


@pytest.fixture(scope="session")
def tiny_world(paths):
    from commerce_sim.scenario import load_scenario
    from commerce_sim.simulator import Simulator

    scenario = load_scenario().with_overrides(days=DAYS, products=PRODUCTS, customers=CUSTOMERS)
    simulator = Simulator.create(scenario, paths.simulator, paths.landing)
    simulator.advance(DAYS)
    return scenario


@pytest.fixture(scope="session")
def perception_run(tiny_world):
    """The perception job over the whole tiny history, as one Dagster run."""
    import datetime as dt

    from orchestration.runner import run_perception

    start = tiny_world.start_date
    return run_perception(start, start + dt.timedelta(days=DAYS - 1))


@pytest.fixture(scope="session", autouse=True)
def _remove_data_dir_afterwards():
    yield
    import shutil

    shutil.rmtree(DATA_DIR, ignore_errors=True)
