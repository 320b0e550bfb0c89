"""`agentic-commerce ingest` refuses what cannot or should not run, before any run starts."""

import shutil

import dagster as dg
import pytest

from data_quality.manifest import MANIFEST_FILE
from orchestration.cli import main


@pytest.fixture
def landed(tmp_path, small_world, monkeypatch):
    """A data directory with the small world's landing zone and nothing ingested."""
    shutil.copytree(small_world.landing, tmp_path / "landing")
    monkeypatch.setenv("AGENTIC_COMMERCE_DATA_DIR", str(tmp_path))
    return tmp_path


def test_a_date_that_never_landed_is_refused_in_one_line_and_nothing_runs(landed, small_world, capsys):
    assert main(["ingest", "--date", "2026-03-01"]) == 2
    error = capsys.readouterr().err.strip()
    first = small_world.scenario.start_date
    assert error.startswith("agentic-commerce ingest: 2026-03-01 never landed") and str(first) in error
    assert len(error.splitlines()) == 1
    assert not (landed / "dagster_home").exists() and not (landed / "warehouse.duckdb").exists()


def test_a_date_still_landing_is_refused(landed, small_world, capsys):
    day = small_world.scenario.start_date
    (landed / "landing" / "orders" / day.isoformat() / MANIFEST_FILE).unlink()
    assert main(["ingest", "--date", day.isoformat()]) == 2
    assert f"{day} still landing ({day} waits for orders)" in capsys.readouterr().err


def test_a_date_another_run_is_ingesting_is_refused(landed, small_world, capsys):
    from orchestration.cli.platform import Platform
    from orchestration.jobs import INGEST_JOB

    day = small_world.scenario.start_date.isoformat()
    instance = Platform().instance
    instance.add_run(dg.DagsterRun(job_name=INGEST_JOB, status=dg.DagsterRunStatus.STARTED,
                                   tags={"dagster/partition": day}))
    assert main(["ingest", "--date", day]) == 2
    assert f"{day} being ingested by another run right now" in capsys.readouterr().err


def test_in_flight_dates_include_every_date_of_a_ranged_run(landed):
    from orchestration.cli.platform import Platform
    from orchestration.jobs import INGEST_JOB
    from orchestration.runner import in_flight_dates

    instance = Platform().instance
    instance.add_dynamic_partitions("batch_dates", ["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-04"])
    instance.add_run(dg.DagsterRun(job_name=INGEST_JOB, status=dg.DagsterRunStatus.STARTING, tags={
        "dagster/asset_partition_range_start": "2025-01-02", "dagster/asset_partition_range_end": "2025-01-03"}))
    instance.add_run(dg.DagsterRun(job_name=INGEST_JOB, status=dg.DagsterRunStatus.SUCCESS,
                                   tags={"dagster/partition": "2025-01-04"}))  # finished: not in flight
    assert in_flight_dates(instance) == {"2025-01-02", "2025-01-03"}
