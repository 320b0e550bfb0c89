"""The scenario: every parameter of the embedded commerce world, read from one YAML file.

A scenario is validated strictly (pydantic, ``extra="forbid"``): an unknown key is almost always a
typo that would otherwise silently fall back to a default, so it is rejected with the dotted path
of the key and the file it came from. The schema is documented field by field below and in
``commerce_sim/README.md``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

DEFAULT_SCENARIO = Path(__file__).parent / "scenarios" / "default.yaml"

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveFloat = Annotated[float, Field(gt=0.0)]
NonNegativeFloat = Annotated[float, Field(ge=0.0)]


class ScenarioError(ValueError):
    """A scenario file that cannot be used, with the file and the offending keys in the message."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _ranges_are_ordered(cls, value, info: ValidationInfo):
        """Every (low, high) pair in the schema must have low <= high (two have stricter rules of their own)."""
        if info.field_name in ("price_range", "elasticity_bounds"):
            return value
        if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
            if value[0] > value[1]:
                raise ValueError(f"must be [low, high] with low <= high, got {list(value)}")
        return value


class CategorySpec(_Strict):
    """A product category: its share of the assortment, price band and seasonal peak."""

    name: str = Field(min_length=1)
    share: PositiveFloat
    price_range: tuple[PositiveFloat, PositiveFloat]
    gross_margin: Annotated[float, Field(gt=0.0, lt=0.95)] = 0.4
    seasonal_peak_day: Annotated[int, Field(ge=1, le=366)] = 330
    seasonal_amplitude: Annotated[float, Field(ge=0.0, le=1.5)] = 0.2
    elasticity_shift: Annotated[float, Field(ge=-2.0, le=2.0)] = 0.0
    end_of_life_share: Probability = 0.0  # share of the category's products that reach end of life in the history

    @field_validator("price_range")
    @classmethod
    def _ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        if value[0] >= value[1]:
            raise ValueError(f"price_range low {value[0]} must be below high {value[1]}")
        return value


class CatalogSpec(_Strict):
    n_products: Annotated[int, Field(ge=4, le=20_000)] = 200
    categories: list[CategorySpec] = Field(min_length=1)
    missing_content_rate: Probability = 0.08
    brands_per_category: Annotated[int, Field(ge=1, le=50)] = 5


class ChannelSpec(_Strict):
    """A sales channel: its share of demand, price markup over the list price and fee rate."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    demand_share: PositiveFloat
    price_markup: Annotated[float, Field(ge=-0.5, le=1.0)] = 0.0
    fee_rate: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    weekend_lift: Annotated[float, Field(ge=-0.9, le=2.0)] = 0.1
    promotion_fee_per_day: NonNegativeFloat = 1.0  # what the channel charges per promoted product and day


class WarehouseSpec(_Strict):
    """A warehouse: replenishment lead time and the costs that make stock decisions non-trivial."""

    id: str = Field(pattern=r"^[A-Z][A-Z0-9_-]*$")
    name: str
    region: str
    stock_share: PositiveFloat
    lead_time_days: Annotated[int, Field(ge=1, le=90)]
    lead_time_jitter_days: Annotated[int, Field(ge=0, le=30)] = 1
    order_cost: NonNegativeFloat = 40.0
    holding_cost_rate: Annotated[float, Field(ge=0.0, le=0.05)] = 0.0007
    serves: list[str] | None = None  # customer regions it serves first (default: its own region)


class EventSpec(_Strict):
    """A holiday or commercial event: demand multiplier ``1 + lift`` on its days."""

    name: str
    month: Annotated[int, Field(ge=1, le=12)]
    day: Annotated[int, Field(ge=1, le=31)]
    duration_days: Annotated[int, Field(ge=1, le=60)] = 1
    lift: Annotated[float, Field(ge=-0.9, le=10.0)]


class ReferencePriceSpec(_Strict):
    """Customers anchor on an exponentially weighted memory of past prices (loss aversion)."""

    memory: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.9
    gain_sensitivity: NonNegativeFloat = 0.3
    loss_sensitivity: NonNegativeFloat = 0.6


class PriceCeilingSpec(_Strict):
    """Above ``headroom`` x the normal price shoppers turn away ever faster.

    The own-price term gains ``-steepness * max(0, log(price / (headroom * normal price)))**2``: below
    the ceiling demand keeps its constant elasticity, above it the local elasticity falls by
    ``2 * steepness`` per unit of log price, so every product has a finite profit-maximizing price.
    """

    headroom: Annotated[float, Field(gt=1.0, le=5.0)] = 2.0
    steepness: Annotated[float, Field(gt=0.0, le=50.0)] = 4.0


class PromotionResponseSpec(_Strict):
    """How a promotion's visibility lift depends on its depth and its age.

    No lift below ``min_depth``; above it the lift approaches its full size as
    ``1 - exp(-(depth - min_depth) / saturation_depth)``, and fades as ``exp(-(day - 1) / fade_days)``
    over a long promotion (the reference price adapts meanwhile, so the discount itself stops
    feeling like a gain).
    """

    min_depth: Probability = 0.05
    saturation_depth: Annotated[float, Field(gt=0.0, le=1.0)] = 0.05
    fade_days: PositiveFloat = 21.0


class DemandSpec(_Strict):
    """True demand per product x channel x day (see commerce_sim/demand.py for the equation)."""

    base_units_mean: PositiveFloat = 2.0
    base_units_dispersion: Annotated[float, Field(ge=0.0, le=3.0)] = 0.8
    elasticity_mean: Annotated[float, Field(ge=-8.0, le=-0.1)] = -2.0
    elasticity_sd: Annotated[float, Field(ge=0.0, le=3.0)] = 0.5
    elasticity_bounds: tuple[float, float] = (-4.0, -0.5)
    cross_elasticity_mean: Annotated[float, Field(ge=0.0, le=3.0)] = 0.4
    competitor_elasticity_mean: Annotated[float, Field(ge=0.0, le=3.0)] = 0.5
    weekly_amplitude: Annotated[float, Field(ge=0.0, le=1.0)] = 0.15
    trend_per_year: Annotated[float, Field(ge=-0.9, le=3.0)] = 0.08
    events: list[EventSpec] = Field(default_factory=list)
    promo_lift_mean: Annotated[float, Field(ge=0.0, le=3.0)] = 0.3
    post_promo_dip: Probability = 0.25
    post_promo_dip_days: Annotated[int, Field(ge=0, le=60)] = 7
    reference_price: ReferencePriceSpec = ReferencePriceSpec()
    shock_sd: Annotated[float, Field(ge=0.0, le=2.0)] = 0.2  # long-run sd of the AR(1) log demand shock
    shock_persistence: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.9
    dispersion: PositiveFloat = 4.0
    content_effect: Annotated[float, Field(ge=0.0, le=2.0)] = 0.3
    campaign_lift: Annotated[float, Field(ge=0.0, le=3.0)] = 0.4  # the most campaigns can ever add (saturation)
    campaign_days: Annotated[int, Field(ge=1, le=30)] = 3
    campaign_fatigue: NonNegativeFloat = 1.0  # fatigue a segment gains when all of it is messaged once
    campaign_fatigue_half_life_days: PositiveFloat = 7.0
    price_ceiling: PriceCeilingSpec = PriceCeilingSpec()
    promotion_response: PromotionResponseSpec = PromotionResponseSpec()

    @field_validator("elasticity_bounds")
    @classmethod
    def _bounds(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not value[0] < value[1] < 0:
            raise ValueError(f"elasticity_bounds must be two negative numbers, low first; got {value}")
        return value

    @model_validator(mode="after")
    def _mean_inside_bounds(self) -> DemandSpec:
        low, high = self.elasticity_bounds
        if not low <= self.elasticity_mean <= high:
            raise ValueError(f"elasticity_mean {self.elasticity_mean} lies outside elasticity_bounds {self.elasticity_bounds}")
        return self


class PricingHistorySpec(_Strict):
    """How the shop priced before agents: weekly repricing that reacted to what it saw.

    ``shock_response`` is the confounder: the shop raised prices when it saw demand running hot.
    ``cost_passthrough`` passes supplier cost shocks into price; cost shocks do not move demand, so
    they are valid instruments.
    """

    reprice_every_days: Annotated[int, Field(ge=1, le=90)] = 7
    shock_response: Annotated[float, Field(ge=0.0, le=2.0)] = 0.8
    cost_passthrough: Probability = 0.8
    price_noise_sd: Annotated[float, Field(ge=0.0, le=0.5)] = 0.02
    max_change: Annotated[float, Field(gt=0.0, le=1.0)] = 0.25


class CostSpec(_Strict):
    """Supplier cost drifts as an AR(1) in logs; ``shock_sd`` is its long-run standard deviation."""

    shock_sd: Annotated[float, Field(ge=0.0, le=1.0)] = 0.2
    shock_persistence: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.95


class CompetitorSpec(_Strict):
    name: str = "RivalMart"
    start_gap_sd: Annotated[float, Field(ge=0.0, le=1.0)] = 0.08
    drift_sd: Annotated[float, Field(ge=0.0, le=0.5)] = 0.01
    mean_reversion: Probability = 0.03
    price_war_rate: Probability = 0.01
    price_war_depth: tuple[Probability, Probability] = (0.1, 0.25)
    price_war_days: tuple[Annotated[int, Field(ge=1)], Annotated[int, Field(ge=1)]] = (5, 21)
    coverage: Probability = 0.85
    scrape_failure_rate: Probability = 0.03


class PromotionSpec(_Strict):
    """The historical promotion calendar: how often, how deep and how long promotions ran."""

    rate_per_product_month: Annotated[float, Field(ge=0.0, le=10.0)] = 0.25
    discount_range: tuple[Probability, Probability] = (0.1, 0.3)
    duration_days: tuple[Annotated[int, Field(ge=1)], Annotated[int, Field(ge=1)]] = (3, 10)
    lead_days: tuple[Annotated[int, Field(ge=1)], Annotated[int, Field(ge=1)]] = (3, 21)
    channel_specific_share: Probability = 0.3


class FulfilmentSpec(_Strict):
    """Regional fulfilment: each warehouse serves its regions first; another warehouse may ship at a
    higher cost, but some customers walk away when delivery takes longer."""

    shipping_cost_per_unit: NonNegativeFloat = 2.0
    remote_shipping_cost_per_unit: NonNegativeFloat = 4.5
    remote_conversion: Probability = 0.85
    transfer_fixed_cost: NonNegativeFloat = 30.0
    transfer_cost_per_unit: NonNegativeFloat = 0.8
    transfer_days: tuple[Annotated[int, Field(ge=1, le=30)], Annotated[int, Field(ge=1, le=30)]] = (1, 2)


class LifecycleSpec(_Strict):
    """Launch ramps, end of life and clearance. Which products reach end of life is set per category."""

    recent_launch_share: Probability = 0.08  # launched in the 120 days before the start: demand still ramps up
    launch_ramp_days: PositiveFloat = 45.0
    fade_days: PositiveFloat = 14.0  # after end of life demand fades as exp(-days / fade_days)
    clearance_days: Annotated[int, Field(ge=0, le=365)] = 28  # then left-over stock is written off
    salvage_rate: Probability = 0.3  # share of the unit cost a write-off recovers


class MarketingSpec(_Strict):
    """The messaging platform's economics: every message costs, and it sends only so many a day."""

    cost_per_message: NonNegativeFloat = 0.01
    daily_capacity: Annotated[int, Field(ge=1, le=100_000_000)] = 10_000


class SegmentSpec(_Strict):
    name: str
    share: PositiveFloat
    cadence_days: PositiveFloat
    preferred_channel: str
    promo_affinity: Annotated[float, Field(ge=0.0, le=5.0)] = 1.0


class CustomerSpec(_Strict):
    n_customers: Annotated[int, Field(ge=10, le=2_000_000)] = 5000
    segments: list[SegmentSpec] = Field(min_length=1)
    signups_per_day: NonNegativeFloat = 6.0
    profile_update_rate: Probability = 0.002
    regions: list[str] = Field(default_factory=lambda: ["north", "south", "east", "west"], min_length=1)
    region_shares: list[PositiveFloat] | None = None  # share of customers (and demand) per region; default equal


class SessionSpec(_Strict):
    cart_abandonment_rate: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.65
    anonymous_share: Probability = 0.3
    lines_per_order_mean: Annotated[float, Field(ge=1.0, le=20.0)] = 1.4


class InventorySpec(_Strict):
    """Periodic-review (s, S) replenishment in days of cover, from a trailing average of sales.

    Each warehouse reviews its stock every ``review_every_days`` (on its own weekday) and orders up
    to ``order_up_to_days`` of cover when the position is below ``reorder_point_days``.
    """

    initial_days_of_cover: PositiveFloat = 30.0
    review_every_days: Annotated[int, Field(ge=1, le=60)] = 7
    reorder_point_days: PositiveFloat = 9.0
    order_up_to_days: PositiveFloat = 28.0
    forecast_window_days: Annotated[int, Field(ge=1, le=90)] = 14
    supplier_miss_rate: Probability = 0.04


class SystemFailureSpec(_Strict):
    """How often a commerce system API misbehaves. A timeout may still have applied the change."""

    timeout_rate: Probability = 0.0
    rejection_rate: Probability = 0.0
    partial_rate: Probability = 0.0
    timeout_applies_rate: Probability = 0.5


class SystemsSpec(_Strict):
    pricing: SystemFailureSpec = SystemFailureSpec()
    purchasing: SystemFailureSpec = SystemFailureSpec()
    promotions: SystemFailureSpec = SystemFailureSpec()
    content: SystemFailureSpec = SystemFailureSpec()
    messaging: SystemFailureSpec = SystemFailureSpec()


class DataDefectSpec(_Strict):
    """Rates of realistic dirt in the exports, per row. Real exports are never perfectly clean."""

    duplicate_order_line_rate: Probability = 0.0005
    unknown_product_rate: Probability = 0.0003
    negative_quantity_rate: Probability = 0.0002
    missing_price_rate: Probability = 0.0005
    absurd_competitor_price_rate: Probability = 0.001


class Scenario(_Strict):
    """The whole world. Change one file, get a different shop."""

    name: str = "default"
    description: str = ""
    seed: int = 42
    start_date: dt.date = dt.date(2025, 1, 1)
    history_days: Annotated[int, Field(ge=1, le=3660)] = 365
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    catalog: CatalogSpec
    channels: list[ChannelSpec] = Field(min_length=1)
    warehouses: list[WarehouseSpec] = Field(min_length=1)
    demand: DemandSpec = DemandSpec()
    pricing_history: PricingHistorySpec = PricingHistorySpec()
    costs: CostSpec = CostSpec()
    competitor: CompetitorSpec = CompetitorSpec()
    promotions: PromotionSpec = PromotionSpec()
    customers: CustomerSpec
    sessions: SessionSpec = SessionSpec()
    inventory: InventorySpec = InventorySpec()
    fulfilment: FulfilmentSpec = FulfilmentSpec()
    lifecycle: LifecycleSpec = LifecycleSpec()
    marketing: MarketingSpec = MarketingSpec()
    systems: SystemsSpec = SystemsSpec()
    data_defects: DataDefectSpec = DataDefectSpec()

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        channel_ids = [c.id for c in self.channels]
        if len(set(channel_ids)) != len(channel_ids):
            raise ValueError(f"channel ids must be unique, got {channel_ids}")
        warehouse_ids = [w.id for w in self.warehouses]
        if len(set(warehouse_ids)) != len(warehouse_ids):
            raise ValueError(f"warehouse ids must be unique, got {warehouse_ids}")
        for i, segment in enumerate(self.customers.segments):
            if segment.preferred_channel not in channel_ids:
                raise ValueError(
                    f"customers.segments[{i}].preferred_channel {segment.preferred_channel!r} "
                    f"is not one of the channels {channel_ids}"
                )
        if len({c.name for c in self.catalog.categories}) != len(self.catalog.categories):
            raise ValueError("catalog.categories names must be unique")
        regions = self.customers.regions
        if len(set(regions)) != len(regions):
            raise ValueError(f"customers.regions must be unique, got {regions}")
        if self.customers.region_shares is not None and len(self.customers.region_shares) != len(regions):
            raise ValueError(f"customers.region_shares has {len(self.customers.region_shares)} values for "
                             f"{len(regions)} regions {regions}")
        for i, warehouse in enumerate(self.warehouses):
            unknown = [r for r in (warehouse.serves or []) if r not in regions]
            if unknown:
                raise ValueError(f"warehouses[{i}].serves {unknown} are not customer regions {regions}")
        return self

    def with_overrides(self, *, days: int | None = None, products: int | None = None,
                       customers: int | None = None, seed: int | None = None) -> Scenario:
        """A copy with the common size knobs changed (the CLI's --days/--products/--customers)."""
        data = self.model_dump()
        if days is not None:
            data["history_days"] = days
        if products is not None:
            data["catalog"]["n_products"] = products
        if customers is not None:
            data["customers"]["n_customers"] = customers
        if seed is not None:
            data["seed"] = seed
        return parse_scenario(data, source="overrides")


def _format_errors(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        if item["type"] == "extra_forbidden":
            lines.append(f"  {where}: unknown key (not part of the scenario schema; check the spelling)")
        else:
            lines.append(f"  {where}: {item['msg']}")
    return "\n".join(lines)


def parse_scenario(data: Any, *, source: str = "<dict>") -> Scenario:
    """Validate a mapping as a scenario, raising ScenarioError that names every bad key."""
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: a scenario must be a mapping of keys to values, got {type(data).__name__}")
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(f"{source}: invalid scenario\n{_format_errors(error)}") from None


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Read and validate a scenario YAML file (the default scenario when ``path`` is None)."""
    path = Path(path) if path is not None else DEFAULT_SCENARIO
    if not path.is_file():
        raise ScenarioError(f"{path}: scenario file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ScenarioError(f"{path}: not valid YAML: {error}") from None
    except UnicodeDecodeError as error:
        raise ScenarioError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    return parse_scenario(data, source=str(path))
