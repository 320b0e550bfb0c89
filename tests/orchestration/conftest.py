"""The orchestration tests' data directory: a copy of the shared small world, and Dagster over it.

Nothing is set in the environment: the definitions, the Dagster instance and the job runner are
built for this data directory explicitly (``build_defs(paths)``), as the command line builds them.
Every test that uses them runs on one pytest-xdist worker (``tests/conftest.py``): the perceived
small world costs a Dagster ingest and a dbt build, and each worker would build its own.
"""

import shutil

import pytest


@pytest.fixture(scope="session")
def paths(tmp_path_factory, small_world):
    """A data directory holding a copy of the shared small world (simulator state and landing zone)."""
    from orchestration.dbt import prepare_manifest
    from orchestration.settings import DataPaths

    prepare_manifest()  # what `make install` does; the definitions load the manifest, never build it
    paths = DataPaths(tmp_path_factory.mktemp("orchestration-data"))
    shutil.copytree(small_world.root, paths.simulator)
    shutil.copytree(small_world.landing, paths.landing)
    return paths


@pytest.fixture(scope="session")
def platform(paths):
    """The command line's view of the data directory: definitions, instance and a job runner over it."""
    from orchestration.cli.platform import Platform

    return Platform(paths)


@pytest.fixture(scope="session")
def perception_run(platform, small_world):
    """The whole small history through Dagster: one ingestion run, then the marts and the analyst database."""
    from orchestration.cli.pipeline import plan_ingest, run_perception

    plan = plan_ingest(platform)
    assert len(plan.to_ingest) == small_world.days
    return run_perception(platform, plan.to_ingest)
