"""Realistic dirt in source-system exports, at the rates the scenario sets.

Real exports are never clean: an OMS re-sends a line, a product id from another system leaks in, a
return is booked as a negative quantity, a price is missing, a scraper reads a price in cents.
Injected after the world is simulated, so the ground truth is unaffected and the platform's
validation has something real to catch. Each kind of dirt draws from its own generator (keyed by the
day and the kind), so dirt in one file never shifts where dirt lands in another.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from commerce_sim.scenario import DataDefectSpec


def _pick(rng: np.random.Generator, frame: pd.DataFrame, rate: float) -> np.ndarray:
    if rate <= 0 or frame.empty:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(rng.random(len(frame)) < rate)


KINDS = ("unknown_product", "negative_quantity", "duplicate_order_line", "missing_price", "absurd_competitor_price")


def inject_defects(generator: Callable[[int], np.random.Generator], spec: DataDefectSpec,
                   exports: dict[str, dict[str, pd.DataFrame]]) -> dict[str, dict[str, pd.DataFrame]]:
    """``generator(kind_index)`` gives the day's generator for one kind of dirt (an index into KINDS)."""
    lines = exports["orders"]["order_lines"]
    rng = generator(KINDS.index("unknown_product"))
    rows = _pick(rng, lines, spec.unknown_product_rate)
    if rows.size:
        lines.loc[lines.index[rows], "product_id"] = [f"X{int(v):05d}" for v in rng.integers(0, 99999, rows.size)]
    rows = _pick(generator(KINDS.index("negative_quantity")), lines, spec.negative_quantity_rate)
    if rows.size:
        lines.loc[lines.index[rows], "quantity"] = -lines["quantity"].iloc[rows].to_numpy()
    rows = _pick(generator(KINDS.index("duplicate_order_line")), lines, spec.duplicate_order_line_rate)
    if rows.size:
        lines = pd.concat([lines, lines.iloc[rows]]).sort_values(["order_id", "line_number"], kind="stable")
        exports["orders"]["order_lines"] = lines.reset_index(drop=True)

    prices = exports["prices"]["prices"]
    rows = _pick(generator(KINDS.index("missing_price")), prices, spec.missing_price_rate)
    if rows.size:
        prices["price"] = prices["price"].astype(object)
        prices.loc[prices.index[rows], "price"] = None

    feed = exports["competitor_prices"]["competitor_prices"]
    rows = _pick(generator(KINDS.index("absurd_competitor_price")), feed, spec.absurd_competitor_price_rate)
    if rows.size:
        feed.loc[feed.index[rows], "price"] = feed["price"].iloc[rows].to_numpy() * 100
    return exports
