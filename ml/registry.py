"""MLflow tracking and the champion gate for the platform's models.

Every training of a registered model (``demand_forecast``, ``price_elasticity``) is one MLflow run in
the experiment of the same name, with its parameters, metrics, plots (PNG under ``plots/``), tables
(CSV under ``tables/``) and a new registered model version. Reviewers read all of it in the MLflow UI.

A new version only serves once it has won: the alias ``champion`` moves to a candidate when it beats
the current champion on the same time-based holdout (the first version wins by default). Consumers
load ``models:/<name>@champion`` through :func:`load_estimator` and record the version they got,
so every decision downstream can name the model that made it.

Choices that matter:

- **One store per data directory.** The caller passes ``<data_dir>/mlflow``; :func:`configure` points
  tracking and registry at ``<store>/mlflow.db`` (an absolute ``sqlite:///`` URI: the file store is
  deprecated, relative URIs depend on the working directory) and every experiment keeps its artifacts
  as plain files in ``<store>/artifacts/<experiment>``. This module does not import ``orchestration``:
  the settings own the path, the registry only uses it.
- **One writer at a time.** SQLite takes one writer; two trainings logging at once fail with
  "database is locked". Callers run trainings and gate decisions in the single-writer Dagster pool
  (the same one as the warehouse writers); reads (:func:`load_estimator`) may run anywhere.
- **The gate is pure logic plus registry writes.** :func:`decide` compares two scores the caller
  computed on the same holdout (it loads the champion with :func:`load_estimator` and scores it);
  :func:`promote_if_better` records the decision as ``gate.*`` tags on the candidate version and its
  run, and moves the alias. A version that lost stays registered, with tags that say why.
- **Import cost.** ``import mlflow`` takes seconds, so MLflow is imported inside the functions that
  need it and the pyfunc wrapper lives in :mod:`ml.registry_pyfunc`, imported on first use.
- **Explicit requirements.** Logged models pin numpy, pandas, scikit-learn, scipy and cloudpickle at
  the installed versions (MLflow adds itself); inferring requirements instead runs a subprocess that
  costs about 13 s per model.
"""

from __future__ import annotations

import importlib.metadata
import logging
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

__all__ = [
    "CHAMPION",
    "Candidate",
    "EstimatorModel",
    "GateDecision",
    "LoadedModel",
    "PyfuncEstimator",
    "champion_version",
    "configure",
    "decide",
    "default_pip_requirements",
    "ensure_experiment",
    "load_estimator",
    "log_candidate",
    "promote_if_better",
    "set_champion",
    "tracking_uri",
]

log = logging.getLogger(__name__)

CHAMPION = "champion"
DB_FILE = "mlflow.db"
ARTIFACTS_DIR = "artifacts"
MODEL_ARTIFACT = "model"  # the logged model's name inside its run
REQUIRED_PACKAGES = ("numpy", "pandas", "scikit-learn", "scipy", "cloudpickle")
PROJECT_ROOT = Path(__file__).resolve().parents[1]  # holds uv.lock in a checkout, not in an installed wheel
NONE_TAG = "none"  # tag value for "no champion" / "no score": tags are strings, never empty

_store: Path | None = None  # set by configure(); every other function needs it


class PyfuncEstimator(Protocol):
    """What the registry needs from an estimator: a fitted object that predicts a frame from a frame.

    ``pyfunc_predict`` is the generic entry point behind the pyfunc model (UI, serving); platform code
    uses the estimator's own richer API after :func:`load_estimator`.
    """

    def pyfunc_predict(self, model_input: pd.DataFrame) -> pd.DataFrame: ...


@dataclass(frozen=True)
class Candidate:
    """A logged and registered model version that has not been judged yet."""

    name: str
    version: int
    run_id: str
    model_uri: str  # models:/<name>/<version>, pinned to this version


@dataclass(frozen=True)
class LoadedModel:
    """An estimator loaded from the registry and where it came from; consumers record ``version``."""

    estimator: Any
    name: str
    version: int
    run_id: str
    uri: str  # models:/<name>/<version>: the exact version loaded, not the alias


@dataclass(frozen=True)
class GateDecision:
    """The champion gate's verdict on one candidate; frozen so a recorded decision cannot drift."""

    promoted: bool
    reason: str
    candidate_version: int
    champion_version: int | None  # the champion before the decision (None: there was none)
    candidate_score: float
    champion_score: float | None
    metric: str
    lower_is_better: bool = True
    min_improvement: float = 0.0

    def as_tags(self) -> dict[str, str]:
        """The ``gate.*`` tags written on the candidate version and its run."""
        return {
            "gate.promoted": str(self.promoted).lower(),
            "gate.metric": self.metric,
            "gate.candidate_score": repr(self.candidate_score),
            "gate.champion_score": _tag_or_none(self.champion_score, repr),
            "gate.champion_version": _tag_or_none(self.champion_version, str),
            "gate.lower_is_better": str(self.lower_is_better).lower(),
            "gate.min_improvement": repr(self.min_improvement),
            "gate.reason": self.reason,
        }


def _tag_or_none(value: Any, render: Any) -> str:
    return NONE_TAG if value is None else render(value)


# --- store ------------------------------------------------------------------------------------------


def tracking_uri(store_dir: Path | str) -> str:
    """The absolute ``sqlite:///`` URI of the store's database; a relative one would follow the cwd."""
    return f"sqlite:///{Path(store_dir).expanduser().resolve() / DB_FILE}"


def configure(store_dir: Path | str) -> str:
    """Point this process's MLflow tracking and registry at ``store_dir`` (created if missing).

    Call once per process before anything else here (Dagster resources do it on setup). MLflow's
    URIs are process-global, so this module owns them: the functions below re-apply them in case other
    code changed them. The first use of a new store runs MLflow's database migrations (a few seconds).
    Returns the tracking URI.
    """
    global _store
    store = Path(store_dir).expanduser().resolve()
    (store / ARTIFACTS_DIR).mkdir(parents=True, exist_ok=True)
    _store = store
    return _apply_uris(store)


def _apply_uris(store: Path) -> str:
    import mlflow

    uri = tracking_uri(store)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def _require_store() -> Path:
    if _store is None:
        raise RuntimeError(
            "ml.registry is not configured: call ml.registry.configure(store_dir) first "
            "(store_dir is the platform's <data_dir>/mlflow)"
        )
    _apply_uris(_store)
    return _store


def _client() -> MlflowClient:
    from mlflow import MlflowClient

    uri = tracking_uri(_require_store())
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _artifact_location(store: Path, experiment: str) -> str:
    folder = re.sub(r"[^A-Za-z0-9._-]+", "_", experiment).strip("._") or "experiment"
    return (store / ARTIFACTS_DIR / folder).as_uri()


def ensure_experiment(name: str) -> str:
    """The id of experiment ``name``, created (artifacts under the store) or restored if needed.

    Idempotent and safe if another process creates the experiment at the same moment.
    """
    from mlflow.exceptions import MlflowException

    store = _require_store()
    client = _client()
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        try:
            return client.create_experiment(name, artifact_location=_artifact_location(store, name))
        except MlflowException as err:
            if err.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
            experiment = client.get_experiment_by_name(name)
    if experiment.lifecycle_stage == "deleted":
        client.restore_experiment(experiment.experiment_id)
    expected = _artifact_location(store, name)
    if experiment.artifact_location != expected:
        log.warning(
            "experiment %r keeps its artifacts in %s, not in this store (%s)",
            name,
            experiment.artifact_location,
            expected,
        )
    return experiment.experiment_id


# --- logging a candidate ----------------------------------------------------------------------------


def default_pip_requirements() -> list[str]:
    """The installed versions of the packages a logged estimator needs, pinned (MLflow adds itself).

    Passing requirements explicitly skips MLflow's inference subprocess (~13 s per model). Callers
    whose estimator needs more extend the list: ``[*default_pip_requirements(), "lightgbm==4.6.0"]``.
    """
    return [f"{package}=={importlib.metadata.version(package)}" for package in REQUIRED_PACKAGES]


def _artifact_name(key: str, suffix: str) -> str:
    stem = key[: -len(suffix)] if key.endswith(suffix) else key
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._")
    if not stem:
        raise ValueError(f"artifact name {key!r} has no usable characters")
    return stem + suffix


def _uv_project() -> Path | None:
    """The checkout whose ``uv.lock`` and ``pyproject.toml`` MLflow copies into each model (~300 KB).

    The lock pins the exact environment that trained the model. Named explicitly because MLflow would
    otherwise look in the working directory, so what a model carries would depend on where Dagster ran.
    """
    has_lock = (PROJECT_ROOT / "uv.lock").is_file() and (PROJECT_ROOT / "pyproject.toml").is_file()
    return PROJECT_ROOT if has_lock else None


def log_candidate(
    model_name: str,
    estimator: PyfuncEstimator,
    *,
    params: dict[str, Any],
    metrics: dict[str, float],
    figures: dict[str, Figure] | None = None,
    tables: dict[str, pd.DataFrame] | None = None,
    input_example: pd.DataFrame | None = None,
    tags: dict[str, str] | None = None,
    pip_requirements: list[str] | None = None,
    run_name: str | None = None,
    description: str | None = None,
) -> Candidate:
    """Log one training as a run of experiment ``model_name`` and register its estimator as a new version.

    The run gets ``params``, ``metrics`` (also linked to the logged model, so the UI's model page shows
    them), each figure as ``plots/<key>.png``, each table as ``tables/<key>.csv`` (with its index unless it is a plain row
    number) and ``tags``. The
    estimator is logged as a pyfunc model whose signature is inferred from ``input_example`` and the
    estimator's own ``pyfunc_predict`` output on it (no example: no signature). The new version is
    tagged ``metric.<name>`` for every metric so the registry page compares versions without opening
    runs. Figures are not closed: the caller owns them.

    The candidate does not serve until :func:`promote_if_better` promotes it. Writes to the store:
    run it in the single-writer pool.
    """
    import mlflow
    import pandas as pd
    from mlflow.models import infer_signature

    from ml.registry_pyfunc import EstimatorModel

    if not callable(getattr(estimator, "pyfunc_predict", None)):
        raise TypeError(f"{type(estimator).__name__} has no pyfunc_predict(frame) -> frame method")
    figures = figures or {}
    tables = tables or {}
    metric_values = {key: float(value) for key, value in metrics.items()}

    signature = None
    if input_example is not None:
        if not isinstance(input_example, pd.DataFrame):
            raise TypeError(f"input_example must be a pandas DataFrame, got {type(input_example).__name__}")
        output = estimator.pyfunc_predict(input_example)
        if not isinstance(output, pd.DataFrame):
            raise TypeError(
                f"{type(estimator).__name__}.pyfunc_predict returned {type(output).__name__}, not a DataFrame"
            )
        signature = infer_signature(input_example, output)

    experiment_id = ensure_experiment(model_name)
    run_tags = dict(tags or {})
    with mlflow.start_run(experiment_id=experiment_id, run_name=run_name, tags=run_tags) as run:
        if params:
            mlflow.log_params(params)
        for key, figure in figures.items():
            mlflow.log_figure(figure, f"plots/{_artifact_name(key, '.png')}")
        for key, table in tables.items():
            keep_index = not isinstance(table.index, pd.RangeIndex)  # dates or ids, not row numbers
            mlflow.log_text(table.to_csv(index=keep_index), f"tables/{_artifact_name(key, '.csv')}")
        info = mlflow.pyfunc.log_model(
            name=MODEL_ARTIFACT,
            python_model=EstimatorModel(estimator),
            signature=signature,
            input_example=input_example,
            pip_requirements=default_pip_requirements() if pip_requirements is None else [*pip_requirements],
            registered_model_name=model_name,
            uv_project_path=_uv_project(),
        )
        if metric_values:
            mlflow.log_metrics(metric_values, model_id=info.model_id)
        version = int(info.registered_model_version)
        mlflow.set_tag("registered_version", str(version))

    client = _client()
    for key, value in metric_values.items():
        client.set_model_version_tag(model_name, str(version), f"metric.{key}", repr(value))
    if description:
        client.update_model_version(model_name, str(version), description=description)
    return Candidate(model_name, version, run.info.run_id, f"models:/{model_name}/{version}")


# --- the champion gate ------------------------------------------------------------------------------


def decide(
    *,
    candidate_version: int,
    candidate_score: float,
    champion_version: int | None,
    champion_score: float | None,
    metric: str,
    lower_is_better: bool = True,
    min_improvement: float = 0.0,
) -> GateDecision:
    """Whether a candidate should replace the champion; pure, so every rule is unit-tested without MLflow.

    Rules, in order:

    1. A non-finite candidate score (NaN, inf) never promotes, not even a first version: a model whose
       evaluation broke must not serve.
    2. No champion: the candidate becomes champion ("first version").
    3. The candidate already is the champion: nothing to do.
    4. A non-finite champion score cannot be compared: no automatic promotion; if the champion is
       broken, an operator promotes by hand with :func:`set_champion`.
    5. Otherwise the candidate must beat the champion by strictly more than ``min_improvement``,
       **absolute, in the metric's units** (``champion - candidate`` when lower is better). Absolute
       because a relative margin is meaningless for scores near or below zero (R2, bias); for a
       relative margin pass ``min_improvement=rel * abs(champion_score)``. A tie never promotes, so
       an equally good retraining does not churn the alias.

    Raises ``ValueError`` when a champion exists but ``champion_score`` is None (the caller forgot to
    score it on the holdout) or when ``min_improvement`` is negative or not finite.
    """
    if not (math.isfinite(min_improvement) and min_improvement >= 0):
        raise ValueError(f"min_improvement must be a finite number >= 0, got {min_improvement!r}")
    candidate = float(candidate_score)
    champion = None if champion_score is None else float(champion_score)
    direction = "lower" if lower_is_better else "higher"

    def verdict(promoted: bool, reason: str) -> GateDecision:
        return GateDecision(
            promoted=promoted,
            reason=reason,
            candidate_version=int(candidate_version),
            champion_version=None if champion_version is None else int(champion_version),
            candidate_score=candidate,
            champion_score=champion,
            metric=metric,
            lower_is_better=lower_is_better,
            min_improvement=float(min_improvement),
        )

    if not math.isfinite(candidate):
        return verdict(False, f"candidate {metric} is {candidate}: a non-finite score never promotes")
    if champion_version is None:
        return verdict(True, f"first version: no champion yet, candidate {metric} = {candidate:.6g}")
    if int(candidate_version) == int(champion_version):
        return verdict(False, f"v{candidate_version} already is the champion")
    if champion is None:
        raise ValueError(
            f"champion v{champion_version} exists but champion_score is None: "
            f"score the champion on the candidate's holdout and pass its {metric}"
        )
    if not math.isfinite(champion):
        return verdict(
            False,
            f"champion v{champion_version} {metric} is {champion}: cannot compare; "
            "promote by hand (set_champion) if the champion is broken",
        )
    improvement = champion - candidate if lower_is_better else candidate - champion
    comparison = (
        f"candidate {metric} {candidate:.6g} vs champion v{champion_version} {champion:.6g} "
        f"({direction} is better): improvement {improvement:.6g}"
    )
    if improvement > min_improvement:
        return verdict(True, f"{comparison} > required {min_improvement:.6g}")
    return verdict(False, f"{comparison} <= required {min_improvement:.6g}")


def champion_version(name: str, alias: str = CHAMPION) -> ModelVersion | None:
    """The version behind ``alias`` of model ``name``, or None if the model or the alias does not exist."""
    from mlflow.exceptions import MlflowException

    client = _client()
    try:
        model = client.get_registered_model(name)
    except MlflowException as err:
        if err.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise
    version = model.aliases.get(alias)
    return None if version is None else client.get_model_version(name, str(version))


def promote_if_better(
    model_name: str,
    candidate_version: int,
    *,
    candidate_score: float,
    champion_score: float | None,
    metric: str,
    lower_is_better: bool = True,
    min_improvement: float = 0.0,
) -> GateDecision:
    """Judge a candidate against the current champion with :func:`decide` and record the verdict.

    Both scores must come from the same holdout: the caller scores the candidate and the champion it
    loaded with :func:`load_estimator`; pass ``champion_score=None`` only when there is no champion.
    The candidate version and its run get the ``gate.*`` tags (promoted, metric, both scores, the
    previous champion's version, the reason) whether or not it wins; when it wins, the alias
    ``champion`` moves to it and the previous champion is tagged ``gate.superseded_by``.

    The champion is read from the registry here, so the gate compares against the version that serves
    now; run this in the single-writer pool so it cannot change between scoring and deciding.
    """
    client = _client()
    candidate = client.get_model_version(model_name, str(candidate_version))
    current = champion_version(model_name)
    decision = decide(
        candidate_version=int(candidate.version),
        candidate_score=candidate_score,
        champion_version=None if current is None else int(current.version),
        champion_score=champion_score,
        metric=metric,
        lower_is_better=lower_is_better,
        min_improvement=min_improvement,
    )
    if decision.promoted:
        # The alias first: tags claiming a promotion that did not happen would be worse than the reverse.
        client.set_registered_model_alias(model_name, CHAMPION, str(decision.candidate_version))
        if current is not None:
            superseded_by = str(decision.candidate_version)
            client.set_model_version_tag(model_name, current.version, "gate.superseded_by", superseded_by)
    tags = {**decision.as_tags(), "gate.decided_at": datetime.now(UTC).isoformat(timespec="seconds")}
    for key, value in tags.items():
        client.set_model_version_tag(model_name, candidate.version, key, value)
        if candidate.run_id:
            client.set_tag(candidate.run_id, key, value)
    outcome = "promoted" if decision.promoted else "champion kept"
    log.info("%s v%s: %s (%s)", model_name, decision.candidate_version, outcome, decision.reason)
    return decision


def set_champion(model_name: str, version: int, *, reason: str) -> None:
    """Move ``champion`` to ``version`` by hand (rollback, or replacing a champion the gate cannot score).

    The version is tagged ``gate.manual_reason`` so the registry shows that no gate decided this.
    """
    client = _client()
    previous = champion_version(model_name)
    client.get_model_version(model_name, str(version))  # fails clearly if the version does not exist
    client.set_registered_model_alias(model_name, CHAMPION, str(version))
    client.set_model_version_tag(model_name, str(version), "gate.manual_reason", reason)
    if previous is not None and int(previous.version) != int(version):
        client.set_model_version_tag(model_name, previous.version, "gate.superseded_by", str(version))


# --- loading ----------------------------------------------------------------------------------------


def load_estimator(name: str, alias: str = CHAMPION, *, version: int | None = None) -> LoadedModel:
    """The estimator behind ``models:/<name>@<alias>`` (or an explicit ``version``), unwrapped.

    The alias is resolved to a version number first and that exact version is loaded, so the
    returned ``version`` and ``uri`` are what actually ran even if the alias moves meanwhile. Raises
    ``LookupError`` when the model or the alias does not exist (nothing has been promoted yet).
    """
    import mlflow.pyfunc

    if version is None:
        resolved = champion_version(name, alias)
        if resolved is None:
            raise LookupError(f"model {name!r} has no version with alias {alias!r}")
    else:
        resolved = _client().get_model_version(name, str(version))
    uri = f"models:/{name}/{resolved.version}"
    wrapper = mlflow.pyfunc.load_model(uri).unwrap_python_model()
    return LoadedModel(
        estimator=wrapper.estimator,
        name=name,
        version=int(resolved.version),
        run_id=resolved.run_id,
        uri=uri,
    )


def __getattr__(name: str) -> Any:
    """``ml.registry.EstimatorModel`` without importing MLflow when the module is imported."""
    if name == "EstimatorModel":
        from ml.registry_pyfunc import EstimatorModel

        return EstimatorModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
