"""The publish step: refresh the read-only analyst database after a successful build."""


import dagster as dg

from orchestration.resources import DataDirectory
from orchestration.warehouse import WAREHOUSE_POOL

ANALYTICS_KEY = dg.AssetKey(["analytics", "analytics_db"])


def build_publish_asset(mart_keys: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=ANALYTICS_KEY,
        group_name="perception",
        deps=mart_keys,
        pool=WAREHOUSE_POOL,
        kinds={"duckdb"},
        tags={"layer": "perception"},
        description="analytics.duckdb: read-only snapshot of the marts (plus ingest.quarantine and "
                    "ingest.batches) for analysts, swapped in atomically so queries never meet the writer's lock.",
    )
    def analytics_db(context: dg.AssetExecutionContext, data_dir: DataDirectory) -> dg.MaterializeResult:
        from orchestration.publish import publish_analytics

        paths = data_dir.paths
        summary = publish_analytics(paths.warehouse, paths.analytics, context.run_id)
        return dg.MaterializeResult(metadata={
            "path": dg.MetadataValue.path(str(summary.path)),
            "tables": dg.MetadataValue.json(summary.tables),
            "seconds": round(summary.seconds, 2),
            "example": dg.MetadataValue.md(f"`duckdb -readonly {summary.path}` then "
                                           "`select channel, sum(revenue) from fct_daily_sales group by 1;`"),
        })

    return analytics_db
