"""The partitions every ingest asset shares: one per landed batch date.

Dynamic partitions: a date becomes a partition when its batches have landed (the landing sensor or
the CLI registers it), so the UI shows exactly the days there are, however far the simulated world
runs from today's calendar, and a date that never landed cannot be requested at all.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg

BATCH_DATES = dg.DynamicPartitionsDefinition(name="batch_dates")


def partition_dates(context: dg.AssetExecutionContext) -> list[dt.date]:
    """Dates of the partitions this run materializes (one, or several for a single-run backfill), sorted."""
    return sorted(dt.date.fromisoformat(key) for key in context.partition_keys)


def run_ranges(dates: list[str], registered: list[str]) -> list[tuple[str, str]]:
    """Group ``dates`` into (first, last) ranges that one single-run backfill each can take.

    A range of dynamic partitions follows the order partitions were registered, not the calendar; a
    range is only formed where the registered order between its ends holds exactly the wanted dates
    and they are consecutive days, so a late-registered date never slips into someone else's range.
    """
    position = {key: index for index, key in enumerate(registered)}
    ranges: list[tuple[str, str]] = []
    for date in sorted(dates):
        if ranges:
            first, last = ranges[-1]
            consecutive = dt.date.fromisoformat(date) - dt.date.fromisoformat(last) == dt.timedelta(days=1)
            adjacent = position.get(date, -1) == position.get(last, -2) + 1
            if consecutive and adjacent:
                ranges[-1] = (first, date)
                continue
        ranges.append((date, date))
    return ranges
