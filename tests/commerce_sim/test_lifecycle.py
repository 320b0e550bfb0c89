"""Ageing stock and product life cycles: FIFO lots, stock age in the exports, launch ramps, end of life,
clearance and write-off at salvage value."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from commerce_sim.inventory import Lots, Pipeline
from commerce_sim.scenario import load_scenario, parse_scenario
from commerce_sim.simulator import Simulator
from commerce_sim.truth import GroundTruth
from commerce_sim.world import NO_END_OF_LIFE, lifecycle_log_effect

DAYS = 40


def test_lots_leave_oldest_first_and_keep_their_cost_and_day():
    lots = Lots(2, 2)
    lots.add([0, 0, 1, 0], [0, 0, 1, 1], [5, 3, 1, 2], [4, 6, 10, 3], [100, 200, 50, 70])
    take = np.array([[7, 2], [0, 4]])
    np.testing.assert_array_equal(lots.fifo_cost_cents(take), [[6 * 200 + 1 * 100, 2 * 70], [0, 4 * 50]])
    np.testing.assert_array_equal(lots.fifo_cost_cents(np.stack([take, 0 * take]))[1], 0)
    cost, pieces = lots.consume(take)
    np.testing.assert_array_equal(cost, [[1300, 140], [0, 200]])
    assert sorted(zip(pieces["day"], pieces["quantity"])) == [(1, 4), (2, 2), (3, 6), (5, 1)]
    np.testing.assert_array_equal(lots.on_hand(), [[3, 1], [0, 6]])
    mean, oldest = lots.age(10)
    np.testing.assert_array_equal(oldest, [[5, 8], [-1, 9]])
    assert mean[0, 0] == 5 and np.isnan(mean[1, 0])
    with pytest.raises(ValueError, match="only"):
        lots.consume(np.array([[100, 0], [0, 0]]))
    units, value = lots.write_off(np.array([True, False]))
    np.testing.assert_array_equal(units, [[3, 1], [0, 0]])
    np.testing.assert_array_equal(value, [[300, 70], [0, 0]])
    np.testing.assert_array_equal(lots.on_hand(), [[0, 0], [0, 6]])


def test_transferred_units_keep_their_age():
    lots = Lots(1, 2)
    lots.add(0, 0, 2, 5, 100)
    take = np.array([[3, 0]])
    _, pieces = lots.consume(take)
    pipeline = Pipeline()
    pipeline.add(6, 0, 1, pieces["quantity"], pieces["cost_cents"], stock_day=pieces["day"])
    pipeline.add(6, 0, 1, 4, 120)  # a purchase order: new stock
    received = pipeline.receive(6, lots)
    np.testing.assert_array_equal(received, [[0, 7]])
    mean, oldest = lots.age(6)
    assert oldest[0, 1] == 4 and mean[0, 1] == pytest.approx(3 * 4 / 7)


def test_a_launch_ramps_up_and_an_end_of_life_fades_out():
    catalog = type("Catalog", (), {})()
    catalog.launched_on = np.array([-1000, -10, 0, -1000])
    catalog.end_of_life = np.array([NO_END_OF_LIFE, NO_END_OF_LIFE, NO_END_OF_LIFE, 20])

    def effect(day):
        return np.exp(lifecycle_log_effect(catalog, day, 45.0, 14.0))

    today = effect(0)
    assert today[0] == pytest.approx(1.0, abs=1e-9) and today[2] == pytest.approx(0.3)
    assert today[2] < today[1] < 1.0 and effect(60)[2] > effect(30)[2] > today[2]  # launches ramp up
    assert effect(20)[3] == pytest.approx(1.0, abs=1e-9)
    assert effect(34)[3] == pytest.approx(np.exp(-1.0), rel=1e-6)  # one fade time constant after end of life
    assert effect(48)[3] == pytest.approx(np.exp(-2.0), rel=1e-6)


@pytest.fixture(scope="module")
def ending(tmp_path_factory):
    """Forty days of a small shop in which half the kitchen products reach end of life, with a one-week
    clearance window."""
    data = load_scenario().with_overrides(products=40, customers=300, days=DAYS, seed=9).model_dump()
    data["data_defects"] = {name: 0.0 for name in data["data_defects"]}
    data["catalog"]["categories"][0]["end_of_life_share"] = 0.5
    data["lifecycle"]["clearance_days"] = 7
    base = tmp_path_factory.mktemp("ending")
    sim = Simulator.create(parse_scenario(data), base / "sim", base / "landing")
    sim.advance(DAYS)
    return sim


def _landing(sim, source, file) -> pd.DataFrame:
    frames = []
    for path in sorted((sim.landing / source).glob(f"*/{file}")):
        frame = pd.read_parquet(path) if path.suffix == ".parquet" else (
            pd.read_json(path, lines=True, dtype=False) if path.suffix == ".jsonl" else pd.read_csv(path))
        frames.append(frame.assign(day=(dt.date.fromisoformat(path.parent.name) - sim.scenario.start_date).days))
    return pd.concat(frames, ignore_index=True)


def test_ended_products_stop_being_reordered_are_written_off_and_discontinued(ending):
    sim = ending
    catalog = sim.state.world.catalog
    ended = np.flatnonzero(catalog.end_of_life < DAYS - sim.scenario.lifecycle.clearance_days)
    assert ended.size >= 2
    products = _landing(sim, "catalog", "products.jsonl")
    orders = _landing(sim, "inventory", "purchase_orders.csv")
    stock = _landing(sim, "inventory", "inventory_snapshot.parquet")
    ledger = GroundTruth(sim.root).ledger()
    ledger["day"] = (pd.to_datetime(ledger["date"]) - pd.Timestamp(sim.scenario.start_date)).dt.days
    clearance = sim.scenario.lifecycle.clearance_days
    for p in ended:
        product_id, eol = catalog.product_id[p], int(catalog.end_of_life[p])
        mine = products[products["product_id"] == product_id]
        assert set(mine["end_of_life_on"].astype(str)) == {(sim.scenario.start_date + dt.timedelta(days=eol)).isoformat()}
        assert set(mine.loc[mine["day"] < eol + clearance, "status"]) == {"active"}
        assert set(mine.loc[mine["day"] >= eol + clearance, "status"]) == {"discontinued"}
        assert orders[(orders["product_id"] == product_id) & (orders["day"] >= eol)].empty  # no reordering
        left = stock[(stock["product_id"] == product_id) & (stock["day"] >= eol + clearance)]
        assert (left["on_hand"] == 0).all()
        written = ledger[(ledger["product_id"] == product_id) & (ledger["account"] == "write_offs")]
        assert set(written["day"]) <= {eol + clearance}
        salvage = ledger[(ledger["product_id"] == product_id) & (ledger["account"] == "salvage")]
        assert salvage["amount_cents"].sum() == pytest.approx(
            written["amount_cents"].sum() * sim.scenario.lifecycle.salvage_rate, abs=len(written))
    assert ledger.loc[ledger["account"] == "write_offs", "amount_cents"].sum() > 0
    dated = products.assign(date=[sim.scenario.start_date + dt.timedelta(days=int(d)) for d in products["day"]])
    sold = GroundTruth(sim.root).sold_on(dated)  # the truth's view of which rows the shop still sold
    np.testing.assert_array_equal(sold, (products["status"] == "active").to_numpy()
                                  | (products.groupby("product_id")["status"].shift(1) == "active").to_numpy())
    never = products[products["product_id"].isin(catalog.product_id[catalog.end_of_life >= NO_END_OF_LIFE])]
    assert never["end_of_life_on"].isna().all() and set(never["status"]) == {"active"}


def test_demand_fades_after_end_of_life(ending):
    sim = ending
    catalog = sim.state.world.catalog
    daily = GroundTruth(sim.root).daily()
    daily["day"] = (pd.to_datetime(daily["date"]) - pd.Timestamp(sim.scenario.start_date)).dt.days
    p = int(np.flatnonzero(catalog.end_of_life < DAYS - 14)[0])
    eol = int(catalog.end_of_life[p])
    mine = daily[daily["product_id"] == catalog.product_id[p]].groupby("day")["log_base"].mean()
    others = daily[daily["product_id"] != catalog.product_id[p]].groupby("day")["log_base"].mean()
    gap = (mine - others).loc[eol:eol + 14]
    drop = gap.iloc[-1] - gap.iloc[0]
    assert drop == pytest.approx(-14 / sim.scenario.lifecycle.fade_days, abs=0.35)  # one time constant, give or take the shocks


def test_stock_age_is_exported_and_behaves_like_fifo(ending):
    stock = _landing(ending, "inventory", "inventory_snapshot.parquet").sort_values(
        ["product_id", "warehouse_id", "day"])
    held = stock["on_hand"] > 0
    assert stock.loc[held, "stock_age_days"].notna().all() and stock.loc[~held, "stock_age_days"].isna().all()
    assert stock.loc[~held, "oldest_unit_age_days"].isna().all()
    assert (stock.loc[held, "oldest_unit_age_days"] >= stock.loc[held, "stock_age_days"] - 1e-9).all()
    previous = stock.groupby(["product_id", "warehouse_id"]).shift(1)
    untouched = held & (stock["on_hand"] == previous["on_hand"]) & (stock["received_today"] == 0)
    assert untouched.sum() > 20
    np.testing.assert_allclose(stock.loc[untouched, "stock_age_days"],
                               previous.loc[untouched, "stock_age_days"] + 1, atol=0.011)  # a day older, nothing else
    sold = held & (stock["on_hand"] < previous["on_hand"]) & (stock["received_today"] == 0)
    # selling the oldest units first never makes the stock older by more than a day
    assert (stock.loc[sold, "stock_age_days"] <= previous.loc[sold, "stock_age_days"] + 1 + 0.011).all()
