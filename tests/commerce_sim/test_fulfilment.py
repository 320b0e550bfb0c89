"""Regional fulfilment: home warehouses first, then farther away at a cost and some lost customers,
and a transfer into a region short of stock pays."""

from __future__ import annotations

import numpy as np
import pytest

from commerce_sim.fulfilment import allocate, fulfil, is_remote
from commerce_sim.scenario import load_scenario, parse_scenario
from commerce_sim.simulator import Simulator
from commerce_sim.systems import CommerceSystems
from commerce_sim.truth.outlook import Outlook

HOME = np.array([0, 1, 2, 0])  # regions north, south, east, west -> warehouses north, south, express (north)
REMOTE_ORDER = np.array([0, 1, 2])


def test_allocate_serves_in_full_or_pro_rata_in_whole_units():
    requests = np.array([[3, 1, 0], [5, 5, 5], [2, 2, 1], [0, 0, 0]])
    served = allocate(requests, np.array([10, 7, 0, 4]))
    np.testing.assert_array_equal(served[0], [3, 1, 0])
    assert served[1].sum() == 7 and (np.abs(served[1] - 7 / 3) < 1).all()
    np.testing.assert_array_equal(served[2], [0, 0, 0])
    np.testing.assert_array_equal(served[3], [0, 0, 0])
    assert (served <= requests).all()


def _one_product(units_by_region, stock, conversion=1.0, u=0.5):
    units = np.array(units_by_region, dtype=np.int64)[None, None, :]
    return fulfil(units, np.array([stock]), HOME, REMOTE_ORDER, np.full(units.shape, u), conversion)[0, 0]


def test_each_region_is_served_by_its_home_warehouse_first():
    served = _one_product([3, 2, 4, 1], [10, 10, 10])
    np.testing.assert_array_equal(served, [[3, 0, 0], [0, 2, 0], [0, 0, 4], [1, 0, 0]])


def test_what_home_cannot_serve_ships_from_elsewhere_or_is_lost():
    served = _one_product([0, 0, 6, 0], [3, 1, 2])  # east wants 6, its warehouse holds 2
    assert served[2, 2] == 2 and served[2, 0] == 3 and served[2, 1] == 1  # north first, then south
    assert served.sum() == 6
    lost = _one_product([0, 0, 6, 0], [1, 0, 2])
    assert lost.sum() == 3  # only 3 units anywhere: 3 customers go without
    walked = _one_product([0, 0, 6, 0], [10, 0, 2], conversion=0.0)
    assert walked.sum() == 2 and walked[2, 0] == 0  # nobody waits for a far-away delivery
    some = _one_product([0, 0, 12, 0], [10, 0, 2], conversion=0.5)
    assert 2 < some.sum() < 12
    assert is_remote(HOME, 3)[2].tolist() == [True, True, False]


def test_a_higher_conversion_uniform_never_ships_more_from_afar():
    """Inverse-CDF conversions: the same uniform, more unmet units, never fewer sales."""
    sales = [_one_product([0, 0, n, 0], [50, 0, 2], conversion=0.85, u=0.3).sum() for n in range(2, 30)]
    assert (np.diff(sales) >= 0).all()


# ----------------------------------------------------------------------------- a transfer that pays
@pytest.fixture(scope="module")
def short_region(tmp_path_factory):
    """A small world in which the east warehouse (WH-EXPRESS) has none of its best seller left: the
    agent moved it all north and took the product's replenishment over (the legacy reordering stands
    down), so east customers are served from afar, at a higher shipping cost, and some walk away."""
    data = load_scenario().with_overrides(products=40, customers=400, days=40, seed=3).model_dump()
    data["data_defects"] = {name: 0.0 for name in data["data_defects"]}
    for system in data["systems"].values():
        system.update(timeout_rate=0.0, rejection_rate=0.0, partial_rate=0.0)
    base = tmp_path_factory.mktemp("short")
    sim = Simulator.create(parse_scenario(data), base / "sim", base / "landing")
    sim.advance(3)
    world = sim.state.world
    product = int(np.argmax(world.params.base_units.sum(axis=1)))
    product_id = world.catalog.product_id[product]
    systems = CommerceSystems(sim)
    stock = sim.state.on_hand()[product]
    assert systems.purchasing.transfer_stock(product_id, "WH-EXPRESS", "WH-NORTH", int(stock[2]),
                                             idempotency_key="empty-east").ok
    assert systems.purchasing.create_purchase_order(product_id, "WH-NORTH", 200, idempotency_key="take-over").ok
    sim.advance(2)
    return sim, product, product_id


def test_moving_stock_into_the_short_region_raises_true_expected_profit(short_region):
    sim, product, _ = short_region
    outlook = Outlook.of(sim)
    stock = outlook.on_hand.copy()
    assert stock[product, 2] == 0 and stock[product, 0] > 60
    moved = stock.copy()
    moved[product, 0] -= 30
    moved[product, 2] += 30
    before, after = outlook.expected(stock=stock), outlook.expected(stock=moved)
    assert after.product_profit[product] > before.product_profit[product]
    assert after.lost[product].sum() < before.lost[product].sum()  # east customers no longer walk away
    assert after.shipping[product].sum() < before.shipping[product].sum()  # nor ship from afar
    others = np.arange(stock.shape[0]) != product
    np.testing.assert_allclose(after.product_profit[others], before.product_profit[others])


def test_a_real_transfer_into_the_short_region_pays_for_itself(short_region, tmp_path):
    """Two forks of the same day on the same random numbers: one moves stock east; over four weeks its
    true expected profit for the product beats the other's by more than the transfer cost."""
    sim, product, product_id = short_region
    still = sim.fork(tmp_path / "still" / "sim", tmp_path / "still" / "landing", history=False)
    moved = sim.fork(tmp_path / "moved" / "sim", tmp_path / "moved" / "landing", history=False)
    receipt = CommerceSystems(moved).purchasing.transfer_stock(product_id, "WH-NORTH", "WH-EXPRESS", 40,
                                                               idempotency_key="refill-east")
    assert receipt.accepted_quantity == 40
    spec = sim.scenario.fulfilment
    cost = spec.transfer_fixed_cost + 40 * spec.transfer_cost_per_unit
    totals = {"still": 0.0, "moved": 0.0}
    for _ in range(28):
        for name, world in (("still", still), ("moved", moved)):
            totals[name] += Outlook.of(world).expected().product_profit[product]
            world.step()
    print(f"\n[transfer] expected profit over 28 days: moved {totals['moved']:.2f} (transfer cost {cost:.2f}), "
          f"still {totals['still']:.2f}")
    assert totals["moved"] - cost > totals["still"]
