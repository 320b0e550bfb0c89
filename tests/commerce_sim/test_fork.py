"""Simulator.fork: a copy of a world at a day, history included, that continues on the same random numbers."""

from __future__ import annotations

import datetime as dt
import time

import pandas as pd
import pytest

from commerce_sim.simulator import Simulator, StateError
from commerce_sim.systems import CommerceSystems
from commerce_sim.truth import GroundTruth


def _files(landing) -> dict[str, bytes]:
    return {str(p.relative_to(landing)): p.read_bytes() for p in sorted(landing.rglob("*")) if p.is_file()}


@pytest.fixture
def world(small_world, tmp_path):
    """A private copy of the shared small world (10 days), made by forking it."""
    shared = Simulator.open(small_world.root, small_world.landing)
    return shared.fork(tmp_path / "world" / "sim", tmp_path / "world" / "landing")


def test_a_fork_carries_the_history_and_continues_exactly_like_its_original(world, tmp_path):
    started = time.perf_counter()
    fork = world.fork(tmp_path / "fork" / "sim", tmp_path / "fork" / "landing")
    seconds = time.perf_counter() - started
    assert fork.current_date == world.current_date
    assert _files(fork.landing) == _files(world.landing)  # the landing zone so far
    pd.testing.assert_frame_equal(GroundTruth(fork.root).daily(), GroundTruth(world.root).daily())
    pd.testing.assert_frame_equal(GroundTruth(fork.root).ledger(), GroundTruth(world.root).ledger())
    assert seconds < 2.0  # nothing is re-simulated: state copied, history hard-linked

    world.advance(4)
    fork.advance(4)
    assert _files(fork.landing) == _files(world.landing)  # same decisions, same random numbers, same world
    pd.testing.assert_frame_equal(GroundTruth(fork.root).daily(), GroundTruth(world.root).daily())


def test_forks_are_independent_worlds(world, tmp_path):
    before = _files(world.landing)
    fork = world.fork(tmp_path / "fork" / "sim", tmp_path / "fork" / "landing")
    systems = CommerceSystems(fork)
    assert systems.pricing.set_price("P00001", "web", 5.55, idempotency_key="fork-only").ok
    fork.advance(2)
    assert _files(world.landing) == before  # the original saw nothing, its files are untouched
    assert "fork-only" not in Simulator.open(world.root, world.landing).state.receipts
    world.advance(2)
    assert fork.current_date == world.current_date
    last = (world.current_date - dt.timedelta(days=1)).isoformat()
    prices = {name: pd.read_csv(sim.landing / "prices" / last / "prices.csv") for name, sim in (("world", world),
                                                                                              ("fork", fork))}
    mine = {name: frame[(frame["product_id"] == "P00001") & (frame["channel"] == "web")]["regular_price"].item()
            for name, frame in prices.items()}
    assert mine["fork"] == 5.55 and mine["world"] != 5.55


def test_a_fork_refuses_a_place_that_is_taken(world, tmp_path):
    with pytest.raises(StateError, match="already holds a simulated world"):
        world.fork(world.root, tmp_path / "elsewhere")
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "a-file").write_text("x")
    with pytest.raises(StateError, match="landing zone must be empty"):
        world.fork(tmp_path / "new-sim", occupied)


def test_a_fork_without_history_starts_an_empty_landing_zone(world, tmp_path):
    fork = world.fork(tmp_path / "bare" / "sim", tmp_path / "bare" / "landing", history=False)
    assert not (tmp_path / "bare" / "landing").exists() or not any((tmp_path / "bare" / "landing").iterdir())
    assert GroundTruth(fork.root).daily().empty
    fork.advance(1)
    assert len(list((tmp_path / "bare" / "landing" / "prices").iterdir())) == 1
