"""The world's sealed truth: only evaluation code may import this package.

- :mod:`commerce_sim.truth.store` — what the simulator wrote down (true parameters, every day's
  demand terms and the true profit and loss), read through :class:`GroundTruth`;
- :mod:`commerce_sim.truth.outlook` — "what if": the true expected units and profit of the next day
  of a live world for any prices, promotions and stock positions (the same demand equation,
  fulfilment and costs the world uses);
- :mod:`commerce_sim.truth.oracle` — oracles that know the truth: the myopic profit-maximizing price
  within bounds, and replenishment that knows true demand.

``tests/test_truth_is_sealed.py`` keeps every platform package away from it.
"""

from commerce_sim.truth.store import GroundTruth, TruthWriter

__all__ = ["GroundTruth", "TruthWriter"]
