"""What the terminal shows: our messages and progress. Library logs go to a file.

Dagster, dbt, MLflow and Great Expectations log generously; a user running a command wants the
progress, the summary and real problems. :func:`quiet_libraries` sends every library logger (and
Python warnings) to ``<data_dir>/logs/agentic-commerce.log`` instead of the terminal.
"""

from __future__ import annotations

import logging
import sys
import time
import warnings
from pathlib import Path

LOG_FILE = "agentic-commerce.log"
BAR_WIDTH = 30


def say(message: str = "") -> None:
    print(message, flush=True)


def quiet_libraries(log_dir: Path) -> Path:
    """Route library logging and Python warnings to a log file; returns the file's path."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / LOG_FILE
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    warnings.simplefilter("default")
    return path


class Progress:
    """A progress bar on a terminal (one line, redrawn), a line every ``every`` steps elsewhere."""

    def __init__(self, label: str, total: int, *, every: int = 30) -> None:
        self.label, self.total, self.every = label, max(total, 1), every
        self.started = time.perf_counter()
        self.tty = sys.stdout.isatty()

    def update(self, done: int, detail: str = "") -> None:
        elapsed = time.perf_counter() - self.started
        if self.tty:
            filled = int(BAR_WIDTH * done / self.total)
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            end = "\n" if done >= self.total else ""
            sys.stdout.write(f"\r  {self.label} [{bar}] {done}/{self.total} {detail} {elapsed:5.1f} s{end}")
            sys.stdout.flush()
        elif done >= self.total or done % self.every == 0:
            say(f"  {self.label} {done}/{self.total} {detail} ({elapsed:.1f} s)")


def step_line(report) -> None:
    """One line per finished run (its steps were shown as they finished), and its failure if any."""
    status = "succeeded" if report.success else "FAILED"
    say(f"  {report.job}: run {report.run_id} {status} in {report.seconds:.1f} s")
    if report.failure:
        say(f"    failure: {report.failure[:500]}")
