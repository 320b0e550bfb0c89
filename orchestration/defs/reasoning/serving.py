"""Serving assets: today's forecasts and elasticities from the champions, in the warehouse.

Each row records the model name, version and MLflow run it came from, so whatever an agent decides
from it can name the model. Tables (schema ``reasoning``, published to the analyst database by
``analytics/analytics_db``, which is downstream of both):

- ``reasoning.demand_forecasts``: one row per forecast origin x product x channel x target date
  (P10, P50, P90, mean); a re-run for the same origin replaces that origin's rows, history is kept;
- ``reasoning.price_elasticities``: the champion's current own-price elasticities (replaced);
- ``reasoning.cross_price_elasticities``: the champion's cross-price effects per category (replaced).

They refresh whenever the marts or a model changed (and the parents' blocking checks passed), and
carry freshness policies: agents act on them, so a forecast older than a day is a problem.
"""

import datetime as dt

import dagster as dg

from orchestration.defs.tags import DATA_SCIENCE, stage
from orchestration.defs.reasoning.models import ELASTICITY_MODEL_KEY, FORECAST_MODEL_KEY, GROUP
from orchestration.resources import WAREHOUSE_POOL, ModelRegistryResource, Warehouse

FORECASTS_KEY = dg.AssetKey(["reasoning", "demand_forecasts"])
ELASTICITIES_KEY = dg.AssetKey(["reasoning", "price_elasticities"])
SALES_KEY = dg.AssetKey(["marts", "fct_daily_sales"])
PROMOTIONS_KEY = dg.AssetKey(["marts", "fct_promotion_days"])
REFRESH_WHEN_UPDATED = (dg.AutomationCondition.eager()
                        & dg.AutomationCondition.all_deps_blocking_checks_passed()).with_label(
    "marts or champion updated and their blocking checks passed")
SERVED_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(hours=36),
                                                  warn_window=dt.timedelta(hours=26))


class NoChampionError(RuntimeError):
    """A model has never been promoted, so there is nothing to serve yet."""


def _champion(model_registry: ModelRegistryResource, name: str):
    """``models:/<name>@champion`` with its version and run; a clear error before the first training."""
    try:
        return model_registry.get_registry().load_estimator(name)
    except LookupError as error:
        raise NoChampionError(f"{error}: train the models first (job train_models, or `agentic-commerce train`)") \
            from None


def _stamp(frame, loaded):
    frame = frame.copy()
    frame["model_name"] = loaded.name
    frame["model_version"] = int(loaded.version)
    frame["model_run_id"] = loaded.run_id
    frame["created_at"] = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return frame


def _serving_asset(key: dg.AssetKey, **kwargs):
    return dg.asset(key=key, op_tags=stage(f"serve {key.path[-1]}"), group_name=GROUP, pool=WAREHOUSE_POOL,
                    kinds={"duckdb", "mlflow"}, owners=[DATA_SCIENCE], automation_condition=REFRESH_WHEN_UPDATED,
                    freshness_policy=SERVED_FRESHNESS, tags={"layer": "reasoning"}, **kwargs)


@_serving_asset(
    key=FORECASTS_KEY, deps=[SALES_KEY, PROMOTIONS_KEY, FORECAST_MODEL_KEY], code_version="serve-forecast-1",
    description="reasoning.demand_forecasts: P10/P50/P90 and mean units per product x channel for the 14 days "
                "after the latest day of data, planned with the scheduled promotions (fct_promotion_days), from "
                "models:/demand_forecast@champion (version recorded per row).",
)
def demand_forecasts(context: dg.AssetExecutionContext, warehouse: Warehouse,
                     model_registry: ModelRegistryResource) -> dg.MaterializeResult:
    from ml.features import promotion_plan
    from ml.panel import read_promotion_days, read_sales_panel
    from warehouse.tables import replace_rows

    loaded = _champion(model_registry, "demand_forecast")
    panel = read_sales_panel(warehouse.path)
    origin = panel["date"].max()
    plan = promotion_plan(read_promotion_days(warehouse.path, start=origin), origin, loaded.estimator.horizon)
    forecast = _stamp(loaded.estimator.predict(panel, origin, future=plan, mean=True), loaded)
    forecast = forecast.merge(plan[["product_id", "channel", "date", "discount_pct"]]
                              .rename(columns={"discount_pct": "planned_discount_pct"}),
                              on=["product_id", "channel", "date"], how="left")
    # calendar days and whole horizons, so the table joins the marts' DATE columns as they are
    forecast = forecast.assign(origin=forecast["origin"].dt.date, date=forecast["date"].dt.date,
                               horizon=forecast["horizon"].astype("int64"))
    rows = replace_rows(warehouse.path, "reasoning", "demand_forecasts", forecast, key={"origin": origin.date()})
    context.log.info(f"forecast {len(forecast):,} rows from {origin:%Y-%m-%d} with demand_forecast v{loaded.version}")
    week = forecast["horizon"] <= 7
    return dg.MaterializeResult(metadata={
        "origin": f"{origin:%Y-%m-%d}", "rows": len(forecast), "dagster/row_count": rows,
        "model_version": int(loaded.version), "model_run_id": loaded.run_id,
        "units_mean_next_7_days": round(float(forecast.loc[week, "mean"].sum()), 1),
        "planned_promotion_rows": int(forecast["planned_discount_pct"].notna().sum()),
    })


@_serving_asset(
    key=ELASTICITIES_KEY, deps=[ELASTICITY_MODEL_KEY], code_version="serve-elasticity-1",
    description="reasoning.price_elasticities and reasoning.cross_price_elasticities from "
                "models:/price_elasticity@champion (version recorded per row).",
)
def price_elasticities(context: dg.AssetExecutionContext, warehouse: Warehouse,
                       model_registry: ModelRegistryResource) -> dg.MaterializeResult:
    from warehouse.tables import replace_rows

    loaded = _champion(model_registry, "price_elasticity")
    own = _stamp(loaded.estimator.elasticities_, loaded)
    cross = _stamp(loaded.estimator.cross_elasticities_, loaded)
    replace_rows(warehouse.path, "reasoning", "price_elasticities", own)
    replace_rows(warehouse.path, "reasoning", "cross_price_elasticities", cross)
    return dg.MaterializeResult(metadata={
        "products": len(own), "dagster/row_count": len(own), "model_version": int(loaded.version),
        "model_run_id": loaded.run_id,
        "median_elasticity": round(float(own["elasticity"].median()), 3),
        "weak_instrument_share": round(float(own["weak_instrument"].mean()), 3),
    })


def serving_assets() -> list[dg.AssetsDefinition]:
    return [demand_forecasts, price_elasticities]
