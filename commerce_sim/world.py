"""The static part of the world: catalog, channels, warehouses, customers and true demand parameters.

Built once from the scenario and its seed. The true parameters live here too, which is why this
module (like the simulator state that holds a World) belongs to the sealed side of the simulator:
platform code never imports it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from commerce_sim.scenario import Scenario

_COLORS = np.array(["black", "white", "grey", "red", "blue", "green", "beige", "navy"])
_MATERIALS = np.array(["steel", "cotton", "plastic", "wood", "glass", "aluminium", "ceramic", "polyester"])
_SIZES = np.array(["XS", "S", "M", "L", "XL", "one-size"])
_NOUNS = {
    "kitchen": ["Knife", "Pan", "Kettle", "Grater", "Blender", "Cutting Board", "Pot", "Whisk"],
    "garden": ["Hose", "Shears", "Planter", "Rake", "Sprinkler", "Lantern", "Bench", "Gloves"],
    "toys": ["Puzzle", "Robot", "Doll", "Blocks", "Kite", "Board Game", "Car", "Plush Bear"],
    "electronics": ["Headphones", "Speaker", "Charger", "Smartwatch", "Router", "Camera", "Keyboard", "Mouse"],
    "apparel": ["T-Shirt", "Hoodie", "Jacket", "Jeans", "Sneakers", "Scarf", "Cap", "Socks"],
}
_ADJECTIVES = np.array(["Classic", "Pro", "Eco", "Compact", "Deluxe", "Smart", "Urban", "Nordic", "Basic", "Premium"])


@dataclass
class Catalog:
    product_id: np.ndarray
    sku: np.ndarray
    name: np.ndarray
    category: np.ndarray  # index into category_names
    category_names: list[str]
    brand: np.ndarray
    list_price: np.ndarray
    base_cost: np.ndarray
    weight_kg: np.ndarray
    color: np.ndarray
    material: np.ndarray
    size: np.ndarray
    has_description: np.ndarray
    image_count: np.ndarray
    has_attributes: np.ndarray
    launched_on: np.ndarray  # days relative to the scenario start (negative: launched before)
    end_of_life: np.ndarray  # day demand starts to fade (NO_END_OF_LIFE: never in this world)

    @property
    def n(self) -> int:
        return len(self.product_id)


NO_END_OF_LIFE = 10**9


@dataclass
class TrueDemandParameters:
    """What evaluation may compare against. Never exported, never visible to the platform."""

    base_units: np.ndarray  # products x channels, expected units/day at normal price, no season
    own_elasticity: np.ndarray
    cross_elasticity: np.ndarray
    competitor_elasticity: np.ndarray
    promo_lift: np.ndarray
    competitor_gap: np.ndarray  # long-run log gap of the competitor's price to our list price


@dataclass
class Customers:
    """Customer base; grows with signups, so arrays are replaced (not mutated) when it grows."""

    segment: np.ndarray
    region: np.ndarray
    signup_day: np.ndarray
    marketing_opt_in: np.ndarray
    updated_day: np.ndarray

    @property
    def n(self) -> int:
        return len(self.segment)


@dataclass
class World:
    catalog: Catalog
    params: TrueDemandParameters
    channel_ids: list[str]
    channel_markup: np.ndarray
    warehouse_ids: list[str]
    stock_share: np.ndarray
    segment_names: list[str]
    segment_rate: np.ndarray  # expected orders per customer per day
    segment_channel: np.ndarray  # index of the preferred channel
    region_names: list[str]
    region_share: np.ndarray  # share of customers, and of every product's demand, per region
    home_warehouse: np.ndarray  # per region: the warehouse that serves it first

    @property
    def n_categories(self) -> int:
        return len(self.catalog.category_names)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """Products, channels, regions, warehouses."""
        return (self.catalog.n, len(self.channel_ids), len(self.region_names), len(self.warehouse_ids))


def customer_id(index: np.ndarray | int) -> np.ndarray:
    values = np.atleast_1d(np.asarray(index))
    return np.array([f"C{int(i):07d}" for i in values], dtype=object)


def email_hash(index: np.ndarray) -> np.ndarray:
    """A stable pseudonymous e-mail hash, as a CDP would export instead of the address."""
    return np.array([hashlib.sha256(f"customer{int(i)}@example.com".encode()).hexdigest()[:32] for i in index])


def _content_score_weights(channels: list[str]) -> np.ndarray:
    """How much each content field matters per channel (marketplaces demand complete listings)."""
    weights = []
    for channel in channels:
        if "market" in channel:
            weights.append([0.3, 0.4, 0.3])
        else:
            weights.append([0.4, 0.4, 0.2])
    return np.array(weights)


def content_score(catalog: Catalog, channel_ids: list[str], image_target: int = 4) -> np.ndarray:
    """Completeness of each product's content per channel in [0, 1] (description, images, attributes)."""
    parts = np.stack(
        [
            catalog.has_description.astype(float),
            np.minimum(catalog.image_count, image_target) / image_target,
            catalog.has_attributes.astype(float),
        ],
        axis=1,
    )
    return parts @ _content_score_weights(channel_ids).T


def region_shares(scenario: Scenario) -> np.ndarray:
    spec = scenario.customers
    return _normalised(spec.region_shares if spec.region_shares is not None else [1.0] * len(spec.regions))


def home_warehouses(scenario: Scenario) -> np.ndarray:
    """Per region, the warehouse that serves it first: the first that lists it in ``serves`` (by
    default a warehouse serves its own region); a region no warehouse serves goes to the warehouse
    with the largest stock share."""
    largest = int(np.argmax([w.stock_share for w in scenario.warehouses]))
    homes = []
    for region in scenario.customers.regions:
        serving = [i for i, w in enumerate(scenario.warehouses) if region in (w.serves or [w.region])]
        homes.append(serving[0] if serving else largest)
    return np.array(homes, dtype=np.int64)


def build_world(scenario: Scenario, rng: np.random.Generator) -> World:
    catalog = _build_catalog(scenario, rng)
    channel_ids = [c.id for c in scenario.channels]
    params = _build_parameters(scenario, catalog, rng)
    segments = scenario.customers.segments
    return World(
        catalog=catalog,
        params=params,
        channel_ids=channel_ids,
        channel_markup=np.array([c.price_markup for c in scenario.channels]),
        warehouse_ids=[w.id for w in scenario.warehouses],
        stock_share=_normalised([w.stock_share for w in scenario.warehouses]),
        segment_names=[s.name for s in segments],
        segment_rate=np.array([1.0 / s.cadence_days for s in segments]),
        segment_channel=np.array([channel_ids.index(s.preferred_channel) for s in segments]),
        region_names=list(scenario.customers.regions),
        region_share=region_shares(scenario),
        home_warehouse=home_warehouses(scenario),
    )


def build_customers(scenario: Scenario, rng: np.random.Generator) -> Customers:
    n = scenario.customers.n_customers
    shares = _normalised([s.share for s in scenario.customers.segments])
    return Customers(
        segment=rng.choice(len(shares), size=n, p=shares),
        region=rng.choice(len(scenario.customers.regions), size=n, p=region_shares(scenario)),
        signup_day=-rng.integers(1, 3 * 365, size=n),
        marketing_opt_in=rng.random(n) < 0.55,
        updated_day=np.full(n, -1),
    )


def new_customers(scenario: Scenario, rng: np.random.Generator, count: int, day: int) -> Customers:
    shares = _normalised([s.share for s in scenario.customers.segments])
    return Customers(
        segment=rng.choice(len(shares), size=count, p=shares),
        region=rng.choice(len(scenario.customers.regions), size=count, p=region_shares(scenario)),
        signup_day=np.full(count, day),
        marketing_opt_in=rng.random(count) < 0.55,
        updated_day=np.full(count, day),
    )


def _normalised(values) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    return array / array.sum()


def _build_catalog(scenario: Scenario, rng: np.random.Generator) -> Catalog:
    spec = scenario.catalog
    n = spec.n_products
    shares = _normalised([c.share for c in spec.categories])
    counts = np.floor(shares * n).astype(int)
    counts[np.argsort(-(shares * n - counts))[: n - counts.sum()]] += 1
    category = np.repeat(np.arange(len(spec.categories)), counts)
    low = np.array([c.price_range[0] for c in spec.categories])[category]
    high = np.array([c.price_range[1] for c in spec.categories])[category]
    list_price = np.round(np.exp(rng.uniform(np.log(low), np.log(high))), 0) - 0.01
    margin = np.array([c.gross_margin for c in spec.categories])[category]
    base_cost = np.round(list_price * (1 - np.clip(margin * rng.lognormal(0, 0.15, n), 0.05, 0.9)), 2)
    names = [c.name for c in spec.categories]
    brand_index = rng.integers(0, spec.brands_per_category, size=n)
    brand = np.array([f"{names[c][:3].title()}{'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[b % 26]}{b // 26 or ''}"
                      for c, b in zip(category, brand_index)])
    nouns = [_NOUNS.get(name, ["Item", "Set", "Kit", "Pack"]) for name in names]
    noun = np.array([nouns[c][rng.integers(len(nouns[c]))] for c in category])
    product_id = np.char.add("P", np.char.zfill(np.arange(1, n + 1).astype(str), 5))
    sku = np.array([f"SKU-{names[c][:3].upper()}-{i + 1:05d}" for i, c in enumerate(category)])
    missing = spec.missing_content_rate
    return Catalog(
        product_id=product_id,
        sku=sku,
        name=np.char.add(np.char.add(_ADJECTIVES[rng.integers(len(_ADJECTIVES), size=n)], " "), noun),
        category=category,
        category_names=names,
        brand=brand,
        list_price=list_price,
        base_cost=base_cost,
        weight_kg=np.round(rng.lognormal(0, 0.8, n), 2),
        color=_COLORS[rng.integers(len(_COLORS), size=n)],
        material=_MATERIALS[rng.integers(len(_MATERIALS), size=n)],
        size=_SIZES[rng.integers(len(_SIZES), size=n)],
        has_description=rng.random(n) >= missing,
        image_count=np.where(rng.random(n) < missing, 0, rng.integers(1, 7, size=n)),
        has_attributes=rng.random(n) >= missing,
        launched_on=np.where(rng.random(n) < scenario.lifecycle.recent_launch_share,
                             -rng.integers(1, 121, size=n), -rng.integers(121, 1500, size=n)),
        end_of_life=_end_of_life(scenario, category, rng),
    )


def _end_of_life(scenario: Scenario, category: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """End-of-life day per product: a category's ``end_of_life_share`` of its products reach it at a
    day spread over the last three quarters of the history; the rest never do in this world."""
    share = np.array([c.end_of_life_share for c in scenario.catalog.categories])[category]
    days = scenario.history_days
    chosen = rng.random(category.size) < share
    day = rng.integers(max(1, days // 4), max(2, days), size=category.size)
    return np.where(chosen, day, NO_END_OF_LIFE).astype(np.int64)


def lifecycle_log_effect(catalog: Catalog, day: int, launch_ramp_days: float, fade_days: float) -> np.ndarray:
    """Log demand multiplier of each product's life cycle on ``day``: a launch ramp (30% of mature
    demand on launch day, approaching 100% with time constant ``launch_ramp_days``) and, after end
    of life, an exponential fade."""
    age = np.maximum(day - catalog.launched_on, 0)
    ramp = np.log1p(-0.7 * np.exp(-age / launch_ramp_days))
    fade = -np.maximum(day - catalog.end_of_life, 0) / fade_days
    return ramp + fade


def _build_parameters(scenario: Scenario, catalog: Catalog, rng: np.random.Generator) -> TrueDemandParameters:
    demand = scenario.demand
    n = catalog.n
    shift = np.array([c.elasticity_shift for c in scenario.catalog.categories])[catalog.category]
    low, high = demand.elasticity_bounds
    # Center category shifts so the assortment mean stays at elasticity_mean.
    own = demand.elasticity_mean + (shift - shift.mean()) + rng.normal(0, demand.elasticity_sd, n)
    own = np.clip(own, low, high)
    sigma = demand.base_units_dispersion
    popularity = rng.lognormal(-sigma**2 / 2, sigma, n)
    channel_share = _normalised([c.demand_share for c in scenario.channels])
    affinity = rng.dirichlet(channel_share * 40, size=n)
    n_channels = len(channel_share)
    base_units = demand.base_units_mean * n_channels * popularity[:, None] * affinity
    return TrueDemandParameters(
        base_units=base_units,
        own_elasticity=own,
        cross_elasticity=np.abs(rng.normal(demand.cross_elasticity_mean, 0.1, n)),
        competitor_elasticity=np.abs(rng.normal(demand.competitor_elasticity_mean, 0.15, n)),
        promo_lift=np.abs(rng.normal(demand.promo_lift_mean, 0.1, n)),
        competitor_gap=rng.normal(0.0, scenario.competitor.start_gap_sd, n),
    )
