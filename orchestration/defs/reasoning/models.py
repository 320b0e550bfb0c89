"""Training assets: one per registered model, each with an asset check recording the champion gate.

The assets read the published analyst database (a snapshot, so training never waits for or blocks
the warehouse writer) and write to MLflow, whose SQLite store takes one writer: both run in the
``mlflow_registry`` pool (limit 1).
"""

import dagster as dg

from orchestration.defs.perception.publish import ANALYTICS_KEY
from orchestration.resources import DataDirectory

MLFLOW_POOL = "mlflow_registry"
GROUP = "reasoning"
FORECAST_MODEL_KEY = dg.AssetKey(["models", "demand_forecast"])
ELASTICITY_MODEL_KEY = dg.AssetKey(["models", "price_elasticity"])
GATE_CHECK = "champion_gate"


def _gate_metadata(report) -> dict:
    return {
        "version": report.version,
        "promoted": report.promoted,
        "reason": report.reason,
        "metric": report.metric,
        "candidate_score": round(report.candidate_score, 6),
        "champion_score": None if report.champion_score is None else round(report.champion_score, 6),
        "previous_champion_version": report.champion_version,
        "holdout": f"{report.holdout_start} .. {report.holdout_end}",
    }


def _training_asset(key: dg.AssetKey, model_name: str, train, description: str, *,
                    plans_promotions: bool = False) -> dg.AssetsDefinition:
    """A training asset; ``plans_promotions``: the gate's holdout forecast is planned with the promotion
    calendar (``fct_promotion_days``), as the served forecast is."""
    @dg.asset(
        key=key,
        group_name=GROUP,
        deps=[ANALYTICS_KEY],
        pool=MLFLOW_POOL,
        kinds={"mlflow", "scikit-learn"},
        tags={"layer": "reasoning"},
        description=description,
        check_specs=[dg.AssetCheckSpec(GATE_CHECK, asset=key, description=(
            "The candidate beat the current champion on the same time-based holdout and became champion "
            "(the first version always does). Fails with a warning when the champion stays: the candidate "
            "is registered but does not serve."))],
    )
    def train_model(context: dg.AssetExecutionContext, data_dir: DataDirectory):
        from ml.panel import read_promotion_days, read_sales_panel
        from ml.registry import ModelRegistry

        paths = data_dir.paths
        panel = read_sales_panel(paths.analytics)
        context.log.info(f"training {model_name} on {len(panel):,} rows "
                         f"({panel['date'].min():%Y-%m-%d} .. {panel['date'].max():%Y-%m-%d})")
        inputs = {"promotions": read_promotion_days(paths.analytics)} if plans_promotions else {}
        report = train(panel, ModelRegistry(paths.mlflow), **inputs)
        gate = _gate_metadata(report)
        context.log.info(f"{model_name} v{report.version}: {report.reason}")
        yield dg.MaterializeResult(metadata={
            **{k: v for k, v in gate.items() if v is not None},
            "run_id": report.run_id,
            "train_seconds": round(report.train_seconds, 1),
            **{f"metric/{k}": round(v, 6) for k, v in report.metrics.items()},
            "mlflow_model": dg.MetadataValue.text(f"models:/{model_name}/{report.version}"),
        })
        yield dg.AssetCheckResult(check_name=GATE_CHECK, asset_key=key, passed=report.promoted,
                                  severity=dg.AssetCheckSeverity.WARN,
                                  description=report.reason,
                                  metadata={k: v for k, v in gate.items() if v is not None})

    return train_model


def model_assets() -> list[dg.AssetsDefinition]:
    from ml import training  # light: heavy libraries import inside the training functions

    return [
        _training_asset(FORECAST_MODEL_KEY, training.FORECAST_MODEL, training.train_demand_forecast,
                        "MLflow model demand_forecast: quantile (P10/P50/P90) demand per product x channel x day, "
                        "14 days ahead; censored (stockout) days do not teach it that demand was low.",
                        plans_promotions=True),
        _training_asset(ELASTICITY_MODEL_KEY, training.ELASTICITY_MODEL, training.train_price_elasticity,
                        "MLflow model price_elasticity: causal own-price elasticity per product (double ML + a "
                        "control function built on the supplier-cost instrument + partial pooling by category) with "
                        "intervals, and cross-price effects per category."),
    ]
