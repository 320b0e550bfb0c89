"""The truth answers "what if" for the next day, with the world's own equation, fulfilment and costs."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from commerce_sim.scenario import load_scenario
from commerce_sim.simulator import Simulator
from commerce_sim.truth.outlook import Outlook


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Simulator:
    base = tmp_path_factory.mktemp("outlook")
    sim = Simulator.create(load_scenario().with_overrides(products=60, customers=500, days=30, seed=21),
                           base / "sim", base / "landing")
    sim.advance(8)
    return sim


def test_the_outlook_is_the_day_the_world_will_simulate(world, tmp_path):
    fork = world.fork(tmp_path / "sim", tmp_path / "landing", history=False)
    untouched = pickle.dumps(fork.state)
    outlook = Outlook.of(fork)
    assert pickle.dumps(fork.state) == untouched  # asking changes nothing
    assert outlook.date == fork.current_date
    truth = fork.step().truth
    shape = outlook.regular.shape
    np.testing.assert_array_equal(outlook.expected_units(), truth["expected_units"].to_numpy().reshape(shape))
    np.testing.assert_array_equal(outlook.regular, truth["regular_price"].to_numpy().reshape(shape))
    np.testing.assert_array_equal(outlook.local_elasticity(), truth["local_elasticity"].to_numpy().reshape(shape))


def test_expected_sales_respect_stock_and_cost_what_the_ledger_would_charge(world):
    outlook = Outlook.of(world)
    plenty = outlook.expected(stock=outlook.on_hand + 10_000)
    np.testing.assert_allclose(plenty.sales, plenty.units)  # nothing can run short
    assert np.abs(plenty.lost).max() < 1e-9
    empty = outlook.expected(stock=np.zeros_like(outlook.on_hand))
    assert (empty.sales == 0).all() and empty.revenue.sum() == 0
    np.testing.assert_allclose(empty.lost, empty.units)
    real = outlook.expected()
    assert (real.sales <= real.units + 1e-9).all() and (real.sales.sum(axis=1) <= outlook.on_hand.sum(axis=1) + 1e-9).all()
    paid = np.round(outlook.regular * (1 - outlook.discount), 2)
    np.testing.assert_allclose(plenty.revenue, paid * plenty.units, rtol=1e-6)
    fee = np.array([c.fee_rate for c in world.scenario.channels])
    np.testing.assert_allclose(plenty.channel_fees, plenty.revenue * fee, atol=0.01)
    assert plenty.total_profit == pytest.approx(plenty.profit.sum() - plenty.holding.sum())


def test_higher_prices_sell_fewer_units_and_the_outlook_checks_its_input(world):
    outlook = Outlook.of(world)
    up = outlook.expected_units(outlook.regular * 1.1)
    assert (up < outlook.expected_units()).all()
    with pytest.raises(ValueError, match="prices must be a"):
        outlook.expected_units(outlook.regular[:3])
    with pytest.raises(ValueError, match="discounts must lie in"):
        outlook.expected_units(discounts=np.full_like(outlook.regular, 1.2))
    with pytest.raises(ValueError, match="stock must be a"):
        outlook.expected(stock=np.zeros(3))
    with pytest.raises(ValueError, match="samples must be at least 2"):
        outlook.expected(samples=1)
