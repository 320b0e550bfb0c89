"""The reasoning graph materialized through Dagster: train + gate + register, then serve from the champion.

The marts come from a synthetic panel written straight into a warehouse (the perception graph has its
own test); what is tested here is the reasoning layer's wiring: MLflow versions and aliases, the gate
checks, and the served tables that record which model version produced them.
"""

from __future__ import annotations

import duckdb
import pytest

from tests.ml.panels import confounded_pricing_panel

pytestmark = pytest.mark.slow


SCHEDULED = 3  # products with a promotion scheduled on the first 2 days after the data


def marts_from_a_synthetic_panel(root):
    """A data directory whose warehouse and analyst database hold ``marts.fct_daily_sales`` and a
    promotion calendar (``marts.fct_promotion_days``) with promotions scheduled after the last day."""
    from warehouse.publish import publish_analytics
    from orchestration.settings import DataPaths

    paths = DataPaths(root)
    paths.root.mkdir(parents=True, exist_ok=True)
    panel, _ = confounded_pricing_panel(n_products=12, days=168, seed=21, base_units=3.0)
    with duckdb.connect(str(paths.warehouse)) as connection:
        connection.execute("CREATE SCHEMA marts")
        connection.register("panel", panel)
        connection.execute("CREATE TABLE marts.fct_daily_sales AS SELECT * FROM panel")
        connection.execute(f"""
            CREATE TABLE marts.fct_promotion_days AS
            WITH series AS (SELECT DISTINCT product_id, channel FROM panel ORDER BY ALL LIMIT {SCHEDULED}),
                 last AS (SELECT max(date) AS day FROM panel)
            SELECT CAST(last.day + INTERVAL (d) DAY AS DATE) AS date, product_id, channel, 'PR' || product_id AS promo_id,
                   25.0 AS discount_pct, 'markdown' AS promo_type, CAST(last.day - INTERVAL 3 DAY AS DATE) AS announced_on
            FROM series, last, range(1, 3) t(d)""")
    publish_analytics(paths.warehouse, paths.analytics)
    return paths


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return marts_from_a_synthetic_panel(tmp_path_factory.mktemp("reasoning-data"))


def _materialize(paths, assets):
    import dagster as dg

    from orchestration.definitions import build_resources

    return dg.materialize(assets, resources=build_resources(paths), instance=dg.DagsterInstance.ephemeral(),
                          raise_on_error=False)


def test_training_then_serving_records_versions_and_gates(data_dir):
    from ml.registry import ModelRegistry
    from orchestration.defs.reasoning.models import GATE_CHECK, model_assets
    from orchestration.defs.analytics import build_publish_asset
    from orchestration.defs.reasoning.serving import serving_assets

    trained = _materialize(data_dir, model_assets())
    assert trained.success
    gates = {c.asset_key.to_user_string(): c for c in trained.get_asset_check_evaluations()}
    assert set(gates) == {"models/demand_forecast", "models/price_elasticity"}
    assert all(c.check_name == GATE_CHECK and c.passed for c in gates.values())  # first versions win
    assert "first version" in gates["models/demand_forecast"].description

    registry = ModelRegistry(data_dir.mlflow)
    assert int(registry.champion_version("demand_forecast").version) == 1
    assert int(registry.champion_version("price_elasticity").version) == 1

    served_keys = [key for asset in serving_assets() for key in asset.keys]
    served = _materialize(data_dir, [*serving_assets(), build_publish_asset(served_keys)])  # then published
    assert served.success
    with duckdb.connect(str(data_dir.analytics), read_only=True) as connection:
        forecasts = connection.execute("""
            SELECT count(*), count(DISTINCT product_id), min(horizon), max(horizon), min(model_version),
                   max(model_version), bool_and(p10 <= p50 AND p50 <= p90)
            FROM reasoning.demand_forecasts""").fetchone()
        types = dict(connection.execute("""SELECT column_name, data_type FROM information_schema.columns
            WHERE table_schema = 'reasoning' AND table_name = 'demand_forecasts'""").fetchall())
        planned = connection.execute("""
            SELECT count(*), min(horizon), max(horizon), min(planned_discount_pct)
            FROM reasoning.demand_forecasts WHERE planned_discount_pct IS NOT NULL""").fetchone()
        elasticities = connection.execute(
            "SELECT count(*), min(model_version), bool_and(ci_low < ci_high) FROM reasoning.price_elasticities"
        ).fetchone()
    assert forecasts == (12 * 14, 12, 1, 14, 1, 1, True)
    assert planned == (SCHEDULED * 2, 1, 2, 25.0)  # the scheduled promotions planned the forecast
    assert (types["origin"], types["date"], types["horizon"]) == ("DATE", "DATE", "BIGINT")  # joins the marts
    assert elasticities == (12, 1, True)


def test_a_second_training_registers_a_new_version_and_the_check_records_the_comparison(data_dir):
    from ml.registry import ModelRegistry
    from orchestration.defs.reasoning.models import model_assets

    result = _materialize(data_dir, model_assets()[1:])  # price_elasticity again, on the same data
    assert result.success
    (check,) = result.get_asset_check_evaluations()
    assert check.passed and not check.metadata["promoted"].value  # a tie passes, and the champion stays
    assert check.metadata["previous_champion_version"].value == 1
    assert int(ModelRegistry(data_dir.mlflow).champion_version("price_elasticity").version) == 1


def test_the_cli_trains_then_refreshes_through_dagster(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    cli = str(Path(sys.executable).parent / "agentic-commerce")
    env = dict(os.environ, AGENTIC_COMMERCE_DATA_DIR=str(tmp_path / "empty"))
    env.pop("DAGSTER_HOME", None)
    refused = subprocess.run([cli, "train"], capture_output=True, text=True, env=env, timeout=300)
    assert refused.returncode == 2 and "no warehouse" in refused.stderr

    paths = marts_from_a_synthetic_panel(tmp_path / "data")
    env["AGENTIC_COMMERCE_DATA_DIR"] = str(paths.root)
    trained = subprocess.run([cli, "train"], capture_output=True, text=True, env=env, timeout=600)
    assert trained.returncode == 0, trained.stdout[-2000:] + trained.stderr[-2000:]
    assert "models/demand_forecast champion_gate: promoted" in trained.stdout
    assert "reasoning.demand_forecasts: 168 rows" in trained.stdout
    refreshed = subprocess.run([cli, "forecast"], capture_output=True, text=True, env=env, timeout=600)
    assert refreshed.returncode == 0, refreshed.stdout[-2000:] + refreshed.stderr[-2000:]
    assert "train_models" not in refreshed.stdout and "refresh_forecasts: run" in refreshed.stdout
