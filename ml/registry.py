"""MLflow tracking and the champion gate for the platform's models, one store per data directory.

Every training of a registered model (``demand_forecast``, ``price_elasticity``) is one MLflow run in
the experiment of the same name, with its parameters, metrics, plots (PNG under ``plots/``), tables
(CSV under ``tables/``) and a new registered model version. Reviewers read all of it in the MLflow UI.

A new version only serves once it has won: the alias ``champion`` moves to a candidate when it beats
the current champion on the same time-based holdout (the first version wins by default). Consumers
load ``models:/<name>@champion`` through :meth:`ModelRegistry.load_estimator` and record the version
they got, so every decision downstream can name the model that made it.

Choices that matter:

- **An explicit registry object, no process-wide configuration.** :class:`ModelRegistry` is bound to
  one store directory (``<data_dir>/mlflow``): tracking and registry live in ``<store>/mlflow.db`` (an
  absolute ``sqlite:///`` URI: the file store is deprecated, relative URIs depend on the working
  directory) and every experiment keeps its artifacts as plain files in ``<store>/artifacts/<name>``.
  Reads and registry writes go through an ``MlflowClient`` bound to that store. MLflow's fluent API
  (runs, ``log_model``, ``load_model``) only knows process-global URIs, so the methods that need it set
  them for the duration of the call and restore them after (:meth:`ModelRegistry.activated`, under a
  process-wide lock): two registries in one process never see each other's models. This module does
  not import ``orchestration``: the settings own the path, the registry only uses it.
- **A movable store.** MLflow records absolute artifact locations in ``mlflow.db`` (experiments, runs,
  model versions, logged models) and in each ``MLmodel`` file. A data directory that was moved or
  copied would therefore load models from, and train into, the old place. On first use the registry
  compares the locations its experiments record with its own directory; when they name another store
  with the same layout (a move or a copy), it rewrites those locations to point into this store and
  logs a warning naming both paths. A location outside any store layout is refused with
  :class:`StoreLocationError`.
- **One writer at a time.** SQLite takes one writer; two trainings logging at once fail with
  "database is locked". Callers run trainings and gate decisions in the single-writer Dagster pool;
  reads (:meth:`ModelRegistry.load_estimator`) may run anywhere.
- **The gate is pure logic plus registry writes.** :func:`decide` compares two scores the caller
  computed on the same holdout (it loads the champion and scores it);
  :meth:`ModelRegistry.promote_if_better` records the decision as ``gate.*`` tags on the candidate
  version and its run, and moves the alias. A version that lost stays registered, with tags that say why.
- **Models from code.** A logged model is the small code file :mod:`ml.pyfunc_model_code` (MLflow's
  "models from code") plus the fitted estimator as a pickle artifact (``artifacts/estimator.pkl``),
  which the model's ``load_context`` reads. Pickle still runs code on loading: load models only from
  stores you trust (the platform's own data directory).
- **Quiet.** MLflow's loggers are routed to Python's logging system (propagating to the application's
  handlers instead of MLflow's own stderr handler), its ``print``-style notices are replaced by one
  log line of ours, and the environment files of a model are written from explicit requirements, so
  MLflow guesses nothing (no pip-version warning in a uv environment without pip).
- **Import cost.** ``import mlflow`` takes seconds, so MLflow is imported inside the methods that need
  it, and the pyfunc wrapper lives in :mod:`ml.registry_pyfunc`, imported on first use.
- **Explicit requirements.** Logged models pin numpy, pandas, scikit-learn and scipy at the installed
  versions (MLflow adds itself); inferring requirements instead runs a subprocess that costs about
  13 s per model.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import logging
import math
import os
import pickle
import platform
import re
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote, urlparse

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
    "ModelRegistry",
    "PyfuncEstimator",
    "StoreLocationError",
    "decide",
    "default_pip_requirements",
]

log = logging.getLogger(__name__)

CHAMPION = "champion"
DB_FILE = "mlflow.db"
ARTIFACTS_DIR = "artifacts"
MODEL_ARTIFACT = "model"  # the logged model's name inside its run
MODEL_CODE = Path(__file__).with_name("pyfunc_model_code.py")  # the "model from code" file
REQUIRED_PACKAGES = ("numpy", "pandas", "scikit-learn", "scipy")
PROJECT_ROOT = Path(__file__).resolve().parents[1]  # holds uv.lock in a checkout, not in an installed wheel
NONE_TAG = "none"  # tag value for "no champion" / "no score": tags are strings, never empty
DEFAULT_EXPERIMENT_ID = "0"  # MLflow's "Default" experiment: artifacts in the cwd, never used here
# Where mlflow.db records absolute artifact locations (table, column): rewritten when the store moves.
LOCATION_COLUMNS = (
    ("experiments", "artifact_location"),
    ("runs", "artifact_uri"),
    ("model_versions", "storage_location"),
    ("model_versions", "source"),
    ("logged_models", "artifact_location"),
)
# MLflow's own loggers; they print to stderr through MLflow's handler unless routed (see _import_mlflow).
MLFLOW_LOGGERS = ("mlflow", "alembic", "huey", "sqlalchemy.engine")
PROGRESS_BAR_VARIABLE = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"
# Environment variables an activated block changes (MLflow mirrors its global URIs into the first two).
_SCOPED_ENVIRONMENT = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", PROGRESS_BAR_VARIABLE)

# MLflow's fluent API reads process-global URIs: every block that sets them holds this lock, so two
# registries used from two threads cannot interleave. Re-entrant: a method may call another.
_FLUENT_LOCK = threading.RLock()


class StoreLocationError(RuntimeError):
    """The store records artifact locations outside itself that are not a moved copy of it.

    Using it would read models from, or write runs into, a directory that is not this store.
    """


class PyfuncEstimator(Protocol):
    """What the registry needs from an estimator: a fitted object that predicts a frame from a frame.

    ``pyfunc_predict`` is the generic entry point behind the pyfunc model (UI, serving); platform code
    uses the estimator's own richer API after :meth:`ModelRegistry.load_estimator`.
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


# --- helpers without a store ------------------------------------------------------------------------


def default_pip_requirements() -> list[str]:
    """The installed versions of the packages a logged estimator needs, pinned (MLflow adds itself).

    Passing requirements explicitly skips MLflow's inference subprocess (~13 s per model). Callers
    whose estimator needs more extend the list: ``[*default_pip_requirements(), "lightgbm==4.6.0"]``.
    """
    return [f"{package}=={importlib.metadata.version(package)}" for package in REQUIRED_PACKAGES]


def _conda_env(pip_requirements: list[str]) -> dict[str, Any]:
    """The model's environment, stated rather than guessed.

    MLflow would build it itself and, in a uv environment (which has no pip), warn that it cannot
    pin pip. The environment that trained the model is pinned by ``requirements.txt`` and ``uv.lock``
    (copied into every model); pip here is only the installer conda would use, unpinned on purpose.
    """
    return {
        "name": "mlflow-env",
        "channels": ["conda-forge"],
        "dependencies": [f"python={platform.python_version()}", "pip", {"pip": list(pip_requirements)}],
    }


def _artifact_folder(experiment: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", experiment).strip("._") or "experiment"


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


def _local_path(location: str) -> Path | None:
    """The local directory of an artifact location (``file:///x`` or a plain path), else None."""
    parsed = urlparse(location)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme == "" and location.startswith("/"):
        return Path(location)
    return None


def _is_within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _epoch_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError(f"started_at must be timezone-aware (e.g. datetime.now(UTC)), got {moment!r}")
    return int(moment.timestamp() * 1000)


@functools.cache
def _import_mlflow():
    """``import mlflow``, with MLflow's loggers routed to Python's logging system (once per process).

    MLflow gives its loggers a handler that writes to stderr and stops propagation, so its INFO lines
    ("Creating initial MLflow database tables", uv and signature notices) reach every terminal. Here
    that handler is removed and the loggers propagate: the application's logging configuration decides
    where they go (a log file, Dagster's captured logs); with none, Python prints warnings and errors only.
    """
    import mlflow
    from mlflow.utils.logging_utils import MLFLOW_LOGGING_STREAM

    for name in MLFLOW_LOGGERS:
        logger = logging.getLogger(name)
        ours = [h for h in logger.handlers if getattr(h, "stream", None) is MLFLOW_LOGGING_STREAM]
        for handler in ours:
            logger.removeHandler(handler)
        if ours:
            logger.propagate = True
    return mlflow


# --- the registry -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelRegistry:
    """The MLflow tracking store and model registry of one data directory (``<data_dir>/mlflow``).

    Constructing one does no I/O: the store (database, artifact folder) is created on first use, and
    the first use of a new store runs MLflow's database migrations (a few seconds). Instances are
    cheap and immutable; equal when they point at the same directory.
    """

    store_dir: Path

    def __post_init__(self) -> None:
        raw = self.store_dir
        if not isinstance(raw, (str, os.PathLike)) or not str(raw).strip():
            raise ValueError(f"ModelRegistry needs a store directory (a path), got {raw!r}")
        store = Path(raw).expanduser().resolve()
        if store.exists() and not store.is_dir():
            raise ValueError(f"the MLflow store {store} is a file, not a directory")
        object.__setattr__(self, "store_dir", store)

    def __reduce__(self):
        """Pickled (e.g. to a Dagster step process) as its directory only; the client is rebuilt on use."""
        return (type(self), (self.store_dir,))

    # --- the store ----------------------------------------------------------------------------------

    @property
    def tracking_uri(self) -> str:
        """The absolute ``sqlite:///`` URI of the store's database; a relative one would follow the cwd."""
        return f"sqlite:///{self.store_dir / DB_FILE}"

    @property
    def artifacts_dir(self) -> Path:
        return self.store_dir / ARTIFACTS_DIR

    def artifact_location(self, experiment: str) -> str:
        """Where experiment ``experiment`` keeps its artifacts: ``<store>/artifacts/<name>``, as a URI."""
        return (self.artifacts_dir / _artifact_folder(experiment)).as_uri()

    def client(self) -> MlflowClient:
        """An ``MlflowClient`` bound to this store (no global URIs), after the store was checked.

        The first call per instance creates the store if needed and adopts a moved or copied store
        (see the module docstring).
        """
        return self._checked_client

    @functools.cached_property
    def _checked_client(self) -> MlflowClient:
        mlflow = _import_mlflow()
        self.artifacts_dir.mkdir(parents=True, exist_ok=True)
        client = mlflow.MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)
        self._adopt_if_moved(client)
        return client

    @contextlib.contextmanager
    def activated(self) -> Iterator[str]:
        """Point MLflow's process-global tracking and registry URIs at this store for the block.

        For MLflow's fluent API (``mlflow.start_run``, ``log_model``, ``load_model`` of ``models:/``
        URIs), which reads only the global URIs. The previous URIs (and the ``MLFLOW_*_URI``
        environment variables MLflow sets with them) are restored on exit, and a process-wide lock is
        held meanwhile, so no other registry's block interleaves. MLflow's ``print``-style notices
        and artifact progress bars are muted inside the block. Yields the tracking URI.
        """
        mlflow = _import_mlflow()
        from mlflow.tracking._model_registry import utils as registry_utils
        from mlflow.tracking._tracking_service import utils as tracking_utils
        from mlflow.utils.logging_utils import MLFLOW_LOGGING_STREAM

        self.client()  # the store exists and is checked before anything writes to it
        with _FLUENT_LOCK:
            # MLflow offers setters but no getter for the unresolved values; reading these two module
            # attributes is the only way to put back "not set" rather than a resolved default.
            saved = (tracking_utils._tracking_uri, registry_utils._registry_uri)
            saved_env = {key: os.environ.get(key) for key in _SCOPED_ENVIRONMENT}
            was_printing = MLFLOW_LOGGING_STREAM.enabled
            mlflow.set_tracking_uri(self.tracking_uri)
            mlflow.set_registry_uri(self.tracking_uri)
            os.environ[PROGRESS_BAR_VARIABLE] = "false"  # tqdm bars for copying local files
            MLFLOW_LOGGING_STREAM.enabled = False
            try:
                yield self.tracking_uri
            finally:
                MLFLOW_LOGGING_STREAM.enabled = was_printing
                mlflow.set_tracking_uri(saved[0])
                mlflow.set_registry_uri(saved[1])
                for key, value in saved_env.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value

    def ensure_experiment(self, name: str) -> str:
        """The id of experiment ``name``, created (artifacts under the store) or restored if needed.

        Idempotent and safe if another process creates the experiment at the same moment. Raises
        :class:`StoreLocationError` when the experiment keeps its artifacts outside this store.
        """
        from mlflow.exceptions import MlflowException

        client = self.client()
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            try:
                return client.create_experiment(name, artifact_location=self.artifact_location(name))
            except MlflowException as err:
                if err.error_code != "RESOURCE_ALREADY_EXISTS":
                    raise
                experiment = client.get_experiment_by_name(name)
        if experiment.lifecycle_stage == "deleted":
            client.restore_experiment(experiment.experiment_id)
        self._require_inside(experiment.artifact_location, f"experiment {name!r}")
        return experiment.experiment_id

    def _require_inside(self, location: str, what: str) -> None:
        path = _local_path(location)
        if path is None or not _is_within(path, self.store_dir):
            raise StoreLocationError(
                f"{what} keeps its artifacts at {location}, outside the MLflow store {self.store_dir}: "
                f"using it would read or write models there. Delete it from {self.tracking_uri} "
                "(mlflow gc, or a fresh store) or use the store it belongs to")

    # --- a moved or copied store --------------------------------------------------------------------

    def _recorded_store(self, client: MlflowClient) -> Path | None:
        """The store directory this store's experiments record, when it is not this one (else None).

        An experiment made here records ``<store>/artifacts/<folder>``; the ``<store>`` part of those
        locations is where the database was created. Locations of another layout are left to
        :meth:`ensure_experiment`, which refuses them when they are used.
        """
        from mlflow.entities import ViewType

        roots = set()
        for experiment in client.search_experiments(view_type=ViewType.ALL):
            if experiment.experiment_id == DEFAULT_EXPERIMENT_ID:
                continue
            path = _local_path(experiment.artifact_location)
            if path is not None and path.parent.name == ARTIFACTS_DIR:
                roots.add(path.parent.parent)
        roots.discard(self.store_dir)
        if len(roots) > 1:
            raise StoreLocationError(
                f"the MLflow store {self.store_dir} records artifacts under several other stores "
                f"({', '.join(map(str, sorted(roots)))}): it cannot tell which one it was copied from. "
                "Start a fresh store (remove the directory) and retrain")
        return roots.pop() if roots else None

    def _adopt_if_moved(self, client: MlflowClient) -> None:
        """Rewrite the absolute locations of a store that was moved or copied here (see the module docstring)."""
        old = self._recorded_store(client)
        if old is None:
            return
        replacements = [(old.as_uri() + "/", self.store_dir.as_uri() + "/"), (f"{old}/", f"{self.store_dir}/")]
        changed = 0
        with contextlib.closing(sqlite3.connect(self.store_dir / DB_FILE, timeout=60)) as db, db:
            tables = {row[0] for row in db.execute("select name from sqlite_master where type = 'table'")}
            for table, column in LOCATION_COLUMNS:
                if table not in tables or column not in {row[1] for row in db.execute(f"pragma table_info({table})")}:
                    continue
                for before, after in replacements:
                    changed += db.execute(
                        f"update {table} set {column} = ? || substr({column}, ?) where substr({column}, 1, ?) = ?",
                        (after, len(before) + 1, len(before), before)).rowcount
        for mlmodel in self.artifacts_dir.rglob("MLmodel"):
            text = mlmodel.read_text()
            fixed = text.replace(f"artifact_path: {replacements[0][0]}", f"artifact_path: {replacements[0][1]}")
            if fixed != text:
                mlmodel.write_text(fixed)
        log.warning("the MLflow store %s was moved or copied from %s: pointed %d recorded artifact "
                    "locations into %s", self.store_dir, old, changed, self.store_dir)

    # --- logging a candidate ------------------------------------------------------------------------

    def log_candidate(
        self,
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
        started_at: datetime | None = None,
    ) -> Candidate:
        """Log one training as a run of experiment ``model_name`` and register its estimator as a new version.

        The run gets ``params``, ``metrics`` (also linked to the logged model, so the UI's model page
        shows them), each figure as ``plots/<key>.png``, each table as ``tables/<key>.csv`` (with its
        index unless it is a plain row number) and ``tags``. ``started_at`` (timezone-aware) is when
        the training began: the run starts then, so its duration in the UI is the training's, not
        only the logging's. The estimator is logged as a pyfunc model from code whose signature is
        inferred from ``input_example`` and the estimator's own ``pyfunc_predict`` output on it (no
        example: no signature). The new version is tagged ``metric.<name>`` for every metric so the
        registry page compares versions without opening runs. Figures are not closed: the caller owns them.

        The candidate does not serve until :meth:`promote_if_better` promotes it. Writes to the
        store: run it in the single-writer pool.
        """
        import pandas as pd

        mlflow = _import_mlflow()
        from mlflow.models import infer_signature

        from ml.registry_pyfunc import ESTIMATOR_ARTIFACT

        if not callable(getattr(estimator, "pyfunc_predict", None)):
            raise TypeError(f"{type(estimator).__name__} has no pyfunc_predict(frame) -> frame method")
        figures = figures or {}
        tables = tables or {}
        metric_values = {key: float(value) for key, value in metrics.items()}
        start_ms = None if started_at is None else _epoch_ms(started_at)

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

        experiment_id = self.ensure_experiment(model_name)
        client = self.client()
        requirements = default_pip_requirements() if pip_requirements is None else [*pip_requirements]
        with self.activated(), tempfile.TemporaryDirectory() as scratch:
            # Created by the client, so the run can start when the training did; resumed by the fluent
            # API, which ends it (FINISHED, or FAILED on an error) when the block is left.
            created = client.create_run(experiment_id, start_time=start_ms, tags=dict(tags or {}), run_name=run_name)
            with mlflow.start_run(run_id=created.info.run_id) as run:
                if params:
                    mlflow.log_params(params)
                for key, figure in figures.items():
                    mlflow.log_figure(figure, f"plots/{_artifact_name(key, '.png')}")
                for key, table in tables.items():
                    keep_index = not isinstance(table.index, pd.RangeIndex)  # dates or ids, not row numbers
                    mlflow.log_text(table.to_csv(index=keep_index), f"tables/{_artifact_name(key, '.csv')}")
                pickled = Path(scratch) / "estimator.pkl"
                pickled.write_bytes(pickle.dumps(estimator, protocol=pickle.HIGHEST_PROTOCOL))
                info = mlflow.pyfunc.log_model(
                    name=MODEL_ARTIFACT,
                    python_model=MODEL_CODE,
                    artifacts={ESTIMATOR_ARTIFACT: str(pickled)},
                    signature=signature,
                    input_example=input_example,
                    conda_env=_conda_env(requirements),
                    registered_model_name=model_name,
                    uv_project_path=_uv_project(),
                )
                if metric_values:
                    mlflow.log_metrics(metric_values, model_id=info.model_id)
                version = int(info.registered_model_version)
                mlflow.set_tag("registered_version", str(version))

        for key, value in metric_values.items():  # for people comparing versions: 7 significant digits
            client.set_model_version_tag(model_name, str(version), f"metric.{key}", f"{value:.7g}")
        if description:
            client.update_model_version(model_name, str(version), description=description)
        log.info("registered %s v%d (run %s) in %s", model_name, version, run.info.run_id, self.store_dir)
        return Candidate(model_name, version, run.info.run_id, f"models:/{model_name}/{version}")

    # --- the champion gate --------------------------------------------------------------------------

    def champion_version(self, name: str, alias: str = CHAMPION) -> ModelVersion | None:
        """The version behind ``alias`` of model ``name``, or None if the model or the alias does not exist."""
        from mlflow.exceptions import MlflowException

        client = self.client()
        try:
            model = client.get_registered_model(name)
        except MlflowException as err:
            if err.error_code == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise
        version = model.aliases.get(alias)
        return None if version is None else client.get_model_version(name, str(version))

    def promote_if_better(
        self,
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

        Both scores must come from the same holdout: the caller scores the candidate and the champion
        it loaded with :meth:`load_estimator`; pass ``champion_score=None`` only when there is no
        champion. The candidate version and its run get the ``gate.*`` tags (promoted, metric, both
        scores, the previous champion's version, the reason) whether or not it wins; when it wins, the
        alias ``champion`` moves to it and the previous champion is tagged ``gate.superseded_by``.

        The champion is read from the registry here, so the gate compares against the version that
        serves now; run this in the single-writer pool so it cannot change between scoring and deciding.
        """
        client = self.client()
        candidate = client.get_model_version(model_name, str(candidate_version))
        current = self.champion_version(model_name)
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

    def set_champion(self, model_name: str, version: int, *, reason: str) -> None:
        """Move ``champion`` to ``version`` by hand (rollback, or replacing a champion the gate cannot score).

        The version is tagged ``gate.manual_reason`` so the registry shows that no gate decided this.
        """
        client = self.client()
        previous = self.champion_version(model_name)
        client.get_model_version(model_name, str(version))  # fails clearly if the version does not exist
        client.set_registered_model_alias(model_name, CHAMPION, str(version))
        client.set_model_version_tag(model_name, str(version), "gate.manual_reason", reason)
        if previous is not None and int(previous.version) != int(version):
            client.set_model_version_tag(model_name, previous.version, "gate.superseded_by", str(version))

    # --- loading ------------------------------------------------------------------------------------

    def load_estimator(self, name: str, alias: str = CHAMPION, *, version: int | None = None) -> LoadedModel:
        """The estimator behind ``models:/<name>@<alias>`` (or an explicit ``version``), unwrapped.

        The alias is resolved to a version number first and that exact version is loaded from its
        files in this store, so the returned ``version`` and ``uri`` are what actually ran even if the
        alias moves meanwhile. Raises ``LookupError`` when the model or the alias does not exist
        (nothing has been promoted yet), :class:`StoreLocationError` when the version's files are not
        in this store.
        """
        mlflow = _import_mlflow()

        client = self.client()
        if version is None:
            resolved = self.champion_version(name, alias)
            if resolved is None:
                raise LookupError(f"model {name!r} has no version with alias {alias!r} in {self.store_dir}")
        else:
            resolved = client.get_model_version(name, str(version))
        files = client.get_model_version_download_uri(name, str(resolved.version))
        self._require_inside(files, f"model {name!r} version {resolved.version}")
        with self.activated():
            wrapper = mlflow.pyfunc.load_model(files).unwrap_python_model()
        return LoadedModel(
            estimator=wrapper.estimator,
            name=name,
            version=int(resolved.version),
            run_id=resolved.run_id,
            uri=f"models:/{name}/{resolved.version}",
        )


# --- the gate's rules ------------------------------------------------------------------------------


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
       broken, an operator promotes by hand with :meth:`ModelRegistry.set_champion`.
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


def __getattr__(name: str) -> Any:
    """``ml.registry.EstimatorModel`` without importing MLflow when the module is imported."""
    if name == "EstimatorModel":
        from ml.registry_pyfunc import EstimatorModel

        return EstimatorModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
