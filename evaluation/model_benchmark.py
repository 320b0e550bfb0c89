"""The model benchmark: our forecast and elasticities against baselines and the world's truth.

Evaluation code: the ``evaluation`` package is the only platform code allowed to read the simulator's
sealed truth (``tests/test_truth_is_sealed.py``). The models themselves are fitted exactly as in production, on the
sales panel from the marts, before one time-based holdout (the last ``holdout_days`` days).

Reported side by side (the README documents every key of the JSON):

- forecast: WMAPE and bias of the P50 over the uncensored holdout days (origins every ``horizon`` days),
  for ours, seasonal naive and a plain gradient-boosting model (the peer baseline), and our P10-P90
  coverage;
- elasticity: MAE and mean bias of per-product own-price elasticities against the truth, for ours,
  naive per-product log-log OLS, and the price response implied by the plain ML model;
- counterfactual: for price multipliers 0.8 .. 1.2 on the holdout days, WMAPE of the predicted change in
  expected units against the true change (truth: the world's demand at the changed price), each model on
  its one-day-ahead base, reconciled to the category's observed sales that day (and, for reference,
  without reconciliation);
- timing: training and scoring seconds.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from commerce_sim.truth import GroundTruth
from ml import metrics as m
from ml.baselines import PlainGBM, seasonal_naive
from ml.features import promotion_plan
from ml.forecast import DemandForecaster
from ml.price_elasticity import PriceElasticityModel, weekly_panel

PRICE_GRID = (0.8, 0.85, 0.9, 0.95, 1.05, 1.1, 1.15, 1.2)
PLAIN_ML_STEP = 1.05  # implied elasticity from predictions at price x 1.05 and / 1.05


def benchmark_models(panel: pd.DataFrame, sim_root: Path, *, holdout_days: int = 28, horizon: int = 14,
                     promotions: pd.DataFrame | None = None, progress=lambda message: None) -> dict[str, Any]:
    """Fits every model before the holdout and scores them; returns the JSON-ready result.

    ``promotions`` (rows of ``fct_promotion_days``): the forecasts of ours and of the peer are planned
    with the promotions announced by each origin, as the served forecast is; without it, no promotion
    is planned."""
    if holdout_days < horizon:
        raise ValueError(f"holdout_days={holdout_days} is shorter than the forecast horizon of {horizon} days")
    truth = GroundTruth(sim_root)
    last = pd.Timestamp(panel["date"].max())
    holdout_start = last - pd.Timedelta(days=holdout_days - 1)
    history = panel[panel["date"] < holdout_start]
    origins = [holdout_start - pd.Timedelta(days=1) + pd.Timedelta(days=k)
               for k in range(0, holdout_days - horizon + 1, horizon)]
    timing: dict[str, float] = {}

    progress("fitting our demand forecast")
    started = time.perf_counter()
    ours = DemandForecaster(horizon=horizon).fit(history)
    timing["forecast_train_seconds"] = time.perf_counter() - started
    progress("fitting the plain gradient-boosting peer")
    started = time.perf_counter()
    peer = PlainGBM(horizon=horizon).fit(history)
    timing["peer_gbm_train_seconds"] = time.perf_counter() - started
    progress("fitting our price elasticities")
    started = time.perf_counter()
    elasticity_model = PriceElasticityModel().fit(history)
    timing["elasticity_train_seconds"] = time.perf_counter() - started
    timing["train_seconds"] = timing["forecast_train_seconds"] + timing["elasticity_train_seconds"]

    progress("scoring the forecasts")
    started = time.perf_counter()
    forecast, scored = _forecast_section(panel, ours, peer, origins, horizon, promotions)
    timing["forecast_score_seconds"] = time.perf_counter() - started

    progress("scoring elasticities and counterfactuals against the truth")
    true_elasticity = truth.elasticities().set_index("product_id")["own_elasticity"]
    elasticity = _elasticity_section(history, elasticity_model, peer, panel, holdout_start, true_elasticity)
    elasticity["local"] = _local_elasticity_section(truth, elasticity_model, holdout_start, true_elasticity)
    counterfactual = _counterfactual_section(truth, scored, ours, elasticity_model, peer, panel)
    return {
        "scenario_rows": {"panel_rows": int(len(panel)), "products": int(panel["product_id"].nunique()),
                          "channels": int(panel["channel"].nunique()),
                          "first_date": f"{panel['date'].min():%Y-%m-%d}", "last_date": f"{last:%Y-%m-%d}"},
        "holdout": {"start": f"{holdout_start:%Y-%m-%d}", "end": f"{last:%Y-%m-%d}", "days": holdout_days,
                    "origins": [f"{o:%Y-%m-%d}" for o in origins], "horizon": horizon,
                    "scored_rows": int(len(scored))},
        "forecast": forecast,
        "elasticity": elasticity,
        "counterfactual": counterfactual,
        "timing": timing,
    }


# ----------------------------------------------------------------------------- forecast
def _forecast_section(panel, ours, peer, origins, horizon, promotions=None) -> tuple[dict, pd.DataFrame]:
    actual = panel[["date", "product_id", "channel", "units", "is_stockout", "price"]]
    frames = []
    for origin in origins:
        known = panel[panel["date"] <= origin]
        plan = None if promotions is None else promotion_plan(promotions, origin, horizon)
        f = ours.predict(known, origin, future=plan, mean=True)
        f = f.merge(seasonal_naive(known, origin, horizon)[["date", "product_id", "channel", "p50"]]
                    .rename(columns={"p50": "naive_p50"}), on=["date", "product_id", "channel"])
        f = f.merge(peer.predict(known, origin, future=plan)[["date", "product_id", "channel", "p50"]]
                    .rename(columns={"p50": "peer_p50"}), on=["date", "product_id", "channel"])
        frames.append(f)
    scored = pd.concat(frames, ignore_index=True).merge(actual, on=["date", "product_id", "channel"])
    uncensored = scored[~scored["is_stockout"]]
    units = uncensored["units"].to_numpy(float)
    section = {
        "ours": {"wmape": m.wmape(units, uncensored["p50"]), "bias": m.bias(units, uncensored["p50"]),
                 "coverage_p10_p90": m.interval_coverage(units, uncensored["p10"], uncensored["p90"]),
                 "mean_pinball": float(np.mean([m.pinball_loss(units, uncensored[c], q)
                                                for q, c in ((0.1, "p10"), (0.5, "p50"), (0.9, "p90"))]))},
        "seasonal_naive": {"wmape": m.wmape(units, uncensored["naive_p50"]),
                           "bias": m.bias(units, uncensored["naive_p50"])},
        "peer_gbm": {"wmape": m.wmape(units, uncensored["peer_p50"]), "bias": m.bias(units, uncensored["peer_p50"])},
        "rows": int(len(uncensored)),
        "censored_rows_excluded": int(len(scored) - len(uncensored)),
    }
    section["ours"]["wmape_vs_naive"] = section["ours"]["wmape"] / section["seasonal_naive"]["wmape"] - 1
    return section, scored


# ----------------------------------------------------------------------------- elasticity
def naive_ols_elasticities(history: pd.DataFrame) -> pd.Series:
    """Per product, the slope of weekly log units on log price: what a naive analyst would report."""
    frame = weekly_panel(history).frame
    out = {}
    for product_id, x in frame.groupby("product_id"):
        p = x["log_price"].to_numpy() - x["log_price"].mean()
        if len(x) >= 5 and p @ p > 1e-12:
            out[product_id] = float(p @ (x["log_units"].to_numpy() - x["log_units"].mean()) / (p @ p))
    return pd.Series(out, dtype=float)


def plain_ml_elasticities(peer: PlainGBM, panel: pd.DataFrame, holdout_start) -> pd.Series:
    """Per product, the price response the plain ML model implies on the holdout days (log-ratio of units)."""
    rows = panel[panel["date"] >= holdout_start].reset_index(drop=True)
    up = peer.predict_units(rows.assign(price=rows["price"] * PLAIN_ML_STEP))
    down = peer.predict_units(rows.assign(price=rows["price"] / PLAIN_ML_STEP))
    sums = pd.DataFrame({"product_id": rows["product_id"], "up": up, "down": down}).groupby("product_id").sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        implied = np.log(sums["up"] / sums["down"]) / np.log(PLAIN_ML_STEP**2)
    return implied.replace([np.inf, -np.inf], np.nan)


def _errors(estimates: pd.Series, truth: pd.Series) -> dict[str, float]:
    joined = pd.concat([estimates.rename("estimate"), truth.rename("truth")], axis=1, join="inner").dropna()
    error = joined["estimate"] - joined["truth"]
    return {"mae": float(error.abs().mean()), "mean_bias": float(error.mean()),
            "median_abs_error": float(error.abs().median()), "products": int(len(joined))}


def _elasticity_section(history, model, peer, panel, holdout_start, truth: pd.Series) -> dict:
    table = model.elasticities_.set_index("product_id")
    ours = _errors(table["elasticity"], truth)
    inside = table.join(truth.rename("truth"), how="inner")
    ours["interval_coverage"] = float(((inside["ci_low"] <= inside["truth"]) & (inside["truth"] <= inside["ci_high"])).mean())
    ours["interval_level"] = model.confidence
    ours["unpooled"] = _errors(table["raw_elasticity"], truth)
    ours["per_product_2sls"] = _errors(table["iv_elasticity"], truth)
    return {
        "ours": ours,
        "naive_ols": _errors(naive_ols_elasticities(history), truth),
        "plain_ml": _errors(plain_ml_elasticities(peer, panel, holdout_start), truth),
        "true_mean": float(truth.mean()),
    }


def _local_elasticity_section(truth: GroundTruth, model, holdout_start, structural: pd.Series) -> dict:
    """Our estimates against the truth's *local* elasticity at the prices the history was sold at.

    Demand steepens above the world's price ceiling; a log-log fit sees the local elasticity of the
    prices it was given. Where the history never reached the ceiling the two truths coincide."""
    daily = truth.daily(end=(pd.Timestamp(holdout_start) - pd.Timedelta(days=1)).date())
    local = daily.groupby("product_id")["local_elasticity"].mean()
    at_structural = float(np.isclose(daily["local_elasticity"].to_numpy(),
                                     structural.reindex(daily["product_id"]).to_numpy()).mean())
    table = model.elasticities_.set_index("product_id")
    return {"ours": _errors(table["elasticity"], local), "true_mean": float(local.mean()),
            "rows_at_structural": at_structural}


# ----------------------------------------------------------------------------- counterfactual
def one_day_ahead_means(forecaster: DemandForecaster, panel: pd.DataFrame, days) -> pd.DataFrame:
    """Our expected units for each of ``days``, forecast the evening before with that day's actual price
    and promotion as the plan: the base a counterfactual price change is applied to. The shop set
    those prices itself, so it knows them; the peer model's base is built the same way."""
    frames = []
    for day in pd.to_datetime(pd.Index(days)).unique():
        origin = day - pd.Timedelta(days=1)
        plan = panel.loc[panel["date"] == day, ["product_id", "channel", "date", "price", "is_promo", "discount_pct"]]
        f = forecaster.predict(panel[panel["date"] <= origin], origin, future=plan, mean=True)
        frames.append(f.loc[f["date"] == day, ["date", "product_id", "channel", "mean"]])
    return pd.concat(frames, ignore_index=True)


def reconciliation_factors(rows: pd.DataFrame, predicted: np.ndarray) -> np.ndarray:
    """Per row, observed units over predicted units of its category that day (in-stock rows only).

    Counterfactuals here are retrospective: the holdout days are over, so the shop knows what each
    category sold on them. Scaling a model's base to that total removes the day-level surprises no
    model could foresee (an event its one year of history never showed) and leaves what the
    counterfactual is about: the response to price. Observed sales only, never the world's truth.
    """
    censored = rows["is_stockout"].fillna(False).to_numpy(bool)
    frame = pd.DataFrame({"date": rows["date"].to_numpy(), "category": rows["category"].to_numpy(),
                          "units": np.where(censored, np.nan, rows["units"].to_numpy(float)),
                          "predicted": np.where(censored, np.nan, np.asarray(predicted, dtype=float))})
    totals = frame.groupby(["date", "category"])[["units", "predicted"]].transform("sum")
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = (totals["units"] / totals["predicted"]).to_numpy()
    # nothing predicted (or nothing in stock) on a category-day: nothing to scale, keep the model's base
    return np.where(np.isfinite(factor) & (totals["predicted"].to_numpy() > 0), factor, 1.0)


def _counterfactual_section(truth: GroundTruth, scored: pd.DataFrame, forecaster, model, peer, panel) -> dict:
    """Predicted against true change in expected units when one product's price alone is multiplied.

    Rows of products the shop had discontinued by that day (end of life, stock written off, as its
    catalog says) are left out. Each model predicts on its own base (expected units at the day's
    actual price): ours is the forecaster's one-day-ahead mean times our elasticity response, the
    plain ML model's is its own prediction at the changed price. The headline ``wmape`` reconciles each base to the category's
    observed sales that day (:func:`reconciliation_factors`); ``wmape_forecast_base`` does not.
    """
    start, end = scored["date"].min(), scored["date"].max()
    daily = truth.daily(start.date(), end.date())
    daily["date"] = pd.to_datetime(daily["date"])
    keys = ["date", "product_id", "channel"]
    base = one_day_ahead_means(forecaster, panel, scored["date"].unique())
    rows = scored[keys].merge(base, on=keys).merge(
        daily[[*keys, "paid_price", "reference_log_price", "expected_units"]], on=keys)
    # a product the shop has discontinued has no price to change: its rows are not counterfactuals
    sold = truth.sold_on(rows)
    rows = rows[sold].reset_index(drop=True)
    panel_rows = rows[keys].merge(panel, on=keys, how="left", validate="one_to_one")  # row i is rows' row i
    peer_base = peer.predict_units(panel_rows)
    ours_factor = reconciliation_factors(panel_rows, rows["mean"].to_numpy())
    peer_factor = reconciliation_factors(panel_rows, peer_base)
    changes: dict[str, list[np.ndarray]] = {"true": [], "ours": [], "peer": []}
    for multiplier in PRICE_GRID:
        changes["true"].append(truth.counterfactual_units(rows, multiplier) - rows["expected_units"].to_numpy())
        changes["ours"].append(rows["mean"].to_numpy() * (model.units_multiplier(rows["product_id"], multiplier) - 1))
        changes["peer"].append(peer.predict_units(panel_rows.assign(price=panel_rows["price"] * multiplier)) - peer_base)
    true_all, ours_all, peer_all = (np.concatenate(changes[k]) for k in ("true", "ours", "peer"))
    repeat = len(PRICE_GRID)
    ours_rec, peer_rec = ours_all * np.tile(ours_factor, repeat), peer_all * np.tile(peer_factor, repeat)
    n = len(rows)
    per_multiplier = {f"{k:.2f}": {"ours": m.wmape(t, ours_rec[i * n:(i + 1) * n]),
                                   "plain_ml": m.wmape(t, peer_rec[i * n:(i + 1) * n])}
                      for i, (k, t) in enumerate(zip(PRICE_GRID, changes["true"]))}
    expected = rows["expected_units"].to_numpy()
    return {
        "ours": {"wmape": m.wmape(true_all, ours_rec), "wmape_forecast_base": m.wmape(true_all, ours_all),
                 "base_wmape": m.wmape(expected, rows["mean"] * ours_factor),
                 "base_wmape_forecast": m.wmape(expected, rows["mean"])},
        "plain_ml": {"wmape": m.wmape(true_all, peer_rec), "wmape_forecast_base": m.wmape(true_all, peer_all),
                     "base_wmape": m.wmape(expected, peer_base * peer_factor),
                     "base_wmape_forecast": m.wmape(expected, peer_base)},
        "grid": list(PRICE_GRID), "rows": n, "rows_discontinued_excluded": int((~sold).sum()),
        "by_multiplier": per_multiplier,
    }


# ----------------------------------------------------------------------------- report
def format_table(result: dict[str, Any]) -> str:
    """The short terminal table of a benchmark result."""
    f, e, c, t = result["forecast"], result["elasticity"], result["counterfactual"], result["timing"]
    lines = [
        f"holdout {result['holdout']['start']} .. {result['holdout']['end']} "
        f"({f['rows']:,} uncensored product x channel x days)",
        "",
        f"{'forecast (P50)':<26}{'WMAPE':>8}{'bias':>8}{'P10-P90 cov.':>14}",
        f"{'  ours':<26}{f['ours']['wmape']:>8.3f}{f['ours']['bias']:>+8.3f}{f['ours']['coverage_p10_p90']:>14.3f}",
        f"{'  seasonal naive':<26}{f['seasonal_naive']['wmape']:>8.3f}{f['seasonal_naive']['bias']:>+8.3f}",
        f"{'  peer GBM':<26}{f['peer_gbm']['wmape']:>8.3f}{f['peer_gbm']['bias']:>+8.3f}",
        "",
        f"{'own-price elasticity':<26}{'MAE':>8}{'bias':>8}   (true mean {e['true_mean']:.2f})",
    ]
    for key, label in (("ours", "ours (DML + control fn)"), ("naive_ols", "naive log-log OLS"), ("plain_ml", "plain ML implied")):
        lines.append(f"{'  ' + label:<26}{e[key]['mae']:>8.3f}{e[key]['mean_bias']:>+8.3f}")
    if "local" in e:  # against the local elasticity at the history's prices
        local = e["local"]
        lines.append(f"{'  ours vs local truth':<26}{local['ours']['mae']:>8.3f}{local['ours']['mean_bias']:>+8.3f}"
                     f"   ({local['rows_at_structural']:.1%} of history rows below the price ceiling)")
    lines += [
        "",
        f"{'counterfactual (-20..+20%)':<26}{'WMAPE':>8}{'unreconciled':>14}",
        f"{'  ours':<26}{c['ours']['wmape']:>8.3f}{c['ours']['wmape_forecast_base']:>14.3f}",
        f"{'  plain ML':<26}{c['plain_ml']['wmape']:>8.3f}{c['plain_ml']['wmape_forecast_base']:>14.3f}",
        "",
        f"training: forecast {t['forecast_train_seconds']:.1f} s, elasticity {t['elasticity_train_seconds']:.1f} s, "
        f"peer GBM {t['peer_gbm_train_seconds']:.1f} s",
    ]
    return "\n".join(lines)
