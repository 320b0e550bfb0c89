"""Turn a day's unit sales into what the order system and the clickstream record.

Units become order lines (a line may hold several units of one product), lines become orders
(basket sizes are geometric), orders go to customers in proportion to their segment's purchase
cadence and channel preference. Web and app orders come from sessions with carts; a share of carts
is abandoned. Marketplace orders have no clickstream: the marketplace owns those sessions.
Everything is vectorized per channel.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

# Share of orders per hour of day: quiet nights, a lunch bump and an evening peak.
_HOURLY = np.array([1, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 2, 3, 3.5, 4, 4.5, 5, 4.5, 4, 4, 4.5, 5, 6, 7, 7.5, 6.5, 4.5, 2.5])
_HOURLY = _HOURLY / _HOURLY.sum()
_SESSIONLESS_CHANNELS = ("marketplace",)
_DEVICES = {"app": np.array(["ios", "android"]), "web": np.array(["desktop", "mobile", "tablet"])}
_PAYMENT = np.array(["card", "paypal", "invoice", "wallet"])
SESSION_COLUMNS = ["session_id", "customer_id", "channel", "device", "started_at", "ended_at", "page_views", "cart_id",
                   "order_id"]
CART_COLUMNS = ["cart_id", "session_id", "product_id", "quantity", "unit_price", "added_at", "status"]


@dataclass
class DaySales:
    """What the simulator hands over: realized sales and the prices they happened at."""

    date: dt.date
    sales: np.ndarray  # products x channels, units sold
    interest: np.ndarray  # products x channels, expected demand (drives what abandoned carts hold)
    regular_price: np.ndarray
    paid_price: np.ndarray
    promo_id: np.ndarray  # products x channels, object array of promo ids or None


def _times_of_day(rng: np.random.Generator, date: dt.date, n: int) -> np.ndarray:
    seconds = rng.choice(24, size=n, p=_HOURLY) * 3600 + rng.integers(0, 3600, size=n)
    return np.datetime64(date, "s") + np.sort(seconds).astype("timedelta64[s]")


def _lines_for_channel(rng: np.random.Generator, units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split each product's units into lines; return (product index, quantity) per line."""
    unit_product = np.repeat(np.arange(units.size), units)
    if unit_product.size == 0:
        return unit_product, unit_product
    starts = rng.random(unit_product.size) < 0.8
    starts[np.r_[0, np.flatnonzero(np.diff(unit_product)) + 1]] = True
    positions = np.flatnonzero(starts)
    quantity = np.diff(np.r_[positions, unit_product.size])
    return unit_product[positions], quantity


def build_orders(
    rng: np.random.Generator,
    day_sales: DaySales,
    *,
    product_ids: np.ndarray,
    channel_ids: list[str],
    customer_ids: np.ndarray,
    customer_weights: np.ndarray,  # customers x channels, unnormalised
    lines_per_order_mean: float,
    abandonment_rate: float,
    anonymous_share: float,
    currency: str,
) -> dict[str, pd.DataFrame]:
    date = day_sales.date
    stamp = date.strftime("%Y%m%d")
    orders, lines, sessions, carts = [], [], [], []
    for c, channel in enumerate(channel_ids):
        line_product, line_qty = _lines_for_channel(rng, day_sales.sales[:, c])
        order_of_line = np.zeros(0, dtype=np.int64)
        n_orders = 0
        if line_product.size:
            order_perm = rng.permutation(line_product.size)
            line_product, line_qty = line_product[order_perm], line_qty[order_perm]
            new_order = rng.random(line_product.size) < 1.0 / lines_per_order_mean
            new_order[0] = True
            order_of_line = np.cumsum(new_order) - 1
            n_orders = int(order_of_line[-1]) + 1
        weights = customer_weights[:, c]
        order_customer = customer_ids[rng.choice(customer_ids.size, size=n_orders, p=weights / weights.sum())]
        order_time = _times_of_day(rng, date, n_orders)
        orders.append(pd.DataFrame({
            "_channel": c, "_local": np.arange(n_orders), "customer_id": order_customer,
            "channel": channel, "ordered_at": order_time,
            "payment_method": _PAYMENT[rng.integers(0, _PAYMENT.size, size=n_orders)],
        }))
        regular = day_sales.regular_price[line_product, c]
        paid = day_sales.paid_price[line_product, c]
        lines.append(pd.DataFrame({
            "_channel": c, "_local": order_of_line, "product_id": product_ids[line_product],
            "quantity": line_qty, "unit_price": regular,
            "discount": np.round((regular - paid) * line_qty, 2),
            "line_total": np.round(paid * line_qty, 2),
            "promo_id": day_sales.promo_id[line_product, c],
        }))
        if channel in _SESSIONLESS_CHANNELS:
            continue
        sessions_c, carts_c = _sessions_for_channel(
            rng, day_sales, c, channel, n_orders, order_customer, order_time, order_of_line,
            line_product, line_qty, product_ids, customer_ids, weights, abandonment_rate, anonymous_share,
        )
        sessions.append(sessions_c)
        carts.append(carts_c)
    return _finalise(stamp, currency, orders, lines, sessions, carts)


def _sessions_for_channel(rng, day_sales, c, channel, n_orders, order_customer, order_time, order_of_line,
                          line_product, line_qty, product_ids, customer_ids, weights, abandonment_rate,
                          anonymous_share):
    n_abandoned = int(rng.poisson(n_orders * abandonment_rate / (1.0 - abandonment_rate))) if n_orders else 0
    registered = rng.random(n_abandoned) >= anonymous_share
    abandoned_customer = np.where(
        registered, customer_ids[rng.choice(customer_ids.size, size=n_abandoned, p=weights / weights.sum())], None
    )
    abandoned_time = _times_of_day(rng, day_sales.date, n_abandoned)
    devices = _DEVICES.get(channel, _DEVICES["web"])
    n = n_orders + n_abandoned
    duration = rng.gamma(2.0, 240.0, size=n).astype("timedelta64[s]")
    end = np.concatenate([order_time, abandoned_time])
    sessions = pd.DataFrame({
        "_channel": c, "_local": np.arange(n), "_converted": np.arange(n) < n_orders,
        "customer_id": np.concatenate([order_customer.astype(object), abandoned_customer]),
        "channel": channel, "device": devices[rng.integers(0, devices.size, size=n)],
        "started_at": end - duration, "ended_at": end,
        "page_views": 1 + rng.poisson(np.where(np.arange(n) < n_orders, 9.0, 5.0)),
    })
    interest = day_sales.interest[:, c]
    items = 1 + rng.poisson(0.5, size=n_abandoned)
    abandoned_product = rng.choice(product_ids.size, size=int(items.sum()), p=interest / interest.sum())
    cart_of_item = np.repeat(np.arange(n_orders, n), items)
    carts = pd.DataFrame({
        "_channel": c,
        "_local": np.concatenate([order_of_line, cart_of_item]),
        "product_id": product_ids[np.concatenate([line_product, abandoned_product])],
        "quantity": np.concatenate([line_qty, np.ones(abandoned_product.size, dtype=np.int64)]),
        "unit_price": np.concatenate([day_sales.paid_price[line_product, c], day_sales.paid_price[abandoned_product, c]]),
        "status": np.where(np.arange(line_product.size + abandoned_product.size) < line_product.size, "converted", "abandoned"),
    })
    # Items are added while the session runs: between its start and its end (the checkout, if any).
    local = carts["_local"].to_numpy()
    start = sessions["started_at"].to_numpy()[local]
    length = (sessions["ended_at"].to_numpy()[local] - start).astype("timedelta64[s]").astype(np.int64)
    carts["added_at"] = start + (length * rng.uniform(0.05, 0.95, size=len(carts))).astype("timedelta64[s]")
    return sessions, carts


def _finalise(stamp, currency, orders, lines, sessions, carts) -> dict[str, pd.DataFrame]:
    orders_df = pd.concat(orders, ignore_index=True).sort_values("ordered_at", kind="stable").reset_index(drop=True)
    orders_df["order_id"] = [f"ORD-{stamp}-{i:06d}" for i in range(1, len(orders_df) + 1)]
    keys = orders_df[["_channel", "_local", "order_id"]]
    lines_df = pd.concat(lines, ignore_index=True).merge(keys, on=["_channel", "_local"], how="left")
    lines_df = lines_df.sort_values("order_id", kind="stable").reset_index(drop=True)
    lines_df["line_number"] = lines_df.groupby("order_id").cumcount() + 1
    totals = lines_df.assign(gross=lines_df["unit_price"] * lines_df["quantity"]).groupby("order_id")[
        ["gross", "discount"]].sum()
    orders_df = orders_df.join(totals, on="order_id")
    orders_df["subtotal"] = orders_df["gross"].round(2)
    orders_df["discount_total"] = orders_df["discount"].round(2)
    net = orders_df["subtotal"] - orders_df["discount_total"]
    orders_df["shipping_fee"] = np.where((net >= 49) | (orders_df["channel"] == "marketplace"), 0.0, 4.95)
    orders_df["total"] = (net + orders_df["shipping_fee"]).round(2)
    orders_df["currency"] = currency
    orders_df["status"] = "completed"
    orders_out = orders_df[["order_id", "customer_id", "channel", "ordered_at", "status", "currency", "subtotal",
                            "discount_total", "shipping_fee", "total", "payment_method"]]
    lines_out = lines_df[["order_id", "line_number", "product_id", "quantity", "unit_price", "discount",
                          "line_total", "promo_id"]]
    sessions_out = pd.DataFrame(columns=SESSION_COLUMNS)
    carts_out = pd.DataFrame(columns=CART_COLUMNS)
    if sessions:
        sessions_df = pd.concat(sessions, ignore_index=True).sort_values("started_at", kind="stable")
        sessions_df = sessions_df.reset_index(drop=True)
        numbers = [f"{stamp}-{i:06d}" for i in range(1, len(sessions_df) + 1)]
        sessions_df["session_id"] = ["SES-" + n for n in numbers]
        sessions_df["cart_id"] = ["CRT-" + n for n in numbers]
        sessions_df = sessions_df.merge(keys, on=["_channel", "_local"], how="left")
        sessions_df["order_id"] = sessions_df["order_id"].where(sessions_df["_converted"], None)
        carts_df = pd.concat(carts, ignore_index=True).merge(
            sessions_df[["_channel", "_local", "cart_id", "session_id"]], on=["_channel", "_local"], how="left")
        carts_df = carts_df.sort_values(["added_at", "cart_id"], kind="stable").reset_index(drop=True)
        sessions_out = sessions_df[SESSION_COLUMNS]
        carts_out = carts_df[CART_COLUMNS]
    return {"orders": orders_out, "order_lines": lines_out, "sessions": sessions_out, "cart_events": carts_out}
