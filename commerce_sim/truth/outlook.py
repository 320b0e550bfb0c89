"""What if: the true expected outcome of the next simulated day for any decisions.

``Outlook.of(simulator)`` opens the next day of a live world on a copy of its state — the same
:func:`commerce_sim.day.open_day` the world itself runs: pending changes take effect, shipments
arrive, the market moves (on the same keyed random numbers the world will use) — and then answers,
for any regular prices, promotion discounts and stock positions:

- ``expected_units``: the true expected demand (the demand equation, :mod:`commerce_sim.demand`);
- ``local_elasticity``: the true long-run own-price elasticity at those prices;
- ``expected``: expected sales, lost units and the expected profit and loss of the day per product x
  channel, by running the world's own fulfilment (:mod:`commerce_sim.fulfilment`) and cost
  arithmetic (:mod:`commerce_sim.ledger`) on stratified samples of demand for the products whose
  stock could run short, and exactly (expected demand, no shortage) for the others.

The world is never changed. Evaluation code only: this is the truth.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass

import numpy as np
from scipy import stats

from commerce_sim import day as day_step
from commerce_sim.demand import DemandTerms, demand_terms, local_elasticity, paid_price
from commerce_sim.fulfilment import fulfil, is_remote
from commerce_sim.inventory import Lots
from commerce_sim.ledger import CostRates, cents, holding_cents, promotion_cents, sales_accounts
from commerce_sim.streams import Streams, entity_grid, negative_binomial_ppf

DEFAULT_SAMPLES = 64
AMPLE_QUANTILE = 0.9995  # a warehouse holding this quantile of its regions' demand cannot run short


@dataclass(frozen=True)
class Expectation:
    """Expected outcome of one day, in euros (money) and units, per product x channel unless noted."""

    units: np.ndarray  # expected demand
    sales: np.ndarray
    lost: np.ndarray
    revenue: np.ndarray
    cost_of_goods: np.ndarray
    channel_fees: np.ndarray
    shipping: np.ndarray
    promotions: np.ndarray
    holding: np.ndarray  # products x warehouses
    end_stock: np.ndarray  # products x warehouses: expected units left at the end of the day

    @property
    def profit(self) -> np.ndarray:
        """Per product x channel: revenue less what the sales cost (holding is per warehouse)."""
        return self.revenue - self.cost_of_goods - self.channel_fees - self.shipping - self.promotions

    @property
    def product_profit(self) -> np.ndarray:
        """Per product, holding cost included."""
        return self.profit.sum(axis=1) - self.holding.sum(axis=1)

    @property
    def total_profit(self) -> float:
        return float(self.product_profit.sum())


class Outlook:
    """The next day of a world, opened on a copy of its state."""

    def __init__(self, state, streams: Streams):
        self._state = state
        self._streams = streams
        self._rates = CostRates.of(state.scenario)
        self.plan = day_step.open_day(state, streams)
        world = state.world
        self.product_ids = world.catalog.product_id
        self.channel_ids = list(world.channel_ids)
        self.warehouse_ids = list(world.warehouse_ids)
        self.on_hand = state.on_hand()  # after this morning's arrivals

    @classmethod
    def of(cls, simulator) -> Outlook:
        return cls(copy.deepcopy(simulator.state), Streams(simulator.scenario.seed))

    # ---------------------------------------------------------------- the day as the world will run it
    @property
    def date(self) -> dt.date:
        return self.plan.date

    @property
    def regular(self) -> np.ndarray:
        """The regular prices the world will charge (the legacy policy's or an agent's)."""
        return self.plan.regular

    @property
    def discount(self) -> np.ndarray:
        """The promotion discounts running on the day."""
        return self.plan.discount

    @property
    def unit_cost(self) -> np.ndarray:
        """Today's supplier cost per unit (euros)."""
        return self.plan.unit_cost

    @property
    def normal_price(self) -> np.ndarray:
        return np.exp(self.plan.conditions.log_normal_price)

    def _decisions(self, prices, discounts) -> tuple[np.ndarray, np.ndarray]:
        shape = self.plan.regular.shape
        regular = self.plan.regular if prices is None else _matrix(prices, shape, "prices")
        discount = self.plan.discount if discounts is None else _matrix(discounts, shape, "discounts")
        if not (regular > 0).all():
            raise ValueError("prices must all be above 0")
        if not ((discount >= 0) & (discount < 1)).all():
            raise ValueError("discounts must lie in [0, 1)")
        return regular, discount

    def terms(self, prices=None, discounts=None, *, peers_paid=None) -> DemandTerms:
        regular, discount = self._decisions(prices, discounts)
        return demand_terms(self.plan.conditions, regular, discount, peers_paid=peers_paid)

    def expected_units(self, prices=None, discounts=None) -> np.ndarray:
        """True expected demand per product x channel (before stock limits)."""
        return self.terms(prices, discounts).expected

    def local_elasticity(self, prices=None, discounts=None) -> np.ndarray:
        """True long-run own-price elasticity per product x channel at the price paid."""
        regular, discount = self._decisions(prices, discounts)
        relative = np.log(paid_price(regular, discount)) - self.plan.conditions.log_normal_price
        return local_elasticity(self.plan.conditions.own_elasticity, relative, self.plan.conditions.spec)

    # ---------------------------------------------------------------- expected outcome
    def expected(self, prices=None, discounts=None, stock=None, *, peers_paid=None,
                 samples: int = DEFAULT_SAMPLES) -> Expectation:
        """Expected sales and profit and loss of the day for these decisions.

        ``stock`` (products x warehouses, units on hand when the day starts) replaces the world's;
        hypothetical units are costed at the product's current average stock cost (today's supplier
        cost where it holds none)."""
        if samples < 2:
            raise ValueError(f"samples must be at least 2, got {samples}")
        regular, discount = self._decisions(prices, discounts)
        terms = demand_terms(self.plan.conditions, regular, discount, peers_paid=peers_paid)
        lots = self._state.lots if stock is None else self._hypothetical_lots(_matrix(stock, self.on_hand.shape,
                                                                                      "stock"))
        on_hand = lots.on_hand()
        world = self._state.world
        n_products, n_channels, n_regions, n_warehouses = world.shape
        share = world.region_share
        dispersion = self._state.scenario.demand.dispersion
        home_demand = np.zeros((n_products, n_warehouses))
        np.add.at(home_demand.T, world.home_warehouse, (terms.expected.sum(axis=1)[:, None] * share).T)
        home_shape = dispersion * np.bincount(world.home_warehouse, weights=share, minlength=n_warehouses)
        ample_level = stats.nbinom.ppf(AMPLE_QUANTILE, np.maximum(home_shape, 1e-9),
                                       home_shape / (home_shape + np.maximum(home_demand, 1e-12)))
        tight = (on_hand < np.where(home_demand > 0, ample_level, 0)).any(axis=1)

        served = np.zeros((n_products, n_channels, n_regions, n_warehouses))
        regions = np.arange(n_regions)
        served[:, :, regions, world.home_warehouse] = terms.expected[:, :, None] * share  # ample: all at home
        cogs = lots.fifo_cost_cents(served.sum(axis=(1, 2))).astype(float)
        if tight.any():
            sampled, sampled_cogs = self._sampled(terms.expected[tight], on_hand[tight], lots, tight, samples)
            served[tight], cogs[tight] = sampled, sampled_cogs
        remote = is_remote(world.home_warehouse, n_warehouses)
        accounts = sales_accounts(self._rates, cents(terms.paid_price), served, remote, cogs)
        end_stock = on_hand - served.sum(axis=(1, 2))
        end_value = lots.value_cents() - cogs
        sold = served.sum(axis=(2, 3))
        return Expectation(
            units=terms.expected, sales=sold, lost=terms.expected - sold,
            revenue=accounts["revenue"].sum(axis=2) / 100, cost_of_goods=accounts["cost_of_goods"].sum(axis=2) / 100,
            channel_fees=accounts["channel_fees"].sum(axis=2) / 100, shipping=accounts["shipping"].sum(axis=2) / 100,
            promotions=promotion_cents(self._rates, discount) / 100,
            holding=holding_cents(self._rates, end_value) / 100, end_stock=end_stock,
        )

    def _sampled(self, expected: np.ndarray, on_hand: np.ndarray, lots: Lots, rows: np.ndarray,
                 samples: int) -> tuple[np.ndarray, np.ndarray]:
        """Mean units served (products x channels x regions x warehouses) and FIFO cost over stratified
        demand samples (Latin hypercube: every cell's uniforms cover (0, 1) evenly, in an order keyed
        per cell, so cells vary independently), scaled so each product x channel's sampled demand
        has exactly its expected value: sales never exceed expected demand."""
        world, streams, day = self._state.world, self._streams, self.plan.day
        n, n_channels = expected.shape
        n_regions = world.region_share.size
        share = world.region_share
        dispersion = self._state.scenario.demand.dispersion
        cells = entity_grid(world.catalog.n, n_channels, n_regions)[rows]
        order = np.argsort(streams.uniform("outlook", day, np.broadcast_to(cells, (samples,) + cells.shape)
                                           * samples + np.arange(samples)[:, None, None, None], draw=0), axis=0)
        jitter = streams.uniform("outlook", day, cells, draw=1)
        u = (order + jitter) / samples
        units = negative_binomial_ppf(u, expected[None, :, :, None] * share, dispersion * share)
        conversion = streams.uniform("outlook", day, np.broadcast_to(cells, (samples,) + cells.shape)
                                     * samples + np.arange(samples)[:, None, None, None], draw=2)
        stacked = units.reshape(samples * n, n_channels, n_regions)
        served = fulfil(stacked, np.tile(on_hand, (samples, 1)), world.home_warehouse,
                        day_step.remote_order(self._state), conversion.reshape(stacked.shape),
                        self._state.scenario.fulfilment.remote_conversion)
        served = served.reshape((samples, n) + served.shape[1:])
        take = np.zeros((samples, world.catalog.n, on_hand.shape[1]))
        take[:, rows] = served.sum(axis=(2, 3))
        cogs = lots.fifo_cost_cents(take)[:, rows].mean(axis=0)
        mean = served.mean(axis=0)
        # ratio estimator: what the samples sold per unit of demand they drew, times the exact demand
        drawn = units.mean(axis=0).sum(axis=2)
        scale = np.divide(expected, drawn, out=np.ones_like(expected), where=drawn > 0)
        scaled = mean * scale[:, :, None, None]
        shipped, was = scaled.sum(axis=(1, 2)), mean.sum(axis=(1, 2))
        return scaled, cogs * np.divide(shipped, was, out=np.ones_like(shipped), where=was > 0)

    def _hypothetical_lots(self, stock: np.ndarray) -> Lots:
        if (stock < 0).any():
            raise ValueError("stock must be zero or more units")
        current = self._state.lots
        units = current.on_hand().sum(axis=1)
        average = np.where(units > 0, current.value_cents().sum(axis=1) / np.maximum(units, 1),
                           cents(self.plan.unit_cost))
        lots = Lots(current.n_products, current.n_warehouses)
        n_products, n_warehouses = stock.shape
        lots.add(np.repeat(np.arange(n_products), n_warehouses), np.tile(np.arange(n_warehouses), n_products),
                 self.plan.day, np.round(stock).astype(np.int64).ravel(),
                 np.repeat(np.round(average).astype(np.int64), n_warehouses))
        return lots


def _matrix(values, shape: tuple[int, int], name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.shape != shape:
        raise ValueError(f"{name} must be a {shape[0]} x {shape[1]} array (products x "
                         f"{'warehouses' if name == 'stock' else 'channels'}), got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite numbers")
    return array
