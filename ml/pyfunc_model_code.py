"""The "model from code" of every model the registry logs; MLflow copies this file into each model.

MLflow runs this file when it logs or loads a model: it declares the model (an empty
:class:`ml.registry_pyfunc.EstimatorModel`, whose ``load_context`` reads the pickled estimator from
the model's artifacts). Nothing in the project imports it: running it sets MLflow's current model,
which is its whole purpose and a side effect no ordinary import should have.
"""

from mlflow.models import set_model

from ml.registry_pyfunc import EstimatorModel

set_model(EstimatorModel())
