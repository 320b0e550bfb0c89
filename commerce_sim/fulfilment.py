"""Regional fulfilment: who gets the stock when there is not enough of it.

Customers live in regions; each warehouse serves its own regions first (``World.home_warehouse``).
Demand a region's home warehouse cannot serve is offered delivery from another warehouse, which
costs the shop more and takes longer: each such unit still sells with probability
``fulfilment.remote_conversion`` (a binomial draw from keyed uniforms), and the willing units are
shipped from the other warehouses in order of their stock share while they have stock. Whatever is
left is lost, and never reaches the order system. Scarce stock is shared among the channels and
regions asking for it in proportion to their requests (largest remainders, ties to the lower index).

The same function serves the day step and the truth's expected outcomes (which run it on many
sampled demand draws at once), so both see one fulfilment rule.
"""

from __future__ import annotations

import numpy as np

from commerce_sim.streams import binomial_ppf


def allocate(requests: np.ndarray, available: np.ndarray) -> np.ndarray:
    """Serve integer ``requests`` (rows x asks) from ``available`` units per row, pro rata when short."""
    requests = np.asarray(requests, dtype=np.int64)
    total = requests.sum(axis=1)
    short = total > available
    served = requests.copy()
    if short.any():
        exact = requests[short] * (available[short] / np.maximum(total[short], 1))[:, None]
        base = np.floor(exact).astype(np.int64)
        remainder = available[short] - base.sum(axis=1)
        order = np.argsort(-(exact - base), axis=1, kind="stable")
        ranks = np.argsort(order, axis=1, kind="stable")
        served[short] = base + (ranks < remainder[:, None])
    return served


def fulfil(units: np.ndarray, on_hand: np.ndarray, home: np.ndarray, remote_order: np.ndarray,
           conversion_u: np.ndarray, conversion: float) -> np.ndarray:
    """Units served per product x channel x region x warehouse.

    ``units``: wanted, products x channels x regions; ``on_hand``: products x warehouses at the start
    of the day; ``home``: warehouse per region; ``remote_order``: warehouses in the order they help
    other regions; ``conversion_u``: keyed uniforms (products x channels x regions) deciding how many
    of the units a home warehouse could not serve still sell when shipped from farther away.
    """
    n_products, n_channels, n_regions = units.shape
    n_warehouses = on_hand.shape[1]
    served = np.zeros((n_products, n_channels, n_regions, n_warehouses), dtype=np.int64)
    left = on_hand.astype(np.int64).copy()
    for w in range(n_warehouses):
        regions = np.flatnonzero(home == w)
        if regions.size == 0:
            continue
        asked = units[:, :, regions].reshape(n_products, -1)
        got = allocate(asked, left[:, w])
        served[:, :, regions, w] = got.reshape(n_products, n_channels, regions.size)
        left[:, w] -= got.sum(axis=1)
    unmet = units - served.sum(axis=3)
    if not unmet.any():
        return served
    willing = binomial_ppf(conversion_u, unmet, conversion)
    for w in remote_order:
        regions = np.flatnonzero(home != w)
        if regions.size == 0 or not willing[:, :, regions].any():
            continue
        asked = willing[:, :, regions].reshape(n_products, -1)
        got = allocate(asked, left[:, w]).reshape(n_products, n_channels, regions.size)
        served[:, :, regions, w] += got
        willing[:, :, regions] -= got
        left[:, w] -= got.sum(axis=(1, 2))
    return served


def is_remote(home: np.ndarray, n_warehouses: int) -> np.ndarray:
    """regions x warehouses: True where a warehouse ships outside the regions it serves first."""
    return home[:, None] != np.arange(n_warehouses)[None, :]
