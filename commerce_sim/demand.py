"""The true demand equation of the embedded world.

Expected units for product p on channel c and day t (all arrays are products x channels)::

    log λ = log base[p, c]                         # popularity x channel share
          + calendar[p, c, t]                      # yearly (per category), weekly (per channel), trend, events
          + shock[p, t]                            # persistent demand shock the shop saw, analysts do not
          + e[p]  * log(price / normal_price)      # own price, normal_price = list x (1 + channel markup)
          + g[p]  * mean_q log(price_q / normal_q) # substitutes: other products of the category, same channel
          + h[p]  * log(competitor_price / list)   # the competitor's price
          + reference(log price - reference_price) # loss aversion around remembered prices
          + promo_lift[p] * on_promotion           # visibility of a promotion beyond its discount
          + log(1 - dip)                           # post-promotion dip (pantry loading)
          + content_effect * (content_score - 1)   # incomplete product content sells less

Units are negative-binomial with mean λ and shape ``dispersion`` (over-dispersed counts).
``e`` is the structural own-price elasticity that evaluation compares estimates against: the
response of demand to a permanent price change once the reference price has caught up.
Everything here is pure numpy so the same code simulates the world and answers counterfactuals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PriceTerms:
    """The price-dependent parts of log λ, kept apart so counterfactuals can swap prices."""

    own: np.ndarray
    cross: np.ndarray
    reference: np.ndarray

    @property
    def total(self) -> np.ndarray:
        return self.own + self.cross + self.reference


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


def price_terms(
    *,
    log_price: np.ndarray,
    log_normal_price: np.ndarray,
    reference_log_price: np.ndarray,
    own_elasticity: np.ndarray,
    cross_elasticity: np.ndarray,
    category: np.ndarray,
    n_categories: int,
    gain_sensitivity: float,
    loss_sensitivity: float,
) -> PriceTerms:
    relative = log_price - log_normal_price
    own = own_elasticity[:, None] * relative
    cross = cross_elasticity[:, None] * category_mean_excluding_self(relative, category, n_categories)
    reference = reference_effect(log_price - reference_log_price, gain_sensitivity, loss_sensitivity)
    return PriceTerms(own=own, cross=cross, reference=reference)


def draw_units(rng: np.random.Generator, expected: np.ndarray, dispersion: float) -> np.ndarray:
    """Negative-binomial counts with mean ``expected`` and variance ``expected + expected**2 / dispersion``."""
    expected = np.maximum(expected, 1e-9)
    success = dispersion / (dispersion + expected)
    return rng.negative_binomial(dispersion, success).astype(np.int64)
