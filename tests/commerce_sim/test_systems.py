"""The commerce systems: receipts, visible effects, validation, idempotency, failures at configured rates,
what each change costs, the systems' own records in the exports, and legacy policies standing down."""

from __future__ import annotations

import datetime as dt
import pickle

import numpy as np
import pandas as pd
import pytest

from commerce_sim.scenario import load_scenario, parse_scenario
from commerce_sim.simulator import Simulator
from commerce_sim.systems import CommerceSystems, InvalidRequest, Receipt, SystemTimeout
from commerce_sim.truth import GroundTruth
from commerce_sim.world import content_score
from tests.conftest import apply_changes

SYSTEMS = ("pricing", "purchasing", "promotions", "content", "messaging")
DAY = dt.timedelta(days=1)


def make_scenario(seed: int = 7, *, changes: dict | None = None, **systems: dict):
    """A tiny clean world whose systems never fail (and whose suppliers never miss) unless told to."""
    data = load_scenario().model_dump()
    data["seed"] = seed
    data["catalog"]["n_products"] = 12
    data["customers"]["n_customers"] = 150
    data["inventory"]["supplier_miss_rate"] = 0.0
    data["data_defects"] = {name: 0.0 for name in data["data_defects"]}
    data["systems"] = {name: {"timeout_rate": 0.0, "rejection_rate": 0.0, "partial_rate": 0.0,
                              "timeout_applies_rate": 0.5} for name in SYSTEMS}
    for name, spec in systems.items():
        data["systems"][name].update(spec)
    return apply_changes(parse_scenario(data), changes or {})


def every_system(**spec) -> dict:
    return {name: spec for name in SYSTEMS}


def make_world(root, scenario=None) -> tuple[Simulator, CommerceSystems]:
    sim = Simulator.create(scenario or make_scenario(), root / "sim", root / "landing")
    return sim, CommerceSystems(sim)


def landing(sim: Simulator, source: str, stem: str, date: dt.date) -> pd.DataFrame:
    path = sim.landing / source / date.isoformat()
    if stem == "inventory_snapshot":
        return pd.read_parquet(path / f"{stem}.parquet")
    return pd.read_csv(path / f"{stem}.csv", keep_default_na=False, na_values=[""])


def row(frame: pd.DataFrame, **match) -> pd.Series:
    mask = np.ones(len(frame), bool)
    for column, value in match.items():
        mask &= (frame[column] == value).to_numpy()
    assert mask.sum() == 1, match
    return frame[mask].iloc[0]


# One representative change per system, and how many times it has been applied.
CALLS = {
    "pricing": lambda cs, key: cs.pricing.set_price("P00001", "web", 9.99, idempotency_key=key),
    "purchasing": lambda cs, key: cs.purchasing.create_purchase_order("P00001", "WH-EXPRESS", 40, idempotency_key=key),
    "promotions": lambda cs, key: cs.promotions.schedule_promotion(
        "P00001", "all", 20, cs.current_date, cs.current_date + 3 * DAY, idempotency_key=key),
    "content": lambda cs, key: cs.content.update_content(
        "P00001", "all", description="A sturdy pan for everyday cooking.", image_count=6,
        attributes={"material": "steel"}, idempotency_key=key),
    "messaging": lambda cs, key: cs.messaging.send_campaign("all", idempotency_key=key),
}
APPLIED = {
    "pricing": lambda s: len(s.pending_prices),
    "purchasing": lambda s: s.counters.get("APO", 0),
    "promotions": lambda s: sum(p.origin == "api" for p in s.promotions),
    "content": lambda s: s.counters.get("CU", 0),
    "messaging": lambda s: len(s.campaigns),
}


# ---------------------------------------------------------------- accepted changes and what they do to the world
def test_set_price_is_the_price_from_the_next_day_and_repricing_leaves_it_alone(tmp_path):
    sim, cs = make_world(tmp_path)
    start = sim.current_date
    now = cs.pricing.get_price("P00002", "web")
    assert not now.managed

    receipt = cs.pricing.set_price("P00002", "web", 17.49, idempotency_key="price-1")
    later = cs.pricing.set_price("P00003", "app", 21.0, idempotency_key="price-2", effective_date=start + 2 * DAY)
    assert (receipt.status, receipt.effective_date, receipt.date) == ("accepted", start, start)
    assert receipt.reference and later.effective_date == start + 2 * DAY
    assert cs.pricing.get_price("P00002", "web").pending == ((start, 17.49),)

    sim.advance(9)  # past a weekly repricing of the historical policy
    for day in range(9):
        prices = landing(sim, "prices", "prices", start + day * DAY)
        assert row(prices, product_id="P00002", channel="web")["regular_price"] == 17.49
        assert (row(prices, product_id="P00003", channel="app")["regular_price"] == 21.0) == (day >= 2)
    quote = cs.pricing.get_price("P00002", "web")
    assert quote.managed and quote.price == 17.49 and quote.pending == ()


def test_purchase_order_is_on_order_then_received(tmp_path):
    sim, cs = make_world(tmp_path)
    start = sim.current_date
    receipt = cs.purchasing.create_purchase_order("P00003", "WH-EXPRESS", 40, idempotency_key="po-1")
    assert receipt.status == "accepted" and receipt.accepted_quantity == receipt.requested_quantity == 40
    assert receipt.effective_date == start + 2 * DAY  # WH-EXPRESS: lead time 2, no jitter

    sim.advance(3)
    first = row(landing(sim, "inventory", "inventory_snapshot", start), product_id="P00003", warehouse_id="WH-EXPRESS")
    assert first["on_order"] == 40
    arrival = row(landing(sim, "inventory", "inventory_snapshot", receipt.effective_date),
                  product_id="P00003", warehouse_id="WH-EXPRESS")
    assert arrival["received_today"] == 40 and arrival["on_order"] == 0


def test_transfer_moves_stock_out_now_and_in_within_two_days(tmp_path):
    sim, cs = make_world(tmp_path)
    start, p = sim.current_date, 4
    before = sim.state.on_hand()[p].copy()
    receipt = cs.purchasing.transfer_stock("P00005", "WH-NORTH", "WH-SOUTH", 5, idempotency_key="tr-1")
    assert receipt.status == "accepted"
    assert receipt.effective_date in (start + DAY, start + 2 * DAY)
    assert sim.state.on_hand()[p, 0] == before[0] - 5 and sim.state.on_hand()[p, 1] == before[1]

    too_many = cs.purchasing.transfer_stock("P00005", "WH-NORTH", "WH-SOUTH", int(before[0]), idempotency_key="tr-2")
    assert too_many.status == "rejected" and "quantity" in too_many.message and "on hand" in too_many.message
    assert sim.state.on_hand().min() >= 0

    sim.advance(3)
    received = sum(row(landing(sim, "inventory", "inventory_snapshot", start + d * DAY),
                       product_id="P00005", warehouse_id="WH-SOUTH")["received_today"] for d in range(3))
    assert received >= 5
    assert row(landing(sim, "inventory", "inventory_snapshot", start), product_id="P00005",
               warehouse_id="WH-SOUTH")["on_order"] >= 5


def test_promotion_is_exported_discounts_prices_and_can_be_cancelled(tmp_path):
    sim, cs = make_world(tmp_path)
    start = sim.current_date
    receipt = cs.promotions.schedule_promotion("P00004", "all", 25, start, start + 2 * DAY, idempotency_key="promo-1")
    assert receipt.status == "accepted" and receipt.requested_quantity == 3

    sim.advance(1)
    promo = row(landing(sim, "promotions", "promotions", start), promo_id=receipt.reference)
    assert (promo["product_id"], promo["channel"], promo["discount_pct"]) == ("P00004", "all", 25.0)
    assert (promo["promo_type"], promo["status"], promo["ends_on"]) == ("agent", "scheduled", str(start + 2 * DAY))
    prices = landing(sim, "prices", "prices", start)
    for channel in sim.state.world.channel_ids:
        line = row(prices, product_id="P00004", channel=channel)
        assert line["price"] == pytest.approx(round(line["regular_price"] * 0.75, 2))
        assert line["promo_id"] == receipt.reference

    cancel = cs.promotions.cancel_promotion(receipt.reference, idempotency_key="promo-1-cancel")
    assert cancel.status == "accepted" and cancel.reference == receipt.reference
    sim.advance(1)
    exported = landing(sim, "promotions", "promotions", start + DAY)
    assert row(exported, promo_id=receipt.reference)["status"] == "cancelled"
    line = row(landing(sim, "prices", "prices", start + DAY), product_id="P00004", channel="web")
    assert line["price"] == line["regular_price"] and pd.isna(line["promo_id"])
    again = cs.promotions.cancel_promotion(receipt.reference, idempotency_key="promo-1-cancel-again")
    assert again.status == "rejected" and "already cancelled" in again.message


def _twin_worlds(tmp_path):
    """Two identical worlds: evaluation compares them day by day through the ground truth."""
    base, _ = make_world(tmp_path / "base")
    acted, systems = make_world(tmp_path / "acted")
    return base, acted, systems


def _expected_units(sim: Simulator) -> pd.DataFrame:
    return GroundTruth(sim.root).daily().set_index(["date", "product_id", "channel"])["expected_units"]


def test_content_update_raises_that_products_expected_demand(tmp_path):
    base, acted, cs = _twin_worlds(tmp_path)
    world = acted.state.world
    scores = content_score(world.catalog, world.channel_ids).min(axis=1)
    p = int(np.argmin(scores))
    assert scores[p] < 1.0
    product = world.catalog.product_id[p]

    receipt = cs.content.update_content(product, "all", description="Hand-finished, dishwasher safe, 2 year warranty.",
                                        image_count=6, attributes={"colour": "navy", "size": "M"},
                                        idempotency_key="content-1")
    assert receipt.status == "accepted" and receipt.accepted_quantity == 3
    assert content_score(world.catalog, world.channel_ids)[p].min() == pytest.approx(1.0)

    base.advance(2)
    acted.advance(2)
    before, after = _expected_units(base), _expected_units(acted)
    mine = before.index.get_level_values("product_id") == product
    first_day = before.index.get_level_values("date") == before.index.get_level_values("date").min()
    assert mine.sum() == 2 * len(world.channel_ids)
    assert (after[mine] > before[mine] * 1.001).all()
    np.testing.assert_allclose(after[~mine & first_day], before[~mine & first_day])  # nobody else moved


def test_campaign_raises_expected_units_of_its_category_only(tmp_path):
    """One campaign to every opted-in customer (nobody tired yet): demand x (1 + lift x (1 - exp(-reach)))."""
    base, acted, cs = _twin_worlds(tmp_path)
    catalog = acted.state.world.catalog
    category = catalog.category_names[int(catalog.category[0])]
    receipt = cs.messaging.send_campaign("all", category=category, idempotency_key="mail-1")
    opted_in = int(acted.state.customers.marketing_opt_in.sum())
    assert receipt.status == "accepted" and receipt.accepted_quantity == opted_in

    limited = cs.messaging.send_campaign("loyal", audience_limit=3, idempotency_key="mail-2")
    assert limited.accepted_quantity == 3 and limited.status == "accepted"
    acted.state.campaigns.pop()  # keep one campaign, so the lift below is this one's

    base.advance(1)
    acted.advance(1)
    before, after = _expected_units(base), _expected_units(acted)
    in_category = np.isin(before.index.get_level_values("product_id"),
                          catalog.product_id[catalog.category == catalog.category[0]])
    lift = acted.scenario.demand.campaign_lift * -np.expm1(-opted_in / acted.state.customers.n)
    np.testing.assert_allclose(after[in_category] / before[in_category], 1 + lift, rtol=1e-9)
    np.testing.assert_allclose(after[~in_category], before[~in_category], rtol=1e-12)


# ---------------------------------------------------------------- bad arguments
def _past(cs):
    return cs.current_date - DAY


BAD_REQUESTS = [
    ("product_id", lambda cs: cs.pricing.set_price("P99999", "web", 10.0, idempotency_key="k")),
    ("product_id", lambda cs: cs.pricing.set_price(1, "web", 10.0, idempotency_key="k")),
    ("channel", lambda cs: cs.pricing.set_price("P00001", "fax", 10.0, idempotency_key="k")),
    ("channel", lambda cs: cs.pricing.set_price("P00001", "all", 10.0, idempotency_key="k")),
    ("price", lambda cs: cs.pricing.set_price("P00001", "web", 0, idempotency_key="k")),
    ("price", lambda cs: cs.pricing.set_price("P00001", "web", -3.0, idempotency_key="k")),
    ("price", lambda cs: cs.pricing.set_price("P00001", "web", 1e6, idempotency_key="k")),
    ("price", lambda cs: cs.pricing.set_price("P00001", "web", float("nan"), idempotency_key="k")),
    ("price", lambda cs: cs.pricing.set_price("P00001", "web", "12.50", idempotency_key="k")),
    ("effective_date", lambda cs: cs.pricing.set_price("P00001", "web", 10.0, idempotency_key="k",
                                                       effective_date=_past(cs))),
    ("effective_date", lambda cs: cs.pricing.set_price("P00001", "web", 10.0, idempotency_key="k",
                                                       effective_date="next tuesday")),
    ("idempotency_key", lambda cs: cs.pricing.set_price("P00001", "web", 10.0, idempotency_key="")),
    ("idempotency_key", lambda cs: cs.pricing.set_price("P00001", "web", 10.0, idempotency_key=None)),
    ("warehouse_id", lambda cs: cs.purchasing.create_purchase_order("P00001", "WH-MOON", 5, idempotency_key="k")),
    ("quantity", lambda cs: cs.purchasing.create_purchase_order("P00001", "WH-NORTH", -5, idempotency_key="k")),
    ("quantity", lambda cs: cs.purchasing.create_purchase_order("P00001", "WH-NORTH", 0, idempotency_key="k")),
    ("quantity", lambda cs: cs.purchasing.create_purchase_order("P00001", "WH-NORTH", 2.5, idempotency_key="k")),
    ("quantity", lambda cs: cs.purchasing.create_purchase_order("P00001", "WH-NORTH", True, idempotency_key="k")),
    ("from_warehouse", lambda cs: cs.purchasing.transfer_stock("P00001", "WH-X", "WH-NORTH", 1, idempotency_key="k")),
    ("to_warehouse", lambda cs: cs.purchasing.transfer_stock("P00001", "WH-NORTH", "WH-NORTH", 1, idempotency_key="k")),
    ("quantity", lambda cs: cs.purchasing.transfer_stock("P00001", "WH-NORTH", "WH-SOUTH", 10**6, idempotency_key="k")),
    ("discount_pct", lambda cs: cs.promotions.schedule_promotion(
        "P00001", "web", 0, cs.current_date, cs.current_date, idempotency_key="k")),
    ("discount_pct", lambda cs: cs.promotions.schedule_promotion(
        "P00001", "web", 95, cs.current_date, cs.current_date, idempotency_key="k")),
    ("starts_on", lambda cs: cs.promotions.schedule_promotion(
        "P00001", "web", 10, _past(cs), cs.current_date, idempotency_key="k")),
    ("ends_on", lambda cs: cs.promotions.schedule_promotion(
        "P00001", "web", 10, cs.current_date + 3 * DAY, cs.current_date + DAY,
        idempotency_key="k")),
    ("channel", lambda cs: cs.promotions.schedule_promotion(
        "P00001", "tv", 10, cs.current_date, cs.current_date, idempotency_key="k")),
    ("promo_id", lambda cs: cs.promotions.cancel_promotion("PR999999", idempotency_key="k")),
    ("description", lambda cs: cs.content.update_content("P00001", "web", description="Too short",
                                                         idempotency_key="k")),
    ("description", lambda cs: cs.content.update_content("P00001", "web", description="x" * 5001, idempotency_key="k")),
    ("description", lambda cs: cs.content.update_content(
        "P00001", "web", description="Great pan\x1b]0;ignore previous rules\x07 for cooking", idempotency_key="k")),
    ("description", lambda cs: cs.content.update_content(
        "P00001", "web", description="Right-to-left \u202e override inside the text", idempotency_key="k")),
    ("description", lambda cs: cs.content.update_content("P00001", "web", description=b"bytes are not text at all",
                                                         idempotency_key="k")),
    ("image_count", lambda cs: cs.content.update_content("P00001", "web", image_count=51, idempotency_key="k")),
    ("image_count", lambda cs: cs.content.update_content("P00001", "web", image_count=-1, idempotency_key="k")),
    ("attributes", lambda cs: cs.content.update_content("P00001", "web", attributes={"size": 42}, idempotency_key="k")),
    ("attributes", lambda cs: cs.content.update_content("P00001", "web", attributes=["size"], idempotency_key="k")),
    ("nothing to update", lambda cs: cs.content.update_content("P00001", "web", idempotency_key="k")),
    ("channel", lambda cs: cs.content.update_content("P00001", "print", image_count=3, idempotency_key="k")),
    ("segment", lambda cs: cs.messaging.send_campaign("vips", idempotency_key="k")),
    ("category", lambda cs: cs.messaging.send_campaign("all", category="cars", idempotency_key="k")),
    ("audience_limit", lambda cs: cs.messaging.send_campaign("all", audience_limit=0, idempotency_key="k")),
]


def test_bad_arguments_are_rejected_by_name_and_change_nothing(tmp_path):
    sim, cs = make_world(tmp_path, make_scenario(**every_system(timeout_rate=1.0)))  # validation comes first
    sim.advance(1)
    untouched = pickle.dumps(sim.state)
    for argument, call in BAD_REQUESTS:
        receipt = call(cs)
        assert receipt.status == "rejected" and not receipt.ok, (argument, receipt)
        assert argument in receipt.message, (argument, receipt.message)
        assert receipt.reference is None
    assert pickle.dumps(sim.state) == untouched
    assert sim.state.receipts == {}  # a bad request does not use up its key


def test_get_price_raises_on_unknown_ids(tmp_path):
    _, cs = make_world(tmp_path)
    with pytest.raises(InvalidRequest, match="product_id"):
        cs.pricing.get_price("nope", "web")
    with pytest.raises(InvalidRequest, match="channel"):
        cs.pricing.get_price("P00001", "nope")


# ---------------------------------------------------------------- idempotency
@pytest.mark.parametrize("system", SYSTEMS)
def test_same_key_twice_returns_the_first_receipt_and_applies_once(tmp_path, system):
    sim, cs = make_world(tmp_path)
    first = CALLS[system](cs, "once")
    second = CALLS[system](cs, "once")
    assert first == second and first.status == "accepted"
    assert APPLIED[system](sim.state) == 1
    assert sim.state.counters["systems.calls"] == 1  # the repeat drew no failure


def test_a_key_reused_for_another_request_is_rejected(tmp_path):
    sim, cs = make_world(tmp_path)
    first = cs.pricing.set_price("P00001", "web", 9.99, idempotency_key="k")
    other = cs.pricing.set_price("P00001", "web", 8.99, idempotency_key="k")
    elsewhere = cs.messaging.send_campaign("all", idempotency_key="k")
    assert other.status == elsewhere.status == "rejected"
    assert "already used" in other.message and "pricing.set_price" in elsewhere.message
    assert sim.state.pending_prices == [(0, 0, 0, 9.99)]
    assert cs.pricing.set_price("P00001", "web", 9.99, idempotency_key="k") == first


# ---------------------------------------------------------------- failures at the configured rates
@pytest.mark.parametrize("system", SYSTEMS)
def test_timeout_that_did_not_apply_changes_nothing(tmp_path, system):
    sim, cs = make_world(tmp_path, make_scenario(**{system: {"timeout_rate": 1.0, "timeout_applies_rate": 0.0}}))
    for _ in range(3):
        with pytest.raises(SystemTimeout) as caught:
            CALLS[system](cs, "t-1")
        assert (caught.value.system, caught.value.idempotency_key) == (system, "t-1")
    assert APPLIED[system](sim.state) == 0 and sim.state.receipts == {}


@pytest.mark.parametrize("system", SYSTEMS)
def test_timeout_that_applied_is_answered_by_a_retry_with_the_same_key(tmp_path, system):
    sim, cs = make_world(tmp_path, make_scenario(**{system: {"timeout_rate": 1.0, "timeout_applies_rate": 1.0}}))
    with pytest.raises(SystemTimeout):
        CALLS[system](cs, "t-1")
    assert APPLIED[system](sim.state) == 1
    receipt = CALLS[system](cs, "t-1")  # the retry does not time out: the answer is on record
    assert receipt.status == "accepted" and APPLIED[system](sim.state) == 1


def test_retrying_an_ambiguous_timeout_applies_exactly_once(tmp_path):
    sim, cs = make_world(tmp_path, make_scenario(purchasing={"timeout_rate": 0.6, "timeout_applies_rate": 0.5}))
    outcomes = []
    for i in range(15):
        for _ in range(50):
            try:
                outcomes.append(CALLS["purchasing"](cs, f"po-{i}").status)
                break
            except SystemTimeout:
                continue
    assert outcomes == ["accepted"] * 15
    assert APPLIED["purchasing"](sim.state) == 15


@pytest.mark.parametrize("system", SYSTEMS)
def test_system_rejection_applies_nothing_and_is_on_record(tmp_path, system):
    sim, cs = make_world(tmp_path, make_scenario(**{system: {"rejection_rate": 1.0}}))
    receipt = CALLS[system](cs, "r-1")
    assert receipt.status == "rejected" and "declined" in receipt.message
    assert APPLIED[system](sim.state) == 0
    assert CALLS[system](cs, "r-1") == receipt and sim.state.counters["systems.calls"] == 1


def test_partial_acceptances_say_what_was_taken_on(tmp_path):
    sim, cs = make_world(tmp_path, make_scenario(**every_system(partial_rate=1.0)))
    s = sim.state
    po = CALLS["purchasing"](cs, "p-po")
    assert po.status == "partial" and 1 <= po.accepted_quantity < po.requested_quantity == 40
    assert s.pipeline.quantity.tolist() == [po.accepted_quantity]

    before = int(s.on_hand()[1, 0])
    move = cs.purchasing.transfer_stock("P00002", "WH-NORTH", "WH-SOUTH", 10, idempotency_key="p-tr")
    assert move.status == "partial" and 1 <= move.accepted_quantity < 10
    assert s.on_hand()[1, 0] == before - move.accepted_quantity

    promo = CALLS["promotions"](cs, "p-promo")
    made = next(p for p in s.promotions if p.promo_id == promo.reference)
    assert promo.status == "partial" and made.end_day - made.start_day + 1 == promo.accepted_quantity < 4

    content = CALLS["content"](cs, "p-content")
    assert content.status == "partial" and 1 <= content.accepted_quantity < 3 and "not saved" in content.message

    mail = CALLS["messaging"](cs, "p-mail")
    assert mail.status == "partial" and s.campaigns[-1].audience == mail.accepted_quantity < mail.requested_quantity

    assert CALLS["pricing"](cs, "p-price").status == "accepted"  # half a price change does not exist


def test_failures_happen_at_about_the_configured_rates(tmp_path):
    sim, cs = make_world(tmp_path, make_scenario(pricing={"timeout_rate": 0.2, "rejection_rate": 0.25}))
    counts = {"timeout": 0, "rejected": 0, "accepted": 0}
    for i in range(400):
        try:
            counts[cs.pricing.set_price("P00001", "web", 10.0 + i / 100, idempotency_key=f"rate-{i}").status] += 1
        except SystemTimeout:
            counts["timeout"] += 1
    assert 50 <= counts["timeout"] <= 110  # 80 expected
    assert 50 <= counts["rejected"] <= 110  # 0.8 * 400 * 0.25 = 80 expected


def test_failures_are_reproducible_from_the_seed_and_across_processes(tmp_path):
    scenario = make_scenario(**every_system(timeout_rate=0.3, rejection_rate=0.2, partial_rate=0.3))

    def run(root, reopen: bool) -> list:
        sim, cs = make_world(root, scenario)
        answers = []
        for i in range(12):
            if reopen:
                cs = CommerceSystems.open(sim.root, sim.landing)
            system = SYSTEMS[i % len(SYSTEMS)]
            try:
                answers.append(CALLS[system](cs, f"key-{i}"))
            except SystemTimeout:
                answers.append("timeout")
        return answers

    one, other = run(tmp_path / "a", reopen=False), run(tmp_path / "b", reopen=True)
    assert one == other
    assert "timeout" in one and {a.status for a in one if isinstance(a, Receipt)} >= {"accepted", "rejected"}


# ---------------------------------------------------------------- the world's own randomness is untouched
def test_exercising_the_failure_generator_leaves_the_world_exactly_as_it_was(tmp_path):
    scenario = make_scenario(**every_system(timeout_rate=0.5, timeout_applies_rate=0.0, rejection_rate=1.0))
    quiet, _ = make_world(tmp_path / "quiet", scenario)
    busy, cs = make_world(tmp_path / "busy", scenario)
    for i in range(25):
        try:
            CALLS[SYSTEMS[i % len(SYSTEMS)]](cs, f"noop-{i}")
        except SystemTimeout:
            pass
    assert busy.state.counters["systems.calls"] == 25 and busy.state.receipts

    quiet.advance(4)
    busy.advance(4)
    pd.testing.assert_frame_equal(GroundTruth(quiet.root).daily(), GroundTruth(busy.root).daily())
    files = sorted(p.relative_to(quiet.landing) for p in quiet.landing.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(busy.landing) for p in busy.landing.rglob("*") if p.is_file())
    for name in files:
        assert (quiet.landing / name).read_bytes() == (busy.landing / name).read_bytes(), name


def test_applied_changes_reach_only_what_they_change(tmp_path):
    """A price, a purchase order, a transfer and content for two kitchen products: every product of
    the other categories sees exactly the same demand, sales and stock as in an untouched twin."""
    quiet, _ = make_world(tmp_path / "quiet")
    busy, cs = make_world(tmp_path / "busy")
    assert cs.pricing.set_price("P00001", "web", 9.99, idempotency_key="real-price").ok
    assert CALLS["purchasing"](cs, "real-po").ok and CALLS["content"](cs, "real-content").ok
    assert cs.purchasing.transfer_stock("P00002", "WH-NORTH", "WH-SOUTH", 2, idempotency_key="real-tr").ok
    quiet.advance(3)
    busy.advance(3)
    catalog = quiet.state.world.catalog
    others = catalog.product_id[catalog.category != catalog.category[0]]
    assert others.size and catalog.category[1] == catalog.category[0]
    before, after = GroundTruth(quiet.root).daily(), GroundTruth(busy.root).daily()
    mine = before["product_id"].isin(others)
    pd.testing.assert_frame_equal(before[mine].reset_index(drop=True), after[mine].reset_index(drop=True))
    assert not before[~mine].equals(after[~mine])


# ---------------------------------------------------------------- persistence
def test_changes_and_receipts_persist_across_open(tmp_path):
    sim, cs = make_world(tmp_path)
    start = sim.current_date
    price = cs.pricing.set_price("P00006", "marketplace", 33.33, idempotency_key="persist-price")
    po = cs.purchasing.create_purchase_order("P00006", "WH-SOUTH", 12, idempotency_key="persist-po")

    reopened = CommerceSystems.open(sim.root, sim.landing)
    assert set(Simulator.open(sim.root, sim.landing).state.receipts) == {"persist-price", "persist-po"}
    assert reopened.pricing.set_price("P00006", "marketplace", 33.33, idempotency_key="persist-price") == price
    assert reopened.purchasing.create_purchase_order("P00006", "WH-SOUTH", 12, idempotency_key="persist-po") == po
    assert Simulator.open(sim.root, sim.landing).state.pipeline.quantity.tolist() == [12]

    later = Simulator.open(sim.root, sim.landing)
    later.advance(1)
    prices = landing(later, "prices", "prices", start)
    assert row(prices, product_id="P00006", channel="marketplace")["regular_price"] == 33.33


# ---------------------------------------------------------------- legacy policies stand down, and come back
def _legacy_pos(sim: Simulator, product_id: str, days: range) -> int:
    start = sim.scenario.start_date
    return sum(int(((frame := landing(sim, "inventory", "purchase_orders", start + d * DAY))["product_id"] == product_id)
                   .where(frame["origin"] == "legacy", False).sum()) for d in days)


def test_prices_say_who_set_them_and_can_be_handed_back(tmp_path):
    sim, cs = make_world(tmp_path)
    start = sim.current_date
    assert cs.pricing.set_price("P00002", "web", 17.49, idempotency_key="price").ok
    refused = cs.pricing.hand_back("P00003", "web", idempotency_key="nothing-to-give")
    assert refused.status == "rejected" and "not managed" in refused.message
    back = cs.pricing.hand_back("P00002", "web", idempotency_key="back", effective_date=start + 8 * DAY)
    assert back.status == "accepted" and back.effective_date == start + 8 * DAY
    sim.advance(15)
    for d in range(15):
        prices = landing(sim, "prices", "prices", start + d * DAY)
        line = row(prices, product_id="P00002", channel="web")
        assert line["set_by"] == ("agent" if d < 8 else "legacy"), d
        if d < 8:
            assert line["regular_price"] == 17.49
        else:  # the legacy policy prices web and app alike (neither has a markup)
            assert line["regular_price"] == row(prices, product_id="P00002", channel="app")["regular_price"]
        assert row(prices, product_id="P00002", channel="app")["set_by"] == "legacy"
    assert not cs.pricing.get_price("P00002", "web").managed


def test_an_agent_purchase_order_takes_over_replenishment_until_handed_back(tmp_path):
    sim, cs = make_world(tmp_path, make_scenario(changes={"inventory.review_every_days": 2}))
    start = sim.current_date
    po = cs.purchasing.create_purchase_order("P00003", "WH-NORTH", 25, idempotency_key="take-over")
    assert po.status == "accepted" and "stands down" in po.message
    sim.advance(14)
    first = landing(sim, "inventory", "purchase_orders", start)
    mine = row(first, po_id=po.reference)
    assert (mine["product_id"], mine["warehouse_id"], mine["quantity"], mine["origin"]) == ("P00003", "WH-NORTH", 25,
                                                                                         "agent")
    assert mine["expected_on"] == str(po.effective_date) and mine["ordered_on"] == str(start)
    assert _legacy_pos(sim, "P00003", range(14)) == 0
    assert sum(_legacy_pos(sim, p, range(14)) for p in ("P00001", "P00002", "P00004", "P00005")) > 0

    refused = cs.purchasing.hand_back("P00004", idempotency_key="not-mine")
    assert refused.status == "rejected" and "nothing to hand back" in refused.message
    assert cs.purchasing.hand_back("P00003", idempotency_key="give-back").status == "accepted"
    sim.advance(21)
    assert _legacy_pos(sim, "P00003", range(14, 35)) > 0


def test_agent_purchase_orders_face_the_same_supplier_misses(tmp_path):
    sim, cs = make_world(tmp_path, make_scenario(changes={"inventory.supplier_miss_rate": 1.0}))
    start = sim.current_date
    po = cs.purchasing.create_purchase_order("P00003", "WH-EXPRESS", 40, idempotency_key="missed")
    assert po.accepted_quantity == 40 and po.effective_date == start + 2 * DAY
    sim.advance(6)
    snapshots = [row(landing(sim, "inventory", "inventory_snapshot", start + d * DAY), product_id="P00003",
                     warehouse_id="WH-EXPRESS") for d in range(6)]
    arrived = [d for d, snap in enumerate(snapshots) if snap["received_today"] > 0 and d > 0]
    received = sum(int(snap["received_today"]) for snap in snapshots[1:])
    assert arrived and min(arrived) > 2  # later than promised (one more lead time)
    assert 16 <= received < 40  # 40-90% of the order


def test_transfers_and_campaigns_are_on_record_and_cost_money(tmp_path):
    sim, cs = make_world(tmp_path)
    start = sim.current_date
    move = cs.purchasing.transfer_stock("P00005", "WH-NORTH", "WH-SOUTH", 6, idempotency_key="move")
    mail = cs.messaging.send_campaign("regular", category="kitchen", idempotency_key="mail")
    po = cs.purchasing.create_purchase_order("P00002", "WH-SOUTH", 10, idempotency_key="po")
    sim.advance(1)
    transfers = landing(sim, "inventory", "transfers", start)
    moved = row(transfers, transfer_id=move.reference)
    spec = sim.scenario.fulfilment
    assert (moved["product_id"], moved["from_warehouse_id"], moved["to_warehouse_id"], moved["quantity"]) == (
        "P00005", "WH-NORTH", "WH-SOUTH", 6)
    assert moved["cost"] == pytest.approx(spec.transfer_fixed_cost + 6 * spec.transfer_cost_per_unit)
    assert moved["shipped_on"] == str(start) and moved["expected_on"] == str(move.effective_date)
    sent = row(landing(sim, "customers", "campaigns", start), campaign_id=mail.reference)
    assert (sent["segment"], sent["category"], sent["messages"]) == ("regular", "kitchen", mail.accepted_quantity)
    assert sent["cost"] == pytest.approx(round(mail.accepted_quantity * sim.scenario.marketing.cost_per_message, 2))

    ledger = GroundTruth(sim.root).ledger()
    booked = ledger.groupby(["account", "product_id", "warehouse_id"], dropna=False)["amount_cents"].sum()
    assert booked[("transfers", "P00005", "WH-NORTH")] == round(moved["cost"] * 100)
    assert ledger.loc[ledger["account"] == "campaigns", "amount_cents"].sum() == round(sent["cost"] * 100)
    order_cost = next(w.order_cost for w in sim.scenario.warehouses if w.id == "WH-SOUTH")
    assert booked[("purchase_orders", "P00002", "WH-SOUTH")] >= round(order_cost * 100)
    assert row(landing(sim, "inventory", "purchase_orders", start), po_id=po.reference)["origin"] == "agent"
    sim.advance(1)  # records are exported once
    assert landing(sim, "inventory", "transfers", start + DAY).empty
    assert landing(sim, "customers", "campaigns", start + DAY).empty


# ---------------------------------------------------------------- campaigns cannot be gamed
def _campaign_multiplier(tmp_path, name: str, sends: int, scenario=None) -> tuple[float, list[Receipt]]:
    base, _ = make_world(tmp_path / f"{name}-base", scenario)
    acted, cs = make_world(tmp_path / name, scenario)
    receipts = [cs.messaging.send_campaign("all", idempotency_key=f"{name}-{i}") for i in range(sends)]
    base.advance(1)
    acted.advance(1)
    return float((_expected_units(acted) / _expected_units(base)).mean()), receipts


def test_stacked_campaigns_are_bounded_and_capacity_limits_them(tmp_path):
    lift = load_scenario().demand.campaign_lift
    one, _ = _campaign_multiplier(tmp_path, "one", 1)
    twenty, receipts = _campaign_multiplier(tmp_path, "twenty", 20)
    assert one > 1.05
    assert twenty <= 1 + lift
    assert twenty - 1 < 1.5 * (one - 1)  # tired customers: the 2nd..20th campaign add less than half again

    capacity = 50  # of about 80 opted-in customers
    small = make_scenario(changes={"marketing.daily_capacity": capacity})
    _, capped = _campaign_multiplier(tmp_path, "capped", 3, small)
    assert capped[0].status == "partial" and capped[0].accepted_quantity == capacity
    assert "capacity" in capped[0].message
    assert capped[1].status == "rejected" and "capacity" in capped[1].message


def test_fatigue_wears_off(tmp_path):
    sim, cs = make_world(tmp_path)
    first = cs.messaging.send_campaign("all", idempotency_key="first")
    second = cs.messaging.send_campaign("all", idempotency_key="second")
    reach = [c.reach for c in sim.state.campaigns]
    assert reach[1] < 0.5 * reach[0]
    sim.advance(35)  # five half-lives
    third = cs.messaging.send_campaign("all", idempotency_key="third")
    assert first.ok and second.ok and third.ok
    assert sim.state.campaigns[-1].reach > 0.9 * reach[0]
