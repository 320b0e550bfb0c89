"""The sealed truth on disk: written by the simulator, read by evaluation through ``GroundTruth``.

Layout under ``<sim root>/truth``:

- ``products.parquet``: per product, the true own-price elasticity (below the price ceiling),
  cross-price elasticity within the category, competitor elasticity, promotion lift, baseline units
  per channel, the channel markups, and the life cycle (launch day, end-of-life day);
- ``parameters.json``: the scenario's demand parameters the truth needs to recompute demand at other
  prices (reference-price sensitivities, the price ceiling, dispersion);
- ``daily/<YYYY-MM-DD>.parquet``: per product x channel, every term of the demand equation, the
  local elasticity at the price paid, the expected units, the demand drawn, what was sold, shipped
  from afar and lost;
- ``ledger/<YYYY-MM-DD>.parquet``: the day's profit and loss, one row per booking, in cents
  (``commerce_sim.ledger``).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from commerce_sim import demand
from commerce_sim.ledger import ACCOUNTS, COSTS, INCOME
from commerce_sim.scenario import DemandSpec
from commerce_sim.world import NO_END_OF_LIFE

PRODUCTS_FILE = "products.parquet"
PARAMETERS_FILE = "parameters.json"
DAILY_DIR = "daily"
LEDGER_DIR = "ledger"
STATIC_FILES = (PRODUCTS_FILE, PARAMETERS_FILE)


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    frame.to_parquet(temporary, index=False)
    os.replace(temporary, path)


class TruthWriter:
    """Written by the simulator only."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def write_static(self, state) -> None:
        world = state.world
        self.root.mkdir(parents=True, exist_ok=True)
        catalog = world.catalog
        frame = pd.DataFrame({
            "product_id": catalog.product_id,
            "category": np.array(catalog.category_names)[catalog.category],
            "list_price": catalog.list_price,
            "base_cost": catalog.base_cost,
            "own_elasticity": world.params.own_elasticity,
            "cross_elasticity": world.params.cross_elasticity,
            "competitor_elasticity": world.params.competitor_elasticity,
            "promo_lift": world.params.promo_lift,
            "launched_day": catalog.launched_on,
            "end_of_life_day": np.where(catalog.end_of_life >= NO_END_OF_LIFE, -1, catalog.end_of_life),
            "discontinued_on": discontinued_dates(state.scenario, catalog.end_of_life),
        })
        for c, channel in enumerate(world.channel_ids):
            frame[f"base_units_{channel}"] = world.params.base_units[:, c]
            frame[f"price_markup_{channel}"] = world.channel_markup[c]
        _write_parquet(frame, self.root / PRODUCTS_FILE)
        (self.root / PARAMETERS_FILE).write_text(state.scenario.demand.model_dump_json(indent=2) + "\n")

    def write_day(self, date: dt.date, daily: pd.DataFrame, ledger: pd.DataFrame) -> None:
        for directory, frame in ((DAILY_DIR, daily), (LEDGER_DIR, ledger)):
            (self.root / directory).mkdir(parents=True, exist_ok=True)
            _write_parquet(frame, self.root / directory / f"{date.isoformat()}.parquet")


def discontinued_dates(scenario, end_of_life: np.ndarray) -> list:
    """The date each product's left-over stock is written off and the catalog says discontinued (None: never)."""
    clearance = scenario.lifecycle.clearance_days
    return [None if day >= NO_END_OF_LIFE else scenario.start_date + dt.timedelta(days=int(day) + clearance)
            for day in end_of_life]


def link_truth_history(source: Path, target: Path, *, history: bool) -> None:
    """Give a fork the truth so far: static files copied, daily files hard-linked (if ``history``)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in STATIC_FILES:
        shutil.copy2(source / name, target / name)
    if not history:
        return
    for directory in (DAILY_DIR, LEDGER_DIR):
        if not (source / directory).is_dir():
            continue
        (target / directory).mkdir(exist_ok=True)
        for path in (source / directory).glob("*.parquet"):
            try:
                os.link(path, target / directory / path.name)
            except OSError:
                shutil.copy2(path, target / directory / path.name)


class GroundTruth:
    """Read access to a world's sealed truth, for evaluation and benchmarks."""

    def __init__(self, sim_root: Path):
        self.root = Path(sim_root) / "truth"
        if not (self.root / PRODUCTS_FILE).is_file():
            raise FileNotFoundError(f"no ground truth under {self.root}: simulate a world first")

    def products(self) -> pd.DataFrame:
        return pd.read_parquet(self.root / PRODUCTS_FILE)

    def sold_on(self, rows: pd.DataFrame) -> np.ndarray:
        """Per row (``product_id``, ``date``): whether the shop still sold the product that day (up to
        and including the day the catalog says it is discontinued)."""
        products = self.products().set_index("product_id")
        until = pd.to_datetime(products.loc[rows["product_id"], "discontinued_on"]).to_numpy()
        return np.isnat(until) | (pd.to_datetime(rows["date"]).to_numpy() <= until)

    def elasticities(self) -> pd.DataFrame:
        return self.products()[["product_id", "category", "own_elasticity", "cross_elasticity",
                                "competitor_elasticity"]]

    def _days(self, directory: str, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
        files = sorted((self.root / directory).glob("*.parquet"))
        chosen = [f for f in files if (start is None or f.stem >= start.isoformat())
                  and (end is None or f.stem <= end.isoformat())]
        if not chosen:
            return pd.DataFrame()
        return pd.concat([pd.read_parquet(f) for f in chosen], ignore_index=True)

    def daily(self, start: dt.date | None = None, end: dt.date | None = None) -> pd.DataFrame:
        return self._days(DAILY_DIR, start, end)

    def ledger(self, start: dt.date | None = None, end: dt.date | None = None) -> pd.DataFrame:
        """Every booking of the true profit and loss, in cents (see ``commerce_sim.ledger``)."""
        return self._days(LEDGER_DIR, start, end)

    def profit_and_loss(self, start: dt.date | None = None, end: dt.date | None = None,
                        by: tuple[str, ...] = ("date",)) -> pd.DataFrame:
        """Income and cost accounts and profit in cents, grouped ``by`` ledger columns (date, product_id,
        channel, warehouse_id); one column per account, plus ``income``, ``costs`` and ``profit``."""
        ledger = self.ledger(start, end)
        if ledger.empty:
            return pd.DataFrame(columns=[*by, *ACCOUNTS, "income", "costs", "profit"])
        wide = ledger.pivot_table(index=list(by), columns="account", values="amount_cents", aggfunc="sum",
                                  fill_value=0, dropna=False)
        wide = wide.reindex(columns=list(ACCOUNTS), fill_value=0).astype(np.int64)
        wide["income"] = wide[list(INCOME)].sum(axis=1)
        wide["costs"] = wide[list(COSTS)].sum(axis=1)
        wide["profit"] = wide["income"] - wide["costs"]
        return wide.reset_index().rename_axis(columns=None)

    def demand_spec(self) -> DemandSpec:
        return DemandSpec.model_validate_json((self.root / PARAMETERS_FILE).read_text())

    def local_elasticity(self, product_ids, channels, prices) -> np.ndarray:
        """The true long-run own-price elasticity of each row at ``prices`` (the reference price caught up)."""
        products = self.products().set_index("product_id")
        ids = pd.Index(np.asarray(product_ids))
        markup = np.array([products.loc[p, f"price_markup_{c}"] for p, c in zip(ids, channels)])
        normal = products.loc[ids, "list_price"].to_numpy() * (1 + markup)
        relative = np.log(np.asarray(prices, dtype=float) / normal)
        elasticity = products.loc[ids, "own_elasticity"].to_numpy()
        return demand.local_elasticity(elasticity, relative[:, None], self.demand_spec())[:, 0]

    def counterfactual_units(self, daily: pd.DataFrame, price_multiplier: float | np.ndarray) -> np.ndarray:
        """Expected units had each row's own paid price been multiplied by ``price_multiplier``.

        Other products' prices, the calendar, shocks, the competitor and the promotion stay as they
        were: the true answer to "what if this product alone had been priced differently that day",
        from the same own-price and reference terms the world draws from."""
        spec = self.demand_spec()
        products = self.products().set_index("product_id")
        ids = daily["product_id"].to_numpy()
        elasticity = products.loc[ids, "own_elasticity"].to_numpy()
        markup = np.array([products.loc[p, f"price_markup_{c}"] for p, c in zip(ids, daily["channel"])])
        log_normal = np.log(products.loc[ids, "list_price"].to_numpy() * (1 + markup))
        old = np.log(daily["paid_price"].to_numpy())
        new = old + np.log(price_multiplier)
        reference = daily["reference_log_price"].to_numpy()

        def price_part(log_price):
            own = demand.own_price_term(elasticity, (log_price - log_normal)[:, None], spec)[:, 0]
            return own + demand.reference_effect(log_price - reference, spec.reference_price.gain_sensitivity,
                                                 spec.reference_price.loss_sensitivity)

        return daily["expected_units"].to_numpy() * np.exp(price_part(new) - price_part(old))
