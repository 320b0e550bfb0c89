"""The champion gate's rules, and the MLflow round trip: log, gate, alias, load.

The gate's decision is pure and tested case by case without MLflow. The round trip runs against one
SQLite store per module, because a new store spends seconds on database migrations: three versions
of a small ridge regression are logged and gated the way a training asset does it (load the champion,
score both on the same time-based holdout, then gate), and the tests read the outcome back. Further
tests prove that two registries in one process stay apart, that a copied or moved store works from
its new place, and that logging prints nothing.
"""

from __future__ import annotations

import math
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

from ml.registry import Candidate, GateDecision, ModelRegistry, StoreLocationError, decide

MODEL = "demand_forecast"
METRIC = "holdout_mae"


# --- the pure decision ------------------------------------------------------------------------------


def judge(candidate: float, champion: float | None, champion_version: int | None = 1, **kwargs) -> GateDecision:
    """The gate's verdict on candidate v2 against a champion (v1 unless told otherwise)."""
    return decide(
        candidate_version=2,
        candidate_score=candidate,
        champion_version=champion_version,
        champion_score=champion,
        metric=METRIC,
        **kwargs,
    )


def test_first_version_becomes_champion() -> None:
    decision = judge(5.0, None, champion_version=None)
    assert decision.promoted
    assert "first version" in decision.reason
    assert decision.champion_version is None and decision.champion_score is None


@pytest.mark.parametrize(
    ("candidate", "champion", "lower_is_better", "promoted"),
    [
        (0.9, 1.0, True, True),  # lower error wins
        (1.1, 1.0, True, False),
        (1.0, 1.0, True, False),  # a tie keeps the champion
        (0.9, 1.0, False, False),  # higher is better (R2): lower loses
        (1.1, 1.0, False, True),
        (1.0, 1.0, False, False),
        (-0.2, -0.5, False, True),  # negative scores compare fine with an absolute margin
    ],
)
def test_candidate_must_strictly_beat_the_champion(candidate, champion, lower_is_better, promoted) -> None:
    decision = judge(candidate, champion, lower_is_better=lower_is_better)
    assert decision.promoted is promoted
    assert decision.champion_version == 1 and decision.champion_score == champion
    assert ("> required" if promoted else "<= required") in decision.reason


def test_min_improvement_is_absolute_and_strict() -> None:
    assert not judge(0.9, 1.0, min_improvement=0.1).promoted  # improvement 0.1 is not > 0.1 (up to rounding)
    assert judge(0.85, 1.0, min_improvement=0.1).promoted
    assert not judge(0.95, 1.0, min_improvement=0.1).promoted
    assert judge(1.2, 1.0, lower_is_better=False, min_improvement=0.1).promoted


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_candidate_never_promotes(bad: float) -> None:
    assert not judge(bad, 1.0).promoted
    assert not judge(bad, 1.0, lower_is_better=False).promoted
    first = judge(bad, None, champion_version=None)
    assert not first.promoted and "non-finite" in first.reason


def test_non_finite_champion_score_is_not_compared() -> None:
    decision = judge(0.5, math.nan)
    assert not decision.promoted
    assert "cannot compare" in decision.reason


def test_candidate_that_already_is_champion_is_a_no_op() -> None:
    decision = judge(0.5, 0.5, champion_version=2)
    assert not decision.promoted and "already" in decision.reason


def test_bad_gate_inputs_raise() -> None:
    with pytest.raises(ValueError, match="champion_score is None"):
        judge(0.5, None, champion_version=1)
    with pytest.raises(ValueError, match="min_improvement"):
        judge(0.5, 1.0, min_improvement=-0.1)


def test_decision_tags_are_strings_that_round_trip() -> None:
    tags = judge(0.25, 0.5).as_tags()
    assert tags["gate.promoted"] == "true"
    assert float(tags["gate.candidate_score"]) == 0.25 and float(tags["gate.champion_score"]) == 0.5
    assert tags["gate.champion_version"] == "1" and tags["gate.metric"] == METRIC
    first = judge(0.25, None, champion_version=None).as_tags()
    assert first["gate.champion_score"] == "none" and first["gate.champion_version"] == "none"
    assert all(isinstance(value, str) and value for value in tags.values())


def test_importing_the_registry_does_not_import_mlflow() -> None:
    code = "import sys, ml.registry; assert 'mlflow' not in sys.modules, 'mlflow imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


# --- the MLflow round trip --------------------------------------------------------------------------


class RidgeForecaster:
    """A sklearn-style estimator with the registry's ``pyfunc_predict`` contract; alpha sets its quality."""

    def __init__(self, alpha: float) -> None:
        self.alpha = alpha

    def fit(self, frame: pd.DataFrame) -> RidgeForecaster:
        self.model_ = Ridge(alpha=self.alpha).fit(frame[["price", "promo"]], frame["units"])
        return self

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return self.model_.predict(frame[["price", "promo"]])

    def pyfunc_predict(self, model_input: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"units_forecast": self.predict(model_input)}, index=model_input.index)


def demand_panel() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    days = 200
    price = rng.uniform(5, 15, days)
    promo = rng.integers(0, 2, days).astype(float)
    units = 100 - 4 * price + 12 * promo + rng.normal(0, 1, days)
    return pd.DataFrame({"day": np.arange(days), "price": price, "promo": promo, "units": units})


def holdout_mae(estimator, holdout: pd.DataFrame) -> float:
    return float(np.mean(np.abs(estimator.predict(holdout) - holdout["units"])))


def residual_figure(estimator, holdout: pd.DataFrame):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4, 3))
    axes = figure.subplots()
    axes.scatter(holdout["day"], holdout["units"] - estimator.predict(holdout), s=4)
    axes.set_title("holdout residuals")
    return figure


@dataclass
class Training:
    estimator: RidgeForecaster
    candidate: Candidate
    decision: GateDecision
    seconds: float  # log_candidate alone


@dataclass
class History:
    registry: ModelRegistry
    holdout: pd.DataFrame
    trainings: list[Training]

    @property
    def store(self) -> Path:
        return self.registry.store_dir


def train_and_gate(registry: ModelRegistry, alpha: float, train: pd.DataFrame, holdout: pd.DataFrame) -> Training:
    """What a training asset does: fit, log a candidate, score the champion on the same holdout, gate."""
    import time

    estimator = RidgeForecaster(alpha).fit(train)
    score = holdout_mae(estimator, holdout)
    started = time.perf_counter()
    candidate = registry.log_candidate(
        MODEL,
        estimator,
        params={"alpha": alpha, "features": ["price", "promo"], "holdout_days": len(holdout)},
        metrics={METRIC: score, "train_rows": len(train)},
        figures={"residuals": residual_figure(estimator, holdout)},
        tables={"holdout_predictions": holdout.assign(forecast=estimator.predict(holdout))},
        input_example=holdout[["price", "promo"]].head(5),
        tags={"trigger": "test"},
        run_name=f"ridge alpha={alpha}",
    )
    seconds = time.perf_counter() - started
    champion_score = None
    if registry.champion_version(MODEL) is not None:
        champion_score = holdout_mae(registry.load_estimator(MODEL).estimator, holdout)
    decision = registry.promote_if_better(
        MODEL, candidate.version, candidate_score=score, champion_score=champion_score, metric=METRIC
    )
    return Training(estimator, candidate, decision, seconds)


def split(panel: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    return panel[panel["day"] < 160], panel[panel["day"] >= 160]  # time-based


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> ModelRegistry:
    return ModelRegistry(tmp_path_factory.mktemp("data") / "mlflow")


@pytest.fixture(scope="module")
def history(registry) -> History:
    """v1 (mild shrinkage) is first, v2 (heavy shrinkage) is worse, v3 (none) is best."""
    train, holdout = split(demand_panel())
    trainings = [train_and_gate(registry, alpha, train, holdout) for alpha in (30.0, 3000.0, 0.0)]
    for training in trainings:
        print(f"log_candidate v{training.candidate.version}: {training.seconds:.2f} s")
    return History(registry, holdout, trainings)


def version_tags(registry: ModelRegistry, version: int) -> dict[str, str]:
    return registry.client().get_model_version(MODEL, str(version)).tags


def test_store_lives_in_the_given_directory(history) -> None:
    registry = history.registry
    assert registry.tracking_uri == f"sqlite:///{history.store.resolve()}/mlflow.db"
    assert (history.store / "mlflow.db").is_file()
    experiment = registry.client().get_experiment_by_name(MODEL)
    assert experiment is not None
    assert experiment.artifact_location == (history.store / "artifacts" / MODEL).resolve().as_uri()
    assert registry.ensure_experiment(MODEL) == experiment.experiment_id  # idempotent
    assert list((history.store / "artifacts" / MODEL).rglob("estimator.pkl")), "model files are local"


def test_models_are_logged_from_code(history) -> None:
    """MLflow's "models from code": the model is a code file plus the pickled estimator, no pickled wrapper."""
    import yaml

    files = history.registry.client().get_model_version_download_uri(MODEL, "1")
    model_dir = Path(files.removeprefix("file://"))
    flavor = yaml.safe_load((model_dir / "MLmodel").read_text())["flavors"]["python_function"]
    assert flavor["loader_module"] == "mlflow.pyfunc.loaders.code_model"
    assert (model_dir / "pyfunc_model_code.py").is_file() and not (model_dir / "python_model.pkl").exists()
    assert (model_dir / flavor["artifacts"]["estimator"]["path"]).is_file()
    requirements = (model_dir / "requirements.txt").read_text().split()
    assert any(r.startswith("scikit-learn==") for r in requirements) and any(r.startswith("mlflow==") for r in requirements)


def test_versions_are_gated_in_order(history) -> None:
    first, worse, better = history.trainings
    assert [t.candidate.version for t in history.trainings] == [1, 2, 3]
    assert first.decision.promoted and "first version" in first.decision.reason
    assert not worse.decision.promoted and worse.decision.champion_version == 1
    assert worse.decision.candidate_score > worse.decision.champion_score
    assert better.decision.promoted and better.decision.champion_version == 1
    assert int(history.registry.champion_version(MODEL).version) == 3


def test_losing_version_says_why(history) -> None:
    worse = history.trainings[1]
    tags = version_tags(history.registry, 2)
    assert tags["gate.promoted"] == "false"
    assert tags["gate.metric"] == METRIC
    assert tags["gate.champion_version"] == "1"
    assert float(tags["gate.candidate_score"]) == pytest.approx(worse.decision.candidate_score)
    assert float(tags["gate.champion_score"]) == pytest.approx(history.trainings[0].decision.candidate_score)
    assert "<= required" in tags["gate.reason"]
    assert float(tags[f"metric.{METRIC}"]) == pytest.approx(worse.decision.candidate_score)
    run = history.registry.client().get_run(worse.candidate.run_id)
    assert run.data.tags["gate.promoted"] == "false" and run.data.tags["trigger"] == "test"
    assert version_tags(history.registry, 1)["gate.superseded_by"] == "3"


def test_champion_loads_with_its_provenance(history) -> None:
    import mlflow.pyfunc

    registry = history.registry
    best = history.trainings[2]
    loaded = registry.load_estimator(MODEL)
    assert (loaded.version, loaded.run_id, loaded.uri) == (3, best.candidate.run_id, f"models:/{MODEL}/3")
    assert isinstance(loaded.estimator, RidgeForecaster)
    expected = best.estimator.predict(history.holdout)
    np.testing.assert_allclose(loaded.estimator.predict(history.holdout), expected)
    with registry.activated():
        served = mlflow.pyfunc.load_model(f"models:/{MODEL}@champion")  # the generic pyfunc path
    np.testing.assert_allclose(served.predict(history.holdout[["price", "promo"]])["units_forecast"], expected)
    assert registry.load_estimator(MODEL, version=2).estimator.alpha == 3000.0


def test_run_holds_params_metrics_plots_and_tables(history) -> None:
    client = history.registry.client()
    run = client.get_run(history.trainings[0].candidate.run_id)
    assert run.data.params["alpha"] == "30.0"
    assert run.data.metrics[METRIC] == pytest.approx(history.trainings[0].decision.candidate_score)
    assert [a.path for a in client.list_artifacts(run.info.run_id, "plots")] == ["plots/residuals.png"]
    tables = [a.path for a in client.list_artifacts(run.info.run_id, "tables")]
    assert tables == ["tables/holdout_predictions.csv"]
    local = Path(run.info.artifact_uri.removeprefix("file://"))
    assert (local / "plots" / "residuals.png").read_bytes()[:4] == b"\x89PNG"
    table = pd.read_csv(local / "tables" / "holdout_predictions.csv")
    assert list(table.columns) == ["day", "price", "promo", "units", "forecast"] and len(table) == 40


def test_gate_refuses_an_unscored_champion(history) -> None:
    with pytest.raises(ValueError, match="champion_score is None"):
        history.registry.promote_if_better(MODEL, 2, candidate_score=0.1, champion_score=None, metric=METRIC)


def test_missing_model_or_alias(registry) -> None:
    assert registry.champion_version("no_such_model") is None
    with pytest.raises(LookupError, match="no_such_model"):
        registry.load_estimator("no_such_model")


def test_manual_rollback(registry) -> None:
    name = "price_elasticity"
    panel = demand_panel()
    versions = [
        registry.log_candidate(name, RidgeForecaster(alpha).fit(panel), params={"alpha": alpha}, metrics={})
        for alpha in (1.0, 2.0)
    ]
    registry.promote_if_better(name, versions[0].version, candidate_score=1.0, champion_score=None, metric="mae")
    registry.set_champion(name, versions[1].version, reason="test: force v2")
    registry.set_champion(name, versions[0].version, reason="test: roll back")
    assert int(registry.champion_version(name).version) == versions[0].version
    client = registry.client()
    assert client.get_model_version(name, "1").tags["gate.manual_reason"] == "test: roll back"
    assert client.get_model_version(name, "2").tags["gate.superseded_by"] == "1"


@pytest.mark.parametrize("bad", ["", "   ", None, 3])
def test_a_registry_needs_a_directory(bad) -> None:
    with pytest.raises(ValueError, match="store directory"):
        ModelRegistry(bad)


def test_a_registry_refuses_a_file(tmp_path) -> None:
    (tmp_path / "mlflow").write_text("not a store")
    with pytest.raises(ValueError, match="is a file"):
        ModelRegistry(tmp_path / "mlflow")


def test_the_run_spans_the_training(history) -> None:
    """``started_at`` is when the fit began: the MLflow run covers it, not only the logging."""
    from datetime import UTC, datetime, timedelta

    registry = history.registry
    train, _ = split(demand_panel())
    began = datetime.now(UTC) - timedelta(seconds=90)
    candidate = registry.log_candidate("duration_check", RidgeForecaster(1.0).fit(train), params={}, metrics={},
                                       started_at=began)
    run = registry.client().get_run(candidate.run_id)
    assert run.info.start_time == int(began.timestamp() * 1000)
    assert run.info.end_time - run.info.start_time >= 90_000
    assert run.info.status == "FINISHED"
    with pytest.raises(ValueError, match="timezone-aware"):
        registry.log_candidate("duration_check", RidgeForecaster(1.0).fit(train), params={}, metrics={},
                               started_at=datetime.now())


def test_two_registries_in_one_process_stay_apart(history, tmp_path, capfd, caplog) -> None:
    """A second store in the same process: each sees only its own versions, MLflow's global URIs are
    restored after every call, and logging prints nothing (no CloudPickle or pip warning, no notices)."""
    import logging
    import os

    import mlflow

    before = (mlflow.get_tracking_uri(), mlflow.get_registry_uri(), os.environ.get("MLFLOW_TRACKING_URI"))
    other = ModelRegistry(tmp_path / "other" / "mlflow")
    train, holdout = split(demand_panel())
    capfd.readouterr()
    with caplog.at_level(logging.INFO):
        mine = train_and_gate(other, 7.0, train, holdout)
        loaded = other.load_estimator(MODEL)
    printed = capfd.readouterr()
    assert (printed.out, printed.err) == ("", "")
    noisy = [r.getMessage() for r in caplog.records if r.name.startswith("mlflow") and r.levelno >= logging.WARNING]
    assert noisy == []

    assert (mine.candidate.version, mine.decision.promoted, loaded.version) == (1, True, 1)
    assert loaded.estimator.alpha == 7.0 and loaded.run_id == mine.candidate.run_id
    assert [int(v.version) for v in other.client().search_model_versions(f"name='{MODEL}'")] == [1]
    assert len(history.registry.client().search_model_versions(f"name='{MODEL}'")) == 3
    assert int(history.registry.champion_version(MODEL).version) == 3
    assert history.registry.load_estimator(MODEL).estimator.alpha == 0.0
    run = other.client().get_run(mine.candidate.run_id)
    assert Path(run.info.artifact_uri.removeprefix("file://")).is_relative_to(other.store_dir)
    with pytest.raises(Exception):  # noqa: B017 - MLflow's own "not found" error
        history.registry.client().get_run(mine.candidate.run_id)
    assert (mlflow.get_tracking_uri(), mlflow.get_registry_uri(), os.environ.get("MLFLOW_TRACKING_URI")) == before


def test_a_copied_then_moved_store_works_from_its_new_place(history, tmp_path, caplog) -> None:
    """MLflow records absolute paths; a copy adopts itself on first use and a later move does again."""
    import logging
    import shutil

    copy = tmp_path / "copy" / "mlflow"
    shutil.copytree(history.store, copy)
    with caplog.at_level(logging.WARNING, logger="ml.registry"):
        copied = ModelRegistry(copy)
        loaded = copied.load_estimator(MODEL)
    assert any(str(history.store) in r.getMessage() and str(copy) in r.getMessage() for r in caplog.records)
    assert (loaded.version, loaded.estimator.alpha) == (3, 0.0)
    files = copied.client().get_model_version_download_uri(MODEL, "3")
    assert Path(files.removeprefix("file://")).is_relative_to(copy)

    moved = tmp_path / "moved" / "mlflow"  # the copy's own place is gone: nothing can come from there
    moved.parent.mkdir()
    copy.rename(moved)
    registry = ModelRegistry(moved)
    assert registry.load_estimator(MODEL, version=1).estimator.alpha == 30.0
    train, holdout = split(demand_panel())
    new = train_and_gate(registry, 0.5, train, holdout)
    assert new.candidate.version == 4
    run = registry.client().get_run(new.candidate.run_id)
    assert Path(run.info.artifact_uri.removeprefix("file://")).is_relative_to(moved)
    for mlmodel in moved.rglob("MLmodel"):
        assert str(history.store) not in mlmodel.read_text() and str(copy) not in mlmodel.read_text()
    assert len(history.registry.client().search_model_versions(f"name='{MODEL}'")) == 3  # the original is untouched


def test_an_experiment_outside_the_store_is_refused(registry, tmp_path) -> None:
    registry.client().create_experiment("elsewhere", artifact_location=(tmp_path / "outside").as_uri())
    with pytest.raises(StoreLocationError, match="outside the MLflow store"):
        registry.ensure_experiment("elsewhere")


def test_a_registry_pickles_as_its_directory(history) -> None:
    import pickle

    copy = pickle.loads(pickle.dumps(history.registry))
    assert copy == history.registry and int(copy.champion_version(MODEL).version) == 3
