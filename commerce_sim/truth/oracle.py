"""Oracles: decisions made with the truth, the yardstick agents are measured against.

- :func:`oracle_prices` — for the next day of a world, each product x channel's regular price within
  given bounds that maximizes the day's true expected profit (myopic: the day alone, stock as it
  stands, promotions as scheduled). Products are optimized in turn per channel, each against the
  others' current prices; a product's price also moves its substitutes' demand (the cross-price
  term), and that effect on their profit is counted. A few rounds settle the interactions.
- :func:`oracle_replenishment` — purchase orders that know true demand: for every product and
  warehouse, the true expected demand of its regions until the next review plus the lead time
  (the market rolled forward on the world's own random numbers), ordered up to a quantile of it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from commerce_sim import day as day_step
from commerce_sim.demand import demand_terms, paid_price
from commerce_sim.streams import Streams
from commerce_sim.truth.outlook import DEFAULT_SAMPLES, Outlook


@dataclass(frozen=True)
class PriceBounds:
    """Where the oracle may price: ``lower``..``upper`` per product x channel, never below ``floor``."""

    lower: np.ndarray
    upper: np.ndarray

    @classmethod
    def around(cls, baseline: np.ndarray, spread: float = 0.3, floor: np.ndarray | None = None) -> PriceBounds:
        """``baseline`` x (1 ± ``spread``), raised to ``floor`` (products, or products x channels) where given."""
        if not 0 < spread < 1:
            raise ValueError(f"spread must lie in (0, 1), got {spread}")
        lower, upper = baseline * (1 - spread), baseline * (1 + spread)
        if floor is not None:
            floor = np.asarray(floor, dtype=float)
            floor = floor[:, None] if floor.ndim == 1 else floor
            lower, upper = np.maximum(lower, floor), np.maximum(upper, floor)
        return cls(lower, upper)


def _candidates(lower: np.ndarray, upper: np.ndarray, points: int) -> np.ndarray:
    """points x products: log-spaced prices from lower to upper."""
    steps = np.linspace(0.0, 1.0, points)[:, None]
    return np.exp(np.log(lower) + steps * (np.log(upper) - np.log(lower)))


def _peer_gain(outlook: Outlook, channel: int, current_paid: np.ndarray, candidate_paid: np.ndarray,
               profit_per_unit: np.ndarray, units: np.ndarray) -> np.ndarray:
    """candidates x products: the change in the substitutes' expected profit (channel ``channel``)
    when one product's price moves from ``current_paid`` to ``candidate_paid`` while the others stay."""
    conditions = outlook.plan.conditions
    category, g = conditions.category, conditions.cross_elasticity
    counts = np.bincount(category, minlength=conditions.n_categories)
    step = np.log(candidate_paid) - np.log(current_paid)[None, :]  # candidates x products
    gain = np.zeros_like(step)
    value = profit_per_unit * units  # the peers' expected profit that moves with their demand
    for k in range(conditions.n_categories):
        members = np.flatnonzero(category == k)
        if members.size < 2:
            continue
        reach = g[members] / (counts[k] - 1)  # how much each peer's log demand moves per unit of the mean
        moved = np.expm1(step[:, members, None] * reach[None, None, :]) * value[members][None, None, :]
        gain[:, members] = moved.sum(axis=2) - moved[:, np.arange(members.size), np.arange(members.size)]
    return gain


def oracle_prices(outlook: Outlook, bounds: PriceBounds, *, discounts=None, stock=None, points: int = 41,
                  refine: int = 9, rounds: int = 4, samples: int = DEFAULT_SAMPLES) -> np.ndarray:
    """Regular prices (products x channels, cents) maximizing the day's true expected profit within ``bounds``.

    Each round visits every channel: every product's candidates (a log grid of ``points`` prices
    between its bounds, then ``refine`` around the best) are weighed against the current prices of
    everything else, its substitutes' response included; rounds repeat until no price moves."""
    shape = outlook.regular.shape
    lower, upper = (np.broadcast_to(np.asarray(b, dtype=float), shape) for b in (bounds.lower, bounds.upper))
    if not ((lower > 0) & (lower <= upper)).all():
        raise ValueError("price bounds must be positive with lower <= upper")
    discount = outlook.discount if discounts is None else np.asarray(discounts, dtype=float)
    prices = np.clip(outlook.regular, lower, upper).round(2)
    for _ in range(rounds):
        before = prices.copy()
        for c in range(shape[1]):
            prices[:, c] = _best_for_channel(outlook, prices, discount, stock, c, lower[:, c], upper[:, c], points,
                                             refine, samples)
        if np.array_equal(prices, before):
            break
    return prices


def _best_for_channel(outlook, prices, discount, stock, c, lower, upper, points, refine, samples) -> np.ndarray:
    peers_paid = paid_price(prices, discount)
    base = outlook.expected(prices, discount, stock, samples=samples)
    sold = np.maximum(base.sales[:, c], 1e-12)
    profit_per_unit = np.where(base.sales[:, c] > 0, base.profit[:, c] / sold, 0.0)
    units = base.sales[:, c]

    def score(candidates: np.ndarray) -> np.ndarray:
        values = np.empty(candidates.shape)
        for i, candidate in enumerate(candidates):
            trial = prices.copy()
            trial[:, c] = np.round(candidate, 2)
            e = outlook.expected(trial, discount, stock, peers_paid=peers_paid, samples=samples)
            values[i] = e.product_profit
        candidate_paid = paid_price(np.round(candidates, 2), discount[None, :, c])
        return values + _peer_gain(outlook, c, peers_paid[:, c], candidate_paid, profit_per_unit, units)

    coarse = _candidates(lower, upper, points)
    best = np.take_along_axis(coarse, np.argmax(score(coarse), axis=0)[None, :], axis=0)[0]
    width = (np.log(upper) - np.log(lower)) / max(points - 1, 1)
    fine = np.exp(np.clip(np.log(best)[None, :] + np.linspace(-1.0, 1.0, refine)[:, None] * width[None, :],
                          np.log(lower), np.log(upper)))
    fine = np.vstack([fine, best[None, :]])
    return np.round(np.take_along_axis(fine, np.argmax(score(fine), axis=0)[None, :], axis=0)[0], 2)


def true_demand_ahead(simulator, days: int) -> np.ndarray:
    """days x products x channels: the true expected demand of the next ``days`` days at the prices and
    promotions the world will run (the market rolled forward on its own random numbers; stock and
    sales do not move demand, so nothing else is needed)."""
    state = copy.deepcopy(simulator.state)
    streams = Streams(simulator.scenario.seed)
    ahead = []
    for _ in range(days):
        plan = day_step.open_day(state, streams)
        terms = demand_terms(plan.conditions, plan.regular, plan.discount)
        ahead.append(terms.expected)
        day_step.remember_day(state, streams, plan, terms)
        state.day += 1
    return np.stack(ahead)


def oracle_replenishment(simulator, *, review_days: int = 7, service_level: float = 0.98) -> pd.DataFrame:
    """Purchase orders for the next day that know true demand: product_id, warehouse_id, quantity.

    Each warehouse covers its regions' true expected demand over its lead time plus ``review_days``
    (its next order), up to the ``service_level`` quantile of the negative-binomial demand; it orders
    the gap to its stock position (on hand and on order)."""
    if not 0 < service_level < 1:
        raise ValueError(f"service_level must lie in (0, 1), got {service_level}")
    state, scenario = simulator.state, simulator.scenario
    world = state.world
    n_products, _, _, n_warehouses = world.shape
    leads = np.array([w.lead_time_days + w.lead_time_jitter_days for w in scenario.warehouses])
    ahead = true_demand_ahead(simulator, int(leads.max()) + review_days).sum(axis=2)  # days x products
    home_share = np.bincount(world.home_warehouse, weights=world.region_share, minlength=n_warehouses)
    position = state.on_hand() + state.pipeline.on_order(n_products, n_warehouses)
    rows = []
    for w in range(n_warehouses):
        horizon = ahead[: leads[w] + review_days].sum(axis=0) * home_share[w]
        if home_share[w] == 0:
            continue
        shape = scenario.demand.dispersion * home_share[w] * (leads[w] + review_days)
        target = stats.nbinom.ppf(service_level, shape, shape / (shape + np.maximum(horizon, 1e-9)))
        quantity = np.ceil(target - position[:, w]).astype(np.int64)
        for p in np.flatnonzero(quantity > 0):
            rows.append({"product_id": world.catalog.product_id[p], "warehouse_id": world.warehouse_ids[w],
                         "quantity": int(quantity[p])})
    return pd.DataFrame(rows, columns=["product_id", "warehouse_id", "quantity"])

