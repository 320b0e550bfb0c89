"""Independent, counter-based random streams, and the twin test: a decision changes only what it reaches."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from commerce_sim.scenario import load_scenario, parse_scenario
from commerce_sim.simulator import Simulator
from commerce_sim.streams import PROCESSES, Streams, binomial_ppf, entity_grid, negative_binomial_ppf
from commerce_sim.systems import CommerceSystems
from commerce_sim.truth import GroundTruth

DAY = dt.timedelta(days=1)


# ----------------------------------------------------------------------------- keyed uniforms
def test_a_keyed_uniform_depends_on_its_key_only():
    streams = Streams(42)
    grid = entity_grid(20, 3)
    once = streams.uniform("demand", 7, grid)
    assert once.shape == (20, 3)
    streams.uniform("cost", 7, np.arange(1000))  # drawing elsewhere first changes nothing
    np.testing.assert_array_equal(streams.uniform("demand", 7, grid), once)
    np.testing.assert_array_equal(Streams(42).uniform("demand", 7, grid[5:8]), once[5:8])  # any subset, any order
    assert not np.array_equal(Streams(43).uniform("demand", 7, grid), once)
    for other in (streams.uniform("demand", 8, grid), streams.uniform("cost", 7, grid),
                  streams.uniform("demand", 7, grid, draw=1)):
        assert np.abs(other - once).min() > 0 and np.corrcoef(other.ravel(), once.ravel())[0, 1] < 0.5


def test_keyed_uniforms_are_uniform_and_unrelated_across_days_processes_and_neighbours():
    streams = Streams(7)
    entities = np.arange(200_000)
    u = streams.uniform("demand_shock", 3, entities)
    assert 0 < u.min() and u.max() < 1
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    for other in (streams.uniform("demand_shock", 4, entities), streams.uniform("cost", 3, entities)):
        assert abs(np.corrcoef(u, other)[0, 1]) < 0.01
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.01
    normal = streams.normal("cost", 1, entities)
    assert abs(normal.mean()) < 0.01 and abs(normal.std() - 1) < 0.01
    ints = streams.integers("lead_time", 2, entities, 0, 2)
    assert set(np.unique(ints)) == {0, 1, 2}


def test_unknown_processes_are_refused_by_name():
    with pytest.raises(KeyError, match="unknown random process 'demmand'"):
        Streams(1).uniform("demmand", 0, 0)
    assert len(set(PROCESSES.values())) == len(PROCESSES)  # every process has its own id


def test_inverse_cdf_draws_never_sell_fewer_units_when_expected_demand_rises():
    """Common random numbers: for one uniform, the count is monotone in the mean (and in the trials)."""
    u = Streams(3).uniform("demand", 0, np.arange(5000))
    means = np.linspace(0.01, 30, 60)
    draws = np.stack([negative_binomial_ppf(u, np.full(u.shape, m), 4.0) for m in means])
    assert (np.diff(draws, axis=0) >= 0).all()
    big = negative_binomial_ppf(Streams(4).uniform("demand", 0, np.arange(100_000)), np.full(100_000, 3.0), 4.0)
    assert abs(big.mean() - 3.0) < 0.03 and abs(big.var() - (3.0 + 9.0 / 4.0)) < 0.15
    successes = np.stack([binomial_ppf(u, np.full(u.shape, n), 0.85) for n in range(0, 12)])
    assert (np.diff(successes, axis=0) >= 0).all() and (successes <= np.arange(12)[:, None]).all()


# ----------------------------------------------------------------------------- the twin test
TWIN_DAYS = 21
ACT_FROM, ACT_UNTIL = 3, 10  # the acted product's price is up 15% on days 3..9, then handed back


def _twin_scenario():
    """The default shop, small and without export dirt: dirt lands by row position in files that mix
    every product (one more order line anywhere moves it), which says nothing about the world."""
    data = load_scenario().with_overrides(products=40, customers=400, days=TWIN_DAYS, seed=11).model_dump()
    data["data_defects"] = {name: 0.0 for name in data["data_defects"]}
    return parse_scenario(data)


@pytest.fixture(scope="module")
def twins(tmp_path_factory):
    scenario = _twin_scenario()
    base_dir, acted_dir = tmp_path_factory.mktemp("base"), tmp_path_factory.mktemp("acted")
    base = Simulator.create(scenario, base_dir / "sim", base_dir / "landing")
    acted = Simulator.create(scenario, acted_dir / "sim", acted_dir / "landing")
    systems = CommerceSystems(acted)
    product = "P00003"
    start = scenario.start_date
    for channel in acted.state.world.channel_ids:
        regular = systems.pricing.get_price(product, channel).price
        assert systems.pricing.set_price(product, channel, round(regular * 1.15, 2), idempotency_key=f"up-{channel}",
                                         effective_date=start + ACT_FROM * DAY).ok
        assert systems.pricing.hand_back(product, channel, idempotency_key=f"back-{channel}",
                                         effective_date=start + ACT_UNTIL * DAY).ok
    base.advance(TWIN_DAYS)
    acted.advance(TWIN_DAYS)
    catalog = base.state.world.catalog
    category = catalog.category_names[int(catalog.category[catalog.product_id == product][0])]
    peers = set(catalog.product_id[np.array(catalog.category_names)[catalog.category] == category])
    return base, acted, product, peers


def _read(landing: Path, source: str, file: str) -> pd.DataFrame:
    frames = []
    for path in sorted((landing / source).glob(f"*/{file}")):
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif path.suffix == ".jsonl":
            frame = pd.read_json(path, lines=True, dtype=False) if path.stat().st_size else pd.DataFrame()
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        frames.append(frame.assign(batch=path.parent.name))
    return pd.concat(frames, ignore_index=True)


PER_PRODUCT_FILES = [("prices", "prices.csv"), ("inventory", "inventory_snapshot.parquet"),
                     ("inventory", "purchase_orders.csv")]
SHARED_FILES = [("catalog", "products.jsonl"), ("competitor_prices", "competitor_prices.jsonl"),
                ("promotions", "promotions.csv"), ("customers", "customers.parquet"), ("inventory", "warehouses.csv")]


@pytest.mark.parametrize(("source", "file"), PER_PRODUCT_FILES, ids=[f for _, f in PER_PRODUCT_FILES])
def test_twins_export_identical_rows_for_every_product_outside_the_acted_category(twins, source, file):
    base, acted, product, peers = twins
    before, after = _read(base.landing, source, file), _read(acted.landing, source, file)
    outside_before = before[~before["product_id"].isin(peers)].reset_index(drop=True)
    outside_after = after[~after["product_id"].isin(peers)].reset_index(drop=True)
    assert len(outside_before) > 0
    pd.testing.assert_frame_equal(outside_before, outside_after)
    if file == "prices.csv":  # the action itself is on record
        mine = after[(after["product_id"] == product)]
        assert set(mine.loc[mine["batch"] < (base.scenario.start_date + ACT_FROM * DAY).isoformat(), "set_by"]) == {
            "legacy"}
        assert (mine["set_by"] == "agent").sum() == (ACT_UNTIL - ACT_FROM) * len(base.state.world.channel_ids)


@pytest.mark.parametrize(("source", "file"), SHARED_FILES, ids=[f for _, f in SHARED_FILES])
def test_twins_share_calendars_competitor_prices_costs_and_customers(twins, source, file):
    base, acted, _, _ = twins
    for path in sorted((base.landing / source).glob(f"*/{file}")):
        assert path.read_bytes() == (acted.landing / path.relative_to(base.landing)).read_bytes(), path


def test_twins_sell_the_same_units_of_every_product_outside_the_acted_category(twins):
    """Orders mix products in baskets, so order ids differ; what each product sold per channel and day does not."""
    base, acted, _, peers = twins

    def sold(sim):
        lines = _read(sim.landing, "orders", "order_lines.csv")
        orders = _read(sim.landing, "orders", "orders.csv")[["order_id", "channel"]]
        lines = lines.merge(orders, on="order_id", validate="many_to_one")
        lines["quantity"] = lines["quantity"].astype(int)
        lines["line_total"] = lines["line_total"].astype(float)
        return lines.groupby(["batch", "product_id", "channel"])[["quantity", "line_total"]].sum()

    before, after = sold(base), sold(acted)
    outside = ~before.index.get_level_values("product_id").isin(peers)
    pd.testing.assert_frame_equal(before[outside], after[~after.index.get_level_values("product_id").isin(peers)])


def test_inside_the_category_demand_differs_only_through_the_cross_price_term(twins):
    base, acted, product, peers = twins
    before, after = GroundTruth(base.root).daily(), GroundTruth(acted.root).daily()
    assert (before[["date", "product_id", "channel"]].to_numpy() == after[["date", "product_id", "channel"]].to_numpy()).all()
    peer = before["product_id"].isin(peers - {product}).to_numpy()
    acting = pd.to_datetime(before["date"]).between(pd.Timestamp(base.scenario.start_date + ACT_FROM * DAY),
                                                    pd.Timestamp(base.scenario.start_date + (ACT_UNTIL - 1) * DAY))
    ratio = np.log(after["expected_units"] / before["expected_units"])
    np.testing.assert_allclose(ratio[peer], (after["cross_term"] - before["cross_term"])[peer], atol=1e-12)
    for column in ("log_base", "own_term", "reference_term", "promo_term", "dip_term", "paid_price"):
        np.testing.assert_array_equal(after.loc[peer, column], before.loc[peer, column])
    assert (after.loc[peer & ~acting, "cross_term"] == before.loc[peer & ~acting, "cross_term"]).all()

    # the cross term moves by exactly the documented share of the acted product's price change
    products = GroundTruth(base.root).products().set_index("product_id")
    mine = (before["product_id"] == product).to_numpy()
    moved = pd.Series(np.log(after.loc[mine, "paid_price"].to_numpy() / before.loc[mine, "paid_price"].to_numpy()),
                      index=pd.MultiIndex.from_frame(before.loc[mine, ["date", "channel"]]))
    assert (moved[acting[mine].to_numpy()] != 0).all() and (moved[~acting[mine].to_numpy()] == 0).all()
    keys = pd.MultiIndex.from_frame(before.loc[peer, ["date", "channel"]])
    share = products.loc[before.loc[peer, "product_id"], "cross_elasticity"].to_numpy() / (len(peers) - 1)
    np.testing.assert_allclose((after["cross_term"] - before["cross_term"])[peer], share * moved.reindex(keys).to_numpy(),
                               atol=1e-12)

    # common random numbers: the same uniforms, so a lower expected demand never draws more units
    dearer = np.zeros(len(before), bool)
    dearer[np.flatnonzero(mine)] = moved.to_numpy() > 0
    cheaper = np.zeros(len(before), bool)
    cheaper[np.flatnonzero(mine)] = moved.to_numpy() < 0
    assert dearer.sum() >= 7
    assert (after.loc[dearer, "expected_units"] < before.loc[dearer, "expected_units"]).all()
    assert (after.loc[dearer, "demand_units"] <= before.loc[dearer, "demand_units"]).all()
    assert (after.loc[cheaper, "demand_units"] >= before.loc[cheaper, "demand_units"]).all()
    higher = (after["expected_units"] > before["expected_units"]).to_numpy() & peer
    assert higher.sum() > 0
    assert (after.loc[higher, "demand_units"] >= before.loc[higher, "demand_units"]).all()
