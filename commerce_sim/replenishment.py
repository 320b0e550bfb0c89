"""Replenishment: the shop's legacy reordering, and what suppliers do with any purchase order.

The legacy policy is a periodic review per warehouse (each on its own weekday) that orders up to
``order_up_to_days`` of cover when the stock position falls below ``reorder_point_days``, from a
trailing mean of what the warehouse *shipped* — which undercounts demand after stockouts. It stands
down for a product whose replenishment an agent took over (and resumes when the agent hands it
back) and stops at a product's end of life.

Suppliers treat every order alike, legacy or agent: delivery comes after the warehouse's lead time
plus a jitter, and with ``supplier_miss_rate`` the supplier misses, delivering only 40-90% of the
units one lead time late. These draws are keyed by the order (day, product and warehouse for the
legacy policy; the agent order's number for agents), never by what else happens.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from commerce_sim.scenario import Scenario
from commerce_sim.state import SimState
from commerce_sim.streams import Streams


@dataclass(frozen=True)
class Deliveries:
    """What suppliers will deliver for a batch of orders."""

    arrival_day: np.ndarray
    promised_day: np.ndarray
    delivered: np.ndarray


def supplier_deliveries(scenario: Scenario, streams: Streams, process: str, day: int, entity: np.ndarray,
                        warehouse: np.ndarray, quantity: np.ndarray) -> Deliveries:
    """Arrival and delivered units of orders placed on ``day`` (keyed by ``process`` and ``entity``)."""
    lead = np.array([w.lead_time_days for w in scenario.warehouses])[warehouse]
    jitter = np.array([w.lead_time_jitter_days for w in scenario.warehouses])[warehouse]
    arrival = day + lead + streams.integers(process, day, entity, 0, jitter, draw=0)
    missed = streams.uniform(process, day, entity, draw=1) < scenario.inventory.supplier_miss_rate
    fraction = 0.4 + 0.5 * streams.uniform(process, day, entity, draw=2)
    delivered = np.where(missed, np.floor(quantity * fraction), quantity).astype(np.int64)
    return Deliveries(np.where(missed, arrival + lead, arrival), day + lead, delivered)


@dataclass(frozen=True)
class PurchaseOrders:
    product: np.ndarray
    warehouse: np.ndarray
    quantity: np.ndarray
    deliveries: Deliveries


def legacy_orders(state: SimState, streams: Streams, day: int) -> PurchaseOrders:
    """The legacy (s, S) orders of ``day`` (not yet placed: see :func:`place`)."""
    spec = state.scenario.inventory
    n_products, n_warehouses = state.shipped_history.shape[1:]
    daily = state.shipped_history.mean(axis=0)
    position = state.on_hand() + state.pipeline.on_order(n_products, n_warehouses)
    reviewing = (day + np.arange(n_warehouses)) % spec.review_every_days == 0
    eligible = ~state.agent_replenished & (day < state.world.catalog.end_of_life)
    reorder = (position < spec.reorder_point_days * daily) & reviewing[None, :] & eligible[:, None]
    quantity = np.ceil(spec.order_up_to_days * daily - position).astype(np.int64)
    p_idx, w_idx = np.nonzero(reorder & (quantity > 0))
    qty = quantity[p_idx, w_idx]
    deliveries = supplier_deliveries(state.scenario, streams, "supplier_miss", day, p_idx * n_warehouses + w_idx,
                                     w_idx, qty)
    return PurchaseOrders(p_idx, w_idx, qty, deliveries)


def place(state: SimState, orders: PurchaseOrders, cost_cents: np.ndarray) -> None:
    """Put the deliveries of ``orders`` into the pipeline at today's supplier cost per unit."""
    d = orders.deliveries
    state.pipeline.add(d.arrival_day, orders.product, orders.warehouse, d.delivered, cost_cents[orders.product])
