"""The figures say what their labels say: totals are sums of means, intervals are judged per series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml import plots


def scored_holdout() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    dates = pd.date_range("2026-03-01", periods=5)
    rows = pd.MultiIndex.from_product([dates, [f"P{i}" for i in range(20)]], names=["date", "product_id"]).to_frame(
        index=False)
    rows["mean"] = rng.uniform(0.5, 3.0, len(rows))
    rows["p50"] = np.floor(rows["mean"])
    rows["p10"], rows["p90"] = np.maximum(rows["mean"] - 1.5, 0), rows["mean"] + 1.5
    rows["units"] = rng.poisson(rows["mean"])
    return rows


def lines_by_label(axis) -> dict[str, np.ndarray]:
    return {line.get_label(): np.asarray(line.get_ydata(), dtype=float) for line in axis.get_lines()}


def test_forecast_vs_actual_plots_sums_of_means_and_per_series_coverage() -> None:
    import matplotlib.pyplot as plt

    scored = scored_holdout()
    figure = plots.forecast_vs_actual(scored)
    try:
        totals, coverage = figure.axes
        daily = scored.groupby("date")
        top = lines_by_label(totals)
        np.testing.assert_allclose(top["actual units (uncensored days)"], daily["units"].sum())
        np.testing.assert_allclose(top["expected total (sum of mean forecasts)"], daily["mean"].sum())
        assert not totals.collections, "no band around the total: summed quantiles are not a quantile of the sum"
        inside = (scored["units"] >= scored["p10"]) & (scored["units"] <= scored["p90"])
        shares = lines_by_label(coverage)["share of series inside their P10-P90"]
        np.testing.assert_allclose(shares, inside.groupby(scored["date"]).mean())
        assert "nominal 80%" in lines_by_label(coverage)
    finally:
        plt.close(figure)


def test_forecast_vs_actual_names_missing_columns() -> None:
    with pytest.raises(ValueError, match="mean"):
        plots.forecast_vs_actual(scored_holdout().drop(columns="mean"))
