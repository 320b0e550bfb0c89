"""Sealed ground truth: the true demand parameters and each day's counterfactual demand.

Only evaluation code may import this module (``tests/test_truth_is_sealed.py`` enforces it). Models
and agents see what a real shop would see, through the landing zone and the commerce systems.

Layout under ``<sim root>/truth``:

- ``products.parquet``: per product, the true own-price elasticity, cross-price elasticity within
  the category, competitor elasticity, promotion lift and baseline units per channel;
- ``daily/<YYYY-MM-DD>.parquet``: per product x channel, the expected units, the demand drawn, what
  was sold and lost to stockouts, and the terms needed to recompute expected units at other prices.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from commerce_sim import demand

PRODUCTS_FILE = "products.parquet"
PARAMETERS_FILE = "parameters.json"
DAILY_DIR = "daily"


class TruthWriter:
    """Written by the simulator only."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def write_static(self, state) -> None:
        world = state.world
        self.root.mkdir(parents=True, exist_ok=True)
        frame = pd.DataFrame({
            "product_id": world.catalog.product_id,
            "category": np.array(world.catalog.category_names)[world.catalog.category],
            "list_price": world.catalog.list_price,
            "own_elasticity": world.params.own_elasticity,
            "cross_elasticity": world.params.cross_elasticity,
            "competitor_elasticity": world.params.competitor_elasticity,
            "promo_lift": world.params.promo_lift,
        })
        for c, channel in enumerate(world.channel_ids):
            frame[f"base_units_{channel}"] = world.params.base_units[:, c]
            frame[f"price_markup_{channel}"] = world.channel_markup[c]
        _write_parquet(frame, self.root / PRODUCTS_FILE)
        spec = state.scenario.demand
        parameters = {
            "gain_sensitivity": spec.reference_price.gain_sensitivity,
            "loss_sensitivity": spec.reference_price.loss_sensitivity,
            "dispersion": spec.dispersion,
        }
        (self.root / PARAMETERS_FILE).write_text(json.dumps(parameters, indent=2) + "\n")

    def write_day(self, date: dt.date, frame: pd.DataFrame) -> None:
        directory = self.root / DAILY_DIR
        directory.mkdir(parents=True, exist_ok=True)
        _write_parquet(frame, directory / f"{date.isoformat()}.parquet")


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    frame.to_parquet(temporary, index=False)
    os.replace(temporary, path)


class GroundTruth:
    """Read access for evaluation and benchmarks."""

    def __init__(self, sim_root: Path):
        self.root = Path(sim_root) / "truth"
        if not (self.root / PRODUCTS_FILE).is_file():
            raise FileNotFoundError(f"no ground truth under {self.root}: simulate a world first")

    def products(self) -> pd.DataFrame:
        return pd.read_parquet(self.root / PRODUCTS_FILE)

    def elasticities(self) -> pd.DataFrame:
        return self.products()[["product_id", "category", "own_elasticity", "cross_elasticity",
                                "competitor_elasticity"]]

    def daily(self, start: dt.date | None = None, end: dt.date | None = None) -> pd.DataFrame:
        files = sorted((self.root / DAILY_DIR).glob("*.parquet"))
        chosen = [f for f in files if (start is None or f.stem >= start.isoformat())
                  and (end is None or f.stem <= end.isoformat())]
        if not chosen:
            return pd.DataFrame()
        return pd.concat([pd.read_parquet(f) for f in chosen], ignore_index=True)

    def parameters(self) -> dict[str, float]:
        return json.loads((self.root / PARAMETERS_FILE).read_text())

    def _sensitivities(self) -> tuple[float, float]:
        values = self.parameters()
        return values["gain_sensitivity"], values["loss_sensitivity"]

    def counterfactual_units(self, daily: pd.DataFrame, price_multiplier: float | np.ndarray) -> np.ndarray:
        """Expected units had each row's own price been multiplied by ``price_multiplier``.

        Other products' prices, the calendar, shocks and the competitor stay as they were: the
        true answer to "what if this product alone had been priced differently that day".
        """
        products = self.products().set_index("product_id")
        elasticity = products.loc[daily["product_id"], "own_elasticity"].to_numpy()
        gain, loss = self._sensitivities()
        old_log_price = np.log(daily["paid_price"].to_numpy())
        new_log_price = old_log_price + np.log(price_multiplier)
        reference = daily["reference_log_price"].to_numpy()
        own_change = elasticity * (new_log_price - old_log_price)
        reference_change = (demand.reference_effect(new_log_price - reference, gain, loss)
                            - demand.reference_effect(old_log_price - reference, gain, loss))
        return daily["expected_units"].to_numpy() * np.exp(own_change + reference_change)
