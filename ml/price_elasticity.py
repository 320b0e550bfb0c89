"""Per-product causal price elasticities: the MLflow model ``price_elasticity``.

Agents reprice from these numbers, so they must be causal, not correlational. The shop's own price
history is confounded: it raised prices when it saw demand running high. The model separates the
price moves the shop chose because of demand from the rest, and borrows strength across products:

1. **Weekly panel.** Product x week, from the daily sales panel: log units per day over all channels,
   mean log price, mean log unit cost (the instrument), promotion share, the gap to the competitor's
   price, a calendar index (the mean log units of the *other* products of the category that week:
   season, events and common shocks), the share of days just after a promotion (the post-promotion
   dip, which would otherwise read as a price effect) and this week's raise over last week's price.
   Weeks with a stockout are dropped: censored sales would read as a price response. Prices change
   weekly, so a week is the natural unit; daily logs would also meet zero-sale days.
2. **Double ML with cross-fitting.** Within each product (product fixed effects), learners predict
   every outcome and price column from the controls; every row's prediction comes from a model fitted
   on other products (folds grouped by product). What is left is what the controls do not explain.
3. **Control function, one shop policy.** A first stage per category regresses residual log price on
   residual log cost; its residual ``v`` is the part of price the shop did *not* take from its
   costs, which carries the demand shocks it reacted to. The demand equation per product is
   ``y = e_p * price + lambda * v + lambda_lag * v_last_week + kappa * raise``, with ``e_p`` per
   product and the rest shared by all products: one repricing rule ran the whole assortment
   (``lambda``: how strongly it leaned into the demand it saw), and shoppers everywhere resent a raise
   they have not got used to (``kappa`` on this week's price raise over last week's, the loss-aversion
   side of reference prices; cuts showed no consistent short-run effect and are left out). With the
   shared terms pooled, each ``e_p`` is identified from *all* its price variation, not only the part
   its own cost explains: per-product errors are a fifth to two fifths of per-product 2SLS, still
   consistent under the confounding (2SLS per product stays as ``iv_elasticity``, a diagnostic).
   ``e_p`` is the response to a lasting price change, after shoppers got used to it.
4. **Partial pooling.** Empirical Bayes: each product's estimate is shrunk toward its category's
   pooled estimate by ``tau^2 / (tau^2 + se^2)``, where ``tau^2`` (the true spread of elasticities
   around the category mean) is a maximum-likelihood estimate over products. Products with weak or no
   price variation get (close to) the category value with a wide interval; well-identified products
   keep their own. The interval counts the uncertainty of the category estimate and, after Morris
   (1983), of ``tau^2`` itself (``2 / (k - 3) * B^2 * (estimate - category)^2`` for ``k`` products
   and shrinkage ``B``), which a plug-in posterior would ignore.
5. **Cross-price effects** per category: 2SLS of what own price does not explain on the mean log
   price of the other products in the category, instrumented by their mean log cost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ml.elasticity_estimator import WEAK_INSTRUMENT_F, cross_fit, two_stage
from ml.panel import normalize_panel
from ml.threads import limit_threads

CONTROLS = ("calendar_index", "promo_share", "after_promo_share", "competitor_gap", "season_sin", "season_cos")
AFTER_PROMO_DAYS = 7
MIN_WEEKS = 12  # usable weeks a product needs for its own slope (fewer: the category value)
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


def _after_promotion(d: pd.DataFrame, window_days: int = AFTER_PROMO_DAYS) -> np.ndarray:
    """1 on the ``window_days`` days after a promotion ended (not on promotion): the post-promotion
    dip, when shoppers who stocked up buy less. Left out, the dip reads as a price-raise penalty."""
    wide = d.pivot_table(index="date", columns=["product_id", "channel"], values="is_promo", aggfunc="max")
    on_promo = wide.astype(float).ffill().fillna(0.0).to_numpy() > 0.5  # a day without a row: as the day before
    since = np.full(on_promo.shape[1], np.inf)
    after = np.zeros(on_promo.shape)
    for t in range(on_promo.shape[0]):  # one vectorized step per day, over every product x channel
        since = np.where(on_promo[t], 0.0, since + 1)
        after[t] = (since >= 1) & (since <= window_days)
    long = pd.DataFrame(after, index=wide.index, columns=wide.columns).stack(["product_id", "channel"],
                                                                           future_stack=True)
    return long.reindex(pd.MultiIndex.from_frame(d[["date", "product_id", "channel"]])).to_numpy()


def weekly_panel(panel: pd.DataFrame) -> WeeklyPanel:
    """Aggregates the daily product x channel panel to product x week (see the module docstring)."""
    d = normalize_panel(panel)
    if (d["unit_cost"] <= 0).any() or d["unit_cost"].isna().all():
        raise PriceElasticityError("unit_cost must be positive: it is the instrument for price")
    start = d["date"].min()
    d["week"] = ((d["date"] - start).dt.days // 7).astype(int)
    d["log_price"] = np.log(d["price"].fillna(d["regular_price"]).fillna(d["list_price"]))
    d["log_cost"] = np.log(d["unit_cost"])
    d["after_promo"] = _after_promotion(d)
    # Relative to the list price, not today's price: a control built from own price would absorb it.
    d["competitor_gap"] = np.log(d["competitor_price"] / d["list_price"])
    days_per_week = d.groupby("week")["date"].nunique()
    weekly = d.groupby(["product_id", "category", "week"], sort=True).agg(
        units=("units", "sum"), log_price=("log_price", "mean"), log_cost=("log_cost", "mean"),
        promo_share=("is_promo", "mean"), after_promo_share=("after_promo", "mean"),
        competitor_gap=("competitor_gap", "mean"),
        stockout=("is_stockout", "max"), days=("date", "nunique"),
        first_day=("date", "min")).reset_index()
    full = weekly["days"].to_numpy() == days_per_week.reindex(weekly["week"]).to_numpy()
    full &= weekly["days"].to_numpy() == 7
    stockout = weekly["stockout"].to_numpy()
    zero = weekly["units"].to_numpy() <= 0
    keep = full & ~stockout & ~zero
    weekly = weekly.loc[keep].copy()
    weekly["log_units"] = np.log(weekly["units"] / weekly["days"])
    # How far the price rose over last week's (0 after a cut, or when last week is missing).
    previous = weekly.groupby("product_id")[["week", "log_price"]].shift(1)
    change = np.where(weekly["week"] - previous["week"] == 1, weekly["log_price"] - previous["log_price"], 0.0)
    weekly["price_raise"] = np.maximum(change, 0.0)
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


@dataclass(frozen=True)
class _ControlFunctionFit:
    """The pooled fit: shared policy coefficients, per-product slopes, and the residual log units."""

    shared: np.ndarray  # [lambda, lambda_lag, kappa]
    shared_se: np.ndarray
    slopes: pd.DataFrame  # product_id, raw_elasticity, raw_std_error
    adjusted: np.ndarray  # residual log units minus the shared terms, per row


class PriceElasticityModel:
    """Own-price elasticity per product (with interval) and cross-price elasticity per category.

    Args:
        n_folds: cross-fitting folds (grouped by product).
        learner: nuisance learner for double ML, ``"gbm"`` or ``"ridge"``.
        min_weeks: products with fewer usable weeks get the category value (pooled only).
        confidence: level of the reported intervals.
        random_state: seeds the folds and learners.
        n_threads: OpenMP threads of the gradient-boosting learners (None: all cores). 1 by default:
            on a shared machine, oversubscribed threads slowed a fit from 4 s to almost a minute.
    """

    def __init__(self, *, n_folds: int = 5, learner: str = "gbm", min_weeks: int = MIN_WEEKS,
                 confidence: float = 0.9, random_state: int = 0, n_threads: int | None = 1):
        self.n_folds = n_folds
        self.learner = learner
        self.min_weeks = min_weeks
        self.confidence = confidence
        self.random_state = random_state
        self.n_threads = n_threads

    # ------------------------------------------------------------------ fitting
    def fit(self, panel: pd.DataFrame) -> PriceElasticityModel:
        started = time.perf_counter()
        weekly = weekly_panel(panel)
        frame = weekly.frame
        if frame["product_id"].nunique() < self.n_folds:
            raise PriceElasticityError(
                f"{frame['product_id'].nunique()} products with usable weeks: need at least n_folds={self.n_folds}")
        with limit_threads(self.n_threads):
            residuals, r2 = self._residualize(frame)
        frame = frame.assign(y_res=residuals[:, 0], p_res=residuals[:, 1], z_res=residuals[:, 2],
                             raise_res=residuals[:, 3])
        categories, frame["v_res"] = self._first_stage(frame)
        previous = frame.groupby("product_id")[["week", "v_res"]].shift(1)
        frame["v_lag"] = np.where(frame["week"] - previous["week"] == 1, previous["v_res"], 0.0)
        fit = self._control_function(frame)
        frame["y_adj"] = fit.adjusted
        raw = self._per_product(frame, fit.slopes)
        categories = self._category_priors(frame, categories)
        tau2 = self._between_product_variance(raw, categories)
        self.elasticities_ = self._pool(raw, categories, tau2)
        self.cross_elasticities_ = self._cross_price(frame)
        self.tau2_ = tau2
        self.category_elasticities_ = categories
        self.control_function_ = {"coefficient": float(fit.shared[0]), "std_error": float(fit.shared_se[0]),
                                  "lag_coefficient": float(fit.shared[1]), "lag_std_error": float(fit.shared_se[1])}
        self.price_raise_effect_ = {"coefficient": float(fit.shared[2]), "std_error": float(fit.shared_se[2])}
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
        outcomes = ["log_units", "log_price", "log_cost", "price_raise"]
        columns = [*outcomes, *CONTROLS]
        within = frame[columns] - frame.groupby("product_id")[columns].transform("mean")
        category_codes = frame["category"].astype("category").cat.codes.to_numpy()[:, None]
        features = np.column_stack([frame[list(CONTROLS)].to_numpy(), within[list(CONTROLS)].to_numpy(),
                                    category_codes])
        return cross_fit(features, within[outcomes].to_numpy(), groups, self.n_folds, self.learner,
                          self.random_state)

    @staticmethod
    def _first_stage(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
        """Per category: residual price on residual cost. Returns the category table (pooled 2SLS
        as a diagnostic, first-stage strength) and ``v``, the price variation cost does not explain."""
        rows, v = [], np.zeros(len(frame))
        for category, index in frame.groupby("category", sort=True).indices.items():
            x = frame.iloc[index]
            z, p = x["z_res"].to_numpy(), x["p_res"].to_numpy()
            if float(z @ z) <= 1e-12:
                raise PriceElasticityError(
                    f"unit_cost never moves in category {category!r}: no instrument to tell price moves the shop "
                    "chose because of demand from the rest")
            v[index] = p - (z @ p) / (z @ z) * z
            groups = x["product_id"].astype("category").cat.codes.to_numpy()
            fit = two_stage(x["y_res"].to_numpy(), p, z[:, None], groups if groups.max() > 0 else None, 2)
            rows.append({"category": category, "iv_elasticity": fit["beta"], "iv_std_error": fit["se"],
                         "first_stage_f": fit["first_stage_f"], "n_products": int(x["product_id"].nunique())})
        return pd.DataFrame(rows).set_index("category"), v

    def _control_function(self, frame: pd.DataFrame) -> _ControlFunctionFit:
        """``y = e_p * p + C @ gamma`` with ``C = [v, v last week, raise]`` shared and ``e_p`` per product.

        Concentrated least squares: within each product, ``C`` and ``y`` are purged of the product's
        own price (Frisch-Waugh-Lovell), ``gamma`` is solved from all products at once with standard
        errors clustered by product, then each ``e_p`` is the slope of ``y - C @ gamma`` on price.
        """
        y, p = frame["y_res"].to_numpy(), frame["p_res"].to_numpy()
        shared = np.column_stack([frame["v_res"].to_numpy(), frame["v_lag"].to_numpy(),
                                  frame["raise_res"].to_numpy()])
        index = self._identified_products(frame)
        gram = np.zeros((shared.shape[1], shared.shape[1]))
        moment = np.zeros(shared.shape[1])
        purged = {}
        for product_id, rows in index.items():
            pp, cc, yy = p[rows], shared[rows], y[rows]
            c_tilde = cc - np.outer(pp, pp @ cc) / (pp @ pp)
            y_tilde = yy - pp * (pp @ yy) / (pp @ pp)
            purged[product_id] = (c_tilde, y_tilde)
            gram += c_tilde.T @ c_tilde
            moment += c_tilde.T @ y_tilde
        if not index:
            raise PriceElasticityError(f"no product has {self.min_weeks} usable weeks (full, in stock, with sales) "
                                       "and a price that moves: the panel is too short or prices never change")
        if np.linalg.cond(gram) > 1e12:
            raise PriceElasticityError("price never moves apart from cost in this panel: the shop's pricing "
                                       "policy (the control function) cannot be separated from the elasticities")
        gamma = np.linalg.solve(gram, moment)
        bread = np.linalg.inv(gram)
        meat = sum(np.outer(s, s) for s in ((c.T @ (yt - c @ gamma)) for c, yt in purged.values()))
        n_products = len(index)
        gamma_se = np.sqrt(np.diag(bread @ meat @ bread) * n_products / max(n_products - 1, 1))
        adjusted = y - shared @ gamma
        slopes = []
        for product_id, rows in index.items():
            pp, yy = p[rows], adjusted[rows]
            beta = float(pp @ yy / (pp @ pp))
            residual = yy - beta * pp
            n = len(rows)
            # HC3: each week's residual scaled up by its leverage. With ~45 weeks a product, HC1 was
            # ~20% too narrow against the truth (measured); HC3 brought that to 3-14%.
            leverage = pp**2 / (pp @ pp)
            se = float(np.sqrt(np.sum(pp**2 * (residual / (1 - leverage)) ** 2)) / (pp @ pp))
            slopes.append({"product_id": product_id, "raw_elasticity": beta, "raw_std_error": se})
        return _ControlFunctionFit(shared=gamma, shared_se=gamma_se, slopes=pd.DataFrame(slopes), adjusted=adjusted)

    def _identified_products(self, frame: pd.DataFrame) -> dict[Any, np.ndarray]:
        """Rows per product with enough weeks and own price variation to estimate its own slope."""
        spread = frame.groupby("product_id")["log_price"].std(ddof=0)
        out = {}
        for product_id, rows in frame.groupby("product_id", sort=True).indices.items():
            if len(rows) >= self.min_weeks and spread[product_id] > 1e-3:  # price sd under 0.1% is no variation
                out[product_id] = rows
        return out

    def _per_product(self, frame: pd.DataFrame, slopes: pd.DataFrame) -> pd.DataFrame:
        """Every product: its own slope (when identified), weeks, and its own 2SLS as a diagnostic."""
        rows = []
        for (product_id, category), x in frame.groupby(["product_id", "category"], sort=True):
            row: dict[str, Any] = {"product_id": product_id, "category": category, "n_weeks": len(x),
                                   "iv_elasticity": np.nan, "first_stage_f": np.nan}
            z = x["z_res"].to_numpy()
            if len(x) >= self.min_weeks and float(z @ z) > 1e-12:
                fit = two_stage(x["y_res"].to_numpy(), x["p_res"].to_numpy(), z[:, None], None, 2)
                row.update(iv_elasticity=fit["beta"], first_stage_f=fit["first_stage_f"])
            rows.append(row)
        out = pd.DataFrame(rows).merge(slopes, on="product_id", how="left")
        return out

    def _category_priors(self, frame: pd.DataFrame, categories: pd.DataFrame) -> pd.DataFrame:
        """Pooled slope per category (shared terms removed, clustered by product): the shrinkage target."""
        rows = []
        for category, x in frame.groupby("category", sort=True):
            groups = x["product_id"].astype("category").cat.codes.to_numpy()
            fit = two_stage(x["y_adj"].to_numpy(), x["p_res"].to_numpy(), None,
                             groups if groups.max() > 0 else None, 2)
            rows.append({"category": category, "elasticity": fit["beta"], "std_error": fit["se"]})
        return pd.DataFrame(rows).set_index("category").join(categories)

    @staticmethod
    def _between_product_variance(raw: pd.DataFrame, categories: pd.DataFrame) -> float:
        """Maximum-likelihood ``tau^2``: the true spread of elasticities around their category mean.

        Each product's estimate is ``N(category mean, tau^2 + se^2)``; the likelihood is maximized
        over a grid (a moment or median estimator is thrown off by heavy tails and collapses to zero,
        which would shrink every product away).
        """
        own = raw[raw["raw_elasticity"].notna()]
        if len(own) < 3:
            return MIN_TAU2
        deviation = (own["raw_elasticity"] - categories.loc[own["category"], "elasticity"].to_numpy()).to_numpy()
        se2 = own["raw_std_error"].to_numpy() ** 2
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
        # Morris's term for the uncertainty in tau^2: a plug-in posterior treats it as known and is too sure
        k = raw.groupby("category")["raw_elasticity"].transform("count").to_numpy(float)
        tau2_term = 2 / np.maximum(k - 3, 1) * (1 - weight) ** 2 * (np.nan_to_num(theta) - mu) ** 2
        variance = np.where(has_own, weight * np.nan_to_num(se2) + (1 - weight) ** 2 * mu_var + tau2_term,
                            tau2 + mu_var)
        z = stats.norm.ppf((1 + self.confidence) / 2)
        se = np.sqrt(variance)
        weak = ~(prior["first_stage_f"].to_numpy() >= WEAK_INSTRUMENT_F)
        out = raw.assign(elasticity=estimate, std_error=se, ci_low=estimate - z * se, ci_high=estimate + z * se,
                         category_elasticity=mu, pooling_weight=weight, weak_instrument=weak, pooled_only=~has_own)
        return out[["product_id", "category", "elasticity", "std_error", "ci_low", "ci_high", "raw_elasticity",
                    "raw_std_error", "iv_elasticity", "first_stage_f", "weak_instrument", "category_elasticity",
                    "pooling_weight", "pooled_only", "n_weeks"]].reset_index(drop=True)

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
            target = x["y_adj"].to_numpy() - own.loc[x["product_id"]].to_numpy() * x["p_res"].to_numpy()
            groups = x["product_id"].astype("category").cat.codes.to_numpy()
            fit = two_stage(target - target.mean(), q - q.mean(), (zq - zq.mean())[:, None], groups, 2)
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
