"""The daily partitioning every perception asset shares: one partition per batch date."""

from __future__ import annotations

import datetime as dt
import os

import dagster as dg

from orchestration.settings import DEFAULT_PARTITIONS_START, PARTITIONS_START_ENV

DAILY = dg.DailyPartitionsDefinition(
    start_date=os.environ.get(PARTITIONS_START_ENV, DEFAULT_PARTITIONS_START), end_offset=1)


def partition_dates(context: dg.AssetExecutionContext) -> list[dt.date]:
    """Dates of the partitions this run materializes (one, or a range for a single-run backfill)."""
    window = context.partition_time_window
    days = (window.end.date() - window.start.date()).days
    return [window.start.date() + dt.timedelta(days=i) for i in range(days)]
