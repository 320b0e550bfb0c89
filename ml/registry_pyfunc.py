"""The MLflow pyfunc wrapper around the project's fitted estimators.

It lives apart from :mod:`ml.registry` because it must subclass ``mlflow.pyfunc.PythonModel``, which
means importing MLflow (several seconds). :mod:`ml.registry` imports this module only inside the
functions that log or load a model, so importing the registry helpers stays cheap.

Logged models pickle an :class:`EstimatorModel` by reference to this module (``ml.registry_pyfunc``)
and the estimator by reference to its own class (``ml.forecast.DemandForecaster``...): loading a
model needs this project installed, which every consumer (Dagster assets, agents) has.
"""

from __future__ import annotations

from typing import Any

import mlflow.pyfunc
import pandas as pd

__all__ = ["EstimatorModel"]


class EstimatorModel(mlflow.pyfunc.PythonModel):
    """Holds one fitted estimator and serves it as a pyfunc model.

    The estimator stays a plain Python object (``model.unwrap_python_model().estimator``), so
    consumers inside the platform call its full API; the pyfunc ``predict`` exists for the MLflow UI,
    ``mlflow models serve`` and generic tooling, and delegates to ``estimator.pyfunc_predict``.
    """

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    # ``pd.DataFrame`` hints tell MLflow 3 the model takes a frame without deriving a schema from them
    # (that comes from the input example), and silence its "add type hints" warning.
    def predict(self, context: Any, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        """A DataFrame in, the estimator's DataFrame out; other inputs are turned into a DataFrame first."""
        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        return self.estimator.pyfunc_predict(frame)
