"""Reasoning: demand forecasts and causal price elasticities, trained and served through MLflow.

- ``models/demand_forecast``, ``models/price_elasticity``: fit a candidate before a time-based
  holdout, score it and the current champion on that holdout, register it, and move the alias
  ``champion`` only if it won; an asset check per model records the comparison. Weekly, or launched;
- ``reasoning/demand_forecasts``, ``reasoning/price_elasticities``: the champions' forecasts and
  elasticities in the warehouse, refreshed whenever the marts or a champion changed.
"""

import dagster as dg

from orchestration.defs.reasoning.models import model_assets
from orchestration.defs.reasoning.serving import serving_assets


def reasoning_definitions() -> dg.Definitions:
    return dg.Definitions(assets=[*model_assets(), *serving_assets()])
