"""The market around the shop, and the shop's legacy (pre-agent) pricing and promotion planning.

Each process draws from its own keyed stream (``commerce_sim.streams``): supplier costs and demand
shocks per product and day, the competitor's drift per product and day and its price wars per
category and day, the legacy repricing noise, and the promotion calendar. None of them depends on
sales, so a decision that changes what sells leaves all of them exactly as they were.
"""

from __future__ import annotations

import numpy as np

from commerce_sim.state import Promotion, SimState
from commerce_sim.streams import Streams

REPRICE_LIMIT = 0.6  # the legacy policy never moves a price more than e^±0.6 from the list price


def move_costs_and_shocks(state: SimState, streams: Streams, day: int) -> None:
    """AR(1) demand shocks (what the shop sees and analysts do not) and supplier costs (the instrument)."""
    sc, products = state.scenario, np.arange(state.shock.size)
    rho = sc.demand.shock_persistence
    state.shock = rho * state.shock + sc.demand.shock_sd * np.sqrt(1 - rho**2) * streams.normal(
        "demand_shock", day, products)
    rho_c = sc.costs.shock_persistence
    state.log_cost = rho_c * state.log_cost + sc.costs.shock_sd * np.sqrt(1 - rho_c**2) * streams.normal(
        "cost", day, products)


def move_competitor(state: SimState, streams: Streams, day: int) -> None:
    """The competitor's price drifts around its long-run gap and, now and then, a category-wide price war."""
    spec = state.scenario.competitor
    target = state.world.params.competitor_gap
    drift = spec.drift_sd * streams.normal("competitor_drift", day, np.arange(target.size))
    state.competitor_gap = state.competitor_gap + spec.mean_reversion * (target - state.competitor_gap) + drift
    categories = np.arange(state.war_until.size)
    starting = (state.war_until < day) & (streams.uniform("price_war", day, categories, 0) < spec.price_war_rate)
    lengths = streams.integers("price_war", day, categories, spec.price_war_days[0], spec.price_war_days[1], draw=1)
    low, high = spec.price_war_depth
    depths = low + (high - low) * streams.uniform("price_war", day, categories, 2)
    state.war_until = np.where(starting, day + lengths - 1, state.war_until)
    state.war_depth = np.where(starting, depths, state.war_depth)


def competitor_price(state: SimState, day: int) -> np.ndarray:
    """The competitor's price per product today (the truth; the scraper sees most of it)."""
    catalog = state.world.catalog
    war = np.where(state.war_until >= day, state.war_depth, 0.0)[catalog.category]
    return np.round(catalog.list_price * np.exp(state.competitor_gap) * (1 - war), 2)


def unit_cost(state: SimState) -> np.ndarray:
    """Today's supplier cost per unit, in euros and cents."""
    return np.round(state.world.catalog.base_cost * np.exp(state.log_cost), 2)


def reprice_legacy(state: SimState, streams: Streams, day: int, seen_shock: np.ndarray) -> None:
    """The shop's pre-agent pricing: pass cost through, lean into the demand it saw (the confounder).

    It moves one base price per product; prices an agent manages ignore it until handed back."""
    spec = state.scenario.pricing_history
    noise = spec.price_noise_sd * streams.normal("legacy_price_noise", day, np.arange(state.price_offset.size))
    target = spec.cost_passthrough * state.log_cost + spec.shock_response * seen_shock + noise
    change = np.clip(target - state.price_offset, -spec.max_change, spec.max_change)
    state.price_offset = np.clip(state.price_offset + change, -REPRICE_LIMIT, REPRICE_LIMIT)


def legacy_prices(state: SimState) -> np.ndarray:
    """What the legacy policy charges per product x channel (charm prices: .99 above 10)."""
    world = state.world
    raw = world.catalog.list_price[:, None] * np.exp(state.price_offset)[:, None] * (1 + world.channel_markup[None, :])
    return np.where(raw >= 10, np.floor(raw) + 0.99, np.round(raw, 2))


def regular_prices(state: SimState) -> np.ndarray:
    """Regular prices in force: the agent's where it manages the price, the legacy policy's elsewhere."""
    return np.where(np.isnan(state.managed_price), legacy_prices(state), state.managed_price)


def active_promotions(state: SimState, day: int) -> tuple[np.ndarray, np.ndarray]:
    """Discount and promotion id per product x channel today (the deepest running promotion wins)."""
    n_products, n_channels = state.managed_price.shape
    discount = np.zeros((n_products, n_channels))
    promo_id = np.full((n_products, n_channels), None, dtype=object)
    for promo in state.promotions:
        if promo.status != "scheduled" or not promo.start_day <= day <= promo.end_day:
            continue
        channels = range(n_channels) if promo.channel < 0 else [promo.channel]
        for c in channels:
            if promo.discount > discount[promo.product, c]:
                discount[promo.product, c] = promo.discount
                promo_id[promo.product, c] = promo.promo_id
    return discount, promo_id


def plan_promotions(state: SimState, streams: Streams, day: int) -> None:
    """The shop's historical promotion calendar, planned days to weeks ahead (never past a product's
    end of life)."""
    spec = state.scenario.promotions
    n_products = state.promo_busy_until.size
    n_channels = len(state.world.channel_ids)
    products = np.arange(n_products)
    lead = streams.integers("promotion_calendar", day, products, spec.lead_days[0], spec.lead_days[1], draw=1)
    start = day + lead
    chance = streams.uniform("promotion_calendar", day, products, 0)
    planning = (chance < spec.rate_per_product_month / 30.0) & (state.promo_busy_until < start - 7)
    planning &= start < state.world.catalog.end_of_life
    duration = streams.integers("promotion_calendar", day, products, spec.duration_days[0], spec.duration_days[1],
                                draw=2)
    low, high = spec.discount_range
    depth = np.round(low + (high - low) * streams.uniform("promotion_calendar", day, products, 3), 2)
    specific = streams.uniform("promotion_calendar", day, products, 4) < spec.channel_specific_share
    channel = np.where(specific, streams.integers("promotion_calendar", day, products, 0, n_channels - 1, draw=5), -1)
    for p in np.flatnonzero(planning):
        end = int(start[p] + duration[p] - 1)
        state.promotions.append(Promotion(state.next_id("PR"), int(p), int(channel[p]), float(depth[p]),
                                          int(start[p]), end, day, "calendar"))
        state.promo_busy_until[p] = end
