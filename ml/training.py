"""Train, score against the champion on one time-based holdout, log to MLflow, and gate.

The same two functions run from the Dagster assets (weekly schedule), the CLI and ``make demo``; each
takes the :class:`ml.registry.ModelRegistry` of the data directory it trains into:

1. split the sales panel at ``holdout_start``: the candidate trains on the days before it;
2. score the candidate and the current champion (if any) on the holdout, the same way;
3. log the candidate as a new version (parameters, metrics, plots, tables) and move the alias
   ``champion`` only if it won (:meth:`ml.registry.ModelRegistry.promote_if_better`).

The MLflow run starts when the fit starts (``started_at``), so its duration in the UI is the training's.

The champion may have been trained on days that are now in the holdout; that favours the champion,
so a candidate that still wins is better, never luckier.
"""

from __future__ import annotations

import datetime as dt
import inspect
import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ml import metrics as m
from ml import plots
from ml.registry import LoadedModel, ModelRegistry
from ml.features import promotion_plan
from ml.forecast import DemandForecaster, quantile_column
from ml.price_elasticity import MIN_WEEKS as ELASTICITY_MIN_WEEKS
from ml.price_elasticity import PriceElasticityModel, price_response_error

log = logging.getLogger(__name__)

FORECAST_MODEL = "demand_forecast"
ELASTICITY_MODEL = "price_elasticity"
FORECAST_METRIC = "holdout_mean_pinball"
MIN_TRAINING_DAYS = 56  # eight weeks before the holdout: the rolling features look back 28 days
ELASTICITY_HOLDOUT_DAYS = 28
# The least history both trainings accept: the elasticity holdout, then min_weeks full weeks, plus the
# partial week the history may start with and one week's slack for weeks lost to stockouts.
MIN_HISTORY_DAYS = max(MIN_TRAINING_DAYS + 1, 7 * (ELASTICITY_MIN_WEEKS + 2)) + ELASTICITY_HOLDOUT_DAYS
ELASTICITY_METRIC = "holdout_price_response_mae"


@dataclass
class TrainingReport:
    """What one training did: the version it registered and whether the gate promoted it."""

    model_name: str
    version: int
    run_id: str
    promoted: bool
    reason: str
    metric: str
    candidate_score: float
    champion_score: float | None
    champion_version: int | None
    holdout_start: str
    holdout_end: str
    train_seconds: float
    metrics: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def holdout_start_for(panel: pd.DataFrame, holdout_days: int) -> pd.Timestamp:
    """First day of the holdout: the last ``holdout_days`` days of the panel."""
    last = pd.Timestamp(panel["date"].max())
    if holdout_days < 1:
        raise ValueError(f"holdout_days must be at least 1, got {holdout_days}")
    start = last - pd.Timedelta(days=holdout_days - 1)
    if start <= pd.Timestamp(panel["date"].min()) + pd.Timedelta(days=MIN_TRAINING_DAYS):
        raise ValueError(f"the panel ({panel['date'].min():%Y-%m-%d} .. {last:%Y-%m-%d}) is too short for a "
                         f"{holdout_days}-day holdout after at least 8 weeks of training")
    return start


# ----------------------------------------------------------------------------- forecast
def score_forecast(model: DemandForecaster, panel: pd.DataFrame, origin: pd.Timestamp,
                   promotions: pd.DataFrame | None = None) -> tuple[dict[str, float], pd.DataFrame]:
    """Metrics of a forecast from ``origin`` against the uncensored actual units that followed, planned
    with the promotions announced by the origin (``promotions``: rows of ``fct_promotion_days``)."""
    future = None if promotions is None else promotion_plan(promotions, origin, model.horizon)
    forecast = model.predict(panel[panel["date"] <= origin], origin, future=future, mean=True)
    actual = panel[["date", "product_id", "channel", "units", "is_stockout"]]
    scored = forecast.merge(actual, on=["date", "product_id", "channel"], how="inner")
    scored = scored[~scored["is_stockout"]]
    if scored.empty:
        raise ValueError(f"no uncensored actuals after {origin:%Y-%m-%d} to score the forecast on")
    units = scored["units"].to_numpy(float)
    columns = {q: quantile_column(q) for q in model.quantiles_}
    values = {
        "holdout_wmape_p50": m.wmape(units, scored["p50"]),
        "holdout_bias_p50": m.bias(units, scored["p50"]),
        "holdout_bias_mean": m.bias(units, scored["mean"]),  # the mean is what totals should use
        "holdout_coverage_p10_p90": m.interval_coverage(units, scored[columns[min(columns)]], scored[columns[max(columns)]]),
        FORECAST_METRIC: float(np.mean([m.pinball_loss(units, scored[c], q) for q, c in columns.items()])),
        "holdout_rows": float(len(scored)),
    }
    return values, scored


def train_demand_forecast(panel: pd.DataFrame, registry: ModelRegistry, *, holdout_days: int = 14,
                          params: dict[str, Any] | None = None,
                          promotions: pd.DataFrame | None = None) -> TrainingReport:
    """Fit a :class:`DemandForecaster` before the holdout, gate it against ``registry``'s champion, log it.

    Candidate and champion are scored alike, each planned with the promotions announced by the
    holdout's origin when ``promotions`` (rows of ``fct_promotion_days``) is given."""
    _require_registry(registry)
    params = {"horizon": 14, **(params or {})}
    start = holdout_start_for(panel, holdout_days)
    origin = start - pd.Timedelta(days=1)
    history = panel[panel["date"] <= origin]
    started_at, started = dt.datetime.now(dt.UTC), time.perf_counter()
    model = DemandForecaster(**params).fit(history)
    train_seconds = round(time.perf_counter() - started, 2)  # shown in the MLflow UI and in Dagster
    values, scored = score_forecast(model, panel, origin, promotions)
    champion_score, champion = _champion_score(
        registry, FORECAST_MODEL, lambda est: score_forecast(est, panel, origin, promotions)[0][FORECAST_METRIC])
    columns = {q: quantile_column(q) for q in model.quantiles_}
    lowest, highest = min(columns), max(columns)
    figures = {
        "forecast_vs_actual": plots.forecast_vs_actual(scored, lower=columns[lowest], upper=columns[highest],
                                                       nominal=highest - lowest),
        "interval_calibration": plots.interval_calibration(scored, columns),
    }
    metrics = {**values, "train_seconds": train_seconds, "training_rows": float(model.n_training_rows_)}
    tables = {"holdout_by_channel": _by_channel(scored)}
    example = history[history["date"] > origin - pd.Timedelta(days=35)].head(2000).astype({"units": float})
    return _log_and_gate(registry, FORECAST_MODEL, model, params, metrics, figures, tables, example,
                         FORECAST_METRIC, champion, champion_score, start, pd.Timestamp(panel["date"].max()),
                         started_at, train_seconds)


def _by_channel(scored: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for channel, x in scored.groupby("channel"):
        rows.append({"channel": channel, "rows": len(x), "units": int(x["units"].sum()),
                     "wmape_p50": m.wmape(x["units"], x["p50"]), "bias_p50": m.bias(x["units"], x["p50"]),
                     "coverage_p10_p90": m.interval_coverage(x["units"], x["p10"], x["p90"])})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- elasticity
def train_price_elasticity(panel: pd.DataFrame, registry: ModelRegistry, *,
                           holdout_days: int = ELASTICITY_HOLDOUT_DAYS,
                           params: dict[str, Any] | None = None) -> TrainingReport:
    """Fit a :class:`PriceElasticityModel` before the holdout, gate it against ``registry``'s champion, log it."""
    _require_registry(registry)
    params = dict(params or {})
    start = holdout_start_for(panel, holdout_days)
    history = panel[panel["date"] < start]
    started_at, started = dt.datetime.now(dt.UTC), time.perf_counter()
    model = PriceElasticityModel(**params).fit(history)
    train_seconds = round(time.perf_counter() - started, 2)  # shown in the MLflow UI and in Dagster
    score = price_response_error(model, panel, start)
    champion_score, champion = _champion_score(registry, ELASTICITY_MODEL,
                                               lambda est: price_response_error(est, panel, start))
    table = model.elasticities_
    metrics = {
        ELASTICITY_METRIC: score,
        "train_seconds": train_seconds,
        "products": float(len(table)),
        "median_elasticity": float(table["elasticity"].median()),
        "mean_elasticity": float(table["elasticity"].mean()),
        "median_std_error": float(table["std_error"].median()),
        "median_first_stage_f": float(table["first_stage_f"].median()),
        "weak_instrument_share": float(table["weak_instrument"].mean()),
        "pooled_only_products": float(table["pooled_only"].sum()),
        "tau": float(np.sqrt(model.tau2_)),
        "control_function_coefficient": model.control_function_["coefficient"],
        "control_function_lag_coefficient": model.control_function_["lag_coefficient"],
        "price_raise_coefficient": model.price_raise_effect_["coefficient"],
        "positive_elasticity_share": float((table["elasticity"] > 0).mean()),
        **{f"nuisance_r2_{k}": float(v) for k, v in model.nuisance_r2_.items()},
        **{k: float(v) for k, v in model.weekly_summary_.items()},
    }
    figures = {"elasticities_with_intervals": plots.elasticities_with_intervals(table)}
    tables = {"elasticities": table, "cross_elasticities": model.cross_elasticities_,
              "category_elasticities": model.category_elasticities_.reset_index()}
    example = pd.DataFrame({"product_id": table["product_id"].head(5)})
    return _log_and_gate(registry, ELASTICITY_MODEL, model, params, metrics, figures, tables, example,
                         ELASTICITY_METRIC, champion, champion_score, start, pd.Timestamp(panel["date"].max()),
                         started_at, train_seconds)


# ----------------------------------------------------------------------------- shared
def _require_registry(registry: Any) -> None:
    if not isinstance(registry, ModelRegistry):
        raise TypeError(f"registry must be an ml.registry.ModelRegistry (e.g. ModelRegistry(data_dir / 'mlflow')), "
                        f"got {type(registry).__name__}")


def _champion_score(registry: ModelRegistry, name: str, score) -> tuple[float | None, LoadedModel | None]:
    """The current champion's score on this holdout, or ``(None, None)`` when there is no champion."""
    if registry.champion_version(name) is None:
        return None, None
    champion = registry.load_estimator(name)
    try:
        return float(score(champion.estimator)), champion
    except Exception as error:  # a champion that cannot score this data cannot defend its title
        log.warning("champion %s v%s could not be scored: %s", name, champion.version, error)
        return float("nan"), champion


def _log_and_gate(registry: ModelRegistry, name, model, params, metrics, figures, tables, example, metric, champion,
                  champion_score, start, end, started_at, train_seconds) -> TrainingReport:
    import matplotlib.pyplot as plt

    tags = {"holdout_start": f"{start:%Y-%m-%d}", "holdout_end": f"{end:%Y-%m-%d}",
            "champion_version_at_training": str(champion.version) if champion else "none"}
    try:
        candidate = registry.log_candidate(name, model, params=_flat(params, model), metrics=metrics,
                                           figures=figures, tables=tables, input_example=example, tags=tags,
                                           run_name=f"{name} {dt.datetime.now():%Y-%m-%d %H:%M}",
                                           started_at=started_at)
    finally:
        for figure in figures.values():
            plt.close(figure)
    if champion is not None and champion_score is not None and not np.isfinite(champion_score):
        champion_score = float("inf")  # unscorable champion: any finite candidate beats it
    decision = registry.promote_if_better(name, candidate.version, candidate_score=metrics[metric],
                                          champion_score=champion_score, metric=metric, lower_is_better=True)
    return TrainingReport(model_name=name, version=int(candidate.version), run_id=candidate.run_id,
                          promoted=decision.promoted, reason=decision.reason, metric=metric,
                          candidate_score=float(metrics[metric]), champion_score=champion_score,
                          champion_version=decision.champion_version, holdout_start=f"{start:%Y-%m-%d}",
                          holdout_end=f"{end:%Y-%m-%d}", train_seconds=float(train_seconds),
                          metrics={k: float(v) for k, v in metrics.items()})


def _flat(params: dict[str, Any], model) -> dict[str, Any]:
    """The estimator's full parameter set (defaults included), so a run is reproducible from the UI."""
    names = [name for name in inspect.signature(type(model).__init__).parameters if name != "self"]
    return {name: getattr(model, name) for name in names if hasattr(model, name)} | params


def insufficient_history(panel: pd.DataFrame) -> str | None:
    """Why the models cannot train on ``panel`` yet (too few days of history), or None when they can.

    Asked before every training, scheduled or not, so a young shop skips training with this message
    instead of failing deep inside a fit.
    """
    days = int((pd.Timestamp(panel["date"].max()) - pd.Timestamp(panel["date"].min())).days) + 1 if len(panel) else 0
    if days >= MIN_HISTORY_DAYS:
        return None
    return (f"{days} days of history; the models need at least {MIN_HISTORY_DAYS} (a {ELASTICITY_HOLDOUT_DAYS}-day "
            f"holdout after {ELASTICITY_MIN_WEEKS} full weeks of prices and sales)")
