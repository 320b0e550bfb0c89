"""Serving assets: today's forecasts and elasticities from the champions, in the warehouse.

Each row records the model name, version and MLflow run it came from, so whatever an agent decides
from it can name the model. Tables (schema ``reasoning``, published to the analyst database):

- ``reasoning.demand_forecasts``: one row per forecast origin x product x channel x target date
  (P10, P50, P90, mean); a re-run for the same origin replaces that origin's rows, history is kept;
- ``reasoning.price_elasticities``: the champion's current own-price elasticities (replaced);
- ``reasoning.cross_price_elasticities``: the champion's cross-price effects per category (replaced).
"""

import datetime as dt

import dagster as dg

from orchestration.defs.perception.publish import ANALYTICS_KEY
from orchestration.defs.reasoning.models import ELASTICITY_MODEL_KEY, FORECAST_MODEL_KEY, GROUP
from orchestration.resources import DataDirectory
from orchestration.warehouse import WAREHOUSE_POOL

FORECASTS_KEY = dg.AssetKey(["reasoning", "demand_forecasts"])
ELASTICITIES_KEY = dg.AssetKey(["reasoning", "price_elasticities"])


def _champion(paths, name: str):
    """``models:/<name>@champion`` from the data directory's MLflow store, with its version and run."""
    from ml.registry import ModelRegistry

    return ModelRegistry(paths.mlflow).load_estimator(name)


def _stamp(frame, loaded):
    frame = frame.copy()
    frame["model_name"] = loaded.name
    frame["model_version"] = int(loaded.version)
    frame["model_run_id"] = loaded.run_id
    frame["created_at"] = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return frame


@dg.asset(
    key=FORECASTS_KEY, group_name=GROUP, deps=[ANALYTICS_KEY, FORECAST_MODEL_KEY], pool=WAREHOUSE_POOL,
    kinds={"duckdb", "mlflow"}, tags={"layer": "reasoning"},
    description="reasoning.demand_forecasts: P10/P50/P90 and mean units per product x channel for the 14 days "
                "after the latest day of data, planned with the scheduled promotions (fct_promotion_days), from "
                "models:/demand_forecast@champion (version recorded per row).",
)
def demand_forecasts(context: dg.AssetExecutionContext, data_dir: DataDirectory) -> dg.MaterializeResult:
    from ml.features import promotion_plan
    from ml.panel import read_promotion_days, read_sales_panel
    from orchestration.publish import publish_analytics
    from orchestration.warehouse import replace_rows

    paths = data_dir.paths
    loaded = _champion(paths, "demand_forecast")
    panel = read_sales_panel(paths.analytics)
    origin = panel["date"].max()
    plan = promotion_plan(read_promotion_days(paths.analytics, start=origin), origin, loaded.estimator.horizon)
    forecast = _stamp(loaded.estimator.predict(panel, origin, future=plan, mean=True), loaded)
    forecast = forecast.merge(plan[["product_id", "channel", "date", "discount_pct"]]
                              .rename(columns={"discount_pct": "planned_discount_pct"}),
                              on=["product_id", "channel", "date"], how="left")
    # calendar days and whole horizons, so the table joins the marts' DATE columns as they are
    forecast = forecast.assign(origin=forecast["origin"].dt.date, date=forecast["date"].dt.date,
                               horizon=forecast["horizon"].astype("int64"))
    rows = replace_rows(paths.warehouse, "reasoning", "demand_forecasts", forecast, key={"origin": origin.date()})
    publish_analytics(paths.warehouse, paths.analytics, context.run_id)
    context.log.info(f"forecast {len(forecast):,} rows from {origin:%Y-%m-%d} with demand_forecast v{loaded.version}")
    return dg.MaterializeResult(metadata={
        "origin": f"{origin:%Y-%m-%d}", "rows": len(forecast), "table_rows": rows,
        "model_version": int(loaded.version), "model_run_id": loaded.run_id,
        "units_p50_next_7_days": float(forecast.loc[forecast["horizon"] <= 7, "p50"].sum()),
        "planned_promotion_rows": int(forecast["planned_discount_pct"].notna().sum()),
    })


@dg.asset(
    key=ELASTICITIES_KEY, group_name=GROUP, deps=[ANALYTICS_KEY, ELASTICITY_MODEL_KEY], pool=WAREHOUSE_POOL,
    kinds={"duckdb", "mlflow"}, tags={"layer": "reasoning"},
    description="reasoning.price_elasticities and reasoning.cross_price_elasticities from "
                "models:/price_elasticity@champion (version recorded per row).",
)
def price_elasticities(context: dg.AssetExecutionContext, data_dir: DataDirectory) -> dg.MaterializeResult:
    from orchestration.publish import publish_analytics
    from orchestration.warehouse import replace_rows

    paths = data_dir.paths
    loaded = _champion(paths, "price_elasticity")
    own = _stamp(loaded.estimator.elasticities_, loaded)
    cross = _stamp(loaded.estimator.cross_elasticities_, loaded)
    replace_rows(paths.warehouse, "reasoning", "price_elasticities", own)
    replace_rows(paths.warehouse, "reasoning", "cross_price_elasticities", cross)
    publish_analytics(paths.warehouse, paths.analytics, context.run_id)
    return dg.MaterializeResult(metadata={
        "products": len(own), "model_version": int(loaded.version), "model_run_id": loaded.run_id,
        "median_elasticity": float(own["elasticity"].median()),
        "weak_instrument_share": float(own["weak_instrument"].mean()),
    })


def serving_assets() -> list[dg.AssetsDefinition]:
    return [demand_forecasts, price_elasticities]
