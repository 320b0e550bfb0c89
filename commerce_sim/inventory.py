"""Stock the shop holds and stock on its way: FIFO lots per product x warehouse, and the pipeline.

Every unit belongs to a lot with the day it entered the shop's stock and what it cost (in cents).
Units leave oldest first (FIFO), so the cost of goods sold is the cost of the lots they came from,
stock age is known (days on hand, exported per product x warehouse), and what is left at a
product's end of life can be written off at its real cost. A transfer keeps a unit's original day:
moving stock does not make it younger.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def _ints(values) -> np.ndarray:
    return np.atleast_1d(np.asarray(values)).astype(np.int64)


@dataclass
class Lots:
    """Stock on hand as lots, kept sorted by (product, warehouse, day) so FIFO is a running sum."""

    n_products: int
    n_warehouses: int
    product: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    warehouse: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    day: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    quantity: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    cost_cents: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # per unit

    def _cells(self) -> np.ndarray:
        return self.product * self.n_warehouses + self.warehouse

    def _keep(self, mask: np.ndarray) -> None:
        for name in ("product", "warehouse", "day", "quantity", "cost_cents"):
            setattr(self, name, getattr(self, name)[mask])

    def add(self, product, warehouse, day, quantity, cost_cents) -> None:
        quantity = _ints(quantity)
        product, warehouse = np.broadcast_to(_ints(product), quantity.shape), np.broadcast_to(_ints(warehouse), quantity.shape)
        day, cost_cents = np.broadcast_to(_ints(day), quantity.shape), np.broadcast_to(_ints(cost_cents), quantity.shape)
        positive = quantity > 0
        self.product = np.concatenate([self.product, product[positive]])
        self.warehouse = np.concatenate([self.warehouse, warehouse[positive]])
        self.day = np.concatenate([self.day, day[positive]])
        self.quantity = np.concatenate([self.quantity, quantity[positive]])
        self.cost_cents = np.concatenate([self.cost_cents, cost_cents[positive]])
        order = np.lexsort((self.day, self._cells()))
        self._keep(order)

    def _matrix(self, values: np.ndarray) -> np.ndarray:
        out = np.zeros(self.n_products * self.n_warehouses, dtype=values.dtype)
        np.add.at(out, self._cells(), values)
        return out.reshape(self.n_products, self.n_warehouses)

    def on_hand(self) -> np.ndarray:
        """Units per product x warehouse."""
        return self._matrix(self.quantity)

    def value_cents(self) -> np.ndarray:
        """What the stock on hand cost, per product x warehouse, in cents."""
        return self._matrix(self.quantity * self.cost_cents)

    def _used(self, take: np.ndarray) -> np.ndarray:
        """Units each lot gives up when ``take`` (products x warehouses, with any leading axes) leaves,
        oldest lots first."""
        cells = self._cells()
        if self.quantity.size == 0:
            return np.zeros(take.shape[:-2] + (0,), dtype=take.dtype)
        running = np.cumsum(self.quantity)
        first = np.r_[True, cells[1:] != cells[:-1]]
        cell_start = np.maximum.accumulate(np.where(first, running - self.quantity, 0))
        ahead = running - self.quantity - cell_start  # units of older lots of the same cell
        flat = take.reshape(take.shape[:-2] + (-1,))
        return np.clip(flat[..., cells] - ahead, 0, self.quantity)

    def fifo_cost_cents(self, take: np.ndarray) -> np.ndarray:
        """Cost in cents of the units ``take`` would remove (FIFO), without removing them.

        ``take`` may carry leading axes (samples) and fractional units (an expectation)."""
        lead = take.shape[:-2]
        if self.quantity.size == 0:
            return np.zeros(lead + (self.n_products, self.n_warehouses))
        used = self._used(take) * self.cost_cents
        rows = used.reshape(-1, used.shape[-1])
        out = np.zeros((rows.shape[0], self.n_products * self.n_warehouses), dtype=used.dtype)
        np.add.at(out, (np.arange(rows.shape[0])[:, None], self._cells()[None, :]), rows)
        return out.reshape(lead + (self.n_products, self.n_warehouses))

    def consume(self, take: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Remove ``take`` (products x warehouses, at most what is on hand) oldest first.

        Returns the cost in cents per product x warehouse and the removed pieces (product, warehouse,
        day, quantity, cost_cents), which a transfer carries to its destination."""
        used = self._used(take)
        if used.sum() != take.sum():
            raise ValueError(f"cannot take {int(take.sum())} units: only {int(used.sum())} of them are on hand")
        taken = used > 0
        pieces = {"product": self.product[taken], "warehouse": self.warehouse[taken], "day": self.day[taken],
                  "quantity": used[taken], "cost_cents": self.cost_cents[taken]}
        cost = self._matrix(used * self.cost_cents)
        self.quantity = self.quantity - used
        self._keep(self.quantity > 0)
        return cost, pieces

    def write_off(self, products: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Remove every lot of ``products`` (a boolean mask); returns units and cost in cents per
        product x warehouse."""
        gone = products[self.product]
        units = self._matrix(np.where(gone, self.quantity, 0))
        cost = self._matrix(np.where(gone, self.quantity * self.cost_cents, 0))
        self._keep(~gone)
        return units, cost

    def age(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """(mean days on hand of the units, days on hand of the oldest unit) per product x warehouse;
        NaN / -1 where nothing is on hand. A unit that arrived today is 0 days old."""
        units = self.on_hand()
        weighted = self._matrix(self.quantity * (day - self.day))
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(units > 0, weighted / np.maximum(units, 1), np.nan)
        oldest = np.full(self.n_products * self.n_warehouses, -1, dtype=np.int64)
        np.maximum.at(oldest, self._cells(), day - self.day)
        return mean, oldest.reshape(self.n_products, self.n_warehouses)


@dataclass
class Pipeline:
    """Purchase orders and transfers in transit: one entry per shipment (or transferred lot)."""

    arrival_day: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    product: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    warehouse: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    quantity: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    stock_day: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # -1: the arrival day
    cost_cents: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    _FIELDS = ("arrival_day", "product", "warehouse", "quantity", "stock_day", "cost_cents")

    def add(self, arrival_day, product, warehouse, quantity, cost_cents, stock_day=-1) -> None:
        quantity = _ints(quantity)
        values = {"arrival_day": arrival_day, "product": product, "warehouse": warehouse, "quantity": quantity,
                  "stock_day": stock_day, "cost_cents": cost_cents}
        for name in self._FIELDS:
            added = np.broadcast_to(_ints(values[name]), quantity.shape)
            setattr(self, name, np.concatenate([getattr(self, name), added]))

    def receive(self, day: int, lots: Lots) -> np.ndarray:
        """Move the shipments arriving by ``day`` into ``lots``; returns units received per product x warehouse."""
        arriving = self.arrival_day <= day
        received = np.zeros((lots.n_products, lots.n_warehouses), dtype=np.int64)
        np.add.at(received, (self.product[arriving], self.warehouse[arriving]), self.quantity[arriving])
        stock_day = np.where(self.stock_day[arriving] < 0, day, self.stock_day[arriving])
        lots.add(self.product[arriving], self.warehouse[arriving], stock_day, self.quantity[arriving],
                 self.cost_cents[arriving])
        for name in self._FIELDS:
            setattr(self, name, getattr(self, name)[~arriving])
        return received

    def on_order(self, n_products: int, n_warehouses: int) -> np.ndarray:
        totals = np.zeros((n_products, n_warehouses), dtype=np.int64)
        np.add.at(totals, (self.product, self.warehouse), self.quantity)
        return totals
