"""The Dagster code location loads lazily and has the shape the UI should show."""

import dagster as dg
import pytest

from data_quality.contracts import SOURCES


@pytest.fixture(scope="module")
def defs(paths):
    from orchestration.definitions import build_defs

    return build_defs(paths)


@pytest.fixture(scope="module")
def graph(defs):
    return defs.resolve_asset_graph()


def test_definitions_load_and_validate(defs):
    dg.Definitions.validate_loadable(defs)


def test_importing_the_code_location_does_no_work(tmp_path):
    """No environment change and no subprocess at import: ``defs`` is built when Dagster loads it."""
    import os
    import subprocess
    import sys

    probe = """
import os, subprocess
import dagster, dagster_dbt  # what they do at import is theirs; ours is measured from here
spawned = []
original = subprocess.Popen.__init__
subprocess.Popen.__init__ = lambda self, *a, **k: spawned.append(a) or original(self, *a, **k)
before = dict(os.environ)
import orchestration.definitions as code_location
assert dict(os.environ) == before, set(os.environ.items()) ^ set(before.items())
assert not spawned, spawned
print(type(code_location.defs).__name__)
"""
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "AGENTIC_COMMERCE_DATA_DIR")}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-1] == "LazyDefinitions"


def test_the_workspace_loads_the_way_the_ui_loads_it(tmp_path):
    """`make ui` runs `dagster dev -w workspace.yaml`, whose loader is stricter than importing ``defs``
    (it refuses a module holding two ``Definitions`` objects): ask Dagster's own validator."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "AGENTIC_COMMERCE_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run([sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
                            cwd=root, env=env, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "All code locations passed validation" in output, output[-3000:]


def test_without_paths_the_data_directory_comes_from_the_environment_when_a_run_starts(monkeypatch, tmp_path):
    from orchestration.definitions import build_resources

    monkeypatch.setenv("AGENTIC_COMMERCE_DATA_DIR", str(tmp_path))
    warehouse = build_resources()["warehouse"]
    assert isinstance(warehouse.data_dir.root, dg.EnvVar)
    assert warehouse.data_dir.root.env_var_name == "AGENTIC_COMMERCE_DATA_DIR"


def test_perception_is_shown_as_its_layers(graph):
    keys = graph.get_all_asset_keys()
    groups = {key: graph.get(key).group_name for key in keys if graph.get(key).is_materializable}
    assert set(groups.values()) == {"raw", "staging", "intermediate", "marts", "analytics", "reasoning"}
    for key, group in groups.items():
        expected = {"models": "reasoning", "reasoning": "reasoning"}.get(key.path[0], key.path[0])
        assert group == expected, key
    assert all(graph.get(key).owners for key in groups), "every asset names its owner"


def test_every_landed_table_has_an_ingest_asset_with_boundary_checks(graph):
    check_keys = graph.asset_check_keys
    for source in SOURCES.values():
        for table in source.tables:
            key = dg.AssetKey(["raw", table.table])
            assert key in graph.get_all_asset_keys()
            for check in ("batches_complete", "rows_valid", "landed_reconciles"):
                assert dg.AssetCheckKey(key, check) in check_keys


def test_dbt_tests_are_asset_checks_on_the_marts(graph):
    mart_checks = [key for key in graph.asset_check_keys if key.asset_key.path[0] == "marts"]
    assert len(mart_checks) >= 20
    assert any(key.asset_key == dg.AssetKey(["marts", "fct_daily_sales"]) for key in mart_checks)


def test_what_agents_read_has_freshness_policies(graph):
    for key in (["marts", "fct_daily_sales"], ["marts", "fct_inventory_daily"], ["marts", "fct_competitor_prices"],
                ["marts", "dim_products"], ["reasoning", "demand_forecasts"], ["reasoning", "price_elasticities"]):
        assert graph.get(dg.AssetKey(key)).freshness_policy is not None, key


def test_ingestion_is_partitioned_by_landed_date_and_backfills_in_one_run(defs):
    for source in SOURCES.values():
        assets_def = defs.resolve_assets_def(dg.AssetKey(["raw", source.tables[0].table]))
        assert isinstance(assets_def.partitions_def, dg.DynamicPartitionsDefinition)
        assert assets_def.partitions_def.name == "batch_dates"
        assert assets_def.backfill_policy == dg.BackfillPolicy.single_run()


def test_every_warehouse_reader_and_writer_is_in_the_single_writer_pool(defs):
    writers = [dg.AssetKey(["raw", "orders"]), dg.AssetKey(["marts", "fct_daily_sales"]),
               dg.AssetKey(["analytics", "analytics_db"]), dg.AssetKey(["reasoning", "demand_forecasts"]),
               dg.AssetKey(["reasoning", "price_elasticities"]), dg.AssetKey(["models", "demand_forecast"]),
               dg.AssetKey(["models", "price_elasticity"])]
    for key in writers:
        assert defs.resolve_assets_def(key).op.pool == "duckdb_warehouse", key


def test_the_analyst_database_is_downstream_of_everything_it_publishes(graph):
    parents = graph.get(dg.AssetKey(["analytics", "analytics_db"])).parent_keys
    assert dg.AssetKey(["marts", "fct_daily_sales"]) in parents
    assert {dg.AssetKey(["reasoning", "demand_forecasts"]), dg.AssetKey(["reasoning", "price_elasticities"])} <= parents
    models = graph.get(dg.AssetKey(["models", "demand_forecast"])).parent_keys
    assert dg.AssetKey(["analytics", "analytics_db"]) not in models  # the models read the marts themselves


def test_landing_sensor_targets_ingestion_and_automation_does_the_rest(defs, graph):
    sensor = defs.resolve_sensor_def("landing_batches_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.job_name == "ingest_landed_batches"
    automation = defs.resolve_sensor_def("automation")
    assert automation.default_status == dg.DefaultSensorStatus.RUNNING
    conditions = {key: graph.get(key).automation_condition for key in graph.get_all_asset_keys()
                  if graph.get(key).is_materializable}
    assert all(conditions[key] is not None for key in conditions if key.path[0] != "raw")
    assert all(conditions[key] is None for key in conditions if key.path[0] == "raw")  # the landing sensor's
    names = {sensor.name for sensor in defs.sensors}
    assert not {"build_marts_after_ingest", "refresh_forecasts_after_build"} & names  # no run-status chain


def test_jobs_a_person_launches(defs):
    def keys(job):
        return {key.to_user_string() for key in defs.resolve_job_def(job).asset_layer.executable_asset_keys}

    assert {key.split("/")[0] for key in keys("ingest_landed_batches")} == {"raw"}
    assert keys("train_models") == {"models/demand_forecast", "models/price_elasticity"}
    assert keys("refresh_forecasts") == {"reasoning/demand_forecasts", "reasoning/price_elasticities",
                                         "analytics/analytics_db"}
    assert {key.split("/")[0] for key in keys("build_marts")} == {"staging", "intermediate", "marts", "analytics"}


def test_models_train_weekly_with_a_champion_gate_check(graph):
    for name in ("demand_forecast", "price_elasticity"):
        key = dg.AssetKey(["models", name])
        assert dg.AssetCheckKey(key, "champion_gate") in graph.asset_check_keys
        assert "0 3 * * 1" in str(graph.get(key).automation_condition.get_label() or
                                  graph.get(key).automation_condition)
