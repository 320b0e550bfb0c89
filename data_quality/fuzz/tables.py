"""Clean rows for every landed table: values the contract types accept and the source's suite passes.

Each generator knows the suite's rules for its table (ranges, allowed values, references to the
master data, dates relative to the batch date, keys unique within the batch), so a clean row that
is not damaged must load, value for value. The master data (products with list prices, channels,
warehouses) is a small synthetic ``FuzzWorld``; its ``reference`` is what the validator is given.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from data_quality.fuzz.values import (date_between, decimal_between, free_text, identifier, json_object,
                                      moment_between)
from data_quality.suites import MAX_PRICE, MAX_QUANTITY, Reference

Row = dict[str, object]  # column -> typed clean value (None: missing)
HISTORY = dt.timedelta(days=400)


@dataclass(frozen=True)
class FuzzWorld:
    products: dict[str, float]  # product id -> list price
    channels: tuple[str, ...]
    warehouses: tuple[str, ...]

    @classmethod
    def draw(cls, rng: random.Random) -> FuzzWorld:
        products = {identifier(rng, n): decimal_between(rng, 1.0, 5_000.0) for n in range(rng.randrange(8, 30))}
        channels = tuple(identifier(rng, n) for n in range(rng.randrange(1, 5)))
        warehouses = tuple(identifier(rng, n) for n in range(rng.randrange(1, 5)))
        return cls(products, channels, warehouses)

    @property
    def reference(self) -> Reference:
        return Reference(products=frozenset(self.products), list_price=dict(self.products),
                         channels=frozenset(self.channels), warehouses=frozenset(self.warehouses))


@dataclass
class Draw:
    """What a row generator needs: randomness, master data, the batch date, and fresh unique numbers."""

    rng: random.Random
    world: FuzzWorld
    batch_date: dt.date
    _numbers: itertools.count = field(default_factory=itertools.count)

    def unique(self) -> int:
        return next(self._numbers)

    def key(self) -> str:
        return identifier(self.rng, self.unique())

    def code(self) -> str:
        return identifier(self.rng)

    def maybe(self, value_of: Callable[[], object], share: float = 0.8):
        return value_of() if self.rng.random() < share else None

    def text(self, max_chars: int = 40) -> str:
        return free_text(self.rng, max_chars)

    def product(self) -> str:
        return self.rng.choice(sorted(self.world.products))

    def channel(self) -> str:
        return self.rng.choice(self.world.channels)

    def warehouse(self) -> str:
        return self.rng.choice(self.world.warehouses)

    def day_before(self, days: int = 400) -> dt.date:
        return date_between(self.rng, self.batch_date - dt.timedelta(days=days), self.batch_date)

    def moment_before(self, days: int = 400) -> dt.datetime:
        return moment_between(self.rng, self.batch_date - dt.timedelta(days=days), self.batch_date)

    def money(self, high: float, strict: bool = False) -> float:
        return decimal_between(self.rng, 0.0, high, 2, strict_low=strict)

    def price_for(self, product: str) -> float:
        """A price 0.25x to 4.5x the product's list price (the suite allows 0.2x to 5x)."""
        return min(round(self.world.products[product] * self.rng.uniform(0.25, 4.5), 2), MAX_PRICE)

    def pairs(self, first: list, second: list, count: int) -> list[tuple]:
        every = list(itertools.product(first, second))
        return self.rng.sample(every, min(count, len(every)))


def _products(d: Draw, count: int) -> list[Row]:
    rows = []
    for _ in range(count):
        list_price = decimal_between(d.rng, 0.01, MAX_PRICE, 2, strict_low=True)
        rows.append({
            "product_id": d.key(), "sku": d.key(), "name": d.text(), "category": d.code(),
            "brand": d.maybe(d.text), "list_price": list_price,
            "unit_cost": decimal_between(d.rng, 0.0, min(1.5 * list_price, MAX_PRICE), 2, strict_low=True)
            if list_price > 0.01 else 0.01,
            "currency": "".join(d.rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(3)),
            "weight_kg": d.maybe(lambda: decimal_between(d.rng, 0.0, 2_000.0, 3)),
            "description": d.maybe(lambda: d.text(300)), "image_count": d.maybe(lambda: d.rng.randint(0, 100)),
            "attributes": d.maybe(lambda: json_object(d.rng)),
            "status": d.rng.choice(("active", "inactive", "discontinued")),
            "launched_on": d.maybe(lambda: d.day_before(20_000)),
            "end_of_life_on": d.maybe(lambda: d.day_before(20_000) + dt.timedelta(days=d.rng.randrange(0, 40_000))),
            "updated_at": d.moment_before(),
        })
    return rows


def _channels(d: Draw, count: int) -> list[Row]:
    return [{"channel_id": d.key(), "name": d.text(), "channel_type": d.rng.choice(("owned", "marketplace")),
             "fee_rate": decimal_between(d.rng, 0.0, 1.0, 4),
             "promotion_fee_per_day": d.maybe(lambda: d.money(1_000.0))} for _ in range(count)]


def _orders(d: Draw, count: int) -> list[Row]:
    return [{"order_id": d.key(), "customer_id": d.code(), "channel": d.channel(), "ordered_at": d.moment_before(7),
             "status": d.rng.choice(("completed", "cancelled", "returned")), "currency": d.code(),
             "subtotal": d.money(10 * MAX_PRICE), "discount_total": d.money(10 * MAX_PRICE),
             "shipping_fee": d.money(1_000.0), "total": d.money(10 * MAX_PRICE), "payment_method": d.maybe(d.code)}
            for _ in range(count)]


def _order_lines(d: Draw, count: int) -> list[Row]:
    order = d.key()
    return [{"order_id": order, "line_number": number + 1, "product_id": d.product(),
             "quantity": d.rng.randint(1, MAX_QUANTITY), "unit_price": d.money(MAX_PRICE, strict=True),
             "discount": d.money(10 * MAX_PRICE), "line_total": d.money(10 * MAX_PRICE), "promo_id": d.maybe(d.code, 0.3)}
            for number in range(count)]


def _warehouses(d: Draw, count: int) -> list[Row]:
    return [{"warehouse_id": d.key(), "name": d.text(), "region": d.code(), "lead_time_days": d.rng.randint(0, 365),
             "order_cost": d.money(1_000_000.0), "holding_cost_rate": decimal_between(d.rng, 0.0, 1.0, 5),
             "shipping_cost_per_unit": d.maybe(lambda: d.money(1_000.0)),
             "remote_shipping_cost_per_unit": d.maybe(lambda: d.money(1_000.0)),
             "transfer_fixed_cost": d.maybe(lambda: d.money(100_000.0)),
             "transfer_cost_per_unit": d.maybe(lambda: d.money(1_000.0)),
             "salvage_rate": d.maybe(lambda: decimal_between(d.rng, 0.0, 1.0, 4))}
            for _ in range(count)]


def _inventory_snapshot(d: Draw, count: int) -> list[Row]:
    return [{"snapshot_date": d.batch_date, "warehouse_id": warehouse, "product_id": product,
             "on_hand": d.rng.randint(0, 10_000_000), "on_order": d.rng.randint(0, 10_000_000),
             "received_today": d.rng.randint(0, 10_000_000),
             "stock_age_days": d.maybe(lambda: decimal_between(d.rng, 0.0, 10_000.0, 2)),
             "oldest_unit_age_days": d.maybe(lambda: d.rng.randint(0, 10_000))}
            for warehouse, product in d.pairs(list(d.world.warehouses), sorted(d.world.products), count)]


def _purchase_orders(d: Draw, count: int) -> list[Row]:
    rows = []
    for _ in range(count):
        ordered = d.day_before()
        rows.append({"po_id": d.key(), "product_id": d.product(), "warehouse_id": d.warehouse(),
                     "quantity": d.rng.randint(1, 10_000_000), "unit_cost": d.money(MAX_PRICE, strict=True),
                     "ordered_on": ordered, "expected_on": ordered + dt.timedelta(days=d.rng.randrange(0, 90)),
                     "origin": d.maybe(lambda: d.rng.choice(("legacy", "agent")))})
    return rows


def _transfers(d: Draw, count: int) -> list[Row]:
    rows = []
    for _ in range(count):
        shipped = d.day_before()
        rows.append({"transfer_id": d.key(), "product_id": d.product(), "from_warehouse_id": d.warehouse(),
                     "to_warehouse_id": d.warehouse(), "quantity": d.rng.randint(1, 10_000_000),
                     "shipped_on": shipped, "expected_on": shipped + dt.timedelta(days=d.rng.randrange(0, 30)),
                     "cost": d.money(1_000_000.0)})
    return rows


def _campaigns(d: Draw, count: int) -> list[Row]:
    rows = []
    for _ in range(count):
        sent = d.day_before()
        rows.append({"campaign_id": d.key(), "sent_on": sent, "segment": d.code(), "category": d.code(),
                     "messages": d.rng.randint(1, 100_000_000), "cost": d.money(1_000_000.0),
                     "runs_until": sent + dt.timedelta(days=d.rng.randrange(0, 30))})
    return rows


def _prices(d: Draw, count: int) -> list[Row]:
    rows = []
    for product, channel in d.pairs(sorted(d.world.products), list(d.world.channels), count):
        price = d.price_for(product)
        rows.append({"product_id": product, "channel": channel, "price_date": d.batch_date,
                     "regular_price": min(max(round(price * d.rng.uniform(1.0, 1.5), 2), price), MAX_PRICE),
                     "price": price, "promo_id": d.maybe(d.code, 0.3),
                     "set_by": d.maybe(lambda: d.rng.choice(("legacy", "agent"))), "currency": d.code()})
    return rows


def _competitor_prices(d: Draw, count: int) -> list[Row]:
    competitor = d.code()
    return [{"scraped_at": d.moment_before(3), "competitor": competitor, "product_id": product,
             "competitor_sku": d.maybe(d.code), "price": d.price_for(product), "currency": d.code(),
             "in_stock": d.maybe(lambda: d.rng.random() < 0.5)}
            for product in d.rng.sample(sorted(d.world.products), min(count, len(d.world.products)))]


def _customers(d: Draw, count: int) -> list[Row]:
    return [{"customer_id": d.key(), "email_sha256": f"{d.rng.getrandbits(256):064x}"[: d.rng.choice((32, 40, 64))],
             "segment": d.code(), "region": d.maybe(d.code), "signup_date": d.day_before(3_000),
             "marketing_opt_in": d.rng.random() < 0.5, "preferred_channel": d.maybe(d.channel),
             "updated_at": d.moment_before()} for _ in range(count)]


def _sessions(d: Draw, count: int) -> list[Row]:
    rows = []
    for _ in range(count):
        ended = d.moment_before(3)
        started = max(ended - dt.timedelta(seconds=d.rng.randrange(0, 7_200)),
                      dt.datetime.combine(d.batch_date - HISTORY, dt.time()))
        rows.append({"session_id": d.key(), "customer_id": d.maybe(d.code), "channel": d.channel(),
                     "device": d.maybe(d.code), "started_at": started, "ended_at": ended,
                     "page_views": d.rng.randint(1, 10_000), "cart_id": d.maybe(d.code), "order_id": d.maybe(d.code)})
    return rows


def _cart_events(d: Draw, count: int) -> list[Row]:
    return [{"cart_id": d.code(), "session_id": d.code(), "product_id": d.product(),
             "quantity": d.rng.randint(1, MAX_QUANTITY), "unit_price": d.money(MAX_PRICE, strict=True),
             "added_at": d.moment_before(3), "status": d.rng.choice(("converted", "abandoned", "active"))}
            for _ in range(count)]


def _promotions(d: Draw, count: int) -> list[Row]:
    rows = []
    for _ in range(count):
        starts = d.day_before(30) + dt.timedelta(days=d.rng.randrange(0, 60))
        rows.append({"promo_id": d.key(), "product_id": d.product(),
                     "channel": d.rng.choice((*d.world.channels, "all")),
                     "discount_pct": decimal_between(d.rng, 0.0, 90.0, 1, strict_low=True), "starts_on": starts,
                     "ends_on": starts + dt.timedelta(days=d.rng.randrange(0, 30)),
                     "promo_type": d.code(), "status": d.rng.choice(("scheduled", "active", "ended", "cancelled")),
                     "updated_at": d.moment_before()})
    return rows


CLEAN_ROWS: dict[str, Callable[[Draw, int], list[Row]]] = {
    "products": _products, "channels": _channels, "orders": _orders, "order_lines": _order_lines,
    "warehouses": _warehouses, "inventory_snapshot": _inventory_snapshot, "purchase_orders": _purchase_orders,
    "prices": _prices, "competitor_prices": _competitor_prices, "customers": _customers, "sessions": _sessions,
    "cart_events": _cart_events, "promotions": _promotions, "transfers": _transfers, "campaigns": _campaigns,
}

# A column per table whose value can change without breaking any rule but uniqueness (for conflicting duplicates).
FREE_COLUMN = {"products": "name", "channels": "name", "orders": "customer_id", "order_lines": "promo_id",
               "warehouses": "name", "inventory_snapshot": "on_order", "purchase_orders": "quantity",
               "prices": "promo_id", "competitor_prices": "competitor_sku", "customers": "segment",
               "sessions": "device", "promotions": "promo_type", "transfers": "cost", "campaigns": "category"}
# The reference a row of the table carries, and a value the master data does not know.
REFERENCE_COLUMN = {"order_lines": "product_id", "inventory_snapshot": "warehouse_id", "purchase_orders": "product_id",
                    "prices": "channel", "competitor_prices": "product_id", "cart_events": "product_id",
                    "promotions": "product_id", "orders": "channel", "sessions": "channel",
                    "transfers": "to_warehouse_id"}
