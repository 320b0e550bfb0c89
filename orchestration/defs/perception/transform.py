"""dbt models as Dagster assets: staging -> intermediate -> marts, dbt tests shown as asset checks.

Asset keys follow the layer (``staging/stg_oms__orders``, ``marts/fct_daily_sales``) and every model
sits in the ``perception`` group. Sources need no mapping: dagster-dbt keys source table
``raw.<table>`` as ``raw/<table>``, the key of the ingest asset that loads it. The marts agents
read carry freshness policies.
"""


import datetime as dt
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from orchestration.dbt import dbt_executable, prepare_manifest
from orchestration.settings import DBT_PROJECT_DIR
from orchestration.warehouse import WAREHOUSE_POOL

GROUP = "perception"
# Marts the agents decide from: stale beyond a day means an agent would act on yesterday's world.
AGENT_INPUT_MARTS = {"fct_daily_sales", "fct_inventory_daily", "fct_competitor_prices", "fct_promotion_days",
                     "dim_products"}
AGENT_INPUT_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(hours=36),
                                                       warn_window=dt.timedelta(hours=26))


class PerceptionTranslator(DagsterDbtTranslator):
    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = manifest["nodes"].get(unique_id) or manifest["sources"].get(unique_id) or {}
        if props.get("resource_type") != "model":
            return spec
        layer = props["fqn"][1] if len(props["fqn"]) > 2 else "models"
        spec = spec.replace_attributes(key=dg.AssetKey([layer, props["name"]]), group_name=GROUP)
        spec = spec.merge_attributes(tags={"layer": "perception", "dbt_layer": layer})
        if props["name"] in AGENT_INPUT_MARTS:
            spec = spec.replace_attributes(freshness_policy=AGENT_INPUT_FRESHNESS)
        return spec


def dbt_project() -> DbtProject:
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def build_dbt_assets() -> dg.AssetsDefinition:
    project = dbt_project()

    @dbt_assets(
        manifest=prepare_manifest(),
        project=project,
        dagster_dbt_translator=PerceptionTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)),
        pool=WAREHOUSE_POOL,
        name="dbt_perception_models",
    )
    def dbt_perception_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        yield from dbt.cli(["build"], context=context).stream()

    return dbt_perception_models


def dbt_resource() -> DbtCliResource:
    # The dbt beside this interpreter, so runs work without the virtualenv on PATH.
    return DbtCliResource(project_dir=dbt_project(), profiles_dir=str(DBT_PROJECT_DIR),
                          dbt_executable=dbt_executable())
