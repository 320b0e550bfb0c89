"""The true demand equation of the embedded world: one implementation, used by the day step and by
the truth's "what if" answers alike.

Expected units for product p on channel c and day t (arrays are products x channels)::

    log λ = log_base[p, c, t]                              # see DemandConditions: popularity, calendar,
                                                           #   shock, life cycle, competitor, content, campaigns
          + e[p] * x − κ * max(0, x − log H)²              # own price, x = log(paid price / normal price)
          + g[p] * mean_q x[q]                             # substitutes: other products of the category, same channel
          + reference(log paid − reference log price)     # loss aversion around remembered prices
          + promo_lift[p] * s(depth) * exp(−(age − 1) / F) # visibility of a promotion beyond its discount
          + log(1 − dip)                                   # post-promotion dip, however the promotion ended

``normal price`` = list price x (1 + channel markup). Below the price ceiling (``H`` x the normal
price) the own-price response has the constant elasticity ``e[p]`` — the structural elasticity
evaluation compares estimates with. Above it the response steepens: the local elasticity is
``e[p] − 2κ (x − log H)``, so demand eventually falls faster than 1/price and every product has a
finite, interior profit-maximizing price (even those with ``e > −1``). ``s(depth)`` is 0 below the
scenario's minimum depth and saturates above it; the lift fades over a long promotion while the
reference price adapts, so a permanent "promotion" ends up a plain price cut. The post-promotion dip
(pantry loading) scales with the lift of the promotion that ended, starts the day after its last day
and fades linearly over ``post_promo_dip_days``.

Units are negative-binomial with mean λ and shape ``dispersion``, drawn per region by inverse CDF
from keyed uniforms (``commerce_sim.streams``): region r gets mean ``λ s_r`` and shape
``dispersion s_r``, so the product x channel total is exactly NegativeBinomial(λ, dispersion).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from commerce_sim.scenario import DemandSpec
from commerce_sim.streams import Streams, entity_grid, negative_binomial_ppf


@dataclass(frozen=True)
class DemandConditions:
    """Everything one day's demand depends on except the shop's own prices and promotions."""

    day: int
    log_base: np.ndarray  # products x channels
    log_normal_price: np.ndarray  # products x channels
    reference_log_price: np.ndarray  # products x channels: remembered log price at the start of the day
    promo_age: np.ndarray  # products x channels: consecutive promotion days up to yesterday (0: none yesterday)
    last_promo_end: np.ndarray  # products x channels: last day of the latest finished promotion run
    last_promo_strength: np.ndarray  # products x channels: its depth saturation s(depth)
    yesterday_strength: np.ndarray  # products x channels: s(depth) of yesterday's promotion (0: none)
    own_elasticity: np.ndarray  # products
    cross_elasticity: np.ndarray  # products
    promo_lift: np.ndarray  # products
    category: np.ndarray  # products
    n_categories: int
    spec: DemandSpec

    @property
    def shape(self) -> tuple[int, int]:
        return self.log_base.shape


@dataclass(frozen=True)
class DemandTerms:
    """The decision-dependent parts of log λ, kept apart so the truth can explain and recombine them."""

    paid_price: np.ndarray
    own: np.ndarray
    cross: np.ndarray
    reference: np.ndarray
    promotion: np.ndarray
    dip: np.ndarray
    expected: np.ndarray  # λ

    @property
    def total(self) -> np.ndarray:
        return self.own + self.cross + self.reference + self.promotion + self.dip


def paid_price(regular: np.ndarray, discount: np.ndarray) -> np.ndarray:
    """What a customer pays: the regular price less the promotion discount, in cents."""
    return np.round(np.asarray(regular) * (1.0 - np.asarray(discount)), 2)


def own_price_term(elasticity: np.ndarray, relative_log_price: np.ndarray, spec: DemandSpec) -> np.ndarray:
    """``e x − κ max(0, x − log H)²`` with ``e`` per product (broadcast over channels)."""
    above = np.maximum(relative_log_price - np.log(spec.price_ceiling.headroom), 0.0)
    return elasticity[:, None] * relative_log_price - spec.price_ceiling.steepness * above**2


def local_elasticity(elasticity: np.ndarray, relative_log_price: np.ndarray, spec: DemandSpec) -> np.ndarray:
    """d log λ / d log price of the own-price term (the reference price caught up): ``e`` below the
    ceiling, steeper above it."""
    above = np.maximum(relative_log_price - np.log(spec.price_ceiling.headroom), 0.0)
    return elasticity[:, None] - 2.0 * spec.price_ceiling.steepness * above


def category_mean_excluding_self(values: np.ndarray, category: np.ndarray, n_categories: int) -> np.ndarray:
    """Mean of ``values`` (products x channels) over the other products of each product's category."""
    sums = np.zeros((n_categories, values.shape[1]))
    np.add.at(sums, category, values)
    counts = np.bincount(category, minlength=n_categories).astype(float)[:, None]
    others = np.maximum(counts[category] - 1.0, 1.0)
    return (sums[category] - values) / others


def reference_effect(log_gap: np.ndarray, gain_sensitivity: float, loss_sensitivity: float) -> np.ndarray:
    """Demand response to the gap between today's log price and the remembered (reference) log price.

    Prices above the reference hurt more than prices below it help (loss aversion).
    """
    return np.where(log_gap > 0, -loss_sensitivity * log_gap, -gain_sensitivity * log_gap)


def depth_saturation(discount: np.ndarray, spec: DemandSpec) -> np.ndarray:
    """How much of a product's promotion lift a discount of this depth earns: 0 below the minimum
    depth, approaching 1 above it."""
    response = spec.promotion_response
    excess = np.asarray(discount) - response.min_depth
    return np.where(excess > 0, -np.expm1(-np.maximum(excess, 0.0) / response.saturation_depth), 0.0)


def promotion_age(conditions: DemandConditions, on_promotion: np.ndarray) -> np.ndarray:
    """Day of the promotion run today (1 on its first day; 0 when not on promotion)."""
    return np.where(on_promotion, conditions.promo_age + 1, 0)


def promotion_terms(conditions: DemandConditions, discount: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(visibility lift, post-promotion dip) in logs for today's discounts."""
    spec = conditions.spec
    on = np.asarray(discount) > 0
    strength = depth_saturation(discount, spec)
    fade = np.exp(-(promotion_age(conditions, on) - 1) / spec.promotion_response.fade_days)
    lift = np.where(on, conditions.promo_lift[:, None] * strength * fade, 0.0)
    if spec.post_promo_dip_days == 0 or spec.post_promo_dip == 0:
        return lift, np.zeros_like(lift)
    ran_yesterday = conditions.promo_age > 0
    ended = np.where(ran_yesterday, conditions.day - 1, conditions.last_promo_end)
    ended_strength = np.where(ran_yesterday, conditions.yesterday_strength, conditions.last_promo_strength)
    since = conditions.day - ended
    inside = ~on & (since >= 1) & (since <= spec.post_promo_dip_days)
    fading = spec.post_promo_dip * ended_strength * (1 - (since - 1) / spec.post_promo_dip_days)
    dip = np.where(inside, np.log1p(-np.clip(fading, 0.0, 0.95)), 0.0)
    return lift, dip


def demand_terms(conditions: DemandConditions, regular: np.ndarray, discount: np.ndarray, *,
                 peers_paid: np.ndarray | None = None) -> DemandTerms:
    """The demand equation: expected units for the given regular prices and promotion discounts.

    ``peers_paid`` (products x channels) prices the substitutes differently from the products
    themselves: each product's cross term then comes from these prices (an oracle weighing one
    product's price while its peers' stay put); by default it is the same ``regular`` and ``discount``."""
    spec = conditions.spec
    paid = paid_price(regular, discount)
    log_paid = np.log(paid)
    relative = log_paid - conditions.log_normal_price
    own = own_price_term(conditions.own_elasticity, relative, spec)
    peers = relative if peers_paid is None else np.log(peers_paid) - conditions.log_normal_price
    cross = conditions.cross_elasticity[:, None] * category_mean_excluding_self(
        peers, conditions.category, conditions.n_categories)
    reference = reference_effect(log_paid - conditions.reference_log_price,
                                 spec.reference_price.gain_sensitivity, spec.reference_price.loss_sensitivity)
    promotion, dip = promotion_terms(conditions, discount)
    expected = np.exp(conditions.log_base + own + cross + reference + promotion + dip)
    return DemandTerms(paid, own, cross, reference, promotion, dip, expected)


def draw_units(streams: Streams, day: int, expected: np.ndarray, region_share: np.ndarray,
               dispersion: float) -> np.ndarray:
    """Units wanted per product x channel x region, by inverse CDF of keyed uniforms."""
    n_products, n_channels = expected.shape
    u = streams.uniform("demand", day, entity_grid(n_products, n_channels, region_share.size))
    return negative_binomial_ppf(u, expected[:, :, None] * region_share, dispersion * region_share)
