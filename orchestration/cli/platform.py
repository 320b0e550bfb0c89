"""The data directory a command works on and, built when first needed, Dagster over it."""

from __future__ import annotations

import datetime as dt
import sys
from functools import cached_property

from orchestration.cli.output import LOG_FILE
from orchestration.settings import DataPaths, data_paths


class Platform:
    """One data directory: its paths, the Dagster definitions and instance over it, and a job runner."""

    def __init__(self, paths: DataPaths | None = None) -> None:
        self.paths = paths or data_paths()
        self.log_file = self.paths.logs / LOG_FILE  # where main() sends library logs

    @cached_property
    def defs(self):
        from orchestration.definitions import build_defs

        return build_defs(self.paths)

    @cached_property
    def instance(self):
        from orchestration.instance import get_instance

        return get_instance(self.paths)

    def runner(self, name: str):
        """A job runner that prints each step as it finishes; tool output goes to a log file per command."""
        from orchestration.runner import JobRunner

        log = self.paths.logs / f"{name}-{dt.datetime.now():%Y%m%d-%H%M%S}.log"
        terminal = sys.stdout  # steps finish while a run sends tool output to the log file

        def step_done(stage: str, seconds: float) -> None:
            print(f"    done: {stage:<38} {seconds:7.1f} s", file=terminal, flush=True)

        return JobRunner(self.defs, self.instance, output_log=log, on_step=step_done)

    def world_exists(self) -> bool:
        from commerce_sim.simulator import Simulator

        return Simulator.exists(self.paths.simulator)
