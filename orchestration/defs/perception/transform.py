"""dbt models as Dagster assets: staging -> intermediate -> marts, dbt tests shown as asset checks.

Asset keys and groups follow the dbt layer (``staging/stg_oms__orders`` in group ``staging``,
``marts/fct_daily_sales`` in ``marts``), so the UI shows perception as the layers a person reads.
Sources need no mapping: dagster-dbt keys source table ``raw.<table>`` as ``raw/<table>``, the key
of the ingest asset that loads it.

Automation: every model materializes when a parent updated and every blocking check of its parents
passed (a blocked batch builds nothing downstream; the next good batch builds everything). One
tick requests the whole graph below a change, so Dagster runs it as one ``dbt build``. The marts
agents read carry freshness policies; each build reports row counts and column types.
"""


import datetime as dt
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from orchestration.dbt import dbt_executable, require_manifest
from orchestration.defs.tags import DATA_PLATFORM, stage
from orchestration.resources import WAREHOUSE_POOL, Warehouse
from orchestration.settings import DBT_PROJECT_DIR

# Marts the agents decide from: stale beyond a day means an agent would act on yesterday's world.
AGENT_INPUT_MARTS = {"fct_daily_sales", "fct_inventory_daily", "fct_competitor_prices", "fct_promotion_days",
                     "dim_products"}
AGENT_INPUT_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(hours=36),
                                                       warn_window=dt.timedelta(hours=26))
BUILD_WHEN_PARENTS_UPDATE = (dg.AutomationCondition.eager()
                             & dg.AutomationCondition.all_deps_blocking_checks_passed()).with_label(
    "parents updated and their blocking checks passed")


class PerceptionTranslator(DagsterDbtTranslator):
    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = manifest["nodes"].get(unique_id) or manifest["sources"].get(unique_id) or {}
        if props.get("resource_type") != "model":
            return spec
        layer = props["fqn"][1] if len(props["fqn"]) > 2 else "models"
        spec = spec.replace_attributes(key=dg.AssetKey([layer, props["name"]]), group_name=layer,
                                       automation_condition=BUILD_WHEN_PARENTS_UPDATE, owners=[DATA_PLATFORM])
        spec = spec.merge_attributes(tags={"layer": "perception", "dbt_layer": layer})
        if props["name"] in AGENT_INPUT_MARTS:
            spec = spec.replace_attributes(freshness_policy=AGENT_INPUT_FRESHNESS)
        return spec


def dbt_project() -> DbtProject:
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def build_dbt_assets() -> dg.AssetsDefinition:
    """The dbt graph from the prepared manifest (``make install`` / ``agentic-commerce dbt-parse``)."""
    @dbt_assets(
        manifest=require_manifest(),
        project=dbt_project(),
        dagster_dbt_translator=PerceptionTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)),
        pool=WAREHOUSE_POOL,
        name="dbt_build",
        op_tags=stage("dbt build (models + tests)"),
    )
    def dbt_build(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
        # profiles.yml reads the DuckDB path from this variable, so dbt writes the resource's warehouse
        invocation = dbt.cli(["build", "--vars", _vars({"warehouse_path": str(warehouse.path)})], context=context)
        events = list(invocation.stream())  # DuckDB: the warehouse is dbt's until the build ends
        with warehouse.connect(read_only=True) as connection:
            for event in events:
                yield with_table_metadata(event, connection, invocation.manifest)

    return dbt_build


def with_table_metadata(event, connection, manifest: Mapping[str, Any]):
    """A model's materialization with its column types and, for tables, its row count, read from the warehouse.

    One short read-only connection answers for the whole build in well under a second; dagster-dbt's own
    ``fetch_row_counts`` opens a dbt adapter in this process for the same, which took ~25 s here.
    """
    if not isinstance(event, dg.Output | dg.AssetMaterialization) or "unique_id" not in event.metadata:
        return event
    node = manifest["nodes"].get(event.metadata["unique_id"].value) or {}
    relation = node.get("relation_name")
    if not relation:
        return event
    documented = node.get("columns", {})
    columns = [dg.TableColumn(name, str(type_), description=documented.get(name, {}).get("description") or None)
               for name, type_, *_ in connection.execute(f"DESCRIBE {relation}").fetchall()]
    metadata = {**event.metadata, "dagster/column_schema": dg.TableSchema(columns=columns)}
    if node.get("config", {}).get("materialized") == "table":  # counting a view would run its query
        metadata["dagster/row_count"] = connection.execute(f"SELECT count(*) FROM {relation}").fetchone()[0]
    return event.with_metadata(metadata)


def _vars(values: dict[str, str]) -> str:
    import json

    return json.dumps(values)


def dbt_resource() -> DbtCliResource:
    # The dbt beside this interpreter, so runs work without the virtualenv on PATH.
    return DbtCliResource(project_dir=dbt_project(), profiles_dir=str(DBT_PROJECT_DIR),
                          dbt_executable=dbt_executable())
