"""``ui`` and ``sql``: the Dagster and MLflow UIs over the data directory, and the analyst's SQL shell.

``ui`` is sized for two cores: one MLflow web worker and no MLflow job runner (its consumers idle
otherwise), Dagster's services logging warnings only. Both servers write to log files in
``<data>/logs``; the terminal shows where to look and which server stopped, if one does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from orchestration.cli.errors import CliError
from orchestration.cli.output import say
from orchestration.cli.platform import Platform
from orchestration.settings import PROJECT_ROOT, child_environment

TAIL_LINES = 15


def _require_free_port(host: str, port: int, option: str) -> None:
    """Fail before starting anything when a port is taken (typically by another `make ui`): otherwise one
    server dies on start-up with a bare "Address already in use" and takes the other down with it."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: TIME_WAIT is no conflict
        try:
            probe.bind((host, port))
        except OSError as error:
            raise CliError(f"port {port} on {host} is not available ({error.strerror}): is another `make ui` "
                           f"running? Stop it or pick another port with {option}") from error


def server_commands(platform: Platform, host: str, dagster_port: int, mlflow_port: int) -> dict[str, list[str]]:
    binaries = Path(sys.executable).parent
    mlflow = platform.paths.mlflow
    return {
        "dagster": [str(binaries / "dagster"), "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"), "-h", host,
                    "-p", str(dagster_port), "--log-level", "warning"],
        "mlflow": [str(binaries / "mlflow"), "server", "--backend-store-uri", f"sqlite:///{mlflow / 'mlflow.db'}",
                   "--default-artifact-root", str(mlflow / "artifacts"), "--host", host, "--port", str(mlflow_port),
                   "--workers", "1"],
    }


def ui(args) -> int:
    from orchestration.dbt import prepare_manifest
    from orchestration.instance import ensure_dagster_home

    _require_free_port(args.host, args.dagster_port, "--dagster-port")
    _require_free_port(args.host, args.mlflow_port, "--mlflow-port")
    platform = Platform()
    paths = platform.paths
    ensure_dagster_home(paths)
    prepare_manifest()
    paths.mlflow.mkdir(parents=True, exist_ok=True)
    environment = {**child_environment(paths), "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    logs = {name: paths.logs / f"{name}-ui.log" for name in ("dagster", "mlflow")}
    processes = {}
    for name, command in server_commands(platform, args.host, args.dagster_port, args.mlflow_port).items():
        with logs[name].open("a") as log:
            processes[name] = subprocess.Popen(command, cwd=PROJECT_ROOT, env=environment, stdout=log,
                                               stderr=subprocess.STDOUT)
    say(f"Dagster UI: http://{args.host}:{args.dagster_port}   MLflow UI: http://{args.host}:{args.mlflow_port}")
    say(f"data directory: {paths.root}; server logs: {logs['dagster']}, {logs['mlflow']}  (Ctrl-C stops both)")
    try:
        while all(process.poll() is None for process in processes.values()):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    exited = {name: p.returncode for name, p in processes.items() if p.returncode not in (0, None, -2, 130)}
    for name, code in exited.items():
        say(f"{name} exited with code {code}; both servers are stopped. The end of {logs[name]}:")
        say("".join(logs[name].read_text(errors="replace").splitlines(keepends=True)[-TAIL_LINES:]))
    return 1 if exited else 0


def sql(args) -> int:
    """Replace this process with the DuckDB shell on the analyst database, read-only."""
    paths = Platform().paths
    if not paths.analytics.is_file():
        raise CliError(f"no analyst database at {paths.analytics}: run `make demo` (or `agentic-commerce ingest`) first")
    shell = Path(sys.executable).parent / "duckdb"
    if not shell.exists():
        raise CliError(f"the DuckDB shell is not installed at {shell}: run `make install`")
    os.execv(str(shell), [str(shell), "-readonly", str(paths.analytics), *args.extra])
    return 0  # not reached
