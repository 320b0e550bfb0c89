"""Oracles: the myopic profit-maximizing price within bounds, and replenishment that knows true demand."""

from __future__ import annotations

import numpy as np
import pytest

from commerce_sim.scenario import load_scenario, parse_scenario
from commerce_sim.simulator import Simulator
from commerce_sim.systems import CommerceSystems
from commerce_sim.truth.oracle import PriceBounds, oracle_prices, oracle_replenishment
from commerce_sim.truth.outlook import Outlook


def _scenario(days: int):
    data = load_scenario().with_overrides(products=60, customers=500, days=days, seed=13).model_dump()
    for system in data["systems"].values():
        system.update(timeout_rate=0.0, rejection_rate=0.0, partial_rate=0.0)
    return parse_scenario(data)


@pytest.fixture(scope="module")
def outlook(tmp_path_factory) -> Outlook:
    base = tmp_path_factory.mktemp("oracle")
    sim = Simulator.create(_scenario(30), base / "sim", base / "landing")
    for _ in range(10):
        sim.step()
    return Outlook.of(sim)


def test_the_oracle_price_beats_every_alternative_on_a_grid(outlook):
    """With ample stock, true expected profit is exact (no sampling): for every third product and every
    channel, moving its price anywhere on a grid inside the bounds, the others at the oracle's, never
    earns more."""
    stock = outlook.on_hand + 200
    bounds = PriceBounds.around(outlook.regular, 0.3, floor=outlook.unit_cost)
    prices = oracle_prices(outlook, bounds, stock=stock)
    assert ((prices >= np.round(bounds.lower, 2) - 0.01) & (prices <= np.round(bounds.upper, 2) + 0.01)).all()
    assert (outlook.expected(prices, stock=stock).lost.max()) < 1e-6  # ample indeed
    best = outlook.expected(prices, stock=stock).total_profit
    baseline = outlook.expected(stock=stock).total_profit
    assert best > baseline + 100  # the legacy prices leave money on the table
    losses = {}
    for m in (0.7, 0.8, 0.9, 0.95, 0.98, 1.02, 1.05, 1.1, 1.2, 1.3):
        for c in range(prices.shape[1]):
            for p in range(0, prices.shape[0], 3):
                alternative = prices.copy()
                alternative[p, c] = np.clip(np.round(prices[p, c] * m, 2), bounds.lower[p, c], bounds.upper[p, c])
                if alternative[p, c] != prices[p, c]:
                    losses.setdefault(m, []).append(best - outlook.expected(alternative, stock=stock).total_profit)
    every = np.concatenate([np.array(v) for v in losses.values()])
    assert every.size > 500
    assert every.min() > -1e-6  # never beaten
    assert np.mean(losses[0.9]) > 0.2 and np.mean(losses[1.1]) > 0.2  # and a 10% move clearly costs


def test_with_real_stock_the_oracle_beats_the_shop_and_uniform_moves(outlook):
    bounds = PriceBounds.around(outlook.regular, 0.3, floor=outlook.unit_cost)
    prices = oracle_prices(outlook, bounds, rounds=3, samples=32)
    best = outlook.expected(prices, samples=32).total_profit
    assert best > outlook.expected(samples=32).total_profit
    for m in (0.9, 0.95, 1.05, 1.1):
        moved = np.clip(np.round(prices * m, 2), bounds.lower, bounds.upper)
        assert outlook.expected(moved, samples=32).total_profit < best


def test_bounds_are_checked(outlook):
    with pytest.raises(ValueError, match="spread"):
        PriceBounds.around(outlook.regular, 1.5)
    with pytest.raises(ValueError, match="price bounds"):
        oracle_prices(outlook, PriceBounds(outlook.regular * 2, outlook.regular))


@pytest.mark.slow
def test_oracle_replenishment_loses_fewer_sales_than_the_legacy_reordering(tmp_path):
    """Two forks of one day: the legacy reordering runs one; the other is replenished by the oracle
    (agent purchase orders through the purchasing system, every product taken over)."""
    sim = Simulator.create(_scenario(60), tmp_path / "sim", tmp_path / "landing")
    sim.advance(5)
    legacy = sim.fork(tmp_path / "legacy" / "sim", tmp_path / "legacy" / "landing", history=False)
    oracle = sim.fork(tmp_path / "oracle" / "sim", tmp_path / "oracle" / "landing", history=False)
    systems = CommerceSystems(oracle)
    days = {"legacy": [], "oracle": []}
    for day in range(35):
        if day % 7 == 0:
            for i, order in enumerate(oracle_replenishment(oracle).itertuples()):
                assert systems.purchasing.create_purchase_order(order.product_id, order.warehouse_id, order.quantity,
                                                                idempotency_key=f"oracle-{day}-{i}").ok
        days["legacy"].append(legacy.step().truth)
        days["oracle"].append(oracle.step().truth)
    lost = {name: int(sum(d["lost_units"].sum() for d in frames)) for name, frames in days.items()}
    sold = {name: int(sum(d["sold_units"].sum() for d in frames)) for name, frames in days.items()}
    print(f"\n[oracle replenishment] lost units: legacy {lost['legacy']}, oracle {lost['oracle']}; "
          f"sold: legacy {sold['legacy']}, oracle {sold['oracle']}")
    assert lost["oracle"] < 0.5 * lost["legacy"]
    assert sold["oracle"] > sold["legacy"]
