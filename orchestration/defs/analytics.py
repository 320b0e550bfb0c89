"""The analyst database: a read-only snapshot of everything analysts query, republished after it changes.

It is downstream of every table it publishes — the marts and the reasoning tables — so the lineage
in the UI is what the file holds, and one automation tick that rebuilds the marts and the forecasts
publishes once, after both.
"""

import dagster as dg

from orchestration.defs.tags import DATA_PLATFORM, stage
from orchestration.resources import WAREHOUSE_POOL, AnalystDatabase

ANALYTICS_KEY = dg.AssetKey(["analytics", "analytics_db"])
GROUP = "analytics"
CODE_VERSION = "publish-1"
# Unlike eager(), a table that does not exist yet (no model trained) does not hold back the others.
PUBLISH_WHEN_UPDATED = (dg.AutomationCondition.eager().without(~dg.AutomationCondition.any_deps_missing())
                        & dg.AutomationCondition.all_deps_blocking_checks_passed()).with_label(
    "a published table updated and its blocking checks passed")


def build_publish_asset(published_keys: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=ANALYTICS_KEY,
        group_name=GROUP,
        deps=published_keys,
        pool=WAREHOUSE_POOL,
        kinds={"duckdb"},
        owners=[DATA_PLATFORM],
        code_version=CODE_VERSION,
        automation_condition=PUBLISH_WHEN_UPDATED,
        op_tags=stage("publish analyst database"),
        tags={"layer": "perception"},
        description="analytics.duckdb: read-only snapshot of the marts, the reasoning tables, ingest.quarantine "
                    "and ingest.batches for analysts, swapped in atomically so queries never meet the writer's lock.",
    )
    def analytics_db(context: dg.AssetExecutionContext, analyst_db: AnalystDatabase) -> dg.MaterializeResult:
        summary = analyst_db.publish(context.run_id)
        context.log.info(f"published {len(summary.tables)} tables to {summary.path} in {summary.seconds:.1f} s")
        return dg.MaterializeResult(metadata={
            "path": dg.MetadataValue.path(str(summary.path)),
            "tables": dg.MetadataValue.json(summary.tables),
            "seconds": round(summary.seconds, 2),
            "example": dg.MetadataValue.md(f"`make sql` (or `.venv/bin/duckdb -readonly {summary.path}`) then "
                                           "`select channel, sum(revenue) from fct_daily_sales group by 1;`"),
        })

    return analytics_db


def analytics_definitions(published: list[dg.AssetKey]) -> dg.Definitions:
    return dg.Definitions(assets=[build_publish_asset(sorted(published, key=lambda k: k.to_user_string()))])
