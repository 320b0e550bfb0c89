"""The demand equation: a finite best price for every product, the local elasticity, and promotions
that cannot be gamed (no lift below a minimum depth, saturation, a long promotion loses its lift, the
post-promotion dip however a promotion ends)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from commerce_sim import demand
from commerce_sim.scenario import DEFAULT_SCENARIO, load_scenario, parse_scenario
from commerce_sim.simulator import Simulator
from commerce_sim.systems import CommerceSystems
from commerce_sim.truth import GroundTruth
from commerce_sim.truth.oracle import true_demand_ahead
from commerce_sim.truth.outlook import Outlook
from tests.conftest import apply_changes

DAY = dt.timedelta(days=1)
LOW_ELASTICITY = Path(DEFAULT_SCENARIO).parent / "low_elasticity_noisy.yaml"


def _scenario(path=None, *, products=12, days=30, **changes):
    data = load_scenario(path).with_overrides(products=products, customers=300, days=days).model_dump()
    data["data_defects"] = {name: 0.0 for name in data["data_defects"]}
    return apply_changes(parse_scenario(data), changes)


# ----------------------------------------------------------------------------- a finite best price
@pytest.fixture(scope="module")
def inelastic_outlook(tmp_path_factory) -> Outlook:
    """The staples shop (mean elasticity -1.4), 60 products, a few days in."""
    base = tmp_path_factory.mktemp("inelastic")
    sim = Simulator.create(_scenario(LOW_ELASTICITY, products=60), base / "sim", base / "landing")
    for _ in range(5):
        sim.step()
    return Outlook.of(sim)


def test_every_product_has_an_interior_profit_maximizing_price(inelastic_outlook):
    """Own-price profit of each product x channel over 0.3x its normal price .. 10x its list price (the
    pricing engine's ceiling), substitutes held at today's prices, stock unlimited: the best price is
    inside, never at the ceiling — also for products whose elasticity is above -1."""
    outlook = inelastic_outlook
    products = pd.Series(outlook.plan.conditions.own_elasticity, index=outlook.product_ids)
    assert (products > -1).sum() >= 5  # inelastic products: constant elasticity alone would price them at 10x
    normal, list_price = outlook.normal_price, np.exp(outlook.plan.conditions.log_normal_price[:, :1])
    peers = demand.paid_price(outlook.regular, outlook.discount)
    stock = outlook.on_hand + 10**7
    multipliers = np.exp(np.linspace(np.log(0.3), np.log(10.0 * 1.05), 160))
    for c in range(len(outlook.channel_ids)):
        profits = []
        for m in multipliers:
            prices = outlook.regular.copy()
            prices[:, c] = np.minimum(np.round(normal[:, c] * m, 2), np.round(10 * list_price[:, 0], 2))
            e = outlook.expected(prices, np.zeros_like(prices), stock, peers_paid=peers)
            profits.append(e.profit[:, c])
        profits = np.array(profits)  # grid x products
        best = profits.argmax(axis=0)
        assert (best > 0).all() and (best < len(multipliers) - 1).all(), c
        assert (profits[-1] < profits.max(axis=0) - 1e-9).all()


def test_in_the_long_run_the_price_ceiling_is_what_bounds_inelastic_products(inelastic_outlook):
    """Once shoppers got used to a price (no reference effect), profit per day is
    ``exp(own term) x (price x (1 - fee) - cost)``: products with an elasticity above -1 would gain from
    every raise, until the ceiling steepens demand; elastic products stop below it."""
    outlook = inelastic_outlook
    conditions = outlook.plan.conditions
    e, spec = conditions.own_elasticity, conditions.spec
    fee = np.array([c.fee_rate for c in load_scenario(LOW_ELASTICITY).channels])
    x = np.linspace(-0.5, 2.5, 3001)
    headroom = np.log(spec.price_ceiling.headroom)
    for c in range(len(outlook.channel_ids)):
        price = outlook.normal_price[:, c:c + 1] * np.exp(x)[None, :]
        profit = np.exp(demand.own_price_term(e, np.broadcast_to(x, price.shape), spec)) * (
            price * (1 - fee[c]) - outlook.unit_cost[:, None])
        best = x[profit.argmax(axis=1)]
        assert (best < x[-1]).all() and (best > x[0]).all()
        assert (best[e > -1] > headroom).all()  # the ceiling is what stops them
        without = np.exp(e[:, None] * x) * (price * (1 - fee[c]) - outlook.unit_cost[:, None])
        assert (without.argmax(axis=1)[e > -1] == x.size - 1).all()  # constant elasticity alone: no best price


def test_the_local_elasticity_is_the_slope_of_the_own_price_term(inelastic_outlook):
    outlook = inelastic_outlook
    spec = outlook.plan.conditions.spec
    e = outlook.plan.conditions.own_elasticity
    x = np.linspace(-0.5, 1.2, 18)[None, :].repeat(e.size, 0)
    h = 1e-6
    slope = (demand.own_price_term(e, x + h, spec) - demand.own_price_term(e, x - h, spec)) / (2 * h)
    np.testing.assert_allclose(demand.local_elasticity(e, x, spec), slope, atol=1e-5)
    below = x < np.log(spec.price_ceiling.headroom)
    np.testing.assert_allclose(demand.local_elasticity(e, x, spec)[below], np.broadcast_to(e[:, None], x.shape)[below])
    assert (demand.local_elasticity(e, x, spec)[~below] < np.broadcast_to(e[:, None], x.shape)[~below]).all()
    at_normal = outlook.local_elasticity(outlook.normal_price, np.zeros_like(outlook.regular))
    np.testing.assert_allclose(at_normal, np.broadcast_to(e[:, None], at_normal.shape))


def test_the_truth_reports_the_local_elasticity_of_every_day(small_world):
    truth = GroundTruth(small_world.root)
    daily = truth.daily()
    recomputed = truth.local_elasticity(daily["product_id"], daily["channel"], daily["paid_price"])
    np.testing.assert_allclose(recomputed, daily["local_elasticity"])
    elasticity = truth.products().set_index("product_id").loc[daily["product_id"], "own_elasticity"].to_numpy()
    assert (daily["local_elasticity"] <= elasticity + 1e-12).all()
    counterfactual = truth.counterfactual_units(daily, 1.0)
    np.testing.assert_allclose(counterfactual, daily["expected_units"])


# ----------------------------------------------------------------------------- promotions
def test_depth_below_the_minimum_earns_no_lift_and_deep_discounts_saturate():
    spec = load_scenario().demand
    depth = np.linspace(0, 0.9, 91)
    strength = demand.depth_saturation(depth, spec)
    minimum = spec.promotion_response.min_depth
    assert (strength[depth <= minimum] == 0).all()
    assert (np.diff(strength) >= 0).all() and (strength < 1).all()
    assert strength[depth >= 0.3].min() > 0.95  # the historical 10-30% range earns most of the lift
    assert demand.depth_saturation(np.array([0.0001]), spec)[0] == 0


def test_a_tiny_promotion_gives_no_lift(inelastic_outlook):
    outlook = inelastic_outlook
    none = outlook.terms(outlook.regular, np.zeros_like(outlook.regular))
    tiny = outlook.terms(outlook.regular, np.full_like(outlook.regular, 0.0001))
    four = outlook.terms(outlook.regular, np.full_like(outlook.regular, 0.04))
    assert (tiny.promotion == 0).all() and (four.promotion == 0).all()
    ratio = tiny.expected / none.expected
    assert (ratio < 1.001).all()  # only the price effect of a hundredth of a percent (and cents rounding)
    real = outlook.terms(outlook.regular, np.full_like(outlook.regular, 0.2))
    assert (real.promotion > 0).all()


def _promoted_world(root: Path, *, promote: bool, days: int):
    """A 12-product shop without a promotion calendar; P00004 priced 20.00 with a long 20% promotion
    (``promote``) or priced 16.00 outright."""
    sim = Simulator.create(_scenario(days=days, **{"promotions.rate_per_product_month": 0.0}), root / "sim",
                           root / "landing")
    systems = CommerceSystems(sim)
    today = systems.current_date
    for channel in sim.state.world.channel_ids:
        assert systems.pricing.set_price("P00004", channel, 20.0 if promote else 16.0,
                                         idempotency_key=f"price-{channel}").ok
    if promote:
        assert systems.promotions.schedule_promotion("P00004", "all", 20, today + DAY, today + days * DAY,
                                                     idempotency_key="long").ok
    return sim


def test_a_200_day_promotion_loses_its_lift(tmp_path):
    """The true expected demand of the next 202 days (the market rolled forward on the world's own
    random numbers, as the day step would; checked against three simulated days)."""
    days = 202
    promoted = _promoted_world(tmp_path / "promoted", promote=True, days=days)
    priced = _promoted_world(tmp_path / "priced", promote=False, days=days)
    ahead = {name: true_demand_ahead(sim, days) for name, sim in (("promoted", promoted), ("priced", priced))}
    product = int(np.flatnonzero(promoted.state.world.catalog.product_id == "P00004")[0])
    ratios = ahead["promoted"][1:, product] / ahead["priced"][1:, product]  # from day 1, both pay 16.00
    assert (ratios[0] > 1.25).all()  # day 1: the visibility lift and the gain against a 20.00 reference
    assert (np.abs(ratios[-1] - 1) < 0.01).all()  # 200 days on: a 20% promotion is a 16.00 price
    assert (np.diff(ratios, axis=0) <= 1e-12).all()  # the lift only fades
    others = np.arange(ahead["priced"].shape[1]) != product
    np.testing.assert_allclose(ahead["promoted"][1:, others], ahead["priced"][1:, others], rtol=1e-12)  # same peers

    promoted.advance(3)
    simulated = GroundTruth(promoted.root).daily()["expected_units"].to_numpy().reshape(3, *ahead["promoted"].shape[1:])
    np.testing.assert_allclose(simulated, ahead["promoted"][:3], rtol=1e-12)


def test_the_post_promotion_dip_follows_a_cancelled_promotion(tmp_path):
    sim = Simulator.create(_scenario(days=20, **{"promotions.rate_per_product_month": 0.0}), tmp_path / "sim",
                           tmp_path / "landing")
    systems = CommerceSystems(sim)
    today = systems.current_date
    promo = systems.promotions.schedule_promotion("P00004", "all", 25, today, today + 9 * DAY, idempotency_key="p")
    tiny = systems.promotions.schedule_promotion("P00005", "all", 0.01, today, today + 2 * DAY, idempotency_key="t")
    sim.advance(3)
    assert systems.promotions.cancel_promotion(promo.reference, idempotency_key="stop").ok
    sim.advance(6)
    daily = GroundTruth(sim.root).daily()
    mine = daily[daily["product_id"] == "P00004"].groupby("date")[["promo_term", "dip_term"]].mean()
    assert (mine["promo_term"].iloc[:3] > 0).all() and (mine["dip_term"].iloc[:3] == 0).all()
    assert (mine["promo_term"].iloc[3:] == 0).all()
    dips = mine["dip_term"].iloc[3:].to_numpy()
    assert (dips < 0).all() and (np.diff(dips) > 0).all()  # the dip starts the day after and fades
    other = daily[daily["product_id"] == "P00005"]
    assert tiny.ok and (other["promo_term"] == 0).all() and (other["dip_term"] == 0).all()
