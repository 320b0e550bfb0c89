"""Forecast accuracy metrics shared by the forecaster, the baselines and the benchmark.

One module so every report (model card, MLflow run, benchmark table) computes WMAPE, bias and
coverage the same way. Inputs are validated strictly: a silently broadcast length mismatch or a NaN
in the actuals would give a plausible-looking number that is wrong, so both raise ``ValueError``.

- **WMAPE** ``sum|a - p| / sum|a|`` rather than MAPE: daily product sales are often zero, where MAPE
  is undefined, and WMAPE weighs errors by volume, as the business does.
- **Bias** ``(sum p - sum a) / sum a``: positive means over-forecasting (overstock), negative means
  under-forecasting (lost sales).
- **Interval coverage**: share of actuals inside ``[low, high]`` (both ends included, since counts sit
  exactly on integer bounds); for a P10-P90 interval it should be near 0.80.
- **Pinball loss**: the proper scoring rule of a single quantile; lower is better.
"""

from __future__ import annotations

import numpy as np

__all__ = ["bias", "interval_coverage", "pinball_loss", "wmape"]


def _as_arrays(**named) -> list[np.ndarray]:
    """1-D float arrays of equal, non-zero length with finite values, or a ValueError naming the culprit."""
    arrays, length = [], None
    for name, values in named.items():
        array = np.asarray(values, dtype=float)
        if array.ndim > 1:
            array = np.squeeze(array)  # a single column (n x 1) is fine, a matrix is not
        if array.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional, got shape {np.shape(values)}")
        if array.size == 0:
            raise ValueError(f"{name} is empty")
        if length is not None and array.size != length:
            raise ValueError(f"{name} has {array.size} values but {next(iter(named))} has {length}: lengths must match")
        if not np.isfinite(array).all():
            bad = int((~np.isfinite(array)).sum())
            raise ValueError(f"{name} has {bad} non-finite values (NaN or inf); drop or fill them first")
        length = array.size
        arrays.append(array)
    return arrays


def _total_actual(actual: np.ndarray) -> float:
    total = float(np.abs(actual).sum())
    if total == 0:
        raise ValueError("actual sums to zero: the relative metric is undefined")
    return total


def wmape(actual, predicted) -> float:
    """Weighted absolute percentage error ``sum|a - p| / sum|a|`` (0 is perfect)."""
    a, p = _as_arrays(actual=actual, predicted=predicted)
    return float(np.abs(a - p).sum() / _total_actual(a))


def bias(actual, predicted) -> float:
    """Relative bias ``(sum p - sum a) / sum a``: > 0 over-forecasts, < 0 under-forecasts."""
    a, p = _as_arrays(actual=actual, predicted=predicted)
    return float((p.sum() - a.sum()) / _total_actual(a))


def interval_coverage(actual, low, high) -> float:
    """Share of ``actual`` values with ``low <= actual <= high``."""
    a, lo, hi = _as_arrays(actual=actual, low=low, high=high)
    if (lo > hi).any():
        raise ValueError(f"low exceeds high in {int((lo > hi).sum())} rows: the interval bounds are crossed")
    return float(((lo <= a) & (a <= hi)).mean())


def pinball_loss(actual, predicted, q: float) -> float:
    """Mean pinball (quantile) loss of ``predicted`` as the ``q`` quantile of ``actual``."""
    if not 0 < q < 1:
        raise ValueError(f"q must be strictly between 0 and 1, got {q!r}")
    a, p = _as_arrays(actual=actual, predicted=predicted)
    diff = a - p
    return float(np.mean(np.maximum(q * diff, (q - 1) * diff)))
