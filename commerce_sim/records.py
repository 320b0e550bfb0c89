"""What the shop's systems of record export each day: one function per landing file.

These frames are what a real shop's PIM, OMS, WMS, pricing engine, scraper, CDP, clickstream and
promotion calendar would hand over: no truth, only what the systems know — including the records of
the agents' own actions (their purchase orders, transfers, campaigns and the prices they set), as
the systems logged them. Column types are the platform's landing contract
(``data_quality/contracts.py``).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from commerce_sim.scenario import Scenario
from commerce_sim.state import SimState
from commerce_sim.world import NO_END_OF_LIFE, customer_id, email_hash

PURCHASE_ORDER_COLUMNS = ["po_id", "product_id", "warehouse_id", "quantity", "unit_cost", "ordered_on", "expected_on",
                          "origin"]
TRANSFER_COLUMNS = ["transfer_id", "product_id", "from_warehouse_id", "to_warehouse_id", "quantity", "shipped_on",
                    "expected_on", "cost"]
CAMPAIGN_COLUMNS = ["campaign_id", "sent_on", "segment", "category", "messages", "cost", "runs_until"]
PROMOTION_COLUMNS = ["promo_id", "product_id", "channel", "discount_pct", "starts_on", "ends_on", "promo_type",
                     "status", "updated_at"]
LEGACY, AGENT = "legacy", "agent"


def day_date(scenario: Scenario, day: int) -> dt.date:
    return scenario.start_date + dt.timedelta(days=int(day))


def catalog_snapshot(state: SimState, unit_cost: np.ndarray, exported_at: pd.Timestamp) -> pd.DataFrame:
    cat, scenario = state.world.catalog, state.scenario
    attributes = [
        {"color": c, "material": m, "size": z} if has else None
        for c, m, z, has in zip(cat.color, cat.material, cat.size, cat.has_attributes)
    ]
    descriptions = [
        f"{name} by {brand}: durable {material}, {color}." if has else None
        for name, brand, material, color, has in zip(cat.name, cat.brand, cat.material, cat.color, cat.has_description)
    ]
    return pd.DataFrame({
        "product_id": cat.product_id,
        "sku": cat.sku,
        "name": cat.name,
        "category": np.array(cat.category_names)[cat.category],
        "brand": cat.brand,
        "list_price": cat.list_price,
        "unit_cost": unit_cost,
        "currency": scenario.currency,
        "weight_kg": cat.weight_kg,
        "description": descriptions,
        "image_count": cat.image_count,
        "attributes": attributes,
        "status": np.where(state.written_off, "discontinued", "active"),
        "launched_on": [day_date(scenario, d) for d in cat.launched_on],
        "end_of_life_on": [None if d >= NO_END_OF_LIFE else day_date(scenario, d) for d in cat.end_of_life],
        "updated_at": exported_at,
    })


def channels(scenario: Scenario) -> pd.DataFrame:
    return pd.DataFrame({
        "channel_id": [c.id for c in scenario.channels],
        "name": [c.name for c in scenario.channels],
        "channel_type": ["marketplace" if "market" in c.id else "owned" for c in scenario.channels],
        "fee_rate": [c.fee_rate for c in scenario.channels],
        "promotion_fee_per_day": [c.promotion_fee_per_day for c in scenario.channels],
    })


def warehouses(scenario: Scenario) -> pd.DataFrame:
    f = scenario.fulfilment
    return pd.DataFrame([
        {"warehouse_id": w.id, "name": w.name, "region": w.region, "lead_time_days": w.lead_time_days,
         "order_cost": w.order_cost, "holding_cost_rate": w.holding_cost_rate,
         "shipping_cost_per_unit": f.shipping_cost_per_unit,
         "remote_shipping_cost_per_unit": f.remote_shipping_cost_per_unit,
         "transfer_fixed_cost": f.transfer_fixed_cost, "transfer_cost_per_unit": f.transfer_cost_per_unit,
         "salvage_rate": scenario.lifecycle.salvage_rate}
        for w in scenario.warehouses
    ])


def inventory_snapshot(state: SimState, date: dt.date, received: np.ndarray) -> pd.DataFrame:
    world = state.world
    on_hand = state.on_hand()
    n_products, n_warehouses = on_hand.shape
    mean_age, oldest = state.lots.age(state.day)
    return pd.DataFrame({
        "snapshot_date": date,
        "warehouse_id": np.tile(world.warehouse_ids, n_products),
        "product_id": np.repeat(world.catalog.product_id, n_warehouses),
        "on_hand": on_hand.ravel(),
        "on_order": state.pipeline.on_order(n_products, n_warehouses).ravel(),
        "received_today": received.ravel(),
        "stock_age_days": np.round(mean_age.ravel(), 2),
        "oldest_unit_age_days": pd.array(np.where(oldest.ravel() < 0, None, oldest.ravel()), dtype="Int64"),
    })


def legacy_purchase_orders(state: SimState, date: dt.date, orders, unit_cost: np.ndarray) -> pd.DataFrame:
    """The legacy policy's orders of the day; ids are the day, product and warehouse (one order each at most)."""
    world, stamp = state.world, date.strftime("%Y%m%d")
    products = world.catalog.product_id[orders.product]
    warehouse_ids = np.array(world.warehouse_ids)[orders.warehouse]
    return pd.DataFrame({
        "po_id": [f"PO-{stamp}-{p}-{w}" for p, w in zip(products, warehouse_ids)],
        "product_id": products,
        "warehouse_id": warehouse_ids,
        "quantity": orders.quantity,
        "unit_cost": unit_cost[orders.product],
        "ordered_on": date,
        "expected_on": [day_date(state.scenario, d) for d in orders.deliveries.promised_day],
        "origin": LEGACY,
    }, columns=PURCHASE_ORDER_COLUMNS)


def recorded(state: SimState, kind: str, columns: list[str]) -> pd.DataFrame:
    """The systems' records of ``kind`` since the last export (and forget them: they are exported once)."""
    rows = state.records.pop(kind, [])
    return pd.DataFrame(rows, columns=columns)


def purchase_orders(state: SimState, date: dt.date, orders, unit_cost: np.ndarray) -> pd.DataFrame:
    legacy = legacy_purchase_orders(state, date, orders, unit_cost)
    agent = recorded(state, "purchase_orders", PURCHASE_ORDER_COLUMNS)
    if agent.empty:
        return legacy
    if legacy.empty:
        return agent
    return pd.concat([legacy, agent], ignore_index=True)


def prices(state: SimState, date: dt.date, regular: np.ndarray, paid: np.ndarray, promo_id: np.ndarray) -> pd.DataFrame:
    world = state.world
    n_products, n_channels = regular.shape
    return pd.DataFrame({
        "product_id": np.repeat(world.catalog.product_id, n_channels),
        "channel": np.tile(world.channel_ids, n_products),
        "price_date": date,
        "regular_price": regular.ravel(),
        "price": paid.ravel(),
        "promo_id": promo_id.ravel(),
        "set_by": np.where(np.isnan(state.managed_price), LEGACY, AGENT).ravel(),
        "currency": state.scenario.currency,
    })


def competitor_feed(state: SimState, streams, day: int, date: dt.date, competitor_price: np.ndarray) -> pd.DataFrame:
    spec, cat = state.scenario.competitor, state.world.catalog
    products = np.arange(cat.n)
    tracked = streams.uniform("scraper", 0, products, draw=0) < spec.coverage  # fixed per world
    scraped = tracked & (streams.uniform("scraper", day, products, draw=1) >= spec.scrape_failure_rate)
    idx = np.flatnonzero(scraped)
    seconds = streams.integers("scraper", day, idx, 2 * 3600, 6 * 3600 - 1, draw=2).astype("timedelta64[s]")
    return pd.DataFrame({
        "scraped_at": np.datetime64(date, "s") + seconds,
        "competitor": spec.name,
        "product_id": cat.product_id[idx],
        "competitor_sku": np.char.add("RM-", np.char.zfill((idx * 7919 % 100000).astype(str), 5)),
        "price": competitor_price[idx],
        "currency": state.scenario.currency,
        "in_stock": streams.uniform("scraper", day, idx, draw=3) > 0.05,
    })


def customers(state: SimState, day: int, changed: np.ndarray, exported_at: pd.Timestamp) -> pd.DataFrame:
    world, c = state.world, state.customers
    rows = np.arange(c.n) if day == 0 else np.sort(changed)
    return pd.DataFrame({
        "customer_id": customer_id(rows),
        "email_sha256": email_hash(rows),
        "segment": np.array(world.segment_names)[c.segment[rows]],
        "region": np.array(world.region_names)[c.region[rows]],
        "signup_date": [day_date(state.scenario, d) for d in c.signup_day[rows]],
        "marketing_opt_in": c.marketing_opt_in[rows],
        "preferred_channel": np.array(world.channel_ids)[world.segment_channel[c.segment[rows]]],
        "updated_at": exported_at,
    })


def promotions(state: SimState, day: int, exported_at: pd.Timestamp) -> pd.DataFrame:
    rows = [p for p in state.promotions if day in (p.created_day, p.updated_day)]
    channel_ids = state.world.channel_ids
    return pd.DataFrame({
        "promo_id": [p.promo_id for p in rows],
        "product_id": [state.world.catalog.product_id[p.product] for p in rows],
        "channel": [channel_ids[p.channel] if p.channel >= 0 else "all" for p in rows],
        "discount_pct": [round(p.discount * 100, 1) for p in rows],
        "starts_on": [day_date(state.scenario, p.start_day) for p in rows],
        "ends_on": [day_date(state.scenario, p.end_day) for p in rows],
        "promo_type": ["markdown" if p.origin == "calendar" else "agent" for p in rows],
        "status": [p.status for p in rows],
        "updated_at": exported_at,
    }, columns=PROMOTION_COLUMNS)
