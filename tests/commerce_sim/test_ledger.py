"""The true profit and loss: every cost charged daily, in cents, reconciling with what the systems exported."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from commerce_sim.ledger import ACCOUNTS, COSTS, INCOME, CostRates, DayLedger, split_cents
from commerce_sim.scenario import load_scenario, parse_scenario
from commerce_sim.simulator import Simulator
from commerce_sim.systems import CommerceSystems
from commerce_sim.truth import GroundTruth

DAYS = 28
DAY = dt.timedelta(days=1)


def _cents(values) -> np.ndarray:
    return np.round(np.asarray(values, dtype=float) * 100).astype(np.int64)


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    """Four weeks of a small shop with agent actions of every kind and end-of-life write-offs;
    no dirt in the exports, no system failures, suppliers that deliver what they promise."""
    data = load_scenario().with_overrides(products=40, customers=400, days=DAYS, seed=5).model_dump()
    data["data_defects"] = {name: 0.0 for name in data["data_defects"]}
    for system in data["systems"].values():
        system.update(timeout_rate=0.0, rejection_rate=0.0, partial_rate=0.0)
    data["inventory"]["supplier_miss_rate"] = 0.0
    data["catalog"]["categories"][0]["end_of_life_share"] = 0.5
    data["lifecycle"]["clearance_days"] = 3
    scenario = parse_scenario(data)
    base = tmp_path_factory.mktemp("books")
    sim = Simulator.create(scenario, base / "sim", base / "landing")
    opening = int(sim.state.lots.value_cents().sum())
    sim.advance(2)
    systems = CommerceSystems(sim)
    today = systems.current_date
    assert systems.purchasing.create_purchase_order("P00004", "WH-SOUTH", 30, idempotency_key="po").ok
    assert systems.purchasing.transfer_stock("P00010", "WH-NORTH", "WH-EXPRESS", 5, idempotency_key="move").ok
    assert systems.messaging.send_campaign("loyal", idempotency_key="mail").ok
    assert systems.promotions.schedule_promotion("P00012", "all", 25, today, today + 4 * DAY,
                                                 idempotency_key="promo").ok
    sim.advance(DAYS - 2)
    return sim, opening


def _landing(sim, source: str, file: str) -> pd.DataFrame:
    frames = []
    for path in sorted((sim.landing / source).glob(f"*/{file}")):
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
        frames.append(frame.assign(date=path.parent.name))
    return pd.concat(frames, ignore_index=True)


def test_profit_is_income_less_every_cost_to_the_cent(books):
    sim, _ = books
    ledger = GroundTruth(sim.root).ledger()
    assert ledger["amount_cents"].dtype.kind == "i" and (ledger["amount_cents"] > 0).all()
    pnl = GroundTruth(sim.root).profit_and_loss()
    assert len(pnl) == DAYS
    by_day = ledger.groupby(["date", "kind"])["amount_cents"].sum().unstack(fill_value=0)
    np.testing.assert_array_equal(pnl["profit"].to_numpy(), (by_day["income"] - by_day["cost"]).to_numpy())
    np.testing.assert_array_equal(pnl["income"] - pnl["costs"], pnl["profit"])
    assert pnl["revenue"].sum() > pnl["cost_of_goods"].sum() > 0
    booked = set(ledger["account"])
    assert booked == set(ACCOUNTS), set(ACCOUNTS) - booked  # every kind of money moved in these four weeks


def test_revenue_and_delivery_fees_are_what_the_order_system_recorded(books):
    sim, _ = books
    ledger = GroundTruth(sim.root).ledger()
    ledger["date"] = ledger["date"].astype(str)
    lines = _landing(sim, "orders", "order_lines.csv").merge(
        _landing(sim, "orders", "orders.csv")[["order_id", "channel"]], on="order_id", validate="many_to_one")
    landed = lines.assign(cents=_cents(lines["line_total"])).groupby(["date", "product_id", "channel"])["cents"].sum()
    revenue = ledger[ledger["account"] == "revenue"].groupby(["date", "product_id", "channel"])["amount_cents"].sum()
    pd.testing.assert_series_equal(revenue.sort_index(), landed.sort_index(), check_names=False)
    orders = _landing(sim, "orders", "orders.csv")
    fees = orders.assign(cents=_cents(orders["shipping_fee"])).groupby(["date", "channel"])["cents"].sum()
    delivery = ledger[ledger["account"] == "delivery_fees"].groupby(["date", "channel"])["amount_cents"].sum()
    pd.testing.assert_series_equal(delivery.sort_index(), fees[fees > 0].sort_index(), check_names=False)


def test_fees_shipping_and_promotions_follow_the_exported_rates(books):
    sim, _ = books
    ledger = GroundTruth(sim.root).ledger()
    channels = pd.read_csv(next((sim.landing / "catalog").glob("*/channels.csv"))).set_index("channel_id")
    rows = ledger.set_index(["date", "product_id", "channel", "warehouse_id", "account"])["amount_cents"]
    revenue = rows.xs("revenue", level="account")
    fees = rows.xs("channel_fees", level="account").reindex(revenue.index, fill_value=0)
    rate = channels.loc[revenue.index.get_level_values("channel"), "fee_rate"].to_numpy()
    np.testing.assert_array_equal(fees.to_numpy(), np.round(revenue.to_numpy() * rate).astype(np.int64))

    truth = GroundTruth(sim.root).daily()
    warehouses = pd.read_csv(next((sim.landing / "inventory").glob("*/warehouses.csv"))).iloc[0]
    home = (truth["sold_units"] - truth["remote_units"]).sum() * round(warehouses["shipping_cost_per_unit"] * 100)
    remote = truth["remote_units"].sum() * round(warehouses["remote_shipping_cost_per_unit"] * 100)
    assert ledger.loc[ledger["account"] == "shipping", "amount_cents"].sum() == home + remote
    assert truth["remote_units"].sum() > 0

    prices = _landing(sim, "prices", "prices.csv")
    promoted = prices[prices["promo_id"].notna()]
    expected = _cents(channels.loc[promoted["channel"], "promotion_fee_per_day"]).sum()
    assert ledger.loc[ledger["account"] == "promotions", "amount_cents"].sum() == expected > 0


def test_purchase_orders_transfers_and_campaigns_cost_what_their_records_say(books):
    sim, _ = books
    ledger = GroundTruth(sim.root).ledger()
    orders = _landing(sim, "inventory", "purchase_orders.csv")
    warehouses = pd.read_csv(next((sim.landing / "inventory").glob("*/warehouses.csv"))).set_index("warehouse_id")
    assert set(orders["origin"]) == {"legacy", "agent"}
    expected = _cents(warehouses.loc[orders["warehouse_id"], "order_cost"]).sum()
    assert ledger.loc[ledger["account"] == "purchase_orders", "amount_cents"].sum() == expected
    transfers = _landing(sim, "inventory", "transfers.csv")
    assert ledger.loc[ledger["account"] == "transfers", "amount_cents"].sum() == _cents(transfers["cost"]).sum() > 0
    campaigns = _landing(sim, "customers", "campaigns.csv")
    assert ledger.loc[ledger["account"] == "campaigns", "amount_cents"].sum() == _cents(campaigns["cost"]).sum() > 0


def test_stock_value_is_conserved_sold_written_off_or_still_held(books):
    """Opening stock + goods bought = cost of goods sold + write-offs + stock on hand + stock in transit, in cents."""
    sim, opening = books
    ledger = GroundTruth(sim.root).ledger()
    orders = _landing(sim, "inventory", "purchase_orders.csv")
    bought = int((orders["quantity"].to_numpy() * _cents(orders["unit_cost"])).sum())
    totals = ledger.groupby("account")["amount_cents"].sum()
    state = sim.state
    in_transit = int((state.pipeline.quantity * state.pipeline.cost_cents).sum())
    held = int(state.lots.value_cents().sum())
    assert opening + bought == totals["cost_of_goods"] + totals["write_offs"] + held + in_transit
    assert totals["salvage"] == pytest.approx(totals["write_offs"] * sim.scenario.lifecycle.salvage_rate, abs=40)


def test_split_cents_keeps_every_cent():
    totals = np.array([[101, 0], [7, 3]])
    weights = np.array([[[1, 1, 1], [0, 0, 0]], [[0, 2, 1], [5, 0, 0]]])
    parts = split_cents(totals, weights)
    np.testing.assert_array_equal(parts.sum(axis=-1), totals)
    np.testing.assert_array_equal(parts[0, 0], [34, 34, 33])
    np.testing.assert_array_equal(parts[1, 0], [0, 5, 2])


def test_the_day_ledger_refuses_unknown_accounts_and_adds_up():
    ledger = DayLedger()
    ledger.book("revenue", [1000, 250], product=[0, 1], channel=0, warehouse=[1, 2])
    ledger.book("campaigns", [120])
    ledger.book("shipping", [0])  # nothing to book
    with pytest.raises(ValueError, match="unknown ledger account 'marketing'"):
        ledger.book("marketing", [5])
    assert ledger.profit_cents() == 1250 - 120
    frame = ledger.frame(dt.date(2025, 1, 1), np.array(["P1", "P2"]), ["web"], ["A", "B", "C"])
    assert frame["product_id"].iloc[:2].tolist() == ["P1", "P2"] and frame["warehouse_id"].iloc[:2].tolist() == ["B", "C"]
    assert frame[["product_id", "channel", "warehouse_id"]].iloc[2].isna().all()  # a shop-level booking
    assert set(INCOME) | set(COSTS) == set(ACCOUNTS) and not set(INCOME) & set(COSTS)
    assert CostRates.of(load_scenario()).campaign_cents(1000) == 1000
