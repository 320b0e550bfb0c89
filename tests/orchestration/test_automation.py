"""Declarative automation: what Dagster's automation sensor requests after ingestion, and what it holds back."""

import datetime as dt
import shutil

import dagster as dg
import pytest

pytestmark = pytest.mark.slow


def _requested(platform, cursor):
    result = dg.evaluate_automation_conditions(defs=platform.defs, instance=platform.instance, cursor=cursor)
    keys = {r.key.to_user_string() for r in result.results if result.get_num_requested(r.key)}
    return keys, result.cursor


def test_a_good_batch_rebuilds_everything_below_it_and_a_blocked_one_nothing(perception_run, platform, small_world,
                                                                             tmp_path):
    from orchestration.jobs import INGEST_JOB

    _, cursor = _requested(platform, None)  # the first evaluation only learns the current state
    runner = platform.runner("automation-test")
    day = (small_world.scenario.start_date + dt.timedelta(days=3)).isoformat()
    assert runner.run(INGEST_JOB, partition_key=day).success
    requested, cursor = _requested(platform, cursor)
    assert "marts/fct_daily_sales" in requested and "staging/stg_oms__orders" in requested
    assert "analytics/analytics_db" in requested  # published once, after everything it publishes
    assert not {key for key in requested if key.startswith(("raw/", "models/"))}  # ingestion and training: not this
    assert "reasoning/demand_forecasts" not in requested  # no champion model yet: nothing to serve

    prices = platform.paths.landing / "prices" / day / "prices.csv"
    backup = tmp_path / "prices.csv"
    shutil.copy(prices, backup)
    lines = prices.read_text().splitlines()
    prices.write_text("\n".join(",".join(line.split(",")[:-1]) for line in lines) + "\n")  # drop a column
    try:
        assert not runner.run(INGEST_JOB, partition_key=day).success  # blocked: its blocking check failed
        blocked, cursor = _requested(platform, cursor)
        assert not {key for key in blocked if key.startswith(("staging/", "intermediate/", "marts/"))}
    finally:
        shutil.copy(backup, prices)
        assert runner.run(INGEST_JOB, partition_key=day).success  # leave the shared world as it was
