"""Seasonal naive copies last week's weekday; the plain GBM peer is a fair, leakage-free, price-aware model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.baselines import PlainGBM, seasonal_naive
from tests.ml.panels import FUTURE, daily_demand_panel, days_after

KEYS = ["origin", "date", "horizon", "product_id", "channel"]


def counting_panel(days: int = 30) -> pd.DataFrame:
    """Units equal the day number (1, 2, ...), so a forecast's value names the day it was copied from."""
    dates = pd.date_range("2025-05-01", periods=days)
    rows = []
    for product, offset in (("A", 0), ("B", 100)):
        rows.append(pd.DataFrame({
            "date": dates, "product_id": product, "channel": "web", "category": "c",
            "units": np.arange(1, days + 1) + offset, "price": 10.0, "regular_price": 10.0, "list_price": 10.0,
            "unit_cost": 5.0, "is_promo": False, "discount_pct": 0.0, "competitor_price": 11.0,
            "is_stockout": False}))
    return pd.concat(rows, ignore_index=True)


@pytest.fixture(scope="module")
def world():
    panel, _ = daily_demand_panel(products=10, channels=("web", "app"), days=160, seed=7, heavy_stockouts={0: 0.3})
    origin = panel["date"].max() - pd.Timedelta(days=14)
    model = PlainGBM(horizon=14, max_iter=100).fit(panel[panel["date"] <= origin])
    return panel, origin, model


# ----------------------------------------------------------------------------- seasonal naive
def test_seasonal_naive_copies_the_same_weekday_of_the_last_week():
    panel = counting_panel()
    origin = pd.Timestamp("2025-05-20")  # day 20
    forecast = seasonal_naive(panel, origin, 14)
    assert list(forecast.columns) == [*KEYS, "p50"]
    a = forecast[forecast["product_id"] == "A"].set_index("horizon")["p50"]
    # h = 1..7 copies days 14..20, h = 8..14 copies them again: always a day <= origin, same weekday
    assert list(a) == [14, 15, 16, 17, 18, 19, 20] * 2
    b = forecast[forecast["product_id"] == "B"]["p50"].to_numpy()
    assert (b == a.to_numpy() + 100).all()
    dates = pd.DatetimeIndex(forecast["date"])
    copied = origin + pd.to_timedelta(a.to_numpy() - 20, unit="D")
    assert (dates[:14].day_of_week == copied.day_of_week).all()


def test_seasonal_naive_ignores_later_rows_and_zero_fills_missing_days():
    panel = counting_panel()
    origin = pd.Timestamp("2025-05-20")
    tampered = panel.copy()
    tampered.loc[tampered["date"] > origin, "units"] = 999
    pd.testing.assert_frame_equal(seasonal_naive(panel, origin, 7), seasonal_naive(tampered, origin, 7))
    holed = panel[panel["date"] != pd.Timestamp("2025-05-14")]  # no row that day for either product
    assert seasonal_naive(holed, origin, 7)["p50"].iloc[0] == 0
    with pytest.raises(ValueError, match="horizon"):
        seasonal_naive(panel, origin, 0)


# ----------------------------------------------------------------------------- PlainGBM
def test_plain_gbm_forecasts_every_series_without_looking_ahead(world):
    panel, origin, model = world
    forecast = model.predict(panel, origin)
    assert list(forecast.columns) == [*KEYS, "p50"]
    assert len(forecast) == panel.groupby(["product_id", "channel"]).ngroups * 14
    assert np.isfinite(forecast["p50"]).all() and (forecast["p50"] >= 0).all()
    tampered = panel.copy()
    tampered.loc[tampered["date"] > origin, "units"] = 500
    pd.testing.assert_frame_equal(forecast, model.predict(tampered, origin))
    assert model.n_training_rows_ > 0 and model.feature_names_[0] == "horizon"


def test_changing_the_price_changes_only_the_price_feature(world):
    panel, origin, model = world
    rows = days_after(panel, origin, 14)
    base = model.row_features(rows)
    dearer = model.row_features(rows.assign(price=rows["price"] * 1.1))
    changed = [c for c in base.columns if not base[c].equals(dearer[c])]
    assert changed == ["price"]
    assert len(base) == len(rows) and (base["date"].to_numpy() == rows["date"].to_numpy()).all()
    units = model.predict_units(rows)
    assert units.shape == (len(rows),) and (units >= 0).all()
    assert np.array_equal(units, model.predict_units(rows))
    assert not np.array_equal(units, model.predict_units(rows.assign(price=rows["price"] * 1.5)))


def test_predict_units_matches_predict_one_day_ahead(world):
    """Scoring the day after the origin from its row equals the h = 1 forecast given that day's plan."""
    panel, origin, model = world
    next_day = panel[panel["date"] == origin + pd.Timedelta(days=1)]
    forecast = model.predict(panel, origin, future=next_day[FUTURE])
    first = forecast[forecast["horizon"] == 1].merge(next_day[["product_id", "channel"]].assign(i=range(len(next_day))))
    units = model.predict_units(next_day)
    assert np.allclose(units[first["i"].to_numpy()], first["p50"].to_numpy())


def test_plain_gbm_learns_from_censored_sales_as_if_they_were_demand(world):
    """By design the peer keeps stockout days: the heavily censored product's lags are its low sales."""
    panel, origin, model = world
    features = model.row_features(days_after(panel, origin, 1))
    history = panel[(panel["date"] <= origin) & (panel["date"] > origin - pd.Timedelta(days=28))]
    recorded = history.groupby(["product_id", "channel"])["units"].mean()
    got = features.set_index(["product_id", "channel"])["units_mean_28"]
    assert np.allclose(got.loc[recorded.index], recorded)


def test_plain_gbm_rejects_bad_use(world):
    panel, origin, model = world
    with pytest.raises(RuntimeError, match="not fitted"):
        PlainGBM().predict(panel, origin)
    with pytest.raises(ValueError, match="exceeds the fitted horizon"):
        model.row_features(days_after(panel, origin, 1), horizon=15)
    with pytest.raises(ValueError, match="no origin"):
        model.row_features(panel[panel["date"] == panel["date"].min()])
