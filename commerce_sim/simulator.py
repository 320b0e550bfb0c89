"""The embedded commerce world, advanced one day at a time.

``Simulator.create`` builds a world from a scenario and seed; ``Simulator.open`` reopens a saved one;
``advance`` simulates days, writes each day's source-system exports to the landing zone and the
sealed ground truth (demand and the day's profit and loss) to the truth directory, and saves the
state after every day, so a world can be grown across processes and a crash never loses more than
the day in progress. ``fork`` copies a world as it stands, history included, so several policies can
run forward from the same day on the same random numbers.

A world on disk has one writer at a time (``commerce_sim.locking``): each day and each accepted
system call runs under the world's lock and starts from the state last saved by anyone, so a
``Simulator`` opened earlier never overwrites a change another process made since.

What happens within a day is in ``commerce_sim.day``.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from commerce_sim import day as day_step
from commerce_sim.demand import demand_terms, draw_units
from commerce_sim.export import LandingWriter
from commerce_sim.inventory import Lots, Pipeline
from commerce_sim.ledger import CostRates, DayLedger, cents
from commerce_sim.locking import DEFAULT_TIMEOUT_SECONDS, WorldBusy, WorldLock
from commerce_sim.scenario import Scenario
from commerce_sim.state import STATE_FILE, SimState, StateError, load_state, save_state
from commerce_sim.streams import Streams
from commerce_sim.truth.store import TruthWriter, link_truth_history
from commerce_sim.world import build_customers, build_world

__all__ = ["AdvanceSummary", "DayResult", "Simulator", "StateError", "WorldBusy"]

STATE_DIR = "state"
TRUTH_DIR = "truth"


@dataclass
class DayResult:
    date: dt.date
    exports: dict[str, dict[str, pd.DataFrame]]  # source -> file stem -> rows
    truth: pd.DataFrame
    ledger: pd.DataFrame
    stats: dict[str, float] = field(default_factory=dict)


@dataclass
class AdvanceSummary:
    days: int
    first_date: dt.date | None
    last_date: dt.date | None
    seconds: float
    rows: dict[str, int]


def initial_state(scenario: Scenario, streams: Streams) -> SimState:
    """Day 0 of a world: catalog, customers, a month of stock of varied age, no history of decisions."""
    world = build_world(scenario, streams.generator("world"))
    n_products, n_channels, _, n_warehouses = world.shape
    products = np.arange(n_products)
    spec = scenario.inventory
    log_cost = scenario.costs.shock_sd * streams.normal("initial_state", 0, products, draw=0)
    daily = world.params.base_units.sum(axis=1)
    home_share = np.bincount(world.home_warehouse, weights=world.region_share, minlength=n_warehouses)
    stock = np.round(daily[:, None] * spec.initial_days_of_cover * home_share[None, :]).astype(np.int64)
    cells = products[:, None] * n_warehouses + np.arange(n_warehouses)[None, :]
    age = streams.integers("initial_state", 0, cells, 0, max(int(spec.initial_days_of_cover) - 1, 0), draw=2)
    lots = Lots(n_products, n_warehouses)
    cost = cents(world.catalog.base_cost * np.exp(log_cost))
    lots.add(np.repeat(products, n_warehouses), np.tile(np.arange(n_warehouses), n_products), -age.ravel(),
             stock.ravel(), np.repeat(cost, n_warehouses))
    normal = np.log(world.catalog.list_price[:, None] * (1 + world.channel_markup[None, :]))
    zeros = np.zeros((n_products, n_channels))
    return SimState(
        scenario=scenario, world=world, customers=build_customers(scenario, streams.generator("customers_initial")),
        day=0, log_cost=log_cost,
        shock=scenario.demand.shock_sd * streams.normal("initial_state", 0, products, draw=1),
        competitor_gap=world.params.competitor_gap.copy(), war_until=np.full(world.n_categories, -1),
        war_depth=np.zeros(world.n_categories), price_offset=np.zeros(n_products),
        managed_price=np.full((n_products, n_channels), np.nan), reference_log_price=normal.copy(),
        promo_age=zeros.astype(np.int64), last_promo_end=np.full((n_products, n_channels), -10_000),
        last_promo_strength=zeros.copy(), yesterday_strength=zeros.copy(),
        promo_busy_until=np.full(n_products, -1), lots=lots, pipeline=Pipeline(),
        shipped_history=np.tile(daily[:, None] * home_share[None, :], (spec.forecast_window_days, 1, 1)),
        agent_replenished=np.zeros(n_products, bool), written_off=np.zeros(n_products, bool),
        fatigue=np.zeros(len(world.segment_names)),
    )


class Simulator:
    """A seeded commerce world with persistent state under ``root`` exporting into ``landing``."""

    def __init__(self, state: SimState, root: Path, landing: Path, *, lock_timeout: float = DEFAULT_TIMEOUT_SECONDS):
        self.state = state
        self.root = Path(root)
        self.landing = Path(landing)
        self._streams = Streams(state.scenario.seed)
        self._rates = CostRates.of(state.scenario)
        self._lock = WorldLock(self.root / STATE_DIR, lock_timeout)
        self._saved_token: tuple | None = None

    # ---------------------------------------------------------------- lifecycle
    @staticmethod
    def exists(root: Path) -> bool:
        """Whether ``root`` holds a simulated world (one that ``open`` can load)."""
        return (Path(root) / STATE_DIR / STATE_FILE).exists()

    @classmethod
    def create(cls, scenario: Scenario, root: Path, landing: Path) -> Simulator:
        root = Path(root)
        if cls.exists(root):
            raise StateError(f"{root} already holds a simulated world; open it, or remove it to start again")
        simulator = cls(initial_state(scenario, Streams(scenario.seed)), root, landing)
        with simulator._lock:
            TruthWriter(simulator.truth_dir).write_static(simulator.state)
            simulator.save()
        return simulator

    @classmethod
    def open(cls, root: Path, landing: Path, *, lock_timeout: float = DEFAULT_TIMEOUT_SECONDS) -> Simulator:
        simulator = cls(load_state(Path(root) / STATE_DIR), root, landing, lock_timeout=lock_timeout)
        simulator._saved_token = simulator._token()
        return simulator

    def fork(self, root: Path, landing: Path, *, history: bool = True) -> Simulator:
        """A copy of this world as it stands, under ``root`` exporting into ``landing``.

        The copy continues on the same random numbers, so two forks given the same decisions evolve
        identically, and differences between forks are the decisions' doing. With ``history`` the
        landing zone and the truth written so far are hard-linked into the copy (files are only ever
        replaced, never changed in place, so the worlds cannot affect each other); nothing is
        re-simulated."""
        root, landing = Path(root), Path(landing)
        if self.exists(root):
            raise StateError(f"cannot fork into {root}: it already holds a simulated world")
        if landing.exists() and any(landing.iterdir()):
            raise StateError(f"cannot fork into {landing}: the fork's landing zone must be empty or new")
        if landing.resolve() == self.landing.resolve() or root.resolve() == self.root.resolve():
            raise StateError("a fork needs its own root and landing zone")
        with self._lock:
            self.refresh()
            save_state(self.state, root / STATE_DIR)
            link_truth_history(self.truth_dir, root / TRUTH_DIR, history=history)
            if history and self.landing.is_dir():
                _link_tree(self.landing, landing)
        return Simulator.open(root, landing, lock_timeout=self._lock.timeout)

    @property
    def truth_dir(self) -> Path:
        return self.root / TRUTH_DIR

    @property
    def scenario(self) -> Scenario:
        return self.state.scenario

    @property
    def current_date(self) -> dt.date:
        """The next date the world will simulate."""
        return self.scenario.start_date + dt.timedelta(days=self.state.day)

    # ---------------------------------------------------------------- one writer at a time
    def _state_path(self) -> Path:
        return self.root / STATE_DIR / STATE_FILE

    def _token(self) -> tuple | None:
        try:
            info = os.stat(self._state_path())
        except FileNotFoundError:
            return None
        return (info.st_ino, info.st_mtime_ns, info.st_size)

    def refresh(self) -> None:
        """Reload the saved state if another process (or another Simulator) saved it since we did."""
        token = self._token()
        if token is not None and token != self._saved_token:
            self.state = load_state(self.root / STATE_DIR)
            self._saved_token = token

    def save(self) -> None:
        save_state(self.state, self.root / STATE_DIR)
        self._saved_token = self._token()

    @contextmanager
    def lock(self, timeout: float | None = None) -> Iterator[Simulator]:
        """Hold the world: no other process changes it until the block ends (e.g. a batch of calls)."""
        self._lock.acquire(timeout)
        try:
            self.refresh()
            yield self
        finally:
            self._lock.release()

    @contextmanager
    def transaction(self) -> Iterator[SimState]:
        """A change to the saved world: under the lock, from the latest saved state, saved at the end.

        If the block fails, nothing is saved and the next transaction starts again from disk."""
        with self.lock():
            try:
                yield self.state
            except BaseException:
                self._saved_token = None  # the in-memory state may be half-changed: reload next time
                raise
            self.save()

    # ---------------------------------------------------------------- days
    def advance(self, days: int, progress: Callable[[int, int, dt.date], None] | None = None) -> AdvanceSummary:
        """Simulate ``days`` days, exporting and saving after each one."""
        if isinstance(days, bool) or not isinstance(days, (int, np.integer)) or days < 0:
            raise ValueError(f"days must be a whole number, zero or more, got {days!r}")
        writer = LandingWriter(self.landing)
        truth = TruthWriter(self.truth_dir)
        rows: dict[str, int] = {}
        first = last = None
        started = time.perf_counter()
        for i in range(days):
            with self.transaction():
                result = self.step()
                writer.write_day(result.date, result.exports)
                truth.write_day(result.date, result.truth, result.ledger)
            for source, tables in result.exports.items():
                rows[source] = rows.get(source, 0) + sum(len(t) for t in tables.values())
            first = first or result.date
            last = result.date
            if progress:
                progress(i + 1, days, result.date)
        return AdvanceSummary(days, first, last, time.perf_counter() - started, rows)

    def step(self) -> DayResult:
        """Simulate the next day in memory (``advance`` also writes and saves it)."""
        s, streams, rates = self.state, self._streams, self._rates
        plan = day_step.open_day(s, streams)
        terms = demand_terms(plan.conditions, plan.regular, plan.discount)
        wanted = draw_units(streams, plan.day, terms.expected, s.world.region_share, s.scenario.demand.dispersion)
        sales = day_step.sell(s, streams, plan.day, wanted)
        ledger = DayLedger()
        day_step.book_sales(ledger, rates, s, terms, sales, plan.discount)
        day_step.book_charges(ledger, s, plan.day)
        orders = day_step.replenish(s, streams, plan, ledger, rates)
        day_step.close_day(s, streams, plan, terms, sales, ledger, rates)
        day_step.book_stock_costs(ledger, rates, s)
        truth = day_step.truth_frame(s, plan, terms, sales)
        exports = day_step.export_day(s, streams, plan, terms, sales, orders)
        day_step.book_delivery_fees(ledger, s, exports["orders"]["orders"])
        s.day += 1
        world = s.world
        return DayResult(plan.date, exports, truth,
                         ledger.frame(plan.date, world.catalog.product_id, world.channel_ids, world.warehouse_ids),
                         {"units": float(sales.sold.sum()), "lost": float(sales.lost.sum()),
                          "profit": ledger.profit_cents() / 100})


def _link_tree(source: Path, target: Path) -> None:
    """Hard-link every file under ``source`` into ``target`` (copy where linking is impossible)."""
    for directory, _, files in os.walk(source):
        relative = Path(directory).relative_to(source)
        (target / relative).mkdir(parents=True, exist_ok=True)
        for name in files:
            if name.startswith("."):
                continue  # a writer's temporary file
            src, dst = Path(directory) / name, target / relative / name
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)
