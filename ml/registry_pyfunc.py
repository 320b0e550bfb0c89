"""The MLflow pyfunc wrapper around the project's fitted estimators.

It lives apart from :mod:`ml.registry` because it must subclass ``mlflow.pyfunc.PythonModel``, which
means importing MLflow (several seconds). :mod:`ml.registry` imports this module only inside the
methods that log or load a model, so importing the registry stays cheap.

Models are logged "from code": the model is :mod:`ml.pyfunc_model_code` (which builds an empty
:class:`EstimatorModel`) plus the fitted estimator, pickled as the artifact ``estimator``, which
:meth:`EstimatorModel.load_context` reads. The pickle refers to the estimator's own class
(``ml.forecast.DemandForecaster``...), so loading a model needs this project installed, which every
consumer (Dagster assets, agents) has. Models logged before models-from-code pickled the whole
wrapper with its estimator; they still load (``load_context`` then finds no artifact and keeps it).
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import pandas as pd

__all__ = ["ESTIMATOR_ARTIFACT", "EstimatorModel"]

ESTIMATOR_ARTIFACT = "estimator"  # key of the pickled estimator among a logged model's artifacts


class EstimatorModel(mlflow.pyfunc.PythonModel):
    """Holds one fitted estimator and serves it as a pyfunc model.

    The estimator stays a plain Python object (``model.unwrap_python_model().estimator``), so
    consumers inside the platform call its full API; the pyfunc ``predict`` exists for the MLflow UI,
    ``mlflow models serve`` and generic tooling, and delegates to ``estimator.pyfunc_predict``.
    """

    def __init__(self, estimator: Any = None) -> None:
        self.estimator = estimator

    def load_context(self, context: Any) -> None:
        """Read the pickled estimator from the model's artifacts (models from code)."""
        path = (context.artifacts or {}).get(ESTIMATOR_ARTIFACT) if context is not None else None
        if path is not None:
            self.estimator = pickle.loads(Path(path).read_bytes())

    # ``pd.DataFrame`` hints tell MLflow 3 the model takes a frame without deriving a schema from them
    # (that comes from the input example), and silence its "add type hints" warning.
    def predict(self, context: Any, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        """A DataFrame in, the estimator's DataFrame out; other inputs are turned into a DataFrame first."""
        if self.estimator is None:
            raise RuntimeError("EstimatorModel has no estimator: load the model with mlflow.pyfunc.load_model")
        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        return self.estimator.pyfunc_predict(frame)
