"""The simulator's persistent state: everything that changes from one simulated day to the next.

State is saved after every simulated day (atomically: write to a temporary file, then rename), so a
world can be advanced one day at a time across processes and never ends half-written. It holds the
true demand parameters, so it belongs to the sealed side: only the simulator reads it.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from commerce_sim.scenario import Scenario
from commerce_sim.world import Customers, World

STATE_VERSION = 1
STATE_FILE = "state.pkl"


class StateError(RuntimeError):
    """The simulator state is missing, unreadable or from an incompatible version."""


@dataclass
class Promotion:
    promo_id: str
    product: int
    channel: int  # -1: every channel
    discount: float
    start_day: int
    end_day: int  # inclusive
    created_day: int
    origin: str  # "calendar" (the shop's historical planning) or "api" (the promotion engine)
    status: str = "scheduled"  # scheduled | cancelled
    updated_day: int = -1


@dataclass
class Campaign:
    campaign_id: str
    segment: int  # -1: every segment
    category: int  # -1: every category
    audience: int
    start_day: int
    end_day: int


@dataclass
class Pipeline:
    """Purchase orders and transfers in transit: one entry per shipment."""

    arrival_day: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    product: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    warehouse: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    quantity: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def add(self, arrival_day, product, warehouse, quantity) -> None:
        self.arrival_day = np.concatenate([self.arrival_day, np.atleast_1d(arrival_day).astype(np.int64)])
        self.product = np.concatenate([self.product, np.atleast_1d(product).astype(np.int64)])
        self.warehouse = np.concatenate([self.warehouse, np.atleast_1d(warehouse).astype(np.int64)])
        self.quantity = np.concatenate([self.quantity, np.atleast_1d(quantity).astype(np.int64)])

    def receive(self, day: int, n_products: int, n_warehouses: int) -> np.ndarray:
        """Remove and return the shipments arriving on ``day`` as a products x warehouses matrix."""
        arriving = self.arrival_day <= day
        received = np.zeros((n_products, n_warehouses), dtype=np.int64)
        np.add.at(received, (self.product[arriving], self.warehouse[arriving]), self.quantity[arriving])
        keep = ~arriving
        self.arrival_day, self.product = self.arrival_day[keep], self.product[keep]
        self.warehouse, self.quantity = self.warehouse[keep], self.quantity[keep]
        return received

    def on_order(self, n_products: int, n_warehouses: int) -> np.ndarray:
        totals = np.zeros((n_products, n_warehouses), dtype=np.int64)
        np.add.at(totals, (self.product, self.warehouse), self.quantity)
        return totals


@dataclass
class SimState:
    scenario: Scenario
    world: World
    customers: Customers
    rng: np.random.Generator
    day: int  # the next day to simulate, counted from scenario.start_date
    log_cost: np.ndarray
    shock: np.ndarray
    competitor_gap: np.ndarray
    war_until: np.ndarray  # per category: last day of a running price war (-1: none)
    war_depth: np.ndarray
    price_offset: np.ndarray  # log of the shop's base price over the list price
    managed_price: np.ndarray  # products x channels; NaN where the historical policy still prices
    reference_log_price: np.ndarray
    last_promo_end: np.ndarray  # products x channels
    promo_busy_until: np.ndarray  # per product: last day covered by a planned promotion
    on_hand: np.ndarray  # products x warehouses
    pipeline: Pipeline
    sales_history: np.ndarray  # window x products, a ring buffer of daily unit sales
    promotions: list[Promotion] = field(default_factory=list)
    campaigns: list[Campaign] = field(default_factory=list)
    pending_prices: list[tuple[int, int, int, float]] = field(default_factory=list)  # (day, p, c, price)
    receipts: dict[str, dict] = field(default_factory=dict)  # idempotency key -> receipt
    counters: dict[str, int] = field(default_factory=dict)
    version: int = STATE_VERSION

    def next_id(self, prefix: str) -> str:
        value = self.counters.get(prefix, 0) + 1
        self.counters[prefix] = value
        return f"{prefix}{value:06d}"


def save_state(state: SimState, root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    target = root / STATE_FILE
    temporary = target.with_suffix(".tmp")
    with temporary.open("wb") as handle:
        pickle.dump(state, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(temporary, target)
    return target


def load_state(root: Path) -> SimState:
    path = root / STATE_FILE
    if not path.is_file():
        raise StateError(f"no simulated world at {root}: run `agentic-commerce simulate` first")
    try:
        with path.open("rb") as handle:
            state = pickle.load(handle)
    except Exception as error:  # pickle raises many kinds; all mean the same thing here
        raise StateError(f"{path}: unreadable simulator state ({error}); re-create it with `simulate --reset`") from None
    if getattr(state, "version", None) != STATE_VERSION:
        raise StateError(
            f"{path}: simulator state version {getattr(state, 'version', '?')} does not match this code "
            f"({STATE_VERSION}); re-create it with `agentic-commerce simulate --reset`"
        )
    return state
