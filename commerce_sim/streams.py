"""Independent, counter-based random streams: one per random process, keyed by what it is about.

Every random number of the world is a pure function of (scenario seed, process, day, entity, draw):
a product's demand shock on a day, the demand draw of a product x channel x region, the competitor's
drift, a warehouse's lead-time jitter, the promotion calendar, ... No process consumes numbers from
another's stream, and how many numbers one process uses (more sales, more order lines) never
shifts what any other process draws. Two copies of a world that differ in one decision therefore
see the same shocks, costs, competitor prices and calendar, and their demand differs only where the
decision reaches through the demand equation: paired comparisons measure the decision, not noise.

The keyed uniforms come from a vectorized SplitMix64 hash (Steele, Lea & Flood 2014): the key is
mixed one field at a time, and the top 53 bits of the result make a uniform in (0, 1). Normal and
negative-binomial draws use inverse-CDF sampling of those uniforms, so a higher expected demand never
sells fewer units for the same uniform (common random numbers). Processes whose number of draws
depends on the day's events (orders, sessions, sign-ups, export defects) get their own numpy
``Generator`` seeded from the same key, so they too stay apart from everything else.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

# Stable process ids: part of every key. Never renumber; add new processes at the end.
PROCESSES: dict[str, int] = {
    "world": 1,  # catalog and true parameters (a Generator, once)
    "customers_initial": 2,
    "initial_state": 3,
    "cost": 10,
    "demand_shock": 11,
    "competitor_drift": 12,
    "price_war": 13,
    "legacy_price_noise": 14,
    "promotion_calendar": 15,
    "demand": 16,
    "remote_conversion": 17,
    "lead_time": 18,
    "supplier_miss": 19,
    "agent_supplier": 20,
    "transfer_transit": 21,
    "customers": 22,  # sign-ups and profile updates (a Generator per day)
    "orders": 23,  # orders, sessions and carts (a Generator per day and channel)
    "scraper": 24,
    "defects": 25,  # export dirt (a Generator per day and kind)
    "lifecycle": 26,
    "systems_failures": 27,  # commerce system failures (a Generator per call)
    "outlook": 28,  # evaluation's stratified samples of a day (never used by the world itself)
}

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MULT_1 = np.uint64(0xBF58476D1CE4E5B9)
_MULT_2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 2.0**-53


def _mix(z: np.ndarray) -> np.ndarray:
    """The SplitMix64 finalizer: a bijection of uint64 that scatters every input bit."""
    z = (z ^ (z >> np.uint64(30))) * _MULT_1
    z = (z ^ (z >> np.uint64(27))) * _MULT_2
    return z ^ (z >> np.uint64(31))


def _as_u64(value) -> np.ndarray:
    return np.asarray(value).astype(np.int64).astype(np.uint64)


def process_id(process: str) -> int:
    try:
        return PROCESSES[process]
    except KeyError:
        raise KeyError(f"unknown random process {process!r}; known: {', '.join(PROCESSES)}") from None


class Streams:
    """The keyed random numbers of one world (a scenario seed)."""

    def __init__(self, seed: int):
        self.seed = int(seed)
        self._root = _mix(_as_u64([self.seed % 2**63]) + _GOLDEN)

    def _key(self, process: str, day: int, entity, draw: int) -> np.ndarray:
        h = _mix(self._root ^ (_as_u64([process_id(process)]) * _GOLDEN))
        h = _mix(h ^ (_as_u64([int(day) + 2**31]) + _GOLDEN))
        h = _mix(h ^ (_as_u64(entity) + _GOLDEN))
        return _mix(h ^ (_as_u64([int(draw)]) * _MULT_2 + _GOLDEN))

    def uniform(self, process: str, day: int, entity, draw: int = 0) -> np.ndarray:
        """Uniforms in (0, 1), one per entity key (any integer array shape; scalars give shape (1,))."""
        h = self._key(process, day, np.atleast_1d(entity), draw)
        return ((h >> np.uint64(11)).astype(np.float64) + 0.5) * _TO_UNIT

    def normal(self, process: str, day: int, entity, draw: int = 0) -> np.ndarray:
        return special.ndtri(self.uniform(process, day, entity, draw))

    def integers(self, process: str, day: int, entity, low, high, draw: int = 0) -> np.ndarray:
        """Integers in [low, high] (both inclusive; arrays broadcast)."""
        u = self.uniform(process, day, entity, draw)
        low, high = np.asarray(low), np.asarray(high)
        return (low + np.floor(u * (high - low + 1))).astype(np.int64)

    def generator(self, process: str, day: int = 0, entity: int = 0) -> np.random.Generator:
        """A numpy Generator for a process whose number of draws depends on the day's events."""
        return np.random.default_rng([self.seed % 2**63, process_id(process), int(day) + 2**31, int(entity)])


def entity_grid(*sizes: int) -> np.ndarray:
    """Entity keys of a dense grid (e.g. products x channels x regions): row-major cell numbers."""
    return np.arange(int(np.prod(sizes)), dtype=np.int64).reshape(sizes)


def negative_binomial_ppf(u: np.ndarray, mean: np.ndarray, shape: np.ndarray | float) -> np.ndarray:
    """Negative-binomial counts with ``mean`` and ``shape`` (variance ``mean + mean**2 / shape``) at uniforms ``u``.

    Inverse-CDF sampling: for a fixed ``u`` the count never falls when the mean rises."""
    mean = np.maximum(np.asarray(mean, dtype=float), 1e-12)
    shape = np.broadcast_to(np.asarray(shape, dtype=float), mean.shape)
    counts = stats.nbinom.ppf(u, shape, shape / (shape + mean))
    return np.nan_to_num(counts, nan=0.0).astype(np.int64)


def binomial_ppf(u: np.ndarray, trials: np.ndarray, probability: float) -> np.ndarray:
    """Binomial counts at uniforms ``u`` (inverse CDF: more trials never give fewer successes)."""
    trials = np.asarray(trials)
    if probability >= 1.0:
        return trials.astype(np.int64)
    if probability <= 0.0:
        return np.zeros_like(trials, dtype=np.int64)
    counts = stats.binom.ppf(u, trials, probability)
    return np.where(trials > 0, np.nan_to_num(counts, nan=0.0), 0).astype(np.int64)
