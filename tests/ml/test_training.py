"""Training end to end on a small synthetic panel: MLflow runs, versions, and the champion gate."""

from __future__ import annotations

import pandas as pd
import pytest

from ml import registry, training
from tests.ml.test_price_elasticity import synthetic_panel


@pytest.fixture(scope="module")
def panel():
    frame, _ = synthetic_panel(n_products=16, days=196, seed=11, base_units=3.0)
    return frame


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("mlflow")


FAST = {"max_iter": 40, "origin_every_days": 7, "calibration_weeks": 3}


def test_forecast_gate_keeps_a_better_champion(panel, store):
    first = training.train_demand_forecast(panel, store, params=FAST)
    assert first.promoted and first.version == 1 and "first version" in first.reason
    assert first.metrics["holdout_coverage_p10_p90"] > 0.5
    assert int(registry.champion_version(training.FORECAST_MODEL).version) == 1

    overfit = {**FAST, "max_iter": 150, "learning_rate": 1.0, "min_samples_leaf": 2, "max_leaf_nodes": 255,
               "l2_regularization": 0.0, "calibration_weeks": 0}
    worse = training.train_demand_forecast(panel, store, params=overfit)
    assert worse.version == 2
    assert not worse.promoted, worse.reason
    assert worse.candidate_score > worse.champion_score
    assert int(registry.champion_version(training.FORECAST_MODEL).version) == 1

    loaded = registry.load_estimator(training.FORECAST_MODEL)
    assert loaded.version == 1
    forecast = loaded.estimator.predict(panel, panel["date"].max())
    assert {"p10", "p50", "p90"} <= set(forecast.columns) and len(forecast) == 16 * 14


def test_elasticity_training_registers_and_scores(panel, store):
    report = training.train_price_elasticity(panel, store, params={"learner": "ridge"})
    assert report.promoted and report.version == 1
    assert report.metric == training.ELASTICITY_METRIC and report.candidate_score > 0
    assert report.metrics["products"] == 16
    again = training.train_price_elasticity(panel, store, params={"learner": "ridge"})
    assert not again.promoted  # the same model on the same holdout ties, and a tie never promotes
    assert again.champion_score == pytest.approx(again.candidate_score)


def test_run_has_plots_and_tables(store):
    from mlflow import MlflowClient

    registry.configure(store)
    version = registry.champion_version(training.FORECAST_MODEL)
    artifacts = {a.path for a in MlflowClient().list_artifacts(version.run_id, "plots")}
    assert {"plots/forecast_vs_actual.png", "plots/interval_calibration.png"} <= artifacts
    elasticity = registry.champion_version(training.ELASTICITY_MODEL)
    tables = {a.path for a in MlflowClient().list_artifacts(elasticity.run_id, "tables")}
    assert "tables/elasticities.csv" in tables


def test_the_shortest_history_the_demo_accepts_trains_both_models(tmp_path):
    """`make demo` runs reasoning from MIN_HISTORY_DAYS days on; both trainings must accept that much,
    even when the history starts mid-week (a partial first week) and some weeks are lost to stockouts."""
    frame, _ = synthetic_panel(n_products=12, days=training.MIN_HISTORY_DAYS + 3, seed=5, base_units=3.0,
                               stockout_rate=0.03)
    shortest = frame[frame["date"] >= frame["date"].min() + pd.Timedelta(days=3)]  # starts on a Thursday
    assert shortest["date"].nunique() == training.MIN_HISTORY_DAYS
    elasticity = training.train_price_elasticity(shortest, tmp_path, params={"learner": "ridge"})
    forecast = training.train_demand_forecast(shortest, tmp_path, params=FAST)
    assert elasticity.promoted and forecast.promoted
    assert elasticity.metrics["products"] == 12
