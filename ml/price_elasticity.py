"""Per-product causal price elasticities: the MLflow model ``price_elasticity``.

Agents reprice from these numbers, so they must be causal, not correlational. The shop's own price
history is confounded: it raised prices when it saw demand running high. The model therefore
identifies each product's elasticity only from price moves the shop did not choose because of
demand, namely supplier cost moves passed through to price, and borrows strength across products:

1. **Weekly panel.** Product x week, from the daily sales panel: log units per day over all channels,
   mean log price, mean log unit cost (the instrument), promotion share, the gap to the competitor's
   price, and a calendar index (the mean log units of the *other* categories that week: events and
   seasonality without absorbing substitution inside the category). Weeks with a stockout are
   dropped: censored sales would read as a price response. Prices change weekly, so a week is the
   natural unit; daily logs would also meet zero-sale days.
2. **Double ML with cross-fitting.** Within each product (product fixed effects), gradient-boosting
   learners predict log units, log price and log cost from the controls; every row's prediction
   comes from a model fitted on other products (folds grouped by product). What is left is the
   variation the controls do not explain.
3. **Instrumental variables per product.** 2SLS of residual log units on residual log price with
   residual log cost as the instrument, robust (HC1) standard error and first-stage F.
4. **Partial pooling.** Empirical Bayes: each product's estimate is shrunk toward its category's
   pooled IV estimate by ``tau^2 / (tau^2 + se^2)``, where ``tau^2`` (the true spread of elasticities
   around the category mean) is a method-of-moments estimate over products with a strong first
   stage. Products with weak or no price variation get (close to) the category value with a wide
   interval; well-identified products keep their own.
5. **Cross-price effects** per category: 2SLS of what own price does not explain on the mean log
   price of the other products in the category, instrumented by their mean log cost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ml.elasticity import _cross_fit, _two_stage
from ml.panel import normalize_panel

CONTROLS = ("calendar_index", "promo_share", "competitor_gap", "season_sin", "season_cos")
WEAK_F = 10.0
MIN_TAU2 = 0.01


class PriceElasticityError(ValueError):
    """The panel cannot support the model; the message says what is missing."""


@dataclass(frozen=True)
class WeeklyPanel:
    """Product x week observations (``frame``) and what was dropped on the way, for the model card."""

    frame: pd.DataFrame
    weeks: int
    dropped_stockout_weeks: int
    dropped_partial_weeks: int
    dropped_zero_weeks: int


def weekly_panel(panel: pd.DataFrame) -> WeeklyPanel:
    """Aggregates the daily product x channel panel to product x week (see the module docstring)."""
    d = normalize_panel(panel)
    if (d["unit_cost"] <= 0).any() or d["unit_cost"].isna().all():
        raise PriceElasticityError("unit_cost must be positive: it is the instrument for price")
    start = d["date"].min()
    d["week"] = ((d["date"] - start).dt.days // 7).astype(int)
    price = d["price"].fillna(d["regular_price"]).fillna(d["list_price"])
    d["log_price"] = np.log(price)
    d["log_cost"] = np.log(d["unit_cost"])
    # Relative to the list price, not today's price: a control built from own price would absorb it.
    d["competitor_gap"] = np.log(d["competitor_price"] / d["list_price"])
    days_per_week = d.groupby("week")["date"].nunique()
    weekly = d.groupby(["product_id", "category", "week"], sort=True).agg(
        units=("units", "sum"), log_price=("log_price", "mean"), log_cost=("log_cost", "mean"),
        promo_share=("is_promo", "mean"), competitor_gap=("competitor_gap", "mean"),
        stockout=("is_stockout", "max"), days=("date", "nunique"),
        first_day=("date", "min")).reset_index()
    full = weekly["days"].to_numpy() == days_per_week.reindex(weekly["week"]).to_numpy()
    full &= weekly["days"].to_numpy() == 7
    stockout = weekly["stockout"].to_numpy()
    zero = weekly["units"].to_numpy() <= 0
    keep = full & ~stockout & ~zero
    weekly = weekly.loc[keep].copy()
    weekly["log_units"] = np.log(weekly["units"] / weekly["days"])
    # Category index: mean log units of the other products of the category that week (its season,
    # events and common shocks; leave-one-out, so a product's own noise is not on both sides).
    by_cat_week = weekly.groupby(["category", "week"])["log_units"].agg(["sum", "count"])
    cw = by_cat_week.reindex(pd.MultiIndex.from_arrays([weekly["category"], weekly["week"]]))
    others = cw["count"].to_numpy() - 1
    weekly["calendar_index"] = np.where(
        others > 0, (cw["sum"].to_numpy() - weekly["log_units"].to_numpy()) / np.maximum(others, 1), 0.0)
    weekly["competitor_gap"] = (weekly["competitor_gap"]
                                .fillna(weekly.groupby("product_id")["competitor_gap"].transform("mean"))
                                .fillna(0.0))
    day_of_year = weekly["first_day"].dt.dayofyear.to_numpy() + 3
    weekly["season_sin"] = np.sin(2 * np.pi * day_of_year / 365.25)
    weekly["season_cos"] = np.cos(2 * np.pi * day_of_year / 365.25)
    return WeeklyPanel(frame=weekly.reset_index(drop=True), weeks=int(days_per_week.size),
                       dropped_stockout_weeks=int((full & stockout).sum()),
                       dropped_partial_weeks=int((~full).sum()),
                       dropped_zero_weeks=int((full & ~stockout & zero).sum()))


class PriceElasticityModel:
    """Own-price elasticity per product (with interval) and cross-price elasticity per category.

    Args:
        n_folds: cross-fitting folds (grouped by product).
        learner: nuisance learner for double ML, ``"gbm"`` or ``"ridge"``.
        min_weeks: products with fewer usable weeks get the category value (pooled only).
        confidence: level of the reported intervals.
        random_state: seeds the folds and learners.
    """

    def __init__(self, *, n_folds: int = 5, learner: str = "gbm", min_weeks: int = 12,
                 confidence: float = 0.9, random_state: int = 0):
        self.n_folds = n_folds
        self.learner = learner
        self.min_weeks = min_weeks
        self.confidence = confidence
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting
    def fit(self, panel: pd.DataFrame) -> PriceElasticityModel:
        started = time.perf_counter()
        weekly = weekly_panel(panel)
        frame = weekly.frame
        if frame["product_id"].nunique() < self.n_folds:
            raise PriceElasticityError(
                f"{frame['product_id'].nunique()} products with usable weeks: need at least n_folds={self.n_folds}")
        residuals, r2 = self._residualize(frame)
        frame = frame.assign(y_res=residuals[:, 0], p_res=residuals[:, 1], z_res=residuals[:, 2])
        raw = self._per_product(frame)
        categories = self._category_priors(frame)
        tau2 = self._between_product_variance(raw, categories)
        self.elasticities_ = self._pool(raw, categories, tau2)
        self.cross_elasticities_ = self._cross_price(frame)
        self.tau2_ = tau2
        self.category_elasticities_ = categories
        self.weekly_summary_ = {
            "weeks": weekly.weeks, "product_weeks": int(len(frame)),
            "dropped_stockout_weeks": weekly.dropped_stockout_weeks,
            "dropped_partial_weeks": weekly.dropped_partial_weeks,
            "dropped_zero_weeks": weekly.dropped_zero_weeks,
        }
        self.nuisance_r2_ = {"log_units": r2[0], "log_price": r2[1], "log_cost": r2[2]}
        self.train_seconds_ = time.perf_counter() - started
        return self

    def _residualize(self, frame: pd.DataFrame) -> tuple[np.ndarray, list[float]]:
        """Within-product demeaning, then cross-fitted nuisance residuals (folds grouped by product)."""
        groups = frame["product_id"].astype("category").cat.codes.to_numpy()
        columns = ["log_units", "log_price", "log_cost", *CONTROLS]
        within = frame[columns] - frame.groupby("product_id")[columns].transform("mean")
        category_codes = frame["category"].astype("category").cat.codes.to_numpy()[:, None]
        features = np.column_stack([frame[list(CONTROLS)].to_numpy(), within[list(CONTROLS)].to_numpy(),
                                    category_codes])
        targets = within[["log_units", "log_price", "log_cost"]].to_numpy()
        return _cross_fit(features, targets, groups, self.n_folds, self.learner, self.random_state)

    def _per_product(self, frame: pd.DataFrame) -> pd.DataFrame:
        rows = []
        for (product_id, category), x in frame.groupby(["product_id", "category"], sort=True):
            row: dict[str, Any] = {"product_id": product_id, "category": category, "n_weeks": len(x),
                                   "raw_elasticity": np.nan, "raw_std_error": np.nan, "first_stage_f": np.nan}
            z = x["z_res"].to_numpy()
            if len(x) >= self.min_weeks and float(z @ z) > 1e-12:
                fit = _two_stage(x["y_res"].to_numpy(), x["p_res"].to_numpy(), z[:, None], None, 2)
                if np.isfinite(fit["se"]) and fit["se"] > 0:
                    row.update(raw_elasticity=fit["beta"], raw_std_error=fit["se"],
                               first_stage_f=fit["first_stage_f"])
            rows.append(row)
        return pd.DataFrame(rows)

    def _category_priors(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Pooled IV per category, clustered by product: the value a product is shrunk toward."""
        rows = []
        for category, x in frame.groupby("category", sort=True):
            groups = x["product_id"].astype("category").cat.codes.to_numpy()
            fit = _two_stage(x["y_res"].to_numpy(), x["p_res"].to_numpy(), x["z_res"].to_numpy()[:, None],
                             groups if groups.max() > 0 else None, 2)
            rows.append({"category": category, "elasticity": fit["beta"], "std_error": fit["se"],
                         "first_stage_f": fit["first_stage_f"], "n_products": int(x["product_id"].nunique())})
        return pd.DataFrame(rows).set_index("category")

    @staticmethod
    def _between_product_variance(raw: pd.DataFrame, categories: pd.DataFrame) -> float:
        """Maximum-likelihood ``tau^2``: the true spread of elasticities around their category mean.

        Each strong-instrument estimate is ``N(category mean, tau^2 + se^2)``; the likelihood is
        maximized over a grid (a moment or median estimator is thrown off by the heavy tails of
        per-product IV estimates and collapses to zero, which would shrink every product away).
        """
        strong = raw[(raw["first_stage_f"] >= WEAK_F) & raw["raw_elasticity"].notna()]
        if len(strong) < 3:
            return MIN_TAU2
        deviation = (strong["raw_elasticity"] - categories.loc[strong["category"], "elasticity"].to_numpy()).to_numpy()
        se2 = strong["raw_std_error"].to_numpy() ** 2
        grid = np.linspace(MIN_TAU2, 4.0, 800)
        total = grid[:, None] + se2[None, :]
        log_likelihood = -0.5 * (np.log(total) + deviation[None, :] ** 2 / total).sum(axis=1)
        return float(grid[int(np.argmax(log_likelihood))])

    def _pool(self, raw: pd.DataFrame, categories: pd.DataFrame, tau2: float) -> pd.DataFrame:
        from scipy import stats

        prior = categories.loc[raw["category"]]
        mu, mu_var = prior["elasticity"].to_numpy(), prior["std_error"].to_numpy() ** 2
        theta, se2 = raw["raw_elasticity"].to_numpy(), raw["raw_std_error"].to_numpy() ** 2
        has_own = np.isfinite(theta) & np.isfinite(se2)
        weight = np.where(has_own, tau2 / (tau2 + np.where(has_own, se2, 1.0)), 0.0)
        estimate = np.where(has_own, mu + weight * (np.nan_to_num(theta) - mu), mu)
        variance = np.where(has_own, weight * np.nan_to_num(se2) + (1 - weight) ** 2 * mu_var, tau2 + mu_var)
        z = stats.norm.ppf((1 + self.confidence) / 2)
        se = np.sqrt(variance)
        out = raw.assign(elasticity=estimate, std_error=se, ci_low=estimate - z * se, ci_high=estimate + z * se,
                         category_elasticity=mu, pooling_weight=weight,
                         weak_instrument=~(raw["first_stage_f"] >= WEAK_F), pooled_only=~has_own)
        return out[["product_id", "category", "elasticity", "std_error", "ci_low", "ci_high", "raw_elasticity",
                    "raw_std_error", "first_stage_f", "weak_instrument", "category_elasticity", "pooling_weight",
                    "pooled_only", "n_weeks"]].reset_index(drop=True)

    def _cross_price(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Per category: response of a product's units to the mean price of the others in its category."""
        from scipy import stats

        own = self.elasticities_.set_index("product_id")["elasticity"]
        rows = []
        for category, x in frame.groupby("category", sort=True):
            sums = x.groupby("week")[["log_price", "log_cost"]].transform("sum")
            counts = x.groupby("week")["log_price"].transform("count")
            ok = counts > 1
            x = x.loc[ok].copy()
            others = (sums.loc[ok].to_numpy() - x[["log_price", "log_cost"]].to_numpy()) / (counts[ok].to_numpy() - 1)[:, None]
            x["others_price"], x["others_cost"] = others[:, 0], others[:, 1]
            if x["product_id"].nunique() < 3:
                continue
            within = x[["others_price", "others_cost"]] - x.groupby("product_id")[["others_price", "others_cost"]].transform("mean")
            q, zq = within["others_price"].to_numpy(), within["others_cost"].to_numpy()
            target = x["y_res"].to_numpy() - own.loc[x["product_id"]].to_numpy() * x["p_res"].to_numpy()
            groups = x["product_id"].astype("category").cat.codes.to_numpy()
            fit = _two_stage(target - target.mean(), q - q.mean(), (zq - zq.mean())[:, None], groups, 2)
            z = stats.norm.ppf((1 + self.confidence) / 2)
            rows.append({"category": category, "cross_elasticity": fit["beta"], "std_error": fit["se"],
                         "ci_low": fit["beta"] - z * fit["se"], "ci_high": fit["beta"] + z * fit["se"],
                         "first_stage_f": fit["first_stage_f"], "n_products": int(x["product_id"].nunique())})
        return pd.DataFrame(rows)

    # ------------------------------------------------------------------ using it
    def elasticity_of(self, product_ids) -> np.ndarray:
        """Own-price elasticities for ``product_ids``; a product the model never saw gets the median."""
        table = self.elasticities_.set_index("product_id")["elasticity"]
        return table.reindex(pd.Index(product_ids)).fillna(float(table.median())).to_numpy()

    def units_multiplier(self, product_ids, price_multiplier) -> np.ndarray:
        """Expected units at ``price x multiplier`` relative to units at ``price``: ``multiplier ** e``."""
        multiplier = np.asarray(price_multiplier, dtype=float)
        if np.any(multiplier <= 0):
            raise PriceElasticityError("price multipliers must be positive")
        return multiplier ** self.elasticity_of(product_ids)

    def pyfunc_predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """MLflow pyfunc entry: the elasticity row of every ``product_id`` asked for."""
        if "product_id" not in frame.columns:
            raise PriceElasticityError("pyfunc input needs a product_id column")
        table = self.elasticities_.set_index("product_id")
        asked = frame["product_id"].astype(str)
        out = table.reindex(asked)[["category", "elasticity", "std_error", "ci_low", "ci_high"]]
        return out.reset_index().rename(columns={"index": "product_id"})


def price_response_error(model: PriceElasticityModel, panel: pd.DataFrame, holdout_start) -> float:
    """Holdout score of an elasticity model, observable without ground truth (lower is better).

    For each product, a level is read from its last eight weeks before ``holdout_start`` net of price
    (``log units - e * log price - category index``); each holdout week is then predicted from that
    level, the week's own price and its category index. Mean absolute error in log units per day.
    Only the elasticity differs between two models scored on the same panel, so the one whose
    elasticities explain the holdout's price moves better wins.
    """
    frame = weekly_panel(panel).frame
    holdout_start = pd.Timestamp(holdout_start)
    elasticity = pd.Series(model.elasticity_of(frame["product_id"].unique()), index=frame["product_id"].unique())
    frame = frame.assign(e=elasticity.reindex(frame["product_id"]).to_numpy())
    frame["net"] = frame["log_units"] - frame["e"] * frame["log_price"] - frame["calendar_index"]
    before = frame[frame["first_day"] < holdout_start].sort_values("week")
    after = frame[frame["first_day"] >= holdout_start]
    if before.empty or after.empty:
        raise PriceElasticityError(f"holdout start {holdout_start.date()} leaves no weeks on one side")
    level = before.groupby("product_id")["net"].apply(lambda s: s.tail(8).mean())
    after = after[after["product_id"].isin(level.index)]
    predicted = level.reindex(after["product_id"]).to_numpy() + after["e"] * after["log_price"] + after["calendar_index"]
    return float(np.mean(np.abs(after["log_units"].to_numpy() - predicted.to_numpy())))
