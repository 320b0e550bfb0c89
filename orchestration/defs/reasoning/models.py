"""Training assets: one per registered model, each with an asset check recording the champion gate.

The assets read the marts from the warehouse and write to MLflow. They run in the warehouse pool:
reading the warehouse must not overlap a writer (DuckDB takes one process at a time), and MLflow's
SQLite store takes one writer, which the same pool serializes. They materialize weekly (Mondays,
once the marts have been refreshed after 03:00), or when launched; a shop with too little history
skips training with a message instead of failing.
"""

import dagster as dg

from orchestration.defs.tags import DATA_SCIENCE, stage
from orchestration.resources import WAREHOUSE_POOL, ModelRegistryResource, Warehouse

GROUP = "reasoning"
FORECAST_MODEL_KEY = dg.AssetKey(["models", "demand_forecast"])
ELASTICITY_MODEL_KEY = dg.AssetKey(["models", "price_elasticity"])
TRAINING_INPUTS = [dg.AssetKey(["marts", "fct_daily_sales"]), dg.AssetKey(["marts", "fct_promotion_days"])]
GATE_CHECK = "champion_gate"
RETRAIN_CRON = "0 3 * * 1"  # Mondays 03:00, after the night's ingestion
WEEKLY_RETRAIN = dg.AutomationCondition.on_cron(RETRAIN_CRON)


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


def gate_passed(report) -> bool:
    """The gate passes when the candidate won, or tied and the champion stays (nothing got worse)."""
    return report.promoted or (report.champion_score is not None and report.candidate_score == report.champion_score)


def _training_asset(key: dg.AssetKey, model_name: str, train, description: str, *,
                    plans_promotions: bool = False) -> dg.AssetsDefinition:
    """A training asset; ``plans_promotions``: the gate's holdout forecast is planned with the promotion
    calendar (``fct_promotion_days``), as the served forecast is."""
    @dg.asset(
        key=key,
        group_name=GROUP,
        deps=TRAINING_INPUTS,
        pool=WAREHOUSE_POOL,
        kinds={"mlflow", "scikit-learn"},
        owners=[DATA_SCIENCE],
        code_version=f"{model_name}-1",
        automation_condition=WEEKLY_RETRAIN,
        op_tags=stage(f"train + gate {model_name}"),
        tags={"layer": "reasoning"},
        description=description,
        output_required=False,
        check_specs=[dg.AssetCheckSpec(GATE_CHECK, asset=key, description=(
            "The candidate beat the current champion on the same time-based holdout and became champion "
            "(the first version always does), or tied and the champion stays. Warns when the candidate is "
            "worse: it is registered but does not serve."))],
    )
    def train_model(context: dg.AssetExecutionContext, warehouse: Warehouse, model_registry: ModelRegistryResource):
        from ml.panel import read_promotion_days, read_sales_panel
        from ml.training import insufficient_history

        panel = read_sales_panel(warehouse.path)
        problem = insufficient_history(panel)
        if problem:
            context.log.warning(f"{model_name} not trained: {problem}")
            yield dg.AssetCheckResult(check_name=GATE_CHECK, asset_key=key, passed=True,
                                      description=f"skipped, no candidate: {problem}",
                                      metadata={"skipped": True, "reason": problem})
            return
        context.log.info(f"training {model_name} on {len(panel):,} rows "
                         f"({panel['date'].min():%Y-%m-%d} .. {panel['date'].max():%Y-%m-%d})")
        inputs = {"promotions": read_promotion_days(warehouse.path)} if plans_promotions else {}
        registry = model_registry.get_registry()
        report = train(panel, registry, **inputs)
        gate = _gate_metadata(report)
        context.log.info(f"{model_name} v{report.version}: {report.reason}")
        run_url = model_registry.run_url(registry.ensure_experiment(model_name), report.run_id)
        yield dg.MaterializeResult(metadata={
            **{k: v for k, v in gate.items() if v is not None},
            "mlflow_run": dg.MetadataValue.url(run_url),
            "run_id": report.run_id,
            "train_seconds": round(report.train_seconds, 1),
            **{f"metric/{k}": round(v, 4) for k, v in report.metrics.items()},
            "mlflow_model": dg.MetadataValue.text(f"models:/{model_name}/{report.version}"),
        })
        yield dg.AssetCheckResult(check_name=GATE_CHECK, asset_key=key, passed=gate_passed(report),
                                  severity=dg.AssetCheckSeverity.WARN, description=report.reason,
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
