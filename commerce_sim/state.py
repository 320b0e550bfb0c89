"""The simulator's persistent state: everything that changes from one simulated day to the next.

State is saved after every simulated day and every accepted system call (atomically: write to a
temporary file, then rename), so a world can be advanced one day at a time across processes and
never ends half-written. It holds the true demand parameters, so it belongs to the sealed side: only
the simulator, its systems and the truth read it.

There is no random generator in the state: every random number is a pure function of the seed and
what it is about (``commerce_sim.streams``).
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from commerce_sim.inventory import Lots, Pipeline
from commerce_sim.scenario import Scenario
from commerce_sim.world import Customers, World

STATE_VERSION = 2
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
    audience: int  # messages sent
    start_day: int
    end_day: int
    reach: float  # effective reach: share of all customers reached, discounted by their fatigue when sent


@dataclass
class Charge:
    """A cost a system call incurred, booked in the ledger of the day it belongs to."""

    day: int
    account: str
    cents: int
    product: int = -1
    channel: int = -1
    warehouse: int = -1


@dataclass
class SimState:
    scenario: Scenario
    world: World
    customers: Customers
    day: int  # the next day to simulate, counted from scenario.start_date
    log_cost: np.ndarray
    shock: np.ndarray
    competitor_gap: np.ndarray
    war_until: np.ndarray  # per category: last day of a running price war (-1: none)
    war_depth: np.ndarray
    price_offset: np.ndarray  # log of the shop's base price over the list price (the legacy policy)
    managed_price: np.ndarray  # products x channels; NaN where the legacy repricing still prices
    reference_log_price: np.ndarray
    promo_age: np.ndarray  # products x channels: consecutive promotion days up to yesterday
    last_promo_end: np.ndarray  # products x channels
    last_promo_strength: np.ndarray  # products x channels
    yesterday_strength: np.ndarray  # products x channels
    promo_busy_until: np.ndarray  # per product: last day covered by a planned calendar promotion
    lots: Lots
    pipeline: Pipeline
    shipped_history: np.ndarray  # window x products x warehouses: a ring buffer of units shipped
    agent_replenished: np.ndarray  # per product: an agent orders its stock, the legacy reordering stands down
    written_off: np.ndarray  # per product: end-of-life stock was written off
    fatigue: np.ndarray  # per segment: how tired its customers are of marketing messages
    promotions: list[Promotion] = field(default_factory=list)
    campaigns: list[Campaign] = field(default_factory=list)
    messages_sent: dict[int, int] = field(default_factory=dict)  # day -> messages (the daily capacity)
    pending_prices: list[tuple[int, int, int, float]] = field(default_factory=list)  # (day, p, c, price; NaN: legacy)
    charges: list[Charge] = field(default_factory=list)
    records: dict[str, list[dict]] = field(default_factory=dict)  # systems' records not yet exported
    receipts: dict[str, dict] = field(default_factory=dict)  # idempotency key -> receipt
    counters: dict[str, int] = field(default_factory=dict)
    version: int = STATE_VERSION

    def next_id(self, prefix: str) -> str:
        value = self.counters.get(prefix, 0) + 1
        self.counters[prefix] = value
        return f"{prefix}{value:06d}"

    def on_hand(self) -> np.ndarray:
        return self.lots.on_hand()

    def record(self, kind: str, row: dict) -> None:
        """Keep a systems' record (an agent purchase order, a transfer, a campaign) for the next export."""
        self.records.setdefault(kind, []).append(row)


def save_state(state: SimState, root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    target = root / STATE_FILE
    temporary = target.with_name(f".{STATE_FILE}.{os.getpid()}.tmp")
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
