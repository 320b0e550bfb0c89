"""Great Expectations suites per source, as code.

Each landed table has a suite of row-level expectations: required fields, ranges that separate real
values from absurd ones, allowed values, uniqueness within a batch, references to known products,
channels and warehouses, and dates that may not lie after the batch date. Every expectation carries
``meta["reason"]``, the sentence a quarantined row is tagged with.

Some expectations need context that is not in the row itself (the batch date, the product's list
price). The validator adds those as ``_check_*`` columns before validating (``derived_columns``) and
drops them before loading.

``great_expectations`` is imported inside the functions: it takes seconds to import.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

BATCH_DATE = "_batch_date"
MAX_PRICE = 100_000.0
MAX_QUANTITY = 1_000


@dataclass(frozen=True)
class Reference:
    """Master data the row-level checks compare against (from the warehouse and this run's batches)."""

    products: frozenset[str] = frozenset()
    list_price: dict[str, float] = field(default_factory=dict)
    channels: frozenset[str] = frozenset()
    warehouses: frozenset[str] = frozenset()

    def extended_with(self, table: str, rows: pd.DataFrame) -> Reference:
        """This reference plus master data that just passed validation in the same run."""
        if rows.empty:
            return self
        if table == "products":
            prices = dict(self.list_price)
            prices.update(zip(rows["product_id"], rows["list_price"].astype(float)))
            return replace(self, products=self.products | frozenset(rows["product_id"]), list_price=prices)
        if table == "channels":
            return replace(self, channels=self.channels | frozenset(rows["channel_id"]))
        if table == "warehouses":
            return replace(self, warehouses=self.warehouses | frozenset(rows["warehouse_id"]))
        return self


def _days_after_batch(frame: pd.DataFrame, column: str) -> pd.Series:
    values = pd.to_datetime(frame[column], errors="coerce").dt.normalize()
    return (values - pd.to_datetime(frame[BATCH_DATE])).dt.days.astype(float)


def _ratio_to_list(frame: pd.DataFrame, column: str, reference: Reference) -> pd.Series:
    list_price = frame["product_id"].map(reference.list_price).astype(float)
    return frame[column].astype(float) / list_price


# table -> {derived column: (function(frame, reference) -> Series)}
_DERIVED = {
    "products": {"_check_updated_days_after_batch": lambda f, r: _days_after_batch(f, "updated_at"),
                 "_check_cost_to_list": lambda f, r: f["unit_cost"].astype(float) / f["list_price"].astype(float)},
    "orders": {"_check_ordered_days_after_batch": lambda f, r: _days_after_batch(f, "ordered_at")},
    "inventory_snapshot": {"_check_snapshot_days_after_batch": lambda f, r: _days_after_batch(f, "snapshot_date")},
    "purchase_orders": {"_check_ordered_days_after_batch": lambda f, r: _days_after_batch(f, "ordered_on")},
    "prices": {"_check_price_days_after_batch": lambda f, r: _days_after_batch(f, "price_date"),
               "_check_price_to_list": lambda f, r: _ratio_to_list(f, "price", r)},
    "competitor_prices": {"_check_scraped_days_after_batch": lambda f, r: _days_after_batch(f, "scraped_at"),
                          "_check_price_to_list": lambda f, r: _ratio_to_list(f, "price", r)},
    "customers": {"_check_signup_days_after_batch": lambda f, r: _days_after_batch(f, "signup_date"),
                  "_check_updated_days_after_batch": lambda f, r: _days_after_batch(f, "updated_at")},
    "sessions": {"_check_started_days_after_batch": lambda f, r: _days_after_batch(f, "started_at"),
                 "_check_ended_days_after_batch": lambda f, r: _days_after_batch(f, "ended_at")},
    "cart_events": {"_check_added_days_after_batch": lambda f, r: _days_after_batch(f, "added_at")},
    "promotions": {"_check_updated_days_after_batch": lambda f, r: _days_after_batch(f, "updated_at")},
    "transfers": {"_check_shipped_days_after_batch": lambda f, r: _days_after_batch(f, "shipped_on")},
    "campaigns": {"_check_sent_days_after_batch": lambda f, r: _days_after_batch(f, "sent_on")},
}


def derived_columns(table: str, frame: pd.DataFrame, reference: Reference) -> dict[str, pd.Series]:
    return {name: fn(frame, reference) for name, fn in _DERIVED.get(table, {}).items()}


def expectations(table: str, reference: Reference) -> list:
    """The suite for one landed table."""
    import great_expectations.expectations as gxe

    def not_null(*columns):
        return [gxe.ExpectColumnValuesToNotBeNull(column=c, meta={"reason": f"{c} is missing"}) for c in columns]

    def between(column, low=None, high=None, what=None, strict_low=False):
        text = what or f"{column} outside [{low if low is not None else '-inf'}, {high if high is not None else 'inf'}]"
        return gxe.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high,
                                                 strict_min=strict_low, meta={"reason": text})

    def in_set(column, values, what):
        return gxe.ExpectColumnValuesToBeInSet(column=column, value_set=sorted(values), meta={"reason": what})

    def ordered(column_a, column_b, what):
        return gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A=column_a, column_B=column_b, or_equal=True,
                                                           ignore_row_if="either_value_is_missing",
                                                           meta={"reason": what})

    def unique(*columns):
        names = ", ".join(columns)
        return gxe.ExpectCompoundColumnsToBeUnique(column_list=[*columns, BATCH_DATE],
                                                   meta={"reason": f"duplicate {names} within the batch"})

    def not_future(check, column):
        return between(f"_check_{check}_days_after_batch", high=0,
                       what=f"{column} is after the batch date (in the future)")

    known_product = in_set("product_id", reference.products, "unknown product_id (not in the catalog)")
    known_channel = in_set("channel", reference.channels, "unknown channel")
    price = lambda column: between(column, 0.0, MAX_PRICE, f"{column} must be positive and below {MAX_PRICE:,.0f}",
                                   strict_low=True)
    money = lambda column: between(column, 0.0, 10 * MAX_PRICE, f"{column} must be between 0 and {10 * MAX_PRICE:,.0f}")

    suites = {
        "products": lambda: [
            *not_null("product_id", "sku", "name", "category", "list_price", "unit_cost", "currency", "status",
                      "updated_at"),
            unique("product_id"),
            price("list_price"),
            between("unit_cost", 0.0, MAX_PRICE, "unit_cost must be between 0 and list price range", strict_low=True),
            between("_check_cost_to_list", 0.0, 1.5, "unit_cost is more than 1.5 x list_price (implausible)"),
            between("weight_kg", 0.0, 2_000.0, "weight_kg outside [0, 2000]"),
            between("image_count", 0, 100, "image_count outside [0, 100]"),
            in_set("status", {"active", "inactive", "discontinued"}, "status not in active|inactive|discontinued"),
            gxe.ExpectColumnValuesToMatchRegex(column="currency", regex=r"^[A-Z]{3}$",
                                               meta={"reason": "currency is not a 3-letter ISO code"}),
            not_future("updated", "updated_at"),
        ],
        "channels": lambda: [
            *not_null("channel_id", "name", "channel_type", "fee_rate"),
            unique("channel_id"),
            in_set("channel_type", {"owned", "marketplace"}, "channel_type not in owned|marketplace"),
            between("fee_rate", 0.0, 1.0, "fee_rate outside [0, 1]"),
        ],
        "orders": lambda: [
            *not_null("order_id", "customer_id", "channel", "ordered_at", "status", "currency", "subtotal",
                      "discount_total", "shipping_fee", "total"),
            unique("order_id"),
            known_channel,
            in_set("status", {"completed", "cancelled", "returned"}, "status not in completed|cancelled|returned"),
            money("subtotal"), money("discount_total"), money("total"),
            between("shipping_fee", 0.0, 1_000.0, "shipping_fee outside [0, 1000]"),
            not_future("ordered", "ordered_at"),
            between("_check_ordered_days_after_batch", -7, None, "ordered_at more than 7 days before the batch date"),
        ],
        "order_lines": lambda: [
            *not_null("order_id", "line_number", "product_id", "quantity", "unit_price", "discount", "line_total"),
            unique("order_id", "line_number"),
            known_product,
            between("line_number", 1, 10_000, "line_number must be 1 or more"),
            between("quantity", 1, MAX_QUANTITY, f"quantity must be between 1 and {MAX_QUANTITY}"),
            price("unit_price"),
            money("discount"), money("line_total"),
        ],
        "inventory_snapshot": lambda: [
            *not_null("snapshot_date", "warehouse_id", "product_id", "on_hand", "on_order", "received_today"),
            unique("warehouse_id", "product_id"),
            known_product,
            in_set("warehouse_id", reference.warehouses, "unknown warehouse_id"),
            between("on_hand", 0, 10_000_000, "on_hand must be between 0 and 10,000,000"),
            between("on_order", 0, 10_000_000, "on_order must be between 0 and 10,000,000"),
            between("received_today", 0, 10_000_000, "received_today must be between 0 and 10,000,000"),
            between("_check_snapshot_days_after_batch", 0, 0, "snapshot_date differs from the batch date"),
        ],
        "warehouses": lambda: [
            *not_null("warehouse_id", "name", "region", "lead_time_days", "order_cost", "holding_cost_rate"),
            unique("warehouse_id"),
            between("lead_time_days", 0, 365, "lead_time_days outside [0, 365]"),
            between("order_cost", 0.0, 1_000_000.0, "order_cost outside [0, 1,000,000]"),
            between("holding_cost_rate", 0.0, 1.0, "holding_cost_rate outside [0, 1]"),
        ],
        "purchase_orders": lambda: [
            *not_null("po_id", "product_id", "warehouse_id", "quantity", "unit_cost", "ordered_on", "expected_on"),
            unique("po_id"),
            known_product,
            in_set("warehouse_id", reference.warehouses, "unknown warehouse_id"),
            between("quantity", 1, 10_000_000, "quantity must be between 1 and 10,000,000"),
            price("unit_cost"),
            not_future("ordered", "ordered_on"),
            ordered("expected_on", "ordered_on", "expected_on is before ordered_on"),
        ],
        "transfers": lambda: [
            *not_null("transfer_id", "product_id", "from_warehouse_id", "to_warehouse_id", "quantity", "shipped_on",
                      "expected_on", "cost"),
            unique("transfer_id"),
            known_product,
            in_set("from_warehouse_id", reference.warehouses, "unknown from_warehouse_id"),
            in_set("to_warehouse_id", reference.warehouses, "unknown to_warehouse_id"),
            between("quantity", 1, 10_000_000, "quantity must be between 1 and 10,000,000"),
            money("cost"),
            not_future("shipped", "shipped_on"),
            ordered("expected_on", "shipped_on", "expected_on is before shipped_on"),
        ],
        "campaigns": lambda: [
            *not_null("campaign_id", "sent_on", "segment", "category", "messages", "cost", "runs_until"),
            unique("campaign_id"),
            between("messages", 1, 100_000_000, "messages must be between 1 and 100,000,000"),
            money("cost"),
            not_future("sent", "sent_on"),
            ordered("runs_until", "sent_on", "runs_until is before sent_on"),
        ],
        "prices": lambda: [
            *not_null("product_id", "channel", "price_date", "regular_price", "price", "currency"),
            unique("product_id", "channel"),
            known_product, known_channel,
            price("regular_price"), price("price"),
            ordered("regular_price", "price", "price is above regular_price"),
            between("_check_price_to_list", 0.2, 5.0, "price is less than 0.2x or more than 5x the list price"),
            between("_check_price_days_after_batch", 0, 0, "price_date differs from the batch date"),
        ],
        "competitor_prices": lambda: [
            *not_null("scraped_at", "competitor", "product_id", "price", "currency"),
            unique("competitor", "product_id"),
            known_product,
            price("price"),
            between("_check_price_to_list", 0.2, 5.0,
                    "competitor price is less than 0.2x or more than 5x our list price (scrape error)"),
            not_future("scraped", "scraped_at"),
        ],
        "customers": lambda: [
            *not_null("customer_id", "email_sha256", "segment", "signup_date", "marketing_opt_in", "updated_at"),
            unique("customer_id"),
            gxe.ExpectColumnValuesToMatchRegex(column="email_sha256", regex=r"^[0-9a-f]{32,64}$",
                                               meta={"reason": "email_sha256 is not a hex digest (raw e-mail?)"}),
            in_set("preferred_channel", reference.channels, "unknown preferred_channel"),
            not_future("signup", "signup_date"), not_future("updated", "updated_at"),
        ],
        "sessions": lambda: [
            *not_null("session_id", "channel", "started_at", "ended_at", "page_views"),
            unique("session_id"),
            known_channel,
            between("page_views", 1, 10_000, "page_views outside [1, 10000]"),
            ordered("ended_at", "started_at", "ended_at is before started_at"),
            not_future("started", "started_at"), not_future("ended", "ended_at"),
        ],
        "cart_events": lambda: [
            *not_null("cart_id", "session_id", "product_id", "quantity", "unit_price", "added_at", "status"),
            known_product,
            between("quantity", 1, MAX_QUANTITY, f"quantity must be between 1 and {MAX_QUANTITY}"),
            price("unit_price"),
            in_set("status", {"converted", "abandoned", "active"}, "status not in converted|abandoned|active"),
            not_future("added", "added_at"),
        ],
        "promotions": lambda: [
            *not_null("promo_id", "product_id", "channel", "discount_pct", "starts_on", "ends_on", "promo_type",
                      "status", "updated_at"),
            unique("promo_id"),
            known_product,
            in_set("channel", set(reference.channels) | {"all"}, "channel is neither a known channel nor 'all'"),
            between("discount_pct", 0.0, 90.0, "discount_pct must be above 0 and at most 90", strict_low=True),
            ordered("ends_on", "starts_on", "ends_on is before starts_on"),
            in_set("status", {"scheduled", "active", "ended", "cancelled"},
                   "status not in scheduled|active|ended|cancelled"),
            not_future("updated", "updated_at"),
        ],
    }
    if table not in suites:
        raise KeyError(f"no expectation suite for table {table!r}")
    return suites[table]()


def describe(expectation) -> str:
    return expectation.meta.get("reason") if expectation.meta else expectation.expectation_type


def as_float_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """GX compares numbers; nullable integer columns become floats (NaN for missing)."""
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.Int64Dtype):
            out[column] = out[column].astype(float)
    return out.replace({pd.NA: np.nan})
