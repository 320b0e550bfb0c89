"""Realistic dirt in source-system exports, at the rates the scenario sets.

Real exports are never clean: an OMS re-sends a line, a product id from another system leaks in, a
return is booked as a negative quantity, a price is missing, a scraper reads a price in cents.
Injected after the world is simulated, so the ground truth is unaffected and the platform's
validation has something real to catch.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from commerce_sim.scenario import DataDefectSpec


def _pick(rng: np.random.Generator, frame: pd.DataFrame, rate: float) -> np.ndarray:
    if rate <= 0 or frame.empty:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(rng.random(len(frame)) < rate)


def inject_defects(rng: np.random.Generator, spec: DataDefectSpec,
                   exports: dict[str, dict[str, pd.DataFrame]]) -> dict[str, dict[str, pd.DataFrame]]:
    lines = exports["orders"]["order_lines"]
    rows = _pick(rng, lines, spec.unknown_product_rate)
    if rows.size:
        lines.loc[lines.index[rows], "product_id"] = [f"X{int(v):05d}" for v in rng.integers(0, 99999, rows.size)]
    rows = _pick(rng, lines, spec.negative_quantity_rate)
    if rows.size:
        lines.loc[lines.index[rows], "quantity"] = -lines["quantity"].iloc[rows].to_numpy()
    rows = _pick(rng, lines, spec.duplicate_order_line_rate)
    if rows.size:
        lines = pd.concat([lines, lines.iloc[rows]]).sort_values(["order_id", "line_number"], kind="stable")
        exports["orders"]["order_lines"] = lines.reset_index(drop=True)

    prices = exports["prices"]["prices"]
    rows = _pick(rng, prices, spec.missing_price_rate)
    if rows.size:
        prices["price"] = prices["price"].astype(object)
        prices.loc[prices.index[rows], "price"] = None

    feed = exports["competitor_prices"]["competitor_prices"]
    rows = _pick(rng, feed, spec.absurd_competitor_price_rate)
    if rows.size:
        feed.loc[feed.index[rows], "price"] = feed["price"].iloc[rows].to_numpy() * 100
    return exports
