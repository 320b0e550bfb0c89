"""Training end to end on a small synthetic panel: MLflow runs, versions, and the champion gate."""

from __future__ import annotations

import pandas as pd
import pytest

from ml import training
from ml.registry import ModelRegistry
from tests.ml.panels import confounded_pricing_panel


@pytest.fixture(scope="module")
def panel():
    frame, _ = confounded_pricing_panel(n_products=16, days=196, seed=11, base_units=3.0)
    return frame


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    return ModelRegistry(tmp_path_factory.mktemp("mlflow"))


FAST = {"max_iter": 40, "origin_every_days": 7, "calibration_weeks": 3}


def test_forecast_gate_keeps_a_better_champion(panel, registry):
    first = training.train_demand_forecast(panel, registry, params=FAST)
    assert first.promoted and first.version == 1 and "first version" in first.reason
    assert first.metrics["holdout_coverage_p10_p90"] > 0.5
    assert int(registry.champion_version(training.FORECAST_MODEL).version) == 1

    overfit = {**FAST, "max_iter": 20, "learning_rate": 1.0, "min_samples_leaf": 2, "max_leaf_nodes": 255,
               "l2_regularization": 0.0, "calibration_weeks": 0}
    worse = training.train_demand_forecast(panel, registry, params=overfit)
    assert worse.version == 2
    assert not worse.promoted, worse.reason
    assert worse.candidate_score > worse.champion_score
    assert int(registry.champion_version(training.FORECAST_MODEL).version) == 1

    loaded = registry.load_estimator(training.FORECAST_MODEL)
    assert loaded.version == 1
    forecast = loaded.estimator.predict(panel, panel["date"].max())
    assert {"p10", "p50", "p90"} <= set(forecast.columns) and len(forecast) == 16 * 14


def test_elasticity_training_registers_and_scores(panel, registry):
    report = training.train_price_elasticity(panel, registry, params={"learner": "ridge"})
    assert report.promoted and report.version == 1
    assert report.metric == training.ELASTICITY_METRIC and report.candidate_score > 0
    assert report.metrics["products"] == 16
    again = training.train_price_elasticity(panel, registry, params={"learner": "ridge"})
    assert not again.promoted  # the same model on the same holdout ties, and a tie never promotes
    assert again.champion_score == pytest.approx(again.candidate_score)


def test_run_has_plots_and_tables(registry):
    client = registry.client()
    version = registry.champion_version(training.FORECAST_MODEL)
    artifacts = {a.path for a in client.list_artifacts(version.run_id, "plots")}
    assert {"plots/forecast_vs_actual.png", "plots/interval_calibration.png"} <= artifacts
    elasticity = registry.champion_version(training.ELASTICITY_MODEL)
    tables = {a.path for a in client.list_artifacts(elasticity.run_id, "tables")}
    assert "tables/elasticities.csv" in tables


def test_the_shortest_history_the_demo_accepts_trains_both_models(tmp_path):
    """`make demo` runs reasoning from MIN_HISTORY_DAYS days on; both trainings must accept that much,
    even when the history starts mid-week (a partial first week) and some weeks are lost to stockouts."""
    frame, _ = confounded_pricing_panel(n_products=12, days=training.MIN_HISTORY_DAYS + 3, seed=5, base_units=3.0,
                               stockout_rate=0.03)
    shortest = frame[frame["date"] >= frame["date"].min() + pd.Timedelta(days=3)]  # starts on a Thursday
    assert shortest["date"].nunique() == training.MIN_HISTORY_DAYS
    registry = ModelRegistry(tmp_path)
    elasticity = training.train_price_elasticity(shortest, registry, params={"learner": "ridge"})
    forecast = training.train_demand_forecast(shortest, registry, params=FAST)
    assert elasticity.promoted and forecast.promoted
    assert elasticity.metrics["products"] == 12


def test_the_run_covers_the_fit(registry):
    """The MLflow run starts before the fit: its duration is at least the training time it reports."""
    version = registry.champion_version(training.FORECAST_MODEL)
    run = registry.client().get_run(version.run_id)
    assert (run.info.end_time - run.info.start_time) / 1000 >= run.data.metrics["train_seconds"]


def test_training_needs_a_registry_object(panel, tmp_path):
    with pytest.raises(TypeError, match="ModelRegistry"):
        training.train_price_elasticity(panel, tmp_path, params={"learner": "ridge"})
