"""Ingest assets: one step per source, one asset per raw table, partitioned by batch date.

Each step reads its landed batches for the run's partition(s), validates them at the boundary
(``data_quality.boundary``), replaces those dates in ``raw.*`` and the quarantine
(``warehouse.raw``), and reports three checks on each table:

- ``batches_complete`` (blocking): every batch was structurally usable; a blocked batch names its
  file and problem, and nothing downstream runs on it;
- ``rows_valid``: the Great Expectations suite's row-level results; quarantined rows are expected in
  real data, so this warns only when the share of rejected rows is unusual;
- ``landed_reconciles`` (blocking): for every batch, rows landed = loaded + quarantined, counted in
  the tables themselves.

A history backfill is one run (``BackfillPolicy.single_run``): validation runs once over the whole
range, not 365 times. Dagster records the run's materialization on every partition it covered, so
``dagster/row_count`` (a per-partition figure in the UI) is reported only by single-date runs; a
ranged run reports its totals under names that say so, and a table of rows per date when the range
is short (``PER_DATE_TABLE_MAX_DATES``). Dagster copies the event onto each partition, so a table on
a year's backfill would be stored 365 times over (measured: 120 dates took ~8 ms more per event); a
long range points to ``ingest.batch_status`` in the warehouse instead, which holds the same figures.
"""

import dagster as dg

from data_quality.contracts import SOURCES, SourceContract
from orchestration.defs.tags import DATA_PLATFORM, stage
from orchestration.partitions import BATCH_DATES, partition_dates
from orchestration.resources import WAREHOUSE_POOL, LandingZone, Warehouse

GROUP = "raw"
CODE_VERSION = "boundary-1"  # bump when validation or loading changes what lands in raw.*
ROWS_VALID_MAX_SHARE = 0.01  # more than 1% of rows quarantined is unusual for these sources
PER_DATE_TABLE_MAX_DATES = 31  # a month: longer ranges point to ingest.batch_status (see the docstring)
MASTER_SOURCE = "catalog"  # products, channels: the reference every other source is checked against
PER_DATE_SCHEMA = dg.TableSchema(columns=[
    dg.TableColumn("batch_date", "date"), dg.TableColumn("status", "string"),
    dg.TableColumn("rows_landed", "int"), dg.TableColumn("rows_loaded", "int"),
    dg.TableColumn("rows_quarantined", "int")])


def raw_asset_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", table])


def master_keys() -> list[dg.AssetKey]:
    return [raw_asset_key(t.table) for t in SOURCES[MASTER_SOURCE].tables]


def _check_specs(key: dg.AssetKey, contract: SourceContract) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec("batches_complete", asset=key, blocking=True,
                          description=f"Every {contract.system} batch has its manifest, files, encoding and columns "
                                      f"as the contract says; blocked batches are named with their problem."),
        dg.AssetCheckSpec("rows_valid", asset=key,
                          description=f"Great Expectations row-level suite for this table; warns when more than "
                                      f"{ROWS_VALID_MAX_SHARE:.0%} of rows are quarantined."),
        dg.AssetCheckSpec("landed_reconciles", asset=key, blocking=True,
                          description="For every batch, rows landed = rows loaded + rows quarantined, counted in "
                                      "raw and ingest.quarantine."),
    ]


def build_ingest_asset(contract: SourceContract) -> dg.AssetsDefinition:
    """One step per source (its files share a manifest), one asset per raw table."""
    deps = [] if contract.name == MASTER_SOURCE else master_keys()
    specs = [
        dg.AssetSpec(
            raw_asset_key(table.table),
            group_name=GROUP,
            deps=deps,
            kinds={"duckdb", table.format},
            owners=[DATA_PLATFORM],
            code_version=CODE_VERSION,
            tags={"layer": "perception", "source": contract.name},
            description=f"{table.description}. From landing/{contract.name}/<date>/{table.file_name} "
                        f"({contract.system}), validated at the boundary.",
            metadata={"landing_file": f"landing/{contract.name}/<YYYY-MM-DD>/{table.file_name}",
                      "source_system": contract.system,
                      "dagster/column_schema": dg.TableSchema(columns=[
                          dg.TableColumn(c.name, c.type, description=c.description or None) for c in table.columns])},
        )
        for table in contract.tables
    ]
    checks = [check for spec in specs for check in _check_specs(spec.key, contract)]

    @dg.multi_asset(
        name=f"ingest_{contract.name}",
        specs=specs,
        check_specs=checks,
        partitions_def=BATCH_DATES,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=WAREHOUSE_POOL,
        op_tags=stage(f"ingest + validate {contract.name}"),
        description=f"Ingest the {contract.system} batches ({contract.name}).",
    )
    def ingest(context: dg.AssetExecutionContext, landing: LandingZone, warehouse: Warehouse):
        from data_quality.boundary import validate_source
        from warehouse.raw import reconcile, reference_data, store_validation

        dates = partition_dates(context)
        context.log.info(f"validating {len(dates)} {contract.name} batch(es) {dates[0]} .. {dates[-1]}")
        result = validate_source(landing.path, contract, dates, reference_data(warehouse.path))
        store_validation(warehouse.path, result, context.run_id)
        balance = reconcile(warehouse.path, contract.name, dates)
        blocked = result.blocked
        context.log.info(f"{contract.name}: {result.rows_loaded:,} rows loaded, {result.rows_quarantined:,} "
                         f"quarantined, {len(blocked)} of {len(result.batches)} batch(es) blocked")
        for outcome in blocked:
            context.log.error(f"blocked {contract.name} batch {outcome.batch_date}: {outcome.message}")
        unbalanced = balance[~balance["balanced"]]
        for table in contract.tables:
            yield from _table_results(contract, table.table, result, blocked, unbalanced, balance)

    return ingest


def _count_by_date(dates) -> dict[str, int]:
    import pandas as pd

    return pd.to_datetime(dates).dt.strftime("%Y-%m-%d").value_counts().to_dict()


def _per_date(result, table: str) -> list[dg.TableRecord]:
    """Rows landed, loaded and quarantined per batch date for one table."""
    loaded = result.loaded.get(table)
    quarantine = result.quarantine[result.quarantine["table_name"] == table]
    loaded_by_date = _count_by_date(loaded["_batch_date"]) if loaded is not None and len(loaded) else {}
    quarantined_by_date = _count_by_date(quarantine["batch_date"]) if len(quarantine) else {}
    records = []
    for outcome in result.batches:
        date = str(outcome.batch_date)
        rows_loaded, rows_quarantined = int(loaded_by_date.get(date, 0)), int(quarantined_by_date.get(date, 0))
        records.append(dg.TableRecord({"batch_date": date, "status": outcome.status,
                                       "rows_landed": rows_loaded + rows_quarantined, "rows_loaded": rows_loaded,
                                       "rows_quarantined": rows_quarantined}))
    return records


def _table_results(contract, table, result, blocked, unbalanced, balance):
    key = raw_asset_key(table)
    quarantine = result.quarantine[result.quarantine["table_name"] == table]
    loaded = len(result.loaded.get(table, []))
    landed = loaded + len(quarantine)
    single_date = len(result.batches) == 1
    totals = {"rows_landed": landed, "rows_loaded": loaded, "rows_quarantined": len(quarantine)}
    metadata = {"batches": len(result.batches), "batches_blocked": len(blocked)}
    if single_date:
        metadata.update({**totals, "dagster/row_count": loaded})
    else:  # the same event lands on every partition of the range: say that these are the run's totals
        metadata.update({f"run_{name}": value for name, value in totals.items()})
        if len(result.batches) <= PER_DATE_TABLE_MAX_DATES:
            metadata["rows_per_date"] = dg.MetadataValue.table(_per_date(result, table), schema=PER_DATE_SCHEMA)
        else:
            metadata["rows_per_date"] = dg.MetadataValue.md(
                f"{len(result.batches)} dates: `SELECT * FROM ingest.batch_status WHERE source = "
                f"'{contract.name}' ORDER BY batch_date` in the warehouse")
    yield dg.MaterializeResult(asset_key=key, metadata=metadata)
    yield dg.AssetCheckResult(
        asset_key=key,
        check_name="batches_complete",
        passed=not blocked,
        severity=dg.AssetCheckSeverity.ERROR,
        description=("all batches usable" if not blocked else
                     f"{len(blocked)} blocked {contract.name} batch(es); first {blocked[0].batch_date}: "
                     f"{blocked[0].message}"),
        metadata={"blocked": dg.MetadataValue.json(
            [{"batch_date": str(b.batch_date), "problems": b.problems} for b in blocked[:50]])},
    )
    share = len(quarantine) / landed if landed else 0.0
    stats = [s for s in result.expectation_stats if s.table == table]
    failing = sorted((s for s in stats if s.failed_rows), key=lambda s: -s.failed_rows)
    yield dg.AssetCheckResult(
        asset_key=key,
        check_name="rows_valid",
        passed=share <= ROWS_VALID_MAX_SHARE,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{len(quarantine)} of {landed} rows quarantined ({share:.3%})",
        metadata={
            "quarantined_share": round(share, 6),
            "expectations_evaluated": len(stats),
            "failed_expectations": dg.MetadataValue.json(
                [{"expectation": s.expectation, "reason": s.reason, "rows": s.failed_rows} for s in failing]),
        },
    )
    yield dg.AssetCheckResult(
        asset_key=key,
        check_name="landed_reconciles",
        passed=unbalanced.empty,
        severity=dg.AssetCheckSeverity.ERROR,
        description=("landed = loaded + quarantined for every batch" if unbalanced.empty else
                     f"{len(unbalanced)} {contract.name} batch(es) do not reconcile, first "
                     f"{unbalanced.iloc[0]['batch_date']}"),
        metadata={"rows_landed": int(balance["rows_landed"].sum()),
                  "rows_loaded": int(balance["rows_loaded"].sum()),
                  "rows_quarantined": int(balance["rows_quarantined"].sum())},
    )


def ingest_assets() -> list[dg.AssetsDefinition]:
    return [build_ingest_asset(contract) for contract in SOURCES.values()]
