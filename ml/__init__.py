"""Reasoning layer: features, demand forecasting, elasticity estimation, MLflow registry helpers.

Built by the reasoning issue; the perception marts are its inputs.
"""
