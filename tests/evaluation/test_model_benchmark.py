"""The model benchmark (``evaluation/model_benchmark.py``, ``agentic-commerce bench models``): its pure helpers on
hand-made data, and one end-to-end run of the CLI on a tiny world."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.model_benchmark import PRICE_GRID, benchmark_models, format_table, naive_ols_elasticities, reconciliation_factors
from ml.price_elasticity import weekly_panel
from tests.ml.panels import confounded_pricing_panel

CLI = str(Path(sys.executable).parent / "agentic-commerce")


# ----------------------------------------------------------------------------- reconciliation
def test_reconciliation_factors_scale_each_category_day_to_its_observed_in_stock_sales():
    rows = pd.DataFrame([
        # date, category, units, is_stockout ; predicted is given separately, in the same order
        ("2025-04-01", "kitchen", 10, False),  # 0
        ("2025-04-01", "garden", 3, False),    # 1  garden on 04-01: nothing predicted
        ("2025-04-02", "kitchen", 9, False),   # 2
        ("2025-04-01", "kitchen", 6, False),   # 3
        ("2025-04-01", "kitchen", 1, True),    # 4  a stockout: left out of both sums
        ("2025-04-01", "garden", 0, False),    # 5
        ("2025-04-02", "garden", 5, True),     # 6  garden on 04-02: only a stockout row
    ], columns=["date", "category", "units", "is_stockout"]).assign(date=lambda x: pd.to_datetime(x["date"]))
    predicted = np.array([5.0, 0.0, 12.0, 3.0, 100.0, 0.0, 5.0])

    factors = reconciliation_factors(rows, predicted)

    assert isinstance(factors, np.ndarray) and factors.shape == (len(rows),)
    np.testing.assert_allclose(factors, [
        16 / 8,  # kitchen 04-01: (10 + 6) / (5 + 3); the stockout row's 1 and 100 do not count
        1.0,     # garden 04-01: 3 units over 0 predicted is undefined
        9 / 12,  # kitchen 04-02: another day is its own group
        16 / 8,
        16 / 8,  # the stockout row still gets its category-day's factor
        1.0,
        1.0,     # garden 04-02: no in-stock row at all (0 / 0)
    ])


def test_reconciliation_factors_are_one_when_the_model_is_exact():
    rows = pd.DataFrame({"date": pd.to_datetime(["2025-04-01"] * 3), "category": ["a", "a", "b"],
                         "units": [2, 4, 7], "is_stockout": [False, False, False]})
    np.testing.assert_allclose(reconciliation_factors(rows, np.array([2.0, 4.0, 7.0])), 1.0)
    np.testing.assert_allclose(reconciliation_factors(rows, np.array([1.0, 2.0, 7.0])), [2.0, 2.0, 1.0])


# ----------------------------------------------------------------------------- naive OLS
def test_naive_ols_is_biased_upward_by_confounded_pricing_and_unbiased_without_it():
    """The shop raises prices into demand shocks (``confounding``), so the naive log-log slope is less
    negative than the truth; with prices set on cost alone it recovers the truth on average.
    Measured on 120 products, seeds 0-9: +0.24 .. +0.31 confounded, -0.04 .. +0.02 without."""
    confounded, truth = confounded_pricing_panel(n_products=120, seed=0)
    clean, clean_truth = confounded_pricing_panel(n_products=120, seed=0, confounding=0.0)

    biased = naive_ols_elasticities(confounded)
    unbiased = naive_ols_elasticities(clean)

    assert set(biased.index) == set(truth.index) and set(unbiased.index) == set(clean_truth.index)
    bias_confounded = (biased - truth).mean()
    bias_clean = (unbiased - clean_truth).mean()
    assert bias_confounded > 0.15
    assert abs(bias_clean) < 0.08
    assert bias_confounded - bias_clean > 0.15


def test_naive_ols_is_the_weekly_log_log_slope_and_skips_what_it_cannot_estimate():
    panel, _ = confounded_pricing_panel(n_products=12, constant_price_products=2, seed=3)
    estimates = naive_ols_elasticities(panel)
    assert "P000" not in estimates and "P001" not in estimates  # no price variation: no slope
    assert len(estimates) == 10

    weekly = weekly_panel(panel).frame
    one = weekly[weekly["product_id"] == "P005"]
    slope = np.polyfit(one["log_price"], one["log_units"], 1)[0]
    assert estimates["P005"] == pytest.approx(slope, rel=1e-9)

    four_weeks, _ = confounded_pricing_panel(n_products=4, days=28, seed=3)
    assert naive_ols_elasticities(four_weeks).empty  # fewer than five weeks per product
    five_weeks, _ = confounded_pricing_panel(n_products=4, days=35, seed=3)
    assert len(naive_ols_elasticities(five_weeks)) == 4


# ----------------------------------------------------------------------------- report
def hand_made_result() -> dict:
    return {
        "holdout": {"start": "2025-12-04", "end": "2025-12-31"},
        "forecast": {"rows": 15500,
                     "ours": {"wmape": 0.7004, "bias": -0.2204, "coverage_p10_p90": 0.7731},
                     "seasonal_naive": {"wmape": 1.0871, "bias": 0.0123},
                     "peer_gbm": {"wmape": 0.7932, "bias": -0.1456}},
        "elasticity": {"true_mean": -2.004,
                       "ours": {"mae": 0.3731, "mean_bias": -0.0172},
                       "naive_ols": {"mae": 0.6712, "mean_bias": 0.2621},
                       "plain_ml": {"mae": 1.3842, "mean_bias": 1.2117}},
        "counterfactual": {"ours": {"wmape": 0.3881, "wmape_forecast_base": 0.3861},
                           "plain_ml": {"wmape": 0.9688, "wmape_forecast_base": 0.9197}},
        "timing": {"forecast_train_seconds": 12.34, "elasticity_train_seconds": 5.67,
                   "peer_gbm_train_seconds": 8.91},
    }


def test_format_table_prints_every_row_with_its_numbers():
    table = format_table(hand_made_result())
    lines = table.splitlines()

    assert lines[0] == "holdout 2025-12-04 .. 2025-12-31 (15,500 uncensored product x channel x days)"

    def rows(label: str) -> list[list[str]]:
        """The numbers on each line whose label column (26 characters) is ``label``."""
        found = [line[26:].split() for line in lines if line[:26].strip() == label]
        assert found, f"no row {label!r} in\n{table}"
        return found

    assert rows("ours") == [["0.700", "-0.220", "0.773"], ["0.388", "0.386"]]  # forecast, counterfactual
    assert rows("seasonal naive") == [["1.087", "+0.012"]]
    assert rows("peer GBM") == [["0.793", "-0.146"]]
    assert rows("ours (DML + control fn)") == [["0.373", "-0.017"]]
    assert rows("naive log-log OLS") == [["0.671", "+0.262"]]
    assert rows("plain ML implied") == [["1.384", "+1.212"]]
    assert rows("plain ML") == [["0.969", "0.920"]]
    assert "(true mean -2.00)" in table
    for header in ("forecast (P50)", "P10-P90 cov.", "own-price elasticity", "counterfactual (-20..+20%)",
                   "unreconciled"):
        assert header in table
    assert lines[-1] == "training: forecast 12.3 s, elasticity 5.7 s, peer GBM 8.9 s"


# ----------------------------------------------------------------------------- end to end
def _get(result: dict, dotted: str):
    node = result
    for key in dotted.split("."):
        assert isinstance(node, dict) and key in node, f"{dotted}: no key {key!r}"
        node = node[key]
    return node


def _flatten(node: dict, prefix: str = "") -> dict:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``."""
    flat = {}
    for key, value in node.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


DOCUMENTED_NUMBERS = [
    "forecast.ours.wmape", "forecast.ours.bias", "forecast.ours.coverage_p10_p90",
    "forecast.seasonal_naive.wmape", "forecast.peer_gbm.wmape",
    *(f"elasticity.{model}.{metric}" for model in ("ours", "naive_ols", "plain_ml") for metric in ("mae", "mean_bias")),
    "counterfactual.ours.wmape", "counterfactual.plain_ml.wmape",
    "counterfactual.ours.wmape_forecast_base", "counterfactual.ours.base_wmape",
    "elasticity.local.ours.mae", "elasticity.local.true_mean", "elasticity.local.rows_at_structural",
    "counterfactual.rows_discontinued_excluded",
    "timing.train_seconds",
]


@pytest.mark.slow
def test_bench_models_runs_end_to_end_and_reuses_its_world(tmp_path):
    """A subprocess, like the demo test: Dagster's definitions bind the data directory when first
    imported, so running the CLI in this process would tie them to the benchmark's directory for
    every later test. Measured on 2 busy cores: ~100 s in all, of which the first run ~70-85 s
    (simulation and Dagster perception ~55-70 s, about the same for fewer days or products) and the
    second, cached run ~13 s. With 90 days the elasticity model had too little history and raised."""
    data = tmp_path / "data"
    env = dict(os.environ, AGENTIC_COMMERCE_DATA_DIR=str(data))
    env.pop("DAGSTER_HOME", None)
    env.pop("AGENTIC_COMMERCE_WAREHOUSE", None)

    def bench(json_path: Path) -> str:
        completed = subprocess.run(
            [CLI, "bench", "models", "--products", "30", "--days", "120", "--holdout-days", "28",
             "--json", str(json_path)], capture_output=True, text=True, env=env, timeout=900)
        assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
        return completed.stdout

    out = bench(tmp_path / "bench.json")
    assert "[1/3] simulating 'default' (30 products, 120 days)" in out
    assert "forecast (P50)" in out and f"wrote {tmp_path / 'bench.json'}" in out
    worlds = list((data / "bench").glob("default-*"))
    assert len(worlds) == 1 and (worlds[0] / "analytics.duckdb").is_file()

    result = json.loads((tmp_path / "bench.json").read_text())
    for dotted in DOCUMENTED_NUMBERS:
        value = _get(result, dotted)
        assert isinstance(value, (int, float)) and not isinstance(value, bool), dotted
        assert math.isfinite(value), f"{dotted} = {value}"
    for dotted in DOCUMENTED_NUMBERS:
        if dotted.endswith(("wmape", "mae", "base_wmape", "wmape_forecast_base")):
            assert _get(result, dotted) >= 0, dotted
    assert 0 <= result["forecast"]["ours"]["coverage_p10_p90"] <= 1
    assert result["forecast"]["ours"]["bias"] >= -1  # forecasts are never negative
    timing = result["timing"]
    assert timing["train_seconds"] > 0
    ours_training = timing["forecast_train_seconds"] + timing["elasticity_train_seconds"]
    assert timing["train_seconds"] == pytest.approx(ours_training)
    assert result["scenario"]["products"] == 30 and result["scenario"]["days"] == 120
    assert result["holdout"]["days"] == 28 and len(result["holdout"]["origins"]) == 2
    holdout = pd.to_datetime([result["holdout"]["start"], result["holdout"]["end"]])
    assert (holdout[1] - holdout[0]).days == 27
    assert result["holdout"]["end"] == result["scenario_rows"]["last_date"]
    forecast = result["forecast"]
    assert forecast["rows"] > 0
    assert forecast["rows"] + forecast["censored_rows_excluded"] == result["holdout"]["scored_rows"]
    assert 0 < result["elasticity"]["ours"]["products"] <= 30
    # the shop never priced above the world's price ceiling: the local truth is the structural one
    assert result["elasticity"]["local"]["rows_at_structural"] == 1.0
    assert result["elasticity"]["local"]["ours"]["mae"] == pytest.approx(result["elasticity"]["ours"]["mae"])
    assert list(result["counterfactual"]["by_multiplier"]) == [f"{k:.2f}" for k in PRICE_GRID]

    # The second run reuses the cached world (no simulation, no perception) and scores it the same way.
    again = bench(tmp_path / "again.json")
    assert "reusing the benchmark world" in again and "simulating" not in again
    second = json.loads((tmp_path / "again.json").read_text())
    assert second["timing"]["prepare_world_seconds"] < timing["prepare_world_seconds"]
    first_figures, second_figures = _flatten(result), _flatten(second)
    assert second_figures.keys() == first_figures.keys()
    for key, value in first_figures.items():
        if key.startswith(("timing.", "scenario.")):
            continue
        if isinstance(value, float):
            assert second_figures[key] == pytest.approx(value, rel=1e-6, abs=1e-12), key
        else:
            assert second_figures[key] == value, key


def test_a_holdout_shorter_than_the_forecast_horizon_is_refused_before_any_work(tmp_path):
    panel, _ = confounded_pricing_panel(n_products=6, days=60, seed=1)
    with pytest.raises(ValueError, match="holdout_days=7 is shorter than the forecast horizon of 14 days"):
        benchmark_models(panel, tmp_path / "no-world", holdout_days=7)
