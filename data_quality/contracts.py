"""The landing contract per source: which files a batch holds, their columns, types and accepted forms.

This is what the platform expects from each source system, written down once and used by the
boundary validator (to parse and type rows), by the warehouse loader (to create the raw tables)
and by the docs. It is deliberately independent of the simulator: a real shop's systems do not
know our contracts, and tests check that the embedded world honours them.

Types: ``string``, ``integer``, ``decimal`` (float), ``boolean``, ``date``, ``timestamp`` (UTC),
``json`` (nested object kept as JSON text). A ``string`` column is either an *identifier* (keys,
references and codes: a strict character set, so that " P00001" or a Cyrillic "Р00001" can never
become a new product) or free *text* (names, copy: any Unicode a person could type). What each
type accepts, exactly, is stated by the constants below and enforced by ``data_quality.coerce``;
``data_quality/README.md`` spells it out for people.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

DUCKDB_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "decimal": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "json": "VARCHAR",
}


# --- accepted forms of values (one home; data_quality/README.md explains them) ---------------------------------------
# Identifiers: ASCII letters and digits, then also "." "_" ":" "-"; 1 to 128 characters. No whitespace anywhere,
# no other characters: look-alike letters from other scripts, zero-width or non-breaking spaces are rejected, never
# normalized, because a silently "fixed" key is a different key than the one the source system holds.
IDENTIFIER_MAX_CHARS = 128
IDENTIFIER_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,%d}" % (IDENTIFIER_MAX_CHARS - 1))
# Free text: any Unicode characters except the C0 control characters other than tab, line feed and carriage
# return, DEL, and lone surrogates (which no UTF-8 file can hold and no database can store); loaded as sent.
TEXT_MAX_CHARS = 65_536
TEXT_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# Integers are 64-bit (DuckDB BIGINT): digits with an optional sign, at most this many characters of text.
INTEGER_MIN, INTEGER_MAX = -(2 ** 63), 2 ** 63 - 1
NUMBER_MAX_CHARS = 64
# Dates (YYYY-MM-DD) and timestamps (YYYY-MM-DDTHH:MM:SS[.ffffff] with Z or ±HH:MM) lie in this range: what every
# engine on the path (pandas, Arrow, DuckDB) holds exactly. Timestamps are stored as UTC with microseconds.
DATE_MIN, DATE_MAX = dt.date(1900, 1, 1), dt.date(2199, 12, 31)


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    description: str = ""
    identifier: bool = False  # a string column holding keys, references or codes (IDENTIFIER_PATTERN)


@dataclass(frozen=True)
class TableContract:
    """One file of a batch and the raw table it loads into."""

    source: str
    table: str
    format: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    min_rows: int = 0
    description: str = ""

    @property
    def file_name(self) -> str:
        return self.table + {"csv": ".csv", "jsonl": ".jsonl", "parquet": ".parquet"}[self.format]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)


@dataclass(frozen=True)
class SourceContract:
    name: str
    system: str
    tables: tuple[TableContract, ...] = field(default_factory=tuple)
    description: str = ""

    def table(self, name: str) -> TableContract:
        for table in self.tables:
            if table.table == name:
                return table
        raise KeyError(f"source {self.name} has no table {name!r}")


def _c(name: str, type_: str, required: bool = False, description: str = "") -> Column:
    return Column(name, type_, required, description)


def _id(name: str, required: bool = False, description: str = "") -> Column:
    return Column(name, "string", required, description, identifier=True)


_CATALOG = SourceContract("catalog", "PIM", (
    TableContract("catalog", "products", "jsonl", (
        _id("product_id", True, "Stable product identifier"),
        _id("sku", True, "Stock keeping unit"),
        _c("name", "string", True, "Product title"),
        _id("category", True, "Merchandising category"),
        _c("brand", "string"),
        _c("list_price", "decimal", True, "Recommended retail price"),
        _c("unit_cost", "decimal", True, "Current supplier cost per unit"),
        _id("currency", True),
        _c("weight_kg", "decimal"),
        _c("description", "string", description="Product copy; null when content is missing"),
        _c("image_count", "integer"),
        _c("attributes", "json", description="Colour, material, size; null when missing"),
        _id("status", True),
        _c("launched_on", "date"),
        _c("end_of_life_on", "date", description="Planned end of life; null when none is planned"),
        _c("updated_at", "timestamp", True),
    ), key=("product_id",), min_rows=1, description="Daily full snapshot of the catalog"),
    TableContract("catalog", "channels", "csv", (
        _id("channel_id", True),
        _c("name", "string", True),
        _id("channel_type", True),
        _c("fee_rate", "decimal", True),
        _c("promotion_fee_per_day", "decimal", description="What the channel charges per promoted product and day"),
    ), key=("channel_id",), min_rows=1, description="Sales channels the catalog is listed on"),
), "Product information management: the catalog and its channels")

_ORDERS = SourceContract("orders", "OMS", (
    TableContract("orders", "orders", "csv", (
        _id("order_id", True),
        _id("customer_id", True),
        _id("channel", True),
        _c("ordered_at", "timestamp", True),
        _id("status", True),
        _id("currency", True),
        _c("subtotal", "decimal", True),
        _c("discount_total", "decimal", True),
        _c("shipping_fee", "decimal", True),
        _c("total", "decimal", True),
        _id("payment_method"),
    ), key=("order_id",), min_rows=1, description="Orders placed on the batch date"),
    TableContract("orders", "order_lines", "csv", (
        _id("order_id", True),
        _c("line_number", "integer", True),
        _id("product_id", True),
        _c("quantity", "integer", True),
        _c("unit_price", "decimal", True, "Regular price per unit"),
        _c("discount", "decimal", True, "Promotion discount on the whole line"),
        _c("line_total", "decimal", True, "What the customer paid for the line"),
        _id("promo_id"),
    ), key=("order_id", "line_number"), min_rows=1, description="Lines of the orders above"),
), "Order management system")

_INVENTORY = SourceContract("inventory", "WMS", (
    TableContract("inventory", "warehouses", "csv", (
        _id("warehouse_id", True),
        _c("name", "string", True),
        _id("region", True),
        _c("lead_time_days", "integer", True),
        _c("order_cost", "decimal", True),
        _c("holding_cost_rate", "decimal", True),
        _c("shipping_cost_per_unit", "decimal", description="Shipping a unit to a customer of a region it serves"),
        _c("remote_shipping_cost_per_unit", "decimal", description="Shipping a unit to any other region"),
        _c("transfer_fixed_cost", "decimal", description="Fixed cost of a stock transfer"),
        _c("transfer_cost_per_unit", "decimal", description="Cost per unit moved between warehouses"),
        _c("salvage_rate", "decimal", description="Share of unit cost recovered when stock is written off"),
    ), key=("warehouse_id",), min_rows=1, description="Warehouse master data"),
    TableContract("inventory", "inventory_snapshot", "parquet", (
        _c("snapshot_date", "date", True),
        _id("warehouse_id", True),
        _id("product_id", True),
        _c("on_hand", "integer", True, "Units on hand at the end of the day"),
        _c("on_order", "integer", True, "Units ordered and not yet received"),
        _c("received_today", "integer", True),
        _c("stock_age_days", "decimal", description="Mean days on hand of the units on hand (FIFO); null when none"),
        _c("oldest_unit_age_days", "integer", description="Days on hand of the oldest unit; null when none"),
    ), key=("snapshot_date", "warehouse_id", "product_id"), min_rows=1,
        description="End-of-day stock per product and warehouse"),
    TableContract("inventory", "purchase_orders", "csv", (
        _id("po_id", True),
        _id("product_id", True),
        _id("warehouse_id", True),
        _c("quantity", "integer", True),
        _c("unit_cost", "decimal", True),
        _c("ordered_on", "date", True),
        _c("expected_on", "date", True),
        _c("origin", "string", description="legacy (the automatic reordering) or agent (placed through the API)"),
    ), key=("po_id",), description="Replenishment orders placed on the batch date"),
    TableContract("inventory", "transfers", "csv", (
        _id("transfer_id", True),
        _id("product_id", True),
        _id("from_warehouse_id", True),
        _id("to_warehouse_id", True),
        _c("quantity", "integer", True),
        _c("shipped_on", "date", True),
        _c("expected_on", "date", True),
        _c("cost", "decimal", True),
    ), key=("transfer_id",), description="Stock transfers between warehouses shipped on the batch date"),
), "Warehouse management system")

_PRICES = SourceContract("prices", "pricing engine", (
    TableContract("prices", "prices", "csv", (
        _id("product_id", True),
        _id("channel", True),
        _c("price_date", "date", True),
        _c("regular_price", "decimal", True),
        _c("price", "decimal", True, "Effective price after promotions"),
        _id("promo_id"),
        _c("set_by", "string", description="Who set the regular price: legacy (the old repricing) or agent"),
        _id("currency", True),
    ), key=("product_id", "channel", "price_date"), min_rows=1, description="Effective prices of the day"),
), "The shop's own prices per product and channel")

_COMPETITOR = SourceContract("competitor_prices", "price scraper", (
    TableContract("competitor_prices", "competitor_prices", "jsonl", (
        _c("scraped_at", "timestamp", True),
        _id("competitor", True),
        _id("product_id", True, "Our product the scraped offer was matched to"),
        _id("competitor_sku"),
        _c("price", "decimal", True),
        _id("currency", True),
        _c("in_stock", "boolean"),
    ), key=("competitor", "product_id"), description="Scraped competitor offers"),
), "Competitor price feed")

_CUSTOMERS = SourceContract("customers", "CDP", (
    TableContract("customers", "customers", "parquet", (
        _id("customer_id", True),
        _c("email_sha256", "string", True),  # its own rule: a hex digest (suites.py)
        _id("segment", True),
        _id("region"),
        _c("signup_date", "date", True),
        _c("marketing_opt_in", "boolean", True),
        _id("preferred_channel"),
        _c("updated_at", "timestamp", True),
    ), key=("customer_id",), description="New and changed customer profiles (the first batch is a full export)"),
    TableContract("customers", "campaigns", "csv", (
        _id("campaign_id", True),
        _c("sent_on", "date", True),
        _c("segment", "string", True, "A segment, or 'all'"),
        _c("category", "string", True, "A category, or 'all'"),
        _c("messages", "integer", True),
        _c("cost", "decimal", True),
        _c("runs_until", "date", True),
    ), key=("campaign_id",), description="Marketing campaigns sent on the batch date"),
), "Customer data platform")

_SESSIONS = SourceContract("sessions", "clickstream", (
    TableContract("sessions", "sessions", "parquet", (
        _id("session_id", True),
        _id("customer_id"),
        _id("channel", True),
        _id("device"),
        _c("started_at", "timestamp", True),
        _c("ended_at", "timestamp", True),
        _c("page_views", "integer", True),
        _id("cart_id"),
        _id("order_id"),
    ), key=("session_id",), description="Web and app sessions with cart activity"),
    TableContract("sessions", "cart_events", "jsonl", (
        _id("cart_id", True),
        _id("session_id", True),
        _id("product_id", True),
        _c("quantity", "integer", True),
        _c("unit_price", "decimal", True),
        _c("added_at", "timestamp", True),
        _id("status", True),
    ), description="Items added to carts and whether the cart converted"),
), "Clickstream: sessions and carts")

_PROMOTIONS = SourceContract("promotions", "promotion calendar", (
    TableContract("promotions", "promotions", "csv", (
        _id("promo_id", True),
        _id("product_id", True),
        _id("channel", True, "A channel id, or 'all'"),
        _c("discount_pct", "decimal", True),
        _c("starts_on", "date", True),
        _c("ends_on", "date", True),
        _id("promo_type", True),
        _id("status", True),
        _c("updated_at", "timestamp", True),
    ), key=("promo_id",), description="Promotions created or changed on the batch date"),
), "Promotion calendar")

SOURCES: dict[str, SourceContract] = {
    s.name: s for s in (_CATALOG, _ORDERS, _INVENTORY, _PRICES, _COMPETITOR, _CUSTOMERS, _SESSIONS, _PROMOTIONS)
}


def source_contract(name: str) -> SourceContract:
    try:
        return SOURCES[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r}; known sources: {', '.join(SOURCES)}") from None
