"""Evaluation: the only code that reads the simulated world's truth (DESIGN.md, principle 4).

- :mod:`evaluation.model_benchmark` — forecasts and elasticities against baselines and the truth
  (``agentic-commerce bench models``).

The truth itself (what-if answers, oracles) lives in ``commerce_sim.truth``; this package is where the
platform's results are measured against it. ``tests/test_truth_is_sealed.py`` lets no other package
import it.
"""
