"""One simulated day, as a sequence of small functions over the state.

1. :func:`open_day` — pending system changes take effect, shipments arrive, costs, demand shocks and
   the competitor move, the legacy policy reprices; the result is the day's :class:`DayPlan`: prices
   and promotions in force and the :class:`~commerce_sim.demand.DemandConditions` (everything demand
   depends on but the shop's own prices and promotions). The truth's "what if" answers start here too.
2. the demand equation (:func:`commerce_sim.demand.demand_terms`) and its keyed draws;
3. :func:`sell` — regional fulfilment and FIFO stock;
4. :func:`book_sales`, :func:`book_charges`, :func:`book_stock_costs` — the day's profit and loss;
5. :func:`replenish` — the legacy reordering;
6. :func:`close_day` — what the world remembers: reference prices, promotion runs, fatigue, the
   calendar planned ahead, end-of-life write-offs;
7. :func:`export_day` — what the systems of record export, and :func:`truth_frame` — what only the
   truth knows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from commerce_sim import calendar, demand, market, marketing, records, replenishment
from commerce_sim.defects import inject_defects
from commerce_sim.demand import DemandConditions, DemandTerms
from commerce_sim.fulfilment import fulfil, is_remote
from commerce_sim.ledger import CostRates, DayLedger, cents, holding_cents, promotion_cents, sales_accounts
from commerce_sim.orders import DaySales, build_orders
from commerce_sim.state import SimState
from commerce_sim.streams import Streams, entity_grid
from commerce_sim.world import Customers, content_score, customer_id, lifecycle_log_effect, new_customers


@dataclass(frozen=True)
class DayPlan:
    """The day as it stands when the shop opens."""

    day: int
    date: dt.date
    received: np.ndarray  # products x warehouses: units that arrived this morning
    regular: np.ndarray  # products x channels: regular prices in force
    discount: np.ndarray  # products x channels: promotion depth (0: none)
    promo_id: np.ndarray  # products x channels
    competitor_price: np.ndarray  # products
    unit_cost: np.ndarray  # products: today's supplier cost (euros, cents)
    conditions: DemandConditions


@dataclass(frozen=True)
class Sales:
    """What fulfilment did with the demand drawn."""

    wanted: np.ndarray  # products x channels x regions
    served: np.ndarray  # products x channels x regions x warehouses
    cogs_cents: np.ndarray  # products x warehouses: FIFO cost of the units that left
    start_on_hand: np.ndarray  # products x warehouses

    @property
    def sold(self) -> np.ndarray:
        """Units sold per product x channel."""
        return self.served.sum(axis=(2, 3))

    @property
    def shipped(self) -> np.ndarray:
        """Units shipped per product x warehouse."""
        return self.served.sum(axis=(1, 2))

    @property
    def lost(self) -> np.ndarray:
        """Units wanted and not sold per product x channel."""
        return self.wanted.sum(axis=2) - self.sold


# ------------------------------------------------------------------------------------------------ 1. open
def apply_pending_prices(state: SimState, day: int) -> None:
    """Prices set through the pricing engine take effect, in the order of their effective days (a
    NaN price hands the product back to the legacy policy)."""
    due = sorted((change for change in state.pending_prices if change[0] <= day), key=lambda change: change[0])
    for _, p, c, price in due:
        state.managed_price[p, c] = price
    state.pending_prices = [change for change in state.pending_prices if change[0] > day]


def demand_conditions(state: SimState, day: int, competitor_price: np.ndarray) -> DemandConditions:
    """Everything demand depends on today except the shop's prices and promotions."""
    sc, world = state.scenario, state.world
    cat, params = world.catalog, world.params
    log_base = (
        np.log(params.base_units)
        + calendar.calendar_log_effect(sc, day, cat.category)
        + state.shock[:, None]
        + lifecycle_log_effect(cat, day, sc.lifecycle.launch_ramp_days, sc.lifecycle.fade_days)[:, None]
        + (params.competitor_elasticity * np.log(competitor_price / cat.list_price))[:, None]
        + sc.demand.content_effect * (content_score(cat, world.channel_ids) - 1.0)
        + marketing.campaign_log_effect(state, day)
    )
    return DemandConditions(
        day=day, log_base=log_base,
        log_normal_price=np.log(cat.list_price[:, None] * (1 + world.channel_markup[None, :])),
        reference_log_price=state.reference_log_price.copy(), promo_age=state.promo_age.copy(),
        last_promo_end=state.last_promo_end.copy(), last_promo_strength=state.last_promo_strength.copy(),
        yesterday_strength=state.yesterday_strength.copy(), own_elasticity=params.own_elasticity,
        cross_elasticity=params.cross_elasticity, promo_lift=params.promo_lift, category=cat.category,
        n_categories=world.n_categories, spec=sc.demand,
    )


def open_day(state: SimState, streams: Streams) -> DayPlan:
    """Start the next day: changes take effect, shipments arrive, the market moves, the legacy policy reprices."""
    sc, t = state.scenario, state.day
    apply_pending_prices(state, t)
    received = state.pipeline.receive(t, state.lots)
    seen_shock = state.shock.copy()  # yesterday's demand signal is what the shop reacts to
    market.move_costs_and_shocks(state, streams, t)
    market.move_competitor(state, streams, t)
    if t % sc.pricing_history.reprice_every_days == 0:
        market.reprice_legacy(state, streams, t, seen_shock)
    discount, promo_id = market.active_promotions(state, t)
    competitor = market.competitor_price(state, t)
    return DayPlan(t, records.day_date(sc, t), received, market.regular_prices(state), discount, promo_id, competitor,
                   market.unit_cost(state), demand_conditions(state, t, competitor))


# ------------------------------------------------------------------------------------------------ 3. sell
def remote_conversion_uniforms(streams: Streams, day: int, shape: tuple[int, int, int]) -> np.ndarray:
    return streams.uniform("remote_conversion", day, entity_grid(*shape))


def sell(state: SimState, streams: Streams, day: int, wanted: np.ndarray) -> Sales:
    """Serve the units wanted from stock, region by region; the units that leave are taken FIFO."""
    world, spec = state.world, state.scenario.fulfilment
    start = state.on_hand()
    served = fulfil(wanted, start, world.home_warehouse, remote_order(state),
                    remote_conversion_uniforms(streams, day, wanted.shape), spec.remote_conversion)
    cogs, _ = state.lots.consume(served.sum(axis=(1, 2)))
    return Sales(wanted, served, cogs, start)


def remote_order(state: SimState) -> np.ndarray:
    """Warehouses in the order they ship to other regions: the largest stock share first."""
    return np.argsort(-state.world.stock_share, kind="stable")


# ------------------------------------------------------------------------------------------------ 4. money
def book_sales(ledger: DayLedger, rates: CostRates, state: SimState, terms: DemandTerms, sales: Sales,
               discount: np.ndarray) -> None:
    remote = is_remote(state.world.home_warehouse, len(state.world.warehouse_ids))
    accounts = sales_accounts(rates, cents(terms.paid_price), sales.served, remote, sales.cogs_cents)
    for account, amount in accounts.items():
        ledger.book_grid(account, amount, ("product", "channel", "warehouse"))
    ledger.book_grid("promotions", promotion_cents(rates, discount), ("product", "channel"))


def book_charges(ledger: DayLedger, state: SimState, day: int) -> None:
    """Costs the systems incurred for this day (agent purchase orders, transfers, campaigns)."""
    due = [c for c in state.charges if c.day <= day]
    state.charges = [c for c in state.charges if c.day > day]
    for charge in due:
        ledger.book(charge.account, [charge.cents], product=charge.product, channel=charge.channel,
                    warehouse=charge.warehouse)


def book_stock_costs(ledger: DayLedger, rates: CostRates, state: SimState) -> None:
    """Holding cost on what is left at the end of the day."""
    ledger.book_grid("holding", holding_cents(rates, state.lots.value_cents()), ("product", "warehouse"))


# ------------------------------------------------------------------------------------------------ 5. replenish
def replenish(state: SimState, streams: Streams, plan: DayPlan, ledger: DayLedger,
              rates: CostRates) -> replenishment.PurchaseOrders:
    orders = replenishment.legacy_orders(state, streams, plan.day)
    replenishment.place(state, orders, cents(plan.unit_cost))
    ledger.book("purchase_orders", rates.order_cost_cents[orders.warehouse], product=orders.product,
                warehouse=orders.warehouse)
    return orders


# ------------------------------------------------------------------------------------------------ 6. close
def remember_day(state: SimState, streams: Streams, plan: DayPlan, terms: DemandTerms) -> None:
    """What demand will remember of today: reference prices, promotion runs, marketing fatigue; and
    the promotion calendar the shop plans tonight."""
    sc, t = state.scenario, plan.day
    memory = sc.demand.reference_price.memory
    state.reference_log_price = memory * state.reference_log_price + (1 - memory) * np.log(terms.paid_price)
    on = plan.discount > 0
    ended = (state.promo_age > 0) & ~on
    state.last_promo_end = np.where(ended, t - 1, state.last_promo_end)
    state.last_promo_strength = np.where(ended, state.yesterday_strength, state.last_promo_strength)
    state.promo_age = demand.promotion_age(plan.conditions, on)
    state.yesterday_strength = np.where(on, demand.depth_saturation(plan.discount, sc.demand), 0.0)
    marketing.end_of_day(state, t)
    market.plan_promotions(state, streams, t)


def close_day(state: SimState, streams: Streams, plan: DayPlan, terms: DemandTerms, sales: Sales,
              ledger: DayLedger, rates: CostRates) -> None:
    """What the world remembers of today, and what it writes off at the end of it."""
    remember_day(state, streams, plan, terms)
    state.shipped_history = np.roll(state.shipped_history, -1, axis=0)
    state.shipped_history[-1] = sales.shipped
    write_off_ended_products(state, plan.day, ledger, rates)


def write_off_ended_products(state: SimState, day: int, ledger: DayLedger, rates: CostRates) -> None:
    """After end of life and the clearance window, whatever stock is left is written off at salvage value."""
    due = ~state.written_off & (day >= state.world.catalog.end_of_life + state.scenario.lifecycle.clearance_days)
    if not due.any():
        return
    _, cost = state.lots.write_off(due)
    ledger.book_grid("write_offs", cost, ("product", "warehouse"))
    ledger.book_grid("salvage", np.round(cost * rates.salvage_rate).astype(np.int64), ("product", "warehouse"))
    state.written_off |= due


# ------------------------------------------------------------------------------------------------ 7. records
def grow_customers(state: SimState, streams: Streams, day: int) -> np.ndarray:
    """Sign-ups and profile changes of the day (their own stream); returns the rows that changed."""
    spec = state.scenario.customers
    rng = streams.generator("customers", day)
    before = state.customers.n
    count = int(rng.poisson(spec.signups_per_day)) if day > 0 else 0
    if count:
        new = new_customers(state.scenario, rng, count, day)
        old = state.customers
        state.customers = Customers(*(np.concatenate([getattr(old, f), getattr(new, f)]) for f in
                                      ("segment", "region", "signup_day", "marketing_opt_in", "updated_day")))
    updating = np.flatnonzero(rng.random(before) < spec.profile_update_rate) if day > 0 else np.zeros(0, int)
    state.customers.marketing_opt_in[updating] = ~state.customers.marketing_opt_in[updating]
    state.customers.updated_day[updating] = day
    return np.concatenate([updating, np.arange(before, state.customers.n)])


def export_day(state: SimState, streams: Streams, plan: DayPlan, terms: DemandTerms, sales: Sales,
               orders: replenishment.PurchaseOrders) -> dict[str, dict[str, pd.DataFrame]]:
    sc, world, t, date = state.scenario, state.world, plan.day, plan.date
    changed = grow_customers(state, streams, t)
    customers = state.customers
    eligible = np.flatnonzero(customers.signup_day <= t)
    weights = (world.segment_rate[customers.segment[eligible]][:, None]
               * np.where(world.segment_channel[customers.segment[eligible]][:, None]
                          == np.arange(len(world.channel_ids))[None, :], 3.0, 1.0))
    day_sales = DaySales(date, sales.sold, terms.expected, plan.regular, terms.paid_price, plan.promo_id)
    commerce = build_orders(
        streams.generator("orders", t), day_sales, product_ids=world.catalog.product_id,
        channel_ids=world.channel_ids, customer_ids=customer_id(eligible), customer_weights=weights,
        lines_per_order_mean=sc.sessions.lines_per_order_mean, abandonment_rate=sc.sessions.cart_abandonment_rate,
        anonymous_share=sc.sessions.anonymous_share, currency=sc.currency,
    )
    exported_at = pd.Timestamp(date) + pd.Timedelta(hours=23, minutes=30)
    exports = {
        "catalog": {"products": records.catalog_snapshot(state, plan.unit_cost, exported_at),
                    "channels": records.channels(sc)},
        "orders": {"orders": commerce["orders"], "order_lines": commerce["order_lines"]},
        "inventory": {
            "inventory_snapshot": records.inventory_snapshot(state, date, plan.received),
            "warehouses": records.warehouses(sc),
            "purchase_orders": records.purchase_orders(state, date, orders, plan.unit_cost),
            "transfers": records.recorded(state, "transfers", records.TRANSFER_COLUMNS),
        },
        "prices": {"prices": records.prices(state, date, plan.regular, terms.paid_price, plan.promo_id)},
        "competitor_prices": {"competitor_prices": records.competitor_feed(state, streams, t, date,
                                                                           plan.competitor_price)},
        "customers": {"customers": records.customers(state, t, changed, exported_at),
                      "campaigns": records.recorded(state, "campaigns", records.CAMPAIGN_COLUMNS)},
        "sessions": {"sessions": commerce["sessions"], "cart_events": commerce["cart_events"]},
        "promotions": {"promotions": records.promotions(state, t, exported_at)},
    }
    return inject_defects(lambda kind: streams.generator("defects", t, kind), sc.data_defects, exports)


def book_delivery_fees(ledger: DayLedger, state: SimState, orders: pd.DataFrame) -> None:
    """Shipping fees customers paid (small orders on the shop's own channels), per channel."""
    fees = cents(orders["shipping_fee"].to_numpy(float))
    channel = pd.Index(state.world.channel_ids).get_indexer(orders["channel"])
    ledger.book("delivery_fees", np.bincount(channel, weights=fees, minlength=len(state.world.channel_ids))
                .astype(np.int64), channel=np.arange(len(state.world.channel_ids)))


def truth_frame(state: SimState, plan: DayPlan, terms: DemandTerms, sales: Sales) -> pd.DataFrame:
    """What only the truth knows about the day, per product x channel."""
    world = state.world
    n_products, n_channels = plan.regular.shape
    remote = is_remote(world.home_warehouse, len(world.warehouse_ids))
    conditions = plan.conditions
    relative = np.log(terms.paid_price) - conditions.log_normal_price
    regions = np.arange(len(world.region_names))
    home_short = (sales.served[:, :, regions, world.home_warehouse] < sales.wanted).any(axis=(1, 2))
    pooled_out = state.on_hand().sum(axis=1) == 0
    lost = sales.lost
    return pd.DataFrame({
        "date": plan.date,
        "product_id": np.repeat(world.catalog.product_id, n_channels),
        "channel": np.tile(world.channel_ids, n_products),
        "regular_price": plan.regular.ravel(),
        "discount": plan.discount.ravel(),
        "paid_price": terms.paid_price.ravel(),
        "log_base": conditions.log_base.ravel(),
        "own_term": terms.own.ravel(),
        "cross_term": terms.cross.ravel(),
        "reference_term": terms.reference.ravel(),
        "promo_term": terms.promotion.ravel(),
        "dip_term": terms.dip.ravel(),
        "reference_log_price": conditions.reference_log_price.ravel(),
        "local_elasticity": demand.local_elasticity(conditions.own_elasticity, relative, conditions.spec).ravel(),
        "expected_units": terms.expected.ravel(),
        "demand_units": sales.wanted.sum(axis=2).ravel(),
        "sold_units": sales.sold.ravel(),
        "lost_units": lost.ravel(),
        "remote_units": (sales.served * remote).sum(axis=(2, 3)).ravel(),
        "stockout": np.repeat(pooled_out & (lost.sum(axis=1) > 0), n_channels),
        "regional_stockout": np.repeat(home_short, n_channels),
        "unit_cost": np.repeat(plan.unit_cost, n_channels),
    })
