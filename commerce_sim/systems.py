"""The commerce systems agents act on: pricing engine, purchasing, promotions, content and messaging.

They behave like a shop's real back-ends rather than like function calls, because the dispatcher
that drives them has to be built for the real thing. Every change answers with a ``Receipt``; a
system may decline a request or carry out only part of it; and a call may time out, in which case
the change may or may not have happened. Idempotency keys make the only safe reaction — retrying —
actually safe: a key seen before returns its original receipt and never applies a change twice.

Arguments are data, never trusted: an unknown id, an out-of-range number, a date in the past or
malformed content comes back as a rejected receipt naming the argument. Nothing is applied and the
key is not used up, so the caller can fix the request and send it again under the same key.

Failures are drawn from a stream keyed by the scenario seed and a call counter kept in the state,
never from any stream the world uses: calling the systems does not perturb simulated demand, so a
world nobody acts on evolves exactly as before, and two worlds given the same calls fail the same
way. Every call runs as a transaction on the saved world (under its lock, from the latest saved
state, saved at the end), so the systems can be used from another process than the one advancing
the world (``CommerceSystems.open``) and no accepted change is ever lost.

Changes cost what they cost in a real shop, booked in the world's true profit and loss on the day
they are made: a purchase order's fixed cost, a transfer's fixed and per-unit cost, every marketing
message. The systems' own records of these actions are exported with the next day's batches
(``purchase_orders.csv`` with origin "agent", ``transfers.csv``, ``campaigns.csv``, and ``set_by``
in ``prices.csv``).

The systems object is sealed: it holds no reference to the simulator or its state that attribute
access could reach (``tests/test_truth_is_sealed.py`` also checks callers for attribute tricks).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import numbers
import unicodedata
import weakref
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from commerce_sim import market, marketing, records
from commerce_sim.ledger import CostRates, cents
from commerce_sim.replenishment import supplier_deliveries
from commerce_sim.simulator import Simulator
from commerce_sim.state import Charge, Promotion, SimState
from commerce_sim.streams import Streams

ALL = "all"
_CALL_COUNTER = "systems.calls"  # in SimState.counters, apart from the id prefixes next_id uses
_MAX_KEY_LENGTH = 200
_MAX_UNITS = 1_000_000
_MAX_DISCOUNT_PCT = 90.0
_MAX_PRICE_OVER_LIST = 10.0
_DESCRIPTION_LENGTH = (20, 5000)
_MAX_IMAGES = 50
_MAX_ATTRIBUTES = 100
_MAX_ATTRIBUTE_TEXT = 500


class CommerceSystemError(Exception):
    """A commerce system call that did not come back with a receipt."""


class SystemTimeout(CommerceSystemError):
    """No answer in time. The change may still have been applied: retry with the same key to find out."""

    def __init__(self, system: str, operation: str, idempotency_key: str):
        self.system, self.operation, self.idempotency_key = system, operation, idempotency_key
        super().__init__(
            f"{system}.{operation} timed out (idempotency_key={idempotency_key!r}); the change may or may not "
            "have been applied: retry with the same idempotency_key"
        )


class InvalidRequest(CommerceSystemError, ValueError):
    """A bad argument. Changes turn it into a rejected receipt; read-only look-ups raise it."""


@dataclass(frozen=True)
class Receipt:
    """What a system answered. Stored under its idempotency key and returned again on a repeat."""

    system: str
    operation: str
    idempotency_key: str
    status: str  # accepted | partial | rejected
    message: str
    date: dt.date  # simulated date of the call: the next day the world simulates
    reference: str | None = None  # id of what was created or changed (PO, promotion, campaign, ...)
    requested_quantity: int | None = None  # units, days, fields or customers asked for
    accepted_quantity: int | None = None  # ... and how many of them the system took on
    effective_date: dt.date | None = None  # when the change starts to show (for a PO: the supplier's promise)

    @property
    def ok(self) -> bool:
        return self.status != "rejected"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Receipt:
        return cls(**{f.name: data[f.name] for f in fields(cls)})


@dataclass(frozen=True)
class PriceQuote:
    product_id: str
    channel: str
    price: float  # regular price in force now, before promotions
    managed: bool  # set through the engine: the shop's historical repricing no longer moves it
    pending: tuple[tuple[dt.date, float], ...] = ()  # scheduled changes, in the order they apply


@dataclass(frozen=True)
class _Outcome:
    """What applying a change did, before it becomes a receipt."""

    message: str
    reference: str | None = None
    requested: int | None = None
    accepted: int | None = None
    effective: dt.date | None = None
    partial: bool = False


# Applies a validated change: (failure generator, whether the system only partly carries it out) -> outcome.
_Apply = Callable[[np.random.Generator, bool], _Outcome]


# The world behind each systems object. Kept here, not on the objects, so that no attribute of a
# systems object (public, private or in __dict__) leads to the simulator or its state.
_WORLDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _world_of(system) -> Simulator:
    return _WORLDS[system]


def _state_of(system) -> SimState:
    return _WORLDS[system].state


class _System:
    __slots__ = ("__weakref__",)
    name: ClassVar[str]  # a field of scenario.systems
    label: ClassVar[str]

    def __init__(self, simulator: Simulator):
        _WORLDS[self] = simulator

    # ------------------------------------------------------------ the call protocol
    def _call(self, operation: str, key: Any, request: dict[str, Any], prepare: Callable[[], _Apply]) -> Receipt:
        """The key is looked up before the arguments are checked: after a timeout that applied, a
        retry must get its receipt even if the state it was checked against has moved on (the
        stock a transfer took is gone). Bad arguments are answered before any failure is drawn.
        The whole call is one transaction on the saved world."""
        with _world_of(self).transaction() as state:
            receipt, timed_out = self._answer(state, operation, key, request, prepare)
        if timed_out:
            raise SystemTimeout(self.name, operation, key)
        return receipt

    def _answer(self, state: SimState, operation: str, key: Any, request: dict[str, Any],
                prepare: Callable[[], _Apply]) -> tuple[Receipt | None, bool]:
        if not isinstance(key, str) or not key.strip() or len(key) > _MAX_KEY_LENGTH:
            return self._rejected(operation, key, f"idempotency_key must be a non-empty string of at most "
                                                  f"{_MAX_KEY_LENGTH} characters, got {key!r}"), False
        fingerprint = _fingerprint(self.name, operation, request)
        stored = state.receipts.get(key)
        if stored is not None:
            if stored["request"] == fingerprint:
                return Receipt.from_dict(stored), False
            return self._rejected(operation, key, f"idempotency_key {key!r} was already used for a different "
                                                  f"request ({stored['system']}.{stored['operation']}); "
                                                  "use a new key"), False
        try:
            apply = prepare()
        except InvalidRequest as problem:
            return self._rejected(operation, key, str(problem)), False

        spec = getattr(state.scenario.systems, self.name)
        rng = self._failure_generator(state)
        timeout, applies, rejection, partial = rng.random(4)
        if timeout < spec.timeout_rate:
            if applies < spec.timeout_applies_rate:
                self._store(state, fingerprint, self._receipt(operation, key, apply(rng, partial < spec.partial_rate)))
            return None, True  # saved all the same: the call counter moved even when nothing was applied
        if rejection < spec.rejection_rate:
            receipt = self._rejected(operation, key, f"the {self.label} declined the request; "
                                                     "send it again under a new idempotency_key")
        else:
            receipt = self._receipt(operation, key, apply(rng, partial < spec.partial_rate))
        self._store(state, fingerprint, receipt)
        return receipt, False

    @staticmethod
    def _failure_generator(state: SimState) -> np.random.Generator:
        counters = state.counters
        counters[_CALL_COUNTER] = counters.get(_CALL_COUNTER, 0) + 1
        return Streams(state.scenario.seed).generator("systems_failures", 0, counters[_CALL_COUNTER])

    @staticmethod
    def _store(state: SimState, fingerprint: str, receipt: Receipt) -> None:
        state.receipts[receipt.idempotency_key] = {**receipt.to_dict(), "request": fingerprint}

    def _today(self) -> dt.date:
        return _world_of(self).current_date

    def _receipt(self, operation: str, key: str, outcome: _Outcome) -> Receipt:
        return Receipt(
            system=self.name, operation=operation, idempotency_key=key,
            status="partial" if outcome.partial else "accepted", message=outcome.message,
            date=self._today(), reference=outcome.reference, requested_quantity=outcome.requested,
            accepted_quantity=outcome.accepted, effective_date=outcome.effective,
        )

    def _rejected(self, operation: str, key: Any, message: str) -> Receipt:
        key = key if isinstance(key, str) else repr(key)
        return Receipt(system=self.name, operation=operation, idempotency_key=key, status="rejected",
                       message=message, date=self._today())

    # ------------------------------------------------------------ argument checks (raise InvalidRequest)
    def _product(self, product_id: Any) -> int:
        ids = _state_of(self).world.catalog.product_id
        if isinstance(product_id, str):
            found = np.flatnonzero(ids == product_id)
            if found.size:
                return int(found[0])
        raise InvalidRequest(f"product_id {product_id!r} is not a product of the catalog (ids look like {ids[0]!r})")

    def _channel(self, channel: Any, *, allow_all: bool = False) -> int:
        """Channel index, or -1 for every channel."""
        ids = _state_of(self).world.channel_ids
        if allow_all and isinstance(channel, str) and channel == ALL:
            return -1
        if isinstance(channel, str) and channel in ids:
            return ids.index(channel)
        choices = ids + [ALL] if allow_all else ids
        raise InvalidRequest(f"channel {channel!r} is not one of {choices}")

    def _warehouse(self, warehouse_id: Any, argument: str = "warehouse_id") -> int:
        ids = _state_of(self).world.warehouse_ids
        if isinstance(warehouse_id, str) and warehouse_id in ids:
            return ids.index(warehouse_id)
        raise InvalidRequest(f"{argument} {warehouse_id!r} is not one of {ids}")

    def _day(self, value: Any, argument: str) -> int:
        """Simulated day of a date that must not lie before the next simulated day."""
        if isinstance(value, dt.datetime):
            value = value.date()
        elif isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                raise InvalidRequest(f"{argument} {value!r} is not a date (YYYY-MM-DD)") from None
        if not isinstance(value, dt.date):
            raise InvalidRequest(f"{argument} must be a date, got {value!r}")
        if value < self._today():
            raise InvalidRequest(f"{argument} {value.isoformat()} is in the past: the earliest possible date is "
                                 f"{self._today().isoformat()}")
        return (value - _state_of(self).scenario.start_date).days

    def _date(self, day: int) -> dt.date:
        return records.day_date(_state_of(self).scenario, day)


def _units(value: Any, argument: str, maximum: int = _MAX_UNITS) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or not 1 <= value <= maximum:
        raise InvalidRequest(f"{argument} must be a whole number from 1 to {maximum}, got {value!r}")
    return int(value)


def _number(value: Any, argument: str) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value):
        raise InvalidRequest(f"{argument} must be a finite number, got {value!r}")
    return float(value)


def _clean_text(value: Any, argument: str, low: int, high: int, *, newlines: bool = False) -> str:
    """Text is content: checked like any other field, and nothing in it can act as markup or control."""
    if not isinstance(value, str):
        raise InvalidRequest(f"{argument} must be text, got {type(value).__name__}")
    if not low <= len(value) <= high:
        raise InvalidRequest(f"{argument} must be {low} to {high} characters long, got {len(value)}")
    for position, char in enumerate(value):
        if unicodedata.category(char).startswith("C") and not (newlines and char == "\n"):
            raise InvalidRequest(f"{argument} contains a control or format character U+{ord(char):04X} "
                                 f"at position {position}")
    return value


def _partly(rng: np.random.Generator, requested: int) -> int:
    """How much of ``requested`` a system that only partly complies takes on (at least one, never all)."""
    if requested < 2:
        return requested
    return int(min(requested - 1, max(1, math.floor(requested * rng.uniform(0.3, 0.9)))))


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {k if isinstance(k, str) else repr(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _fingerprint(system: str, operation: str, request: dict[str, Any]) -> str:
    """What a key was first used for, so a key reused for another request is caught, not replayed."""
    return json.dumps([system, operation, _canonical(request)], sort_keys=True, default=repr)


class PricingEngine(_System):
    """Regular prices per product and channel. A price set here is managed: the shop's legacy
    repricing stops touching it until the product and channel are handed back. Promotions still
    discount from it."""

    __slots__ = ()
    name, label = "pricing", "pricing engine"

    def set_price(self, product_id: str, channel: str, price: float, *, idempotency_key: str,
                  effective_date: dt.date | str | None = None) -> Receipt:
        """Takes effect from the next simulated day (or ``effective_date``); a partial price makes no
        sense, so this system never answers ``partial``."""
        request = {"product_id": product_id, "channel": channel, "price": price, "effective_date": effective_date}

        def prepare() -> _Apply:
            s = _state_of(self)
            p, c = self._product(product_id), self._channel(channel)
            cents_price = round(_number(price, "price"), 2)
            ceiling = round(_MAX_PRICE_OVER_LIST * float(s.world.catalog.list_price[p]), 2)
            if not 0 < cents_price <= ceiling:
                raise InvalidRequest(f"price {price!r} for {product_id} must be above 0 and at most {ceiling:.2f} "
                                     f"({_MAX_PRICE_OVER_LIST:g}x the list price)")
            day = s.day if effective_date is None else self._day(effective_date, "effective_date")

            def apply(rng: np.random.Generator, partial: bool) -> _Outcome:
                s.pending_prices.append((day, p, c, cents_price))
                return _Outcome(f"{product_id} on {channel} is priced {cents_price:.2f} from {self._date(day)}",
                                reference=s.next_id("PC"), effective=self._date(day))
            return apply

        return self._call("set_price", idempotency_key, request, prepare)

    def hand_back(self, product_id: str, channel: str, *, idempotency_key: str,
                  effective_date: dt.date | str | None = None) -> Receipt:
        """Return a price to the shop's legacy repricing from the next simulated day (or
        ``effective_date``); it continues from the price the legacy policy would charge by then."""
        request = {"product_id": product_id, "channel": channel, "effective_date": effective_date}

        def prepare() -> _Apply:
            s = _state_of(self)
            p, c = self._product(product_id), self._channel(channel)
            day = s.day if effective_date is None else self._day(effective_date, "effective_date")
            managed = not np.isnan(s.managed_price[p, c]) or any(
                (pp, cc) == (p, c) and not math.isnan(price) for _, pp, cc, price in s.pending_prices)
            if not managed:
                raise InvalidRequest(f"{product_id} on {channel} is not managed through the pricing engine: "
                                     "nothing to hand back")

            def apply(rng: np.random.Generator, partial: bool) -> _Outcome:
                s.pending_prices.append((day, p, c, math.nan))
                return _Outcome(f"{product_id} on {channel} returns to the legacy repricing from {self._date(day)}",
                                reference=s.next_id("PC"), effective=self._date(day))
            return apply

        return self._call("hand_back", idempotency_key, request, prepare)

    def get_price(self, product_id: str, channel: str) -> PriceQuote:
        """Reading is not a change: no receipt, no failures; bad arguments raise InvalidRequest."""
        world = _world_of(self)
        world.refresh()
        s = world.state
        p, c = self._product(product_id), self._channel(channel)
        pending = tuple((self._date(day), price) for day, pp, cc, price in sorted(s.pending_prices, key=lambda x: x[0])
                        if (pp, cc) == (p, c))
        return PriceQuote(product_id, channel, float(market.regular_prices(s)[p, c]),
                          bool(not np.isnan(s.managed_price[p, c])), pending)


class Purchasing(_System):
    """Replenishment the shop orders on purpose, and stock transfers between warehouses.

    The first purchase order an agent places for a product takes the product's replenishment over:
    the automatic (s, S) reordering stands down for it in every warehouse until the agent hands it
    back. Suppliers treat agent orders like any other (lead-time jitter, misses)."""

    __slots__ = ()
    name, label = "purchasing", "purchasing system"

    def create_purchase_order(self, product_id: str, warehouse_id: str, quantity: int, *,
                              idempotency_key: str) -> Receipt:
        """The receipt's effective date is the supplier's promise (ordered today plus the warehouse's
        lead time); like every delivery, it may come later, and a supplier that misses delivers only
        part of it. A partial receipt means the supplier confirmed fewer units than ordered. The
        warehouse's order cost is charged today."""
        request = {"product_id": product_id, "warehouse_id": warehouse_id, "quantity": quantity}

        def prepare() -> _Apply:
            s = _state_of(self)
            p, w, q = self._product(product_id), self._warehouse(warehouse_id), _units(quantity, "quantity")
            sc = s.scenario

            def apply(rng: np.random.Generator, partial: bool) -> _Outcome:
                confirmed = _partly(rng, q) if partial else q
                reference = s.next_id("APO")
                number = s.counters["APO"]
                delivery = supplier_deliveries(sc, Streams(sc.seed), "agent_supplier", s.day, np.array([number]),
                                               np.array([w]), np.array([confirmed]))
                unit_cost = float(market.unit_cost(s)[p])
                s.pipeline.add(delivery.arrival_day, p, w, delivery.delivered, cents(unit_cost))
                s.agent_replenished[p] = True
                s.charges.append(Charge(s.day, "purchase_orders", int(CostRates.of(sc).order_cost_cents[w]),
                                        product=p, warehouse=w))
                promised = self._date(int(delivery.promised_day[0]))
                s.record("purchase_orders", {
                    "po_id": reference, "product_id": product_id, "warehouse_id": warehouse_id,
                    "quantity": confirmed, "unit_cost": unit_cost, "ordered_on": self._date(s.day),
                    "expected_on": promised, "origin": records.AGENT})
                return _Outcome(f"supplier confirmed {confirmed} of {q} units of {product_id} for {warehouse_id}, "
                                f"expected on {promised}; the automatic reordering of {product_id} stands down",
                                reference=reference, requested=q, accepted=confirmed, effective=promised,
                                partial=confirmed < q)
            return apply

        return self._call("create_purchase_order", idempotency_key, request, prepare)

    def hand_back(self, product_id: str, *, idempotency_key: str) -> Receipt:
        """Return a product's replenishment to the automatic reordering from the next simulated day."""
        request = {"product_id": product_id}

        def prepare() -> _Apply:
            s = _state_of(self)
            p = self._product(product_id)
            if not s.agent_replenished[p]:
                raise InvalidRequest(f"product_id {product_id!r} is replenished by the automatic reordering: "
                                     "nothing to hand back")

            def apply(rng: np.random.Generator, partial: bool) -> _Outcome:
                s.agent_replenished[p] = False
                return _Outcome(f"the automatic reordering replenishes {product_id} again",
                                reference=s.next_id("RH"), effective=self._today())
            return apply

        return self._call("hand_back", idempotency_key, request, prepare)

    def transfer_stock(self, product_id: str, from_warehouse: str, to_warehouse: str, quantity: int, *,
                       idempotency_key: str) -> Receipt:
        """Units leave the source at once (oldest first) and are in transit (not sellable) for
        ``fulfilment.transfer_days`` days. Only stock on hand can move; a partial receipt means fewer
        units were picked. The transfer's fixed and per-unit cost is charged today."""
        request = {"product_id": product_id, "from_warehouse": from_warehouse, "to_warehouse": to_warehouse,
                   "quantity": quantity}

        def prepare() -> _Apply:
            s = _state_of(self)
            p = self._product(product_id)
            source = self._warehouse(from_warehouse, "from_warehouse")
            target = self._warehouse(to_warehouse, "to_warehouse")
            q = _units(quantity, "quantity")
            if source == target:
                raise InvalidRequest(f"to_warehouse must differ from from_warehouse ({from_warehouse!r})")
            available = int(s.on_hand()[p, source])
            if q > available:
                raise InvalidRequest(f"quantity {q} exceeds the {available} units of {product_id} on hand "
                                     f"in {from_warehouse}")

            def apply(rng: np.random.Generator, partial: bool) -> _Outcome:
                sc = s.scenario
                moved = _partly(rng, q) if partial else q
                reference = s.next_id("TR")
                low, high = sc.fulfilment.transfer_days
                transit = int(Streams(sc.seed).integers("transfer_transit", s.day, [s.counters["TR"]], low, high)[0])
                take = np.zeros_like(s.lots.on_hand())
                take[p, source] = moved
                _, pieces = s.lots.consume(take)
                s.pipeline.add(s.day + transit, p, target, pieces["quantity"], pieces["cost_cents"],
                               stock_day=pieces["day"])
                cost = CostRates.of(sc).transfer_cents(moved)
                s.charges.append(Charge(s.day, "transfers", cost, product=p, warehouse=source))
                arrival = self._date(s.day + transit)
                s.record("transfers", {
                    "transfer_id": reference, "product_id": product_id, "from_warehouse_id": from_warehouse,
                    "to_warehouse_id": to_warehouse, "quantity": moved, "shipped_on": self._date(s.day),
                    "expected_on": arrival, "cost": cost / 100})
                return _Outcome(f"moving {moved} of {q} units of {product_id} from {from_warehouse} to {to_warehouse}, "
                                f"arriving {arrival}", reference=reference, requested=q, accepted=moved,
                                effective=arrival, partial=moved < q)
            return apply

        return self._call("transfer_stock", idempotency_key, request, prepare)


class PromotionEngine(_System):
    """Price promotions on top of regular prices. What is scheduled or cancelled here shows up in
    the next promotions export, as promotions of type "agent". The channel charges its promotion fee
    for every promoted product and day."""

    __slots__ = ()
    name, label = "promotions", "promotion engine"

    def schedule_promotion(self, product_id: str, channel: str, discount_pct: float, starts_on: dt.date | str,
                           ends_on: dt.date | str, *, idempotency_key: str) -> Receipt:
        """``channel`` may be "all". A partial receipt means the engine granted fewer days (the run
        ends earlier than asked)."""
        request = {"product_id": product_id, "channel": channel, "discount_pct": discount_pct,
                   "starts_on": starts_on, "ends_on": ends_on}

        def prepare() -> _Apply:
            s = _state_of(self)
            p, c = self._product(product_id), self._channel(channel, allow_all=True)
            pct = _number(discount_pct, "discount_pct")
            if not 0 < pct <= _MAX_DISCOUNT_PCT:
                raise InvalidRequest(f"discount_pct must be above 0 and at most {_MAX_DISCOUNT_PCT:g}, "
                                     f"got {discount_pct!r}")
            start, end = self._day(starts_on, "starts_on"), self._day(ends_on, "ends_on")
            if end < start:
                raise InvalidRequest(f"ends_on {self._date(end)} is before starts_on {self._date(start)}")

            def apply(rng: np.random.Generator, partial: bool) -> _Outcome:
                days = end - start + 1
                granted = _partly(rng, days) if partial else days
                promo = Promotion(s.next_id("APR"), p, c, round(pct / 100, 4), start, start + granted - 1,
                                  created_day=s.day, origin="api")
                s.promotions.append(promo)
                return _Outcome(f"{pct:g}% off {product_id} on {channel} from {self._date(start)} to "
                                f"{self._date(promo.end_day)}", reference=promo.promo_id, requested=days,
                                accepted=granted, effective=self._date(start), partial=granted < days)
            return apply

        return self._call("schedule_promotion", idempotency_key, request, prepare)

    def cancel_promotion(self, promo_id: str, *, idempotency_key: str) -> Receipt:
        """Any promotion that has not ended can be cancelled, the shop's own calendar included; a
        running one stops from the next simulated day (and its post-promotion dip follows)."""

        def prepare() -> _Apply:
            s = _state_of(self)
            promo = next((x for x in s.promotions if isinstance(promo_id, str) and x.promo_id == promo_id), None)
            if promo is None:
                raise InvalidRequest(f"promo_id {promo_id!r} is not a known promotion")
            if promo.status == "cancelled":
                raise InvalidRequest(f"promo_id {promo_id!r} is already cancelled")
            if promo.end_day < s.day:
                raise InvalidRequest(f"promo_id {promo_id!r} already ended on {self._date(promo.end_day)}")

            def apply(rng: np.random.Generator, partial: bool) -> _Outcome:
                promo.status, promo.updated_day = "cancelled", s.day
                return _Outcome(f"{promo_id} is cancelled from {self._today()}", reference=promo_id,
                                effective=self._today())
            return apply

        return self._call("cancel_promotion", idempotency_key, {"promo_id": promo_id}, prepare)


class ContentAPI(_System):
    """Product content in the PIM. Complete content sells better, so an update moves demand from
    the next simulated day."""

    __slots__ = ()
    name, label = "content", "content management system"

    def update_content(self, product_id: str, channel: str, *, description: str | None = None,
                       image_count: int | None = None, attributes: dict[str, str] | None = None,
                       idempotency_key: str) -> Receipt:
        """The catalog keeps one listing per product, so an update made for one channel shows on
        every channel; ``channel`` ("all" allowed) is still checked and recorded. ``attributes={}``
        removes the attributes. A partial receipt lists the fields that were saved."""
        request = {"product_id": product_id, "channel": channel, "description": description,
                   "image_count": image_count, "attributes": attributes}

        def prepare() -> _Apply:
            s = _state_of(self)
            p = self._product(product_id)
            self._channel(channel, allow_all=True)
            updates: dict[str, Any] = {}
            if description is not None:
                low, high = _DESCRIPTION_LENGTH
                updates["description"] = _clean_text(description, "description", low, high, newlines=True)
            if image_count is not None:
                if not isinstance(image_count, numbers.Integral) or isinstance(image_count, bool) \
                        or not 0 <= image_count <= _MAX_IMAGES:
                    raise InvalidRequest(f"image_count must be a whole number from 0 to {_MAX_IMAGES}, "
                                         f"got {image_count!r}")
                updates["image_count"] = int(image_count)
            if attributes is not None:
                updates["attributes"] = _attributes(attributes)
            if not updates:
                raise InvalidRequest("nothing to update: give description, image_count or attributes")
            catalog = s.world.catalog

            def apply(rng: np.random.Generator, partial: bool) -> _Outcome:
                names = list(updates)
                kept = _partly(rng, len(names)) if partial else len(names)
                chosen = [names[i] for i in sorted(rng.permutation(len(names))[:kept])]
                if "description" in chosen:
                    catalog.has_description[p] = True
                if "image_count" in chosen:
                    catalog.image_count[p] = updates["image_count"]
                if "attributes" in chosen:
                    catalog.has_attributes[p] = bool(updates["attributes"])
                skipped = [n for n in names if n not in chosen]
                return _Outcome(f"saved {', '.join(chosen)} of {product_id}"
                                + (f" (not saved: {', '.join(skipped)})" if skipped else ""),
                                reference=s.next_id("CU"), requested=len(names), accepted=kept,
                                effective=self._today(), partial=kept < len(names))
            return apply

        return self._call("update_content", idempotency_key, request, prepare)


def _attributes(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise InvalidRequest(f"attributes must be a mapping of text to text, got {type(value).__name__}")
    if len(value) > _MAX_ATTRIBUTES:
        raise InvalidRequest(f"attributes may hold at most {_MAX_ATTRIBUTES} entries, got {len(value)}")
    for name, text in value.items():
        _clean_text(name, f"attributes key {name!r}", 1, 100)
        _clean_text(text, f"attributes[{name!r}]", 1, _MAX_ATTRIBUTE_TEXT)
    return dict(value)




class MessagingAPI(_System):
    """Marketing e-mail to customers who opted in. A campaign lifts demand (for one category, or
    the whole shop) for ``scenario.demand.campaign_days`` days from the next simulated day, with
    diminishing returns (``commerce_sim.marketing``). Every message costs
    ``marketing.cost_per_message``; the platform sends at most ``marketing.daily_capacity`` messages
    a day, so a campaign beyond that is cut short (partial) or declined when nothing is left."""

    __slots__ = ()
    name, label = "messaging", "messaging platform"

    def send_campaign(self, segment: str, *, category: str | None = None, audience_limit: int | None = None,
                      idempotency_key: str) -> Receipt:
        """``segment`` may be "all". A partial receipt means only part of the audience was reached."""
        request = {"segment": segment, "category": category, "audience_limit": audience_limit}

        def prepare() -> _Apply:
            s = _state_of(self)
            world = s.world
            if isinstance(segment, str) and segment == ALL:
                seg = -1
            elif isinstance(segment, str) and segment in world.segment_names:
                seg = world.segment_names.index(segment)
            else:
                raise InvalidRequest(f"segment {segment!r} is not one of {world.segment_names + [ALL]}")
            names = world.catalog.category_names
            if category is None or (isinstance(category, str) and category == ALL):
                cat = -1
            elif isinstance(category, str) and category in names:
                cat = names.index(category)
            else:
                raise InvalidRequest(f"category {category!r} is not one of {names} (or None for every category)")
            limit = None if audience_limit is None else _units(audience_limit, "audience_limit", 10 * _MAX_UNITS)
            customers = s.customers
            in_segment = np.ones(customers.n, bool) if seg < 0 else customers.segment == seg
            audience = int((in_segment & customers.marketing_opt_in).sum())
            if audience == 0:
                raise InvalidRequest(f"segment {segment!r} has no customers who opted in to marketing")
            audience = min(audience, limit) if limit is not None else audience
            capacity = marketing.capacity_left(s, s.day)
            if capacity == 0:
                raise InvalidRequest(f"the messaging platform's daily capacity of {s.scenario.marketing.daily_capacity} "
                                     f"messages is used up for {self._today()}; send on a later day")

            def apply(rng: np.random.Generator, partial: bool) -> _Outcome:
                reached = _partly(rng, audience) if partial else audience
                reached = min(reached, capacity)
                campaign = marketing.send(s, s.next_id("CM"), seg, cat, reached, s.day)
                cost = CostRates.of(s.scenario).campaign_cents(reached)
                s.charges.append(Charge(s.day, "campaigns", cost))
                s.record("campaigns", {
                    "campaign_id": campaign.campaign_id, "sent_on": self._date(s.day), "segment": segment,
                    "category": ALL if cat < 0 else names[cat], "messages": reached, "cost": cost / 100,
                    "runs_until": self._date(campaign.end_day)})
                cut = " (the platform's daily capacity is reached)" if reached == capacity < audience else ""
                return _Outcome(f"reached {reached} of {audience} opted-in customers of segment {segment}{cut}, "
                                f"running {self._date(campaign.start_day)} to {self._date(campaign.end_day)}",
                                reference=campaign.campaign_id, requested=audience, accepted=reached,
                                effective=self._date(campaign.start_day), partial=reached < audience)
            return apply

        return self._call("send_campaign", idempotency_key, request, prepare)


class CommerceSystems:
    """The five systems of one world, the only way anything outside the simulator changes it.

    Sealed: the object exposes the systems and the date they are at, nothing else; the world behind
    them is not reachable through its attributes."""

    __slots__ = ("pricing", "purchasing", "promotions", "content", "messaging", "__weakref__")

    def __init__(self, simulator: Simulator):
        _WORLDS[self] = simulator
        self.pricing = PricingEngine(simulator)
        self.purchasing = Purchasing(simulator)
        self.promotions = PromotionEngine(simulator)
        self.content = ContentAPI(simulator)
        self.messaging = MessagingAPI(simulator)

    @property
    def current_date(self) -> dt.date:
        """The date the systems are at: the next day the world will simulate (changes apply from it)."""
        world = _world_of(self)
        world.refresh()
        return world.current_date

    @classmethod
    def open(cls, root: Path, landing: Path) -> CommerceSystems:
        """The systems of a saved world, e.g. from a dispatcher process apart from the simulator's."""
        return cls(Simulator.open(root, landing))
