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


def forecast_vs_actual(scored: pd.DataFrame, *, title: str = "Holdout: forecast against actual"):
    """Daily totals over all products and channels: actual units, P50, and the P10-P90 band."""
    plt = _pyplot()
    daily = scored.groupby("date")[["units", "p10", "p50", "p90"]].sum()
    figure, axis = plt.subplots(figsize=(9, 4))
    axis.fill_between(daily.index, daily["p10"], daily["p90"], alpha=0.25, label="P10-P90 (sum)")
    axis.plot(daily.index, daily["p50"], label="P50 (sum)")
    axis.plot(daily.index, daily["units"], "k.-", label="actual units (uncensored days)")
    axis.set_title(title)
    axis.set_ylabel("units per day, all products")
    axis.legend(loc="upper left")
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
