"""Money: the shop's true profit and loss, charged daily, in whole cents.

Every amount is an integer number of cents booked to one account at the grain where it arises:

| account | kind | grain | what |
|---|---|---|---|
| ``revenue`` | income | product x channel x warehouse | what customers paid for the units (line totals) |
| ``delivery_fees`` | income | channel | shipping fees customers paid on small orders |
| ``salvage`` | income | product x warehouse | what written-off stock recovers (``lifecycle.salvage_rate`` of its cost) |
| ``cost_of_goods`` | cost | product x channel x warehouse | FIFO cost of the units sold |
| ``channel_fees`` | cost | product x channel x warehouse | the channel's fee rate on revenue |
| ``shipping`` | cost | product x channel x warehouse | per unit; more from a warehouse outside the customer's region |
| ``holding`` | cost | product x warehouse | the warehouse's daily rate on the cost of the stock on hand at the end of the day |
| ``purchase_orders`` | cost | product x warehouse | the warehouse's fixed cost per purchase order (legacy or agent) |
| ``transfers`` | cost | product x warehouse (source) | fixed cost per transfer plus a cost per unit moved |
| ``promotions`` | cost | product x channel | the channel's fee per promoted product and day |
| ``campaigns`` | cost | shop | cost per message sent |
| ``write_offs`` | cost | product x warehouse | the cost of stock written off at end of life |

Profit = income − costs, exactly, because every line is already in cents. Stock bought is an asset
until it is sold or written off (accrual accounting), so a purchase order's goods are not a cost on
the day they are ordered; the order's fixed cost is. The rates a shop knows (fees, shipping costs,
order and holding costs) are in its exports; the ledger itself is sealed truth.

:func:`sales_accounts` prices one day's fulfilment; the day step books its result and the truth's
expected outcomes average it over sampled demand, so both use the same arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from commerce_sim.scenario import Scenario

INCOME = ("revenue", "delivery_fees", "salvage")
COSTS = ("cost_of_goods", "channel_fees", "shipping", "holding", "purchase_orders", "transfers", "promotions",
         "campaigns", "write_offs")
ACCOUNTS = INCOME + COSTS
NONE = -1  # no product / channel / warehouse at this grain


def cents(euros) -> np.ndarray:
    return np.round(np.asarray(euros, dtype=float) * 100).astype(np.int64)


@dataclass(frozen=True)
class CostRates:
    """What things cost the shop, from the scenario (all money in cents)."""

    fee_rate: np.ndarray  # per channel
    promotion_fee_cents: np.ndarray  # per channel, per promoted product and day
    shipping_cents: int
    remote_shipping_cents: int
    order_cost_cents: np.ndarray  # per warehouse
    holding_rate: np.ndarray  # per warehouse, per day, on the cost of stock on hand
    transfer_fixed_cents: int
    transfer_unit_cents: int
    salvage_rate: float
    message_cents_per_1000: int  # cost of a thousand messages (a message may cost less than a cent)

    @classmethod
    def of(cls, scenario: Scenario) -> CostRates:
        fulfilment = scenario.fulfilment
        return cls(
            fee_rate=np.array([c.fee_rate for c in scenario.channels]),
            promotion_fee_cents=cents([c.promotion_fee_per_day for c in scenario.channels]),
            shipping_cents=int(cents(fulfilment.shipping_cost_per_unit)),
            remote_shipping_cents=int(cents(fulfilment.remote_shipping_cost_per_unit)),
            order_cost_cents=cents([w.order_cost for w in scenario.warehouses]),
            holding_rate=np.array([w.holding_cost_rate for w in scenario.warehouses]),
            transfer_fixed_cents=int(cents(fulfilment.transfer_fixed_cost)),
            transfer_unit_cents=int(cents(fulfilment.transfer_cost_per_unit)),
            salvage_rate=scenario.lifecycle.salvage_rate,
            message_cents_per_1000=int(cents(scenario.marketing.cost_per_message * 1000)),
        )

    def campaign_cents(self, messages: int) -> int:
        return int(round(messages * self.message_cents_per_1000 / 1000))

    def transfer_cents(self, units: int) -> int:
        return self.transfer_fixed_cents + self.transfer_unit_cents * int(units)


def split_cents(total: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Split integer ``total`` (any shape S) over the last axis of ``weights`` (S x K) in proportion
    to the weights, in whole cents that add up exactly (largest remainders)."""
    weights = np.asarray(weights, dtype=float)
    total = np.asarray(total, dtype=np.int64)
    sums = weights.sum(axis=-1, keepdims=True)
    share = np.divide(weights, sums, out=np.zeros_like(weights), where=sums > 0)
    exact = share * total[..., None]
    base = np.floor(exact).astype(np.int64)
    remainder = total - base.sum(axis=-1)
    ranks = np.argsort(np.argsort(-(exact - base), axis=-1, kind="stable"), axis=-1, kind="stable")
    return base + (ranks < remainder[..., None])


def _booked(amount: np.ndarray, whole: bool) -> np.ndarray:
    """Whole cents for the books; expectations (fractional units) stay exact."""
    return np.round(amount).astype(np.int64) if whole else amount


def sales_accounts(rates: CostRates, paid_cents: np.ndarray, served: np.ndarray, remote: np.ndarray,
                   cogs_cents: np.ndarray) -> dict[str, np.ndarray]:
    """Revenue, cost of goods, channel fees and shipping of a day's sales, in cents per product x
    channel x warehouse (with any leading sample axes).

    ``served``: units per (... x) product x channel x region x warehouse; ``remote``: regions x
    warehouses, True where the warehouse ships outside the region it serves first; ``cogs_cents``:
    FIFO cost of the units each (... x) product x warehouse gave up. Whole units (the day step) are
    booked in whole cents; expected (fractional) units give exact expected amounts."""
    whole = np.issubdtype(np.asarray(served).dtype, np.integer)
    units = served.sum(axis=-2)  # ... x P x C x W
    remote_units = (served * remote).sum(axis=-2)
    revenue = paid_cents[..., None] * units
    fees = _booked(revenue * rates.fee_rate[:, None], whole)
    shipping = (units - remote_units) * rates.shipping_cents + remote_units * rates.remote_shipping_cents
    weights = np.moveaxis(units, -2, -1)  # ... x P x W x C
    if whole:
        cogs = split_cents(cogs_cents, weights)
    else:
        sums = weights.sum(axis=-1, keepdims=True)
        cogs = np.asarray(cogs_cents, dtype=float)[..., None] * np.divide(weights, sums, out=np.zeros_like(weights),
                                                                          where=sums > 0)
    return {"revenue": revenue, "cost_of_goods": np.moveaxis(cogs, -1, -2), "channel_fees": fees,
            "shipping": shipping}


def holding_cents(rates: CostRates, stock_value_cents: np.ndarray) -> np.ndarray:
    """Holding cost of a day per product x warehouse on the cost of the stock left at its end."""
    value = np.asarray(stock_value_cents)
    return _booked(value * rates.holding_rate, np.issubdtype(value.dtype, np.integer))


def promotion_cents(rates: CostRates, discount: np.ndarray) -> np.ndarray:
    """The channels' promotion fees per product x channel for the discounts running today."""
    return (np.asarray(discount) > 0) * rates.promotion_fee_cents


@dataclass
class DayLedger:
    """The entries of one simulated day, as index arrays (NONE where a grain does not apply)."""

    product: list[np.ndarray] = field(default_factory=list)
    channel: list[np.ndarray] = field(default_factory=list)
    warehouse: list[np.ndarray] = field(default_factory=list)
    account: list[np.ndarray] = field(default_factory=list)
    amount: list[np.ndarray] = field(default_factory=list)

    def book(self, account: str, amount, *, product=NONE, channel=NONE, warehouse=NONE) -> None:
        """Book ``amount`` cents (an array; indices broadcast against it); zero amounts are skipped."""
        if account not in ACCOUNTS:
            raise ValueError(f"unknown ledger account {account!r}; accounts: {', '.join(ACCOUNTS)}")
        amount = np.asarray(amount, dtype=np.int64)
        keep = amount != 0
        if not keep.any():
            return
        for target, index in ((self.product, product), (self.channel, channel), (self.warehouse, warehouse)):
            target.append(np.broadcast_to(np.asarray(index, dtype=np.int64), amount.shape)[keep])
        self.account.append(np.full(int(keep.sum()), ACCOUNTS.index(account), dtype=np.int8))
        self.amount.append(amount[keep])

    def book_grid(self, account: str, amount: np.ndarray, axes: tuple[str, ...]) -> None:
        """Book a dense array whose axes are named ``product``, ``channel`` and/or ``warehouse``."""
        grids = np.indices(amount.shape)
        self.book(account, amount, **{axis: grids[i] for i, axis in enumerate(axes)})

    def totals(self) -> dict[str, int]:
        sums = np.zeros(len(ACCOUNTS), dtype=np.int64)
        for account, amount in zip(self.account, self.amount):
            np.add.at(sums, account, amount)
        return {name: int(sums[i]) for i, name in enumerate(ACCOUNTS)}

    def profit_cents(self) -> int:
        totals = self.totals()
        return sum(totals[a] for a in INCOME) - sum(totals[a] for a in COSTS)

    def frame(self, date, product_ids: np.ndarray, channel_ids: list[str], warehouse_ids: list[str]) -> pd.DataFrame:
        """One row per entry: date, product_id, channel, warehouse_id (None where the grain does not
        apply), account, kind (income | cost) and amount_cents."""
        if not self.amount:
            return pd.DataFrame(columns=["date", "product_id", "channel", "warehouse_id", "account", "kind",
                                         "amount_cents"])
        product, channel, warehouse = (np.concatenate(x) for x in (self.product, self.channel, self.warehouse))
        account = np.concatenate(self.account)
        names = np.array(ACCOUNTS, dtype=object)[account]

        def label(index, ids):
            ids = np.asarray(list(ids) + [None], dtype=object)
            return ids[np.where(index == NONE, len(ids) - 1, index)]

        return pd.DataFrame({
            "date": date,
            "product_id": label(product, product_ids),
            "channel": label(channel, channel_ids),
            "warehouse_id": label(warehouse, warehouse_ids),
            "account": names,
            "kind": np.where(np.isin(names, INCOME), "income", "cost"),
            "amount_cents": np.concatenate(self.amount),
        })
