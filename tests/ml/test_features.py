"""Forecast features see nothing after the origin and do not mistake stockouts for low demand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.features import (FEATURE_COLUMNS, KEY_COLUMNS, build_features, panel_cube, promotion_plan, training_origins,
                         training_rows)
from tests.ml.panels import FUTURE, daily_demand_panel, days_after


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return daily_demand_panel(products=8, days=150, seed=3)[0]


# ----------------------------------------------------------------------------- leakage
def test_features_ignore_everything_after_the_origin(panel):
    origin = pd.Timestamp("2025-04-20")
    after = panel["date"] > origin
    tampered = panel.copy()
    tampered.loc[after, "units"] = tampered.loc[after, "units"] * 5 + 7
    tampered.loc[after, ["price", "regular_price", "competitor_price"]] *= 3
    tampered.loc[after, "is_stockout"] = ~tampered.loc[after, "is_stockout"]
    tampered.loc[after, "is_promo"] = True
    newcomer = tampered[after].assign(product_id="NEW")  # a product launched after the origin
    tampered = pd.concat([tampered, newcomer], ignore_index=True)

    clean = build_features(panel, origin, 14)
    pd.testing.assert_frame_equal(clean, build_features(tampered, origin, 14))
    # and the comparison can fail: a change on the origin day itself shows up
    touched = panel.copy()
    touched.loc[touched["date"] == origin, "units"] += 3
    assert not build_features(touched, origin, 14)["last_day_ratio"].equals(clean["last_day_ratio"])


def test_training_rows_match_build_features_given_the_actual_plan(panel):
    """The fast multi-origin path computes exactly what prediction computes from the truncated panel."""
    origins = [pd.Timestamp("2025-02-10"), pd.Timestamp("2025-04-01"), pd.Timestamp("2025-05-28")]
    rows = training_rows(panel, origins, 14)
    assert {"units", "is_stockout"} <= set(rows.columns)
    for origin in origins:
        ours = rows[rows["origin"] == origin].drop(columns=["units", "is_stockout"]).reset_index(drop=True)
        plan = days_after(panel, origin, 14)[FUTURE]
        expected = build_features(panel, origin, 14, future=plan)
        expected = expected[expected["date"] <= panel["date"].max()].reset_index(drop=True)
        pd.testing.assert_frame_equal(ours, expected)
    # targets are the units of the target day, censored days flagged
    merged = rows.merge(panel, on=["date", "product_id", "channel"], suffixes=("", "_panel"))
    assert len(merged) == len(rows)
    assert (merged["units"] == merged["units_panel"]).all()
    assert (merged["is_stockout"] == merged["is_stockout_panel"]).all()


def test_training_origins_rotate_weekdays_and_leave_history():
    dates = pd.date_range("2025-01-01", "2025-06-30")
    origins = training_origins(dates, 14, 7, min_history=28)
    assert origins[-1] == pd.Timestamp("2025-06-29")  # the last origin with an observed target
    assert origins[0] >= pd.Timestamp("2025-01-28")
    assert len({o.day_of_week for o in origins}) == 7
    assert all(b > a for a, b in zip(origins, origins[1:]))
    assert len(training_origins(dates, 14, 3)) > 2 * len(origins)


# ----------------------------------------------------------------------------- censoring
def test_stockout_days_do_not_count_as_low_demand():
    panel, _ = daily_demand_panel(products=4, channels=("web",), days=120, seed=5, heavy_stockouts={0: 0.5})
    origin = pd.Timestamp(panel["date"].max())
    features = build_features(panel, origin, 7)
    history = panel[(panel["product_id"] == "P00") & (panel["date"] > origin - pd.Timedelta(days=56))]
    assert history["is_stockout"].mean() > 0.3
    in_stock_mean = history.loc[~history["is_stockout"], "units"].mean()
    all_days_mean = history["units"].mean()
    level = features.loc[features["product_id"] == "P00", "level"].iloc[0]
    assert level == pytest.approx(in_stock_mean)
    assert level > 1.15 * all_days_mean  # what ignoring censoring would have given

    # a censored origin day is missing, not zero
    censored_origin = history.loc[history["is_stockout"], "date"].max()
    row = build_features(panel, censored_origin, 1).query("product_id == 'P00'")
    assert np.isnan(row["last_day_ratio"].iloc[0])


def test_same_weekday_means_skip_stockouts():
    dates = pd.date_range("2025-03-03", periods=28)  # four weeks, Monday first
    units = np.where(dates.day_of_week == 0, 10, 2)
    stockout = (dates == pd.Timestamp("2025-03-17"))  # a Monday: sold only 1
    units = np.where(stockout, 1, units)
    panel = pd.DataFrame({"date": dates, "product_id": "A", "channel": "web", "category": "c", "units": units,
                          "price": 10.0, "regular_price": 10.0, "list_price": 10.0, "unit_cost": 5.0,
                          "is_promo": False, "discount_pct": 0.0, "competitor_price": 11.0,
                          "is_stockout": stockout})
    features = build_features(panel, dates[-1], 7)
    monday = features[pd.DatetimeIndex(features["date"]).day_of_week == 0].iloc[0]
    assert monday["same_weekday_4_ratio"] * monday["level"] == pytest.approx(10.0)
    assert monday["level"] == pytest.approx((10 * 3 + 2 * 24) / 27)


# ----------------------------------------------------------------------------- shape, calendar and plan
def test_one_row_per_series_and_horizon_with_the_target_calendar(panel):
    origin = pd.Timestamp("2025-03-15")
    features = build_features(panel, origin, 10)
    assert set(features.columns) == set(KEY_COLUMNS) | set(FEATURE_COLUMNS)
    assert len(features) == panel.groupby(["product_id", "channel"]).ngroups * 10
    assert (features["date"] == features["origin"] + pd.to_timedelta(features["horizon"], unit="D")).all()
    assert sorted(features["horizon"].unique()) == list(range(1, 11))
    assert (features["day_of_week"] == pd.DatetimeIndex(features["date"]).day_of_week).all()
    assert (features["is_weekend"] == (features["day_of_week"] >= 5)).all()
    assert not features[["level", "log_price", "price_vs_regular", "doy_sin"]].isna().any().any()


def test_default_plan_is_the_last_regular_price_and_future_overrides_it(panel):
    origin = pd.Timestamp("2025-03-15")
    default = build_features(panel, origin, 10)
    series = default[(default["product_id"] == "P02") & (default["channel"] == "web")].reset_index(drop=True)
    history = panel[(panel["product_id"] == "P02") & (panel["channel"] == "web") & (panel["date"] <= origin)]
    regular = history["regular_price"].iloc[-1]
    assert np.allclose(series["log_price"], np.log(regular))
    assert (series["is_promo"] == 0).all() and (series["price_vs_regular"] == 0).all()

    promo_days = pd.date_range(origin + pd.Timedelta(days=3), periods=3)
    future = pd.DataFrame({"product_id": "P02", "channel": "web", "date": promo_days,
                           "price": regular * 0.8, "is_promo": True})  # no discount_pct: implied, 20 %
    planned = build_features(panel, origin, 10, future=future)
    p = planned[(planned["product_id"] == "P02") & (planned["channel"] == "web")].reset_index(drop=True)
    on = p["date"].isin(promo_days).to_numpy()
    assert (p.loc[on, "is_promo"] == 1).all() and np.allclose(p.loc[on, "discount_pct"], 20)
    assert np.allclose(p.loc[on, "price_vs_regular"], np.log(0.8))
    assert list(p.loc[on, "promo_day"]) == [1, 2, 3]
    assert list(p.loc[~on, "days_since_promo"].iloc[2:5]) == [1, 2, 3]  # the days after the promotion
    others = planned[~((planned["product_id"] == "P02") & (planned["channel"] == "web"))]
    pd.testing.assert_frame_equal(others, default.loc[others.index])


def test_a_promotion_given_as_a_discount_is_priced_off_the_last_regular_price(panel):
    origin = pd.Timestamp("2025-03-15")
    regular = panel[(panel["product_id"] == "P03") & (panel["channel"] == "app")
                    & (panel["date"] <= origin)]["regular_price"].iloc[-1]
    days = pd.date_range(origin + pd.Timedelta(days=2), periods=2)
    future = pd.DataFrame({"product_id": "P03", "channel": "app", "date": days, "price": np.nan,
                           "is_promo": True, "discount_pct": 25.0})
    planned = build_features(panel, origin, 7, future=future)
    p = planned[(planned["product_id"] == "P03") & (planned["channel"] == "app")].reset_index(drop=True)
    on = p["date"].isin(days).to_numpy()
    assert on.sum() == 2 and (p.loc[on, "is_promo"] == 1).all()
    assert np.allclose(p.loc[on, "log_price"], np.log(regular * 0.75))
    assert np.allclose(p.loc[on, "discount_pct"], 25)
    assert np.allclose(p.loc[~on, "log_price"], np.log(regular)) and (p.loc[~on, "is_promo"] == 0).all()
    # a row with neither a price nor a discount plans nothing
    empty = future.assign(discount_pct=np.nan)
    pd.testing.assert_frame_equal(build_features(panel, origin, 7, future=empty), build_features(panel, origin, 7))


def test_promotion_plan_uses_only_promotions_announced_by_the_origin_within_the_horizon():
    origin = pd.Timestamp("2025-03-15")
    days = pd.DataFrame({
        "date": pd.to_datetime(["2025-03-15", "2025-03-16", "2025-03-20", "2025-03-29", "2025-03-30", "2025-03-18"]),
        "product_id": ["P01", "P01", "P02", "P02", "P02", "P03"],
        "channel": ["web", "web", "app", "app", "app", "web"],
        "discount_pct": [10.0, 10.0, 20.0, 20.0, 20.0, 30.0],
        "announced_on": pd.to_datetime(["2025-03-01", "2025-03-01", "2025-03-15", "2025-03-10", "2025-03-10",
                                        "2025-03-16"]),  # P03 is announced the day after the origin
    })
    plan = promotion_plan(days, origin, 14)
    assert list(zip(plan["product_id"], plan["date"].dt.strftime("%m-%d"))) == [
        ("P01", "03-16"), ("P02", "03-20"), ("P02", "03-29")]  # not the origin itself, not day 15
    assert plan["is_promo"].all() and plan["price"].isna().all()
    assert list(plan["discount_pct"]) == [10.0, 20.0, 20.0]
    # without announcement dates, everything scheduled in the window counts
    assert len(promotion_plan(days.drop(columns="announced_on"), origin, 14)) == 4
    assert promotion_plan(days.iloc[:0], origin, 14).empty
    with pytest.raises(ValueError, match="lacks columns"):
        promotion_plan(days.drop(columns="discount_pct"), origin, 14)


def test_missing_prices_are_carried_forward():
    panel, _ = daily_demand_panel(products=2, channels=("web",), days=60, seed=2)
    origin = panel["date"].max()
    gap = panel["date"] > origin - pd.Timedelta(days=3)
    holed = panel.copy()
    holed.loc[gap, ["regular_price", "competitor_price", "price"]] = np.nan
    features = build_features(holed, origin, 3)
    last_known = panel[panel["date"] == origin - pd.Timedelta(days=3)].set_index("product_id")["regular_price"]
    got = features.groupby("product_id")["log_price"].first()
    assert np.allclose(got, np.log(last_known.loc[got.index]))


def test_bad_input_is_rejected(panel):
    with pytest.raises(ValueError, match="lacks columns"):
        build_features(panel.drop(columns="is_stockout"), "2025-03-01", 7)
    with pytest.raises(ValueError, match="horizon"):
        build_features(panel, "2025-03-01", 0)
    with pytest.raises(ValueError, match="no rows on or before"):
        build_features(panel, "2024-01-01", 7)
    with pytest.raises(ValueError, match="more than one row"):
        panel_cube(pd.concat([panel, panel.head(1)]))
