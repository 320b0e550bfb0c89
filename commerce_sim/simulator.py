"""The embedded commerce world, advanced one day at a time.

``Simulator.create`` builds a world from a scenario and seed; ``Simulator.open`` reopens a saved one;
``advance`` simulates days, writes each day's source-system exports to the landing zone and the
sealed ground truth to the truth directory, and saves the state after every day, so a world can be
grown across processes and a crash never loses more than the day in progress.

One day, in order: pending system changes take effect; shipments arrive; costs, demand shocks and
the competitor move; the shop reprices (the historical, confounded policy) unless a price is managed
through the pricing engine; demand is drawn; stock censors it; replenishment orders go out; orders,
sessions and carts are assembled; customers sign up; the promotion calendar is extended.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from commerce_sim import calendar, demand
from commerce_sim.defects import inject_defects
from commerce_sim.export import LandingWriter
from commerce_sim.orders import DaySales, build_orders
from commerce_sim.scenario import Scenario
from commerce_sim.state import Pipeline, Promotion, SimState, StateError, load_state, save_state
from commerce_sim.truth import TruthWriter
from commerce_sim.world import (
    Customers,
    build_customers,
    build_world,
    content_score,
    customer_id,
    email_hash,
    new_customers,
)

__all__ = ["AdvanceSummary", "DayResult", "Simulator", "StateError"]

STATE_DIR = "state"
PURCHASE_ORDER_COLUMNS = ["po_id", "product_id", "warehouse_id", "quantity", "unit_cost", "ordered_on", "expected_on"]
TRUTH_DIR = "truth"


@dataclass
class DayResult:
    date: dt.date
    exports: dict[str, dict[str, pd.DataFrame]]  # source -> file stem -> rows
    truth: pd.DataFrame
    stats: dict[str, float] = field(default_factory=dict)


@dataclass
class AdvanceSummary:
    days: int
    first_date: dt.date | None
    last_date: dt.date | None
    seconds: float
    rows: dict[str, int]


class Simulator:
    """A seeded commerce world with persistent state under ``root`` exporting into ``landing``."""

    def __init__(self, state: SimState, root: Path, landing: Path):
        self.state = state
        self.root = Path(root)
        self.landing = Path(landing)

    # ---------------------------------------------------------------- lifecycle
    @classmethod
    def create(cls, scenario: Scenario, root: Path, landing: Path) -> Simulator:
        rng = np.random.default_rng(scenario.seed)
        world = build_world(scenario, rng)
        n_products, n_channels = world.params.base_units.shape
        window = scenario.inventory.forecast_window_days
        daily = world.params.base_units.sum(axis=1)
        on_hand = np.round(daily[:, None] * scenario.inventory.initial_days_of_cover * world.stock_share[None, :])
        normal = np.log(world.catalog.list_price[:, None] * (1 + world.channel_markup[None, :]))
        state = SimState(
            scenario=scenario,
            world=world,
            customers=build_customers(scenario, rng),
            rng=rng,
            day=0,
            log_cost=rng.normal(0, scenario.costs.shock_sd, n_products),
            shock=rng.normal(0, scenario.demand.shock_sd, n_products),
            competitor_gap=world.params.competitor_gap.copy(),
            war_until=np.full(world.n_categories, -1),
            war_depth=np.zeros(world.n_categories),
            price_offset=np.zeros(n_products),
            managed_price=np.full((n_products, n_channels), np.nan),
            reference_log_price=normal.copy(),
            last_promo_end=np.full((n_products, n_channels), -10_000),
            promo_busy_until=np.full(n_products, -1),
            on_hand=on_hand.astype(np.int64),
            pipeline=Pipeline(),
            sales_history=np.tile(daily, (window, 1)),
        )
        simulator = cls(state, root, landing)
        TruthWriter(simulator.truth_dir).write_static(state)
        simulator.save()
        return simulator

    @classmethod
    def open(cls, root: Path, landing: Path) -> Simulator:
        return cls(load_state(Path(root) / STATE_DIR), root, landing)

    @property
    def truth_dir(self) -> Path:
        return self.root / TRUTH_DIR

    @property
    def scenario(self) -> Scenario:
        return self.state.scenario

    @property
    def current_date(self) -> dt.date:
        """The next date the world will simulate."""
        return self.scenario.start_date + dt.timedelta(days=self.state.day)

    def save(self) -> None:
        save_state(self.state, self.root / STATE_DIR)

    def advance(self, days: int, progress: Callable[[int, int, dt.date], None] | None = None) -> AdvanceSummary:
        """Simulate ``days`` days, exporting and saving after each one."""
        if days < 0:
            raise ValueError(f"days must be zero or more, got {days}")
        writer = LandingWriter(self.landing)
        truth = TruthWriter(self.truth_dir)
        rows: dict[str, int] = {}
        first = last = None
        started = time.perf_counter()
        for i in range(days):
            result = self.step()
            writer.write_day(result.date, result.exports)
            truth.write_day(result.date, result.truth)
            self.save()
            for source, tables in result.exports.items():
                rows[source] = rows.get(source, 0) + sum(len(t) for t in tables.values())
            first = first or result.date
            last = result.date
            if progress:
                progress(i + 1, days, result.date)
        return AdvanceSummary(days, first, last, time.perf_counter() - started, rows)

    # ---------------------------------------------------------------- one day
    def step(self) -> DayResult:
        s, sc, w = self.state, self.scenario, self.state.world
        rng, t = s.rng, s.day
        date = sc.start_date + dt.timedelta(days=t)
        cat = w.catalog
        n_products, n_channels = w.params.base_units.shape
        n_warehouses = len(w.warehouse_ids)

        self._apply_pending_prices(t)
        received = s.pipeline.receive(t, n_products, n_warehouses)
        s.on_hand += received

        seen_shock = s.shock.copy()  # yesterday's demand signal is what the shop reacts to
        self._move_costs_and_shocks(rng)
        self._move_competitor(rng, t)
        if t % sc.pricing_history.reprice_every_days == 0:
            self._reprice(rng, seen_shock)

        regular = self._regular_prices()
        discount, promo_id, promo_on = self._active_promotions(t, n_products, n_channels)
        paid = np.round(regular * (1 - discount), 2)
        competitor_price = np.round(cat.list_price * np.exp(s.competitor_gap) * (1 - self._war_depth(t)), 2)

        log_normal = np.log(cat.list_price[:, None] * (1 + w.channel_markup[None, :]))
        terms = demand.price_terms(
            log_price=np.log(paid), log_normal_price=log_normal, reference_log_price=s.reference_log_price,
            own_elasticity=w.params.own_elasticity, cross_elasticity=w.params.cross_elasticity,
            category=cat.category, n_categories=w.n_categories,
            gain_sensitivity=sc.demand.reference_price.gain_sensitivity,
            loss_sensitivity=sc.demand.reference_price.loss_sensitivity,
        )
        log_base = (
            np.log(w.params.base_units)
            + calendar.calendar_log_effect(sc, t, cat.category)
            + s.shock[:, None]
            + (w.params.competitor_elasticity * np.log(competitor_price / cat.list_price))[:, None]
            + w.params.promo_lift[:, None] * promo_on
            + self._post_promo_dip(t)
            + sc.demand.content_effect * (content_score(cat, w.channel_ids) - 1.0)
            + self._campaign_lift(t, n_products)
        )
        expected = np.exp(log_base + terms.total)
        wanted = demand.draw_units(rng, expected, sc.demand.dispersion)
        sales, stockout = self._fulfil(rng, wanted)
        purchase_orders = self._replenish(rng, t)

        reference_used = s.reference_log_price
        s.reference_log_price = (
            sc.demand.reference_price.memory * s.reference_log_price
            + (1 - sc.demand.reference_price.memory) * np.log(paid)
        )
        self._plan_promotions(rng, t)
        exports = self._exports(rng, t, date, DaySales(date, sales, expected, regular, paid, promo_id),
                                competitor_price, received, purchase_orders)
        truth = pd.DataFrame({
            "date": date,
            "product_id": np.repeat(cat.product_id, n_channels),
            "channel": np.tile(w.channel_ids, n_products),
            "paid_price": paid.ravel(),
            "log_base": log_base.ravel(),
            "cross_term": terms.cross.ravel(),
            "reference_log_price": reference_used.ravel(),
            "expected_units": expected.ravel(),
            "demand_units": wanted.ravel(),
            "sold_units": sales.ravel(),
            "lost_units": (wanted - sales).ravel(),
            "stockout": np.repeat(stockout, n_channels),
        })
        s.day += 1
        return DayResult(date, exports, truth, {"units": float(sales.sum()), "lost": float((wanted - sales).sum())})

    # ---------------------------------------------------------------- market processes
    def _move_costs_and_shocks(self, rng: np.random.Generator) -> None:
        s, sc = self.state, self.scenario
        n = s.shock.size
        rho = sc.demand.shock_persistence
        s.shock = rho * s.shock + rng.normal(0, sc.demand.shock_sd * np.sqrt(1 - rho**2), n)
        rho_c = sc.costs.shock_persistence
        s.log_cost = rho_c * s.log_cost + rng.normal(0, sc.costs.shock_sd * np.sqrt(1 - rho_c**2), n)

    def _move_competitor(self, rng: np.random.Generator, t: int) -> None:
        s, spec = self.state, self.scenario.competitor
        target = s.world.params.competitor_gap
        s.competitor_gap = s.competitor_gap + spec.mean_reversion * (target - s.competitor_gap) + rng.normal(
            0, spec.drift_sd, s.competitor_gap.size)
        starting = (s.war_until < t) & (rng.random(s.war_until.size) < spec.price_war_rate)
        lengths = rng.integers(spec.price_war_days[0], spec.price_war_days[1] + 1, size=s.war_until.size)
        depths = rng.uniform(*spec.price_war_depth, size=s.war_until.size)
        s.war_until = np.where(starting, t + lengths - 1, s.war_until)
        s.war_depth = np.where(starting, depths, s.war_depth)

    def _war_depth(self, t: int) -> np.ndarray:
        s = self.state
        active = s.war_until >= t
        return np.where(active, s.war_depth, 0.0)[s.world.catalog.category]

    def _reprice(self, rng: np.random.Generator, seen_shock: np.ndarray) -> None:
        """The shop's pre-agent pricing: pass cost through, lean into demand it saw (the confounder)."""
        s, spec = self.state, self.scenario.pricing_history
        target = (
            spec.cost_passthrough * s.log_cost
            + spec.shock_response * seen_shock
            + rng.normal(0, spec.price_noise_sd, s.price_offset.size)
        )
        change = np.clip(target - s.price_offset, -spec.max_change, spec.max_change)
        s.price_offset = np.clip(s.price_offset + change, -0.6, 0.6)

    def _regular_prices(self) -> np.ndarray:
        s, w = self.state, self.state.world
        raw = w.catalog.list_price[:, None] * np.exp(s.price_offset)[:, None] * (1 + w.channel_markup[None, :])
        charm = np.where(raw >= 10, np.floor(raw) + 0.99, np.round(raw, 2))
        return np.where(np.isnan(s.managed_price), charm, s.managed_price)

    def _apply_pending_prices(self, t: int) -> None:
        s = self.state
        keep = []
        for day, p, c, price in s.pending_prices:
            if day <= t:
                s.managed_price[p, c] = price
            else:
                keep.append((day, p, c, price))
        s.pending_prices = keep

    def _active_promotions(self, t: int, n_products: int, n_channels: int):
        discount = np.zeros((n_products, n_channels))
        promo_id = np.full((n_products, n_channels), None, dtype=object)
        for promo in self.state.promotions:
            if promo.status != "scheduled" or not promo.start_day <= t <= promo.end_day:
                continue
            channels = range(n_channels) if promo.channel < 0 else [promo.channel]
            for c in channels:
                if promo.discount > discount[promo.product, c]:
                    discount[promo.product, c] = promo.discount
                    promo_id[promo.product, c] = promo.promo_id
                if promo.end_day == t:
                    self.state.last_promo_end[promo.product, c] = t
        return discount, promo_id, (discount > 0).astype(float)

    def _post_promo_dip(self, t: int) -> np.ndarray:
        spec = self.scenario.demand
        if spec.post_promo_dip_days == 0:
            return 0.0
        since = t - self.state.last_promo_end
        inside = (since >= 1) & (since <= spec.post_promo_dip_days)
        fading = spec.post_promo_dip * (1 - (since - 1) / spec.post_promo_dip_days)
        return np.where(inside, np.log1p(-np.clip(fading, 0, 0.95)), 0.0)

    def _campaign_lift(self, t: int, n_products: int) -> np.ndarray:
        s = self.state
        lift = np.zeros((n_products, 1))
        if not s.campaigns:
            return lift
        reach = s.customers.n
        for campaign in s.campaigns:
            if campaign.start_day <= t <= campaign.end_day:
                share = min(1.0, campaign.audience / max(reach, 1))
                rows = slice(None) if campaign.category < 0 else s.world.catalog.category == campaign.category
                lift[rows] += np.log1p(self.scenario.demand.campaign_lift * share)
        return lift

    def _plan_promotions(self, rng: np.random.Generator, t: int) -> None:
        """The shop's historical promotion calendar, planned days to weeks ahead."""
        s, spec = self.state, self.scenario.promotions
        n_products = s.promo_busy_until.size
        n_channels = len(s.world.channel_ids)
        lead = rng.integers(spec.lead_days[0], spec.lead_days[1] + 1, size=n_products)
        start = t + lead
        planning = (rng.random(n_products) < spec.rate_per_product_month / 30.0) & (s.promo_busy_until < start - 7)
        duration = rng.integers(spec.duration_days[0], spec.duration_days[1] + 1, size=n_products)
        depth = np.round(rng.uniform(*spec.discount_range, size=n_products), 2)
        channel = np.where(rng.random(n_products) < spec.channel_specific_share,
                           rng.integers(0, n_channels, size=n_products), -1)
        for p in np.flatnonzero(planning):
            end = int(start[p] + duration[p] - 1)
            s.promotions.append(Promotion(s.next_id("PR"), int(p), int(channel[p]), float(depth[p]),
                                          int(start[p]), end, t, "calendar"))
            s.promo_busy_until[p] = end

    # ---------------------------------------------------------------- stock
    def _fulfil(self, rng: np.random.Generator, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Serve demand from pooled stock; when it runs out, sales are censored and the rest is lost."""
        s = self.state
        available = s.on_hand.sum(axis=1)
        total = wanted.sum(axis=1)
        short = total > available
        sales = wanted.copy()
        if short.any():
            share = wanted[short] / np.maximum(total[short], 1)[:, None]
            exact = share * available[short][:, None]
            base = np.floor(exact).astype(np.int64)
            remainder = available[short] - base.sum(axis=1)
            order = np.argsort(-(exact - base) + rng.random(exact.shape) * 1e-9, axis=1)
            bump = np.zeros_like(base)
            ranks = np.argsort(order, axis=1)
            bump[ranks < remainder[:, None]] = 1
            sales[short] = base + bump
        remaining = sales.sum(axis=1)
        for w in np.argsort(-s.world.stock_share):
            take = np.minimum(s.on_hand[:, w], remaining)
            s.on_hand[:, w] -= take
            remaining -= take
        s.sales_history = np.roll(s.sales_history, -1, axis=0)
        s.sales_history[-1] = sales.sum(axis=1)
        return sales, short

    def _replenish(self, rng: np.random.Generator, t: int) -> pd.DataFrame:
        """(s, S) reordering from a trailing average of sales, which undercounts censored demand."""
        s, spec = self.state, self.scenario.inventory
        n_products, n_warehouses = s.on_hand.shape
        daily = s.sales_history.mean(axis=0)[:, None] * s.world.stock_share[None, :]
        position = s.on_hand + s.pipeline.on_order(n_products, n_warehouses)
        reviewing = (t + np.arange(n_warehouses)) % spec.review_every_days == 0
        reorder = (position < spec.reorder_point_days * daily) & reviewing[None, :]
        quantity = np.ceil(spec.order_up_to_days * daily - position).astype(np.int64)
        p_idx, w_idx = np.nonzero(reorder & (quantity > 0))
        if p_idx.size == 0:
            return pd.DataFrame(columns=PURCHASE_ORDER_COLUMNS)
        lead = np.array([wh.lead_time_days for wh in self.scenario.warehouses])[w_idx]
        jitter = np.array([wh.lead_time_jitter_days for wh in self.scenario.warehouses])[w_idx]
        arrival = t + lead + rng.integers(0, jitter + 1)
        missed = rng.random(p_idx.size) < spec.supplier_miss_rate
        arrival = np.where(missed, arrival + lead, arrival)
        qty = quantity[p_idx, w_idx]
        delivered = np.where(missed, np.floor(qty * rng.uniform(0.4, 0.9, p_idx.size)).astype(np.int64), qty)
        s.pipeline.add(arrival, p_idx, w_idx, delivered)
        cost = s.world.catalog.base_cost * np.exp(s.log_cost)
        date = self.scenario.start_date + dt.timedelta(days=t)
        return pd.DataFrame({
            "po_id": [s.next_id("PO") for _ in range(p_idx.size)],
            "product_id": s.world.catalog.product_id[p_idx],
            "warehouse_id": np.array(s.world.warehouse_ids)[w_idx],
            "quantity": qty,
            "unit_cost": np.round(cost[p_idx], 2),
            "ordered_on": date,
            "expected_on": [date + dt.timedelta(days=int(d - t)) for d in t + lead],
        })

    # ---------------------------------------------------------------- what the source systems export
    def _exports(self, rng, t, date, day_sales: DaySales, competitor_price, received, purchase_orders):
        s, sc, w = self.state, self.scenario, self.state.world
        cat = w.catalog
        new_customers_today = self._grow_customers(rng, t)
        customers = s.customers
        eligible = np.flatnonzero(customers.signup_day <= t)
        weights = (w.segment_rate[customers.segment[eligible]][:, None]
                   * np.where(w.segment_channel[customers.segment[eligible]][:, None]
                              == np.arange(len(w.channel_ids))[None, :], 3.0, 1.0))
        commerce = build_orders(
            rng, day_sales, product_ids=cat.product_id, channel_ids=w.channel_ids,
            customer_ids=customer_id(eligible), customer_weights=weights,
            lines_per_order_mean=sc.sessions.lines_per_order_mean,
            abandonment_rate=sc.sessions.cart_abandonment_rate, anonymous_share=sc.sessions.anonymous_share,
            currency=sc.currency,
        )
        exported_at = pd.Timestamp(date) + pd.Timedelta(hours=23, minutes=30)
        exports = {
            "catalog": {"products": self._catalog_snapshot(t, exported_at), "channels": self._channels()},
            "orders": {"orders": commerce["orders"], "order_lines": commerce["order_lines"]},
            "inventory": {
                "inventory_snapshot": self._inventory_snapshot(date, received),
                "warehouses": self._warehouses(),
                "purchase_orders": purchase_orders,
            },
            "prices": {"prices": self._prices(date, day_sales)},
            "competitor_prices": {"competitor_prices": self._competitor_feed(rng, date, competitor_price)},
            "customers": {"customers": self._customer_export(t, new_customers_today, exported_at)},
            "sessions": {"sessions": commerce["sessions"], "cart_events": commerce["cart_events"]},
            "promotions": {"promotions": self._promotion_export(t, exported_at)},
        }
        return inject_defects(rng, sc.data_defects, exports)

    def _grow_customers(self, rng, t) -> np.ndarray:
        s, spec = self.state, self.scenario.customers
        before = s.customers.n
        count = int(rng.poisson(spec.signups_per_day)) if t > 0 else 0
        if count:
            new = new_customers(self.scenario, rng, count, t)
            old = s.customers
            s.customers = Customers(
                segment=np.concatenate([old.segment, new.segment]),
                region=np.concatenate([old.region, new.region]),
                signup_day=np.concatenate([old.signup_day, new.signup_day]),
                marketing_opt_in=np.concatenate([old.marketing_opt_in, new.marketing_opt_in]),
                updated_day=np.concatenate([old.updated_day, new.updated_day]),
            )
        updating = np.flatnonzero(rng.random(before) < spec.profile_update_rate) if t > 0 else np.zeros(0, int)
        s.customers.marketing_opt_in[updating] = ~s.customers.marketing_opt_in[updating]
        s.customers.updated_day[updating] = t
        return np.concatenate([updating, np.arange(before, s.customers.n)])

    def _customer_export(self, t, changed, exported_at) -> pd.DataFrame:
        s, w = self.state, self.state.world
        c = s.customers
        rows = np.arange(c.n) if t == 0 else np.sort(changed)
        start = self.scenario.start_date
        return pd.DataFrame({
            "customer_id": customer_id(rows),
            "email_sha256": email_hash(rows),
            "segment": np.array(w.segment_names)[c.segment[rows]],
            "region": np.array(w.region_names)[c.region[rows]],
            "signup_date": [start + dt.timedelta(days=int(d)) for d in c.signup_day[rows]],
            "marketing_opt_in": c.marketing_opt_in[rows],
            "preferred_channel": np.array(w.channel_ids)[w.segment_channel[c.segment[rows]]],
            "updated_at": exported_at,
        })

    def _catalog_snapshot(self, t, exported_at) -> pd.DataFrame:
        s, cat = self.state, self.state.world.catalog
        start = self.scenario.start_date
        cost = np.round(cat.base_cost * np.exp(s.log_cost), 2)
        attributes = [
            {"color": c, "material": m, "size": z} if has else None
            for c, m, z, has in zip(cat.color, cat.material, cat.size, cat.has_attributes)
        ]
        descriptions = [
            f"{name} by {brand}: durable {material}, {color}." if has else None
            for name, brand, material, color, has in zip(cat.name, cat.brand, cat.material, cat.color, cat.has_description)
        ]
        return pd.DataFrame({
            "product_id": cat.product_id,
            "sku": cat.sku,
            "name": cat.name,
            "category": np.array(cat.category_names)[cat.category],
            "brand": cat.brand,
            "list_price": cat.list_price,
            "unit_cost": cost,
            "currency": self.scenario.currency,
            "weight_kg": cat.weight_kg,
            "description": descriptions,
            "image_count": cat.image_count,
            "attributes": attributes,
            "status": "active",
            "launched_on": [start + dt.timedelta(days=int(d)) for d in cat.launched_on],
            "updated_at": exported_at,
        })

    def _channels(self) -> pd.DataFrame:
        return pd.DataFrame({
            "channel_id": [c.id for c in self.scenario.channels],
            "name": [c.name for c in self.scenario.channels],
            "channel_type": ["marketplace" if "market" in c.id else "owned" for c in self.scenario.channels],
            "fee_rate": [c.fee_rate for c in self.scenario.channels],
        })

    def _warehouses(self) -> pd.DataFrame:
        return pd.DataFrame([
            {"warehouse_id": w.id, "name": w.name, "region": w.region, "lead_time_days": w.lead_time_days,
             "order_cost": w.order_cost, "holding_cost_rate": w.holding_cost_rate}
            for w in self.scenario.warehouses
        ])

    def _inventory_snapshot(self, date, received) -> pd.DataFrame:
        s, w = self.state, self.state.world
        n_products, n_warehouses = s.on_hand.shape
        on_order = s.pipeline.on_order(n_products, n_warehouses)
        return pd.DataFrame({
            "snapshot_date": date,
            "warehouse_id": np.tile(w.warehouse_ids, n_products),
            "product_id": np.repeat(w.catalog.product_id, n_warehouses),
            "on_hand": s.on_hand.ravel(),
            "on_order": on_order.ravel(),
            "received_today": received.ravel(),
        })

    def _prices(self, date, day_sales: DaySales) -> pd.DataFrame:
        w = self.state.world
        n_products, n_channels = day_sales.regular_price.shape
        return pd.DataFrame({
            "product_id": np.repeat(w.catalog.product_id, n_channels),
            "channel": np.tile(w.channel_ids, n_products),
            "price_date": date,
            "regular_price": day_sales.regular_price.ravel(),
            "price": day_sales.paid_price.ravel(),
            "promo_id": day_sales.promo_id.ravel(),
            "currency": self.scenario.currency,
        })

    def _competitor_feed(self, rng, date, competitor_price) -> pd.DataFrame:
        spec = self.scenario.competitor
        cat = self.state.world.catalog
        tracked = np.random.default_rng(self.scenario.seed + 1).random(cat.n) < spec.coverage  # fixed per world
        scraped = tracked & (rng.random(cat.n) >= spec.scrape_failure_rate)
        idx = np.flatnonzero(scraped)
        seconds = rng.integers(2 * 3600, 6 * 3600, size=idx.size).astype("timedelta64[s]")
        return pd.DataFrame({
            "scraped_at": np.datetime64(date, "s") + seconds,
            "competitor": spec.name,
            "product_id": cat.product_id[idx],
            "competitor_sku": np.char.add("RM-", np.char.zfill((idx * 7919 % 100000).astype(str), 5)),
            "price": competitor_price[idx],
            "currency": self.scenario.currency,
            "in_stock": rng.random(idx.size) > 0.05,
        })

    def _promotion_export(self, t, exported_at) -> pd.DataFrame:
        s = self.state
        start = self.scenario.start_date
        rows = [p for p in s.promotions if t in (p.created_day, p.updated_day)]
        channels = s.world.channel_ids
        return pd.DataFrame({
            "promo_id": [p.promo_id for p in rows],
            "product_id": [s.world.catalog.product_id[p.product] for p in rows],
            "channel": [channels[p.channel] if p.channel >= 0 else "all" for p in rows],
            "discount_pct": [round(p.discount * 100, 1) for p in rows],
            "starts_on": [start + dt.timedelta(days=p.start_day) for p in rows],
            "ends_on": [start + dt.timedelta(days=p.end_day) for p in rows],
            "promo_type": ["markdown" if p.origin == "calendar" else "agent" for p in rows],
            "status": [p.status for p in rows],
            "updated_at": exported_at,
        }, columns=["promo_id", "product_id", "channel", "discount_pct", "starts_on", "ends_on", "promo_type",
                    "status", "updated_at"])
