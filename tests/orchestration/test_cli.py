"""The command line: help everywhere, clear errors for bad arguments, and the demo end to end."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.cli import build_parser, main

SUBCOMMANDS = ["demo", "simulate", "ingest", "train", "forecast", "bench", "publish", "status", "check-scenario",
               "dbt-parse", "ui", "sql"]
CLI = str(Path(sys.executable).parent / "agentic-commerce")


def test_every_subcommand_has_help(capsys):
    for command in [None, *SUBCOMMANDS]:
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--help"] if command else ["--help"])
        assert exit_info.value.code == 0
        assert "usage: agentic-commerce" in capsys.readouterr().out
    choices = build_parser()._subparsers._group_actions[0].choices
    assert sorted(choices) == sorted(SUBCOMMANDS)
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "models", "--help"])
    assert exit_info.value.code == 0
    assert "--scenario" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["ingest", "--date", "2025-13-01"], "'2025-13-01' is not a date (use YYYY-MM-DD)"),
    (["simulate", "--days", "0"], "0 must be 1 or more"),
    (["demo", "--products", "many"], "'many' is not a whole number"),
    (["simulate", "--scenario", "/nonexistent.yaml"], "/nonexistent.yaml: no such file"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["bench", "models", "--scenario", "/nonexistent.yaml"], "/nonexistent.yaml: no such file"),
    (["bench", "models", "--holdout-days", "0"], "0 must be 1 or more"),
    (["bench", "frobnicate"], "invalid choice: 'frobnicate'"),
])
def test_bad_arguments_are_rejected_with_the_reason(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("option", ["--dagster-port", "--mlflow-port"])
def test_ui_refuses_a_port_in_use_before_starting_anything(option, capsys):
    import socket

    with socket.socket() as server, socket.socket() as spare:
        server.bind(("127.0.0.1", 0))
        server.listen()
        spare.bind(("127.0.0.1", 0))  # a port nobody listens on, for the other server
        port, free = server.getsockname()[1], spare.getsockname()[1]
        other = "--mlflow-port" if option == "--dagster-port" else "--dagster-port"
        spare.close()
        assert main(["ui", option, str(port), other, str(free)]) == 2
    err = capsys.readouterr().err
    assert f"port {port} on 127.0.0.1 is not available" in err and option in err


def test_a_bad_scenario_file_names_the_key(tmp_path, capsys):
    scenario = tmp_path / "typo.yaml"
    scenario.write_text((Path("commerce_sim/scenarios/default.yaml").read_text()
                         .replace("  elasticity_mean:", "  elasticity_maen:")))
    assert main(["check-scenario", str(scenario)]) == 2
    error = capsys.readouterr().err
    assert "demand.elasticity_maen: unknown key" in error and str(scenario) in error


def test_ingest_rejects_an_inverted_range(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("AGENTIC_COMMERCE_DATA_DIR", str(tmp_path))
    assert main(["ingest", "--start", "2025-02-01", "--end", "2025-01-01"]) == 2
    assert "before --start" in capsys.readouterr().err


@pytest.mark.slow
def test_demo_runs_end_to_end_on_a_small_world(tmp_path):
    env = dict(os.environ, AGENTIC_COMMERCE_DATA_DIR=str(tmp_path / "data"))
    env.pop("DAGSTER_HOME", None)
    completed = subprocess.run([CLI, "demo", "--days", "3", "--products", "12", "--customers", "80"],
                               capture_output=True, text=True, env=env, timeout=600)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    out = completed.stdout
    for expected in ("Rows per source", "Checks:", "0 failed", "Times", "Analyst database:",
                     "duckdb -readonly", "category", "reasoning skipped: 3 days of history"):
        assert expected in out, expected
    assert (tmp_path / "data" / "analytics.duckdb").is_file()
    assert (tmp_path / "data" / "dagster_home" / "dagster.yaml").is_file()
    status = subprocess.run([CLI, "status"], capture_output=True, text=True, env=env, timeout=120)
    assert status.returncode == 0 and "3 batches" in status.stdout

    moved = tmp_path / "moved"
    (tmp_path / "data").rename(moved)  # a data directory can be moved (or copied) as a whole
    env["AGENTIC_COMMERCE_DATA_DIR"] = str(moved)
    again = subprocess.run([CLI, "demo"], capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "3 date(s) already ingested with the same batches" in again.stdout
    assert "nothing new to ingest" in again.stdout and "ingest_landed_batches" not in again.stdout


def test_bench_boundary_counts_what_became_of_generated_batches(tmp_path, monkeypatch, capsys):
    import json

    monkeypatch.setenv("AGENTIC_COMMERCE_DATA_DIR", str(tmp_path))
    assert main(["bench", "boundary", "--examples", "40", "--seed", "1", "--json", str(tmp_path / "b.json")]) == 0
    out = capsys.readouterr().out
    assert "escaped exceptions              0" in out and "invariant violations            0" in out
    result = json.loads((tmp_path / "b.json").read_text())
    assert result["generated"] == 40 and result["blocked"] + result["loaded"] == 40
    assert result["rows_landed"] == result["rows_loaded"] + result["rows_quarantined"]
