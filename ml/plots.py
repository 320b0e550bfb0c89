"""Figures reviewers open in the MLflow UI: forecast against actual, interval calibration, elasticities.

Each function returns a matplotlib Figure (the caller logs and closes it). The Agg backend is chosen
on first use so training works on a machine without a display.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _dates():
    import matplotlib.dates

    return matplotlib.dates


def forecast_vs_actual(scored: pd.DataFrame, *, lower: str = "p10", upper: str = "p90", nominal: float = 0.8,
                       title: str = "Holdout: forecast against actual"):
    """The holdout in two panels, each a quantity that means what its label says.

    Top: daily totals over all products and channels: actual units, the expected total (the sum of
    the per-series ``mean`` forecasts, since means add up) and the sum of the medians (``p50``), which
    under-forecasts totals of skewed low counts. No band is drawn around the total: summing per-series
    P10 and P90 gives a far wider band than any quantile of the total (quantiles do not add up), and
    the forecast has no joint distribution to take one from.
    Bottom: each day's share of series whose actual fell inside their own ``[lower, upper]`` interval,
    against its nominal coverage: that is what the per-series intervals promise.
    """
    plt = _pyplot()
    missing = [c for c in ("date", "units", "p50", "mean", lower, upper) if c not in scored.columns]
    if missing:
        raise ValueError(f"the scored holdout lacks columns {missing}")
    inside = (scored["units"] >= scored[lower]) & (scored["units"] <= scored[upper])
    daily = scored.assign(inside=inside).groupby("date").agg(
        units=("units", "sum"), mean=("mean", "sum"), p50=("p50", "sum"), coverage=("inside", "mean"))
    figure, (totals, coverage) = plt.subplots(2, 1, figsize=(9, 6), sharex=True, height_ratios=(2, 1))
    totals.plot(daily.index, daily["units"], "k.-", label="actual units (uncensored days)")
    totals.plot(daily.index, daily["mean"], label="expected total (sum of mean forecasts)")
    totals.plot(daily.index, daily["p50"], "--", label="sum of P50 (medians: low for totals)")
    totals.set_title(title)
    totals.set_ylabel("units per day, all products")
    totals.legend(loc="upper left", fontsize=8)
    interval = f"{lower.upper()}-{upper.upper()}"
    coverage.plot(daily.index, daily["coverage"], "o-", label=f"share of series inside their {interval}")
    coverage.axhline(nominal, color="k", linestyle="--", linewidth=1, label=f"nominal {nominal:.0%}")
    coverage.set_ylim(0, 1)
    coverage.set_ylabel("coverage")
    coverage.legend(loc="lower left", fontsize=8)
    coverage.xaxis.set_major_formatter(_dates().DateFormatter("%Y-%m-%d"))
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure


def interval_calibration(scored: pd.DataFrame, quantile_columns: dict[float, str]):
    """Share of actuals at or below each forecast quantile against its nominal level (diagonal = calibrated)."""
    plt = _pyplot()
    levels = sorted(quantile_columns)
    observed = [float(np.mean(scored["units"].to_numpy() <= scored[quantile_columns[q]].to_numpy())) for q in levels]
    figure, axis = plt.subplots(figsize=(4.5, 4.5))
    axis.plot([0, 1], [0, 1], "k--", linewidth=1, label="calibrated")
    axis.plot(levels, observed, "o-", label="observed")
    for q, o in zip(levels, observed):
        axis.annotate(f"{o:.2f}", (q, o), textcoords="offset points", xytext=(6, -10))
    axis.set_xlabel("nominal quantile")
    axis.set_ylabel("share of actuals at or below")
    axis.set_title("Interval calibration (holdout)")
    axis.legend(loc="upper left")
    figure.tight_layout()
    return figure


def elasticities_with_intervals(table: pd.DataFrame):
    """Every product's pooled elasticity and interval, sorted, coloured by category; before pooling as crosses."""
    plt = _pyplot()
    table = table.sort_values(["category", "elasticity"]).reset_index(drop=True)
    figure, axis = plt.subplots(figsize=(10, 4.5))
    for category, rows in table.groupby("category", sort=True):
        x = rows.index.to_numpy()
        axis.errorbar(x, rows["elasticity"], yerr=[rows["elasticity"] - rows["ci_low"], rows["ci_high"] - rows["elasticity"]],
                      fmt="o", markersize=3, linewidth=0.8, label=category)
    raw = table["raw_elasticity"].clip(-8, 4)
    axis.plot(table.index, raw, "x", color="grey", markersize=3, alpha=0.6, label="per product, before pooling (clipped)")
    axis.axhline(0, color="k", linewidth=0.5)
    axis.set_xlabel("product (sorted within category)")
    axis.set_ylabel("own-price elasticity")
    axis.set_title("Own-price elasticities with intervals (partially pooled)")
    axis.legend(ncol=3, fontsize=8)
    figure.tight_layout()
    return figure
