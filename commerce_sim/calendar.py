"""Calendar effects on demand: yearly seasonality per category, weekly rhythm per channel, trend, events."""

from __future__ import annotations

import datetime as dt

import numpy as np

from commerce_sim.scenario import Scenario


def event_lift(scenario: Scenario, date: dt.date) -> tuple[float, list[str]]:
    """Log multiplier of the events running on ``date`` and their names (events repeat every year)."""
    total, names = 0.0, []
    for event in scenario.demand.events:
        for year in (date.year - 1, date.year):
            try:
                start = dt.date(year, event.month, event.day)
            except ValueError:  # 29 February in a non-leap year
                continue
            if start <= date < start + dt.timedelta(days=event.duration_days):
                total += float(np.log1p(event.lift))
                names.append(event.name)
                break
    return total, names


def calendar_log_effect(scenario: Scenario, day: int, category: np.ndarray) -> np.ndarray:
    """Log demand multiplier for every product x channel on simulated ``day``."""
    date = scenario.start_date + dt.timedelta(days=day)
    categories = scenario.catalog.categories
    amplitude = np.array([c.seasonal_amplitude for c in categories])
    peak = np.array([c.seasonal_peak_day for c in categories])
    doy = date.timetuple().tm_yday
    yearly = amplitude * np.cos(2 * np.pi * (doy - peak) / 365.25)
    weekend = date.weekday() >= 5
    weekly = scenario.demand.weekly_amplitude * np.cos(2 * np.pi * (date.weekday() - 5) / 7)
    channel = np.array([np.log1p(c.weekend_lift) if weekend else 0.0 for c in scenario.channels])
    trend = np.log1p(scenario.demand.trend_per_year) * day / 365.0
    events, _ = event_lift(scenario, date)
    return yearly[category][:, None] + weekly + channel[None, :] + trend + events
