"""Seeded synthetic panels the model tests share (a builder module, not a test module).

- :func:`daily_demand_panel`: the small daily panel the forecast, feature and baseline tests use:
  negative-binomial units with a weekly pattern, weekly price changes, promotions with a lift and a
  post-promotion dip, a competitor price that is sometimes missing, and stockouts that censor units
  (on a stockout day only part of the demand is sold). Its true expected demand is returned too, so
  tests can compare forecasts with what really drove the sales.
- :func:`confounded_pricing_panel`: one channel whose prices reset weekly on cost (an instrument) and
  on a demand shock the shop saw (the confounder), with known per-product elasticities: for the
  elasticity model, the training code and the benchmark.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CHANNEL_SHARE = {"web": 1.0, "marketplace": 0.7, "app": 0.5}
WEEKLY = np.array([0.9, 0.85, 0.9, 1.0, 1.15, 1.3, 1.2])  # Monday .. Sunday
ELASTICITY = -2.0
POST_PROMO_DIP = 0.75  # demand multiplier on the 3 days after a promotion


def daily_demand_panel(*, products: int = 12, channels=("web", "app"), days: int = 182, start: str = "2025-01-06",
                    seed: int = 0, stockout_rate: float = 0.03, heavy_stockouts: dict[int, float] | None = None,
                    twins: bool = False, dispersion: float = 4.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A daily panel and its true expected demand (``expected``, per product x channel x day).

    ``heavy_stockouts`` maps a product number to its stockout rate (default ``stockout_rate``).
    ``twins=True`` gives product 1 exactly the demand and prices of product 0, so a test can compare
    a censored product with its uncensored twin.
    """
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, periods=days, freq="D")
    base = rng.lognormal(np.log(3.0), 0.5, products)
    list_price = np.round(rng.uniform(20, 120, products), 2)
    # weekly regular-price changes around the list price
    weeks = (days + 6) // 7
    walk = np.exp(np.cumsum(rng.normal(0, 0.04, (products, weeks)), axis=1))
    regular = np.round(list_price[:, None] * np.repeat(walk, 7, axis=1)[:, :days], 2)
    promo = np.zeros((products, days), dtype=bool)
    discount = np.zeros((products, days))
    for i in range(products):
        day = int(rng.integers(5, 30))
        while day < days:
            length, off = int(rng.integers(3, 11)), float(rng.uniform(10, 30))
            promo[i, day:day + length], discount[i, day:day + length] = True, round(off, 1)
            day += length + int(rng.integers(25, 50))
    if twins:
        for arr in (regular, promo, discount):
            arr[1] = arr[0]
        base[1], list_price[1] = base[0], list_price[0]
    price = np.round(regular * (1 - discount / 100), 2)
    after_promo = np.zeros_like(promo)
    for lag in (1, 2, 3):
        after_promo[:, lag:] |= promo[:, :-lag] & ~promo[:, lag:]
    dow = dates.day_of_week.to_numpy()
    multiplier = (WEEKLY[dow][None, :] * (price / list_price[:, None]) ** ELASTICITY
                  * np.where(after_promo, POST_PROMO_DIP, 1.0) * np.where(promo, 1.15, 1.0))
    rates = np.full(products, stockout_rate)
    for i, rate in (heavy_stockouts or {}).items():
        rates[i] = rate
    stockout = rng.random((products, days)) < rates[:, None]
    competitor = regular * np.exp(rng.normal(0, 0.06, (products, days)))
    competitor[rng.random((products, days)) < 0.15] = np.nan

    frames = []
    for channel in channels:
        expected = base[:, None] * CHANNEL_SHARE[channel] * multiplier
        demand = rng.negative_binomial(dispersion, dispersion / (dispersion + expected))
        sold_share = rng.uniform(0.1, 0.6, expected.shape)  # on a stockout day stock ran out part-way
        units = np.where(stockout, np.floor(demand * sold_share), demand).astype(int)
        frames.append(pd.DataFrame({
            "date": np.tile(dates.to_numpy(), products),
            "product_id": np.repeat([f"P{i:02d}" for i in range(products)], days),
            "channel": channel,
            "category": np.repeat([f"cat{i % 3}" for i in range(products)], days),
            "units": units.reshape(-1),
            "price": price.reshape(-1),
            "regular_price": regular.reshape(-1),
            "list_price": np.repeat(list_price, days),
            "unit_cost": np.repeat(np.round(list_price * 0.6, 2), days),
            "is_promo": promo.reshape(-1),
            "discount_pct": discount.reshape(-1),
            "competitor_price": np.round(competitor, 2).reshape(-1),
            "is_stockout": stockout.reshape(-1),
            "expected": expected.reshape(-1),
        }))
    both = pd.concat(frames, ignore_index=True).sort_values(["date", "product_id", "channel"], ignore_index=True)
    truth = both[["date", "product_id", "channel", "expected"]]
    return both.drop(columns="expected"), truth


FUTURE = ["product_id", "channel", "date", "price", "is_promo", "discount_pct"]


def days_after(panel, origin, n):
    origin = pd.Timestamp(origin)
    return panel[(panel["date"] > origin) & (panel["date"] <= origin + pd.Timedelta(days=n))]


def confounded_pricing_panel(*, n_products=40, days=364, seed=0, confounding=0.8, cost_sd=0.2, base_units=12.0,
                    elasticity_sd=0.4, constant_price_products=0, stockout_rate=0.0, raise_penalty=0.0):
    """Daily panel, one channel: prices reset weekly on cost (an instrument) and on a demand shock the
    shop saw (the confounder); units are Poisson around the true constant-elasticity demand, lowered in
    the week of a price raise by ``exp(-raise_penalty * raise)`` (shoppers resent fresh raises)."""
    rng = np.random.default_rng(seed)
    categories = np.where(np.arange(n_products) % 2 == 0, "kitchen", "garden")
    true = np.where(categories == "kitchen", -2.3, -1.7) + rng.normal(0, elasticity_sd, n_products)
    base_price = rng.uniform(10, 80, n_products)
    dates = pd.date_range("2025-01-06", periods=days, freq="D")
    log_cost = np.zeros(n_products)
    shock = np.zeros(n_products)
    log_price = np.zeros(n_products)
    fresh_raise = np.zeros(n_products)
    rows = []
    for t, date in enumerate(dates):
        log_cost = 0.95 * log_cost + rng.normal(0, cost_sd * np.sqrt(1 - 0.95**2), n_products)
        seen = shock.copy()
        shock = 0.8 * shock + rng.normal(0, 0.2 * np.sqrt(1 - 0.64), n_products)
        if t % 7 == 0:
            new_price = 0.8 * log_cost + confounding * seen + rng.normal(0, 0.02, n_products)
            new_price[:constant_price_products] = 0.0
            fresh_raise = np.maximum(new_price - log_price, 0.0) if t else np.zeros(n_products)
            log_price = new_price
        season = 0.2 * np.sin(2 * np.pi * t / 365)
        mean = base_units * np.exp(true * log_price + shock + season - raise_penalty * fresh_raise)
        units = rng.poisson(mean)
        stockout = rng.random(n_products) < stockout_rate
        units = np.where(stockout, rng.binomial(units, 0.3), units)
        price = base_price * np.exp(log_price)
        rows.append(pd.DataFrame({
            "date": date, "product_id": [f"P{i:03d}" for i in range(n_products)], "channel": "web",
            "category": categories, "units": units, "price": price, "regular_price": price,
            "list_price": base_price, "unit_cost": 0.6 * base_price * np.exp(log_cost), "is_promo": False,
            "discount_pct": np.nan, "competitor_price": base_price * 1.02, "is_stockout": stockout}))
    return pd.concat(rows, ignore_index=True), pd.Series(true, index=[f"P{i:03d}" for i in range(n_products)])
