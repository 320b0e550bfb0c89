"""Forecast metrics: exact values on hand-computed cases, and loud failures on bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.metrics import bias, interval_coverage, pinball_loss, wmape


def test_wmape_weighs_errors_by_volume():
    assert wmape([10, 0, 5], [8, 1, 5]) == pytest.approx(3 / 15)
    assert wmape([1, 2, 3], [1, 2, 3]) == 0
    assert wmape(pd.Series([4, 4]), np.array([0, 0])) == 1


def test_bias_sign_means_over_forecasting():
    assert bias([10, 10], [12, 9]) == pytest.approx(0.05)
    assert bias([10, 10], [5, 5]) == pytest.approx(-0.5)


def test_interval_coverage_includes_both_ends():
    actual = [0, 1, 2, 3, 4]
    assert interval_coverage(actual, [0, 1, 3, 0, 5], [0, 2, 4, 2, 6]) == pytest.approx(2 / 5)
    assert interval_coverage([[1], [2]], [[1], [1]], [[1], [1]]) == pytest.approx(0.5)  # column vectors are fine


def test_pinball_loss_penalises_each_side_by_its_quantile():
    # under-forecast by 2 at q=0.9 costs 0.9 * 2; over-forecast by 2 costs 0.1 * 2
    assert pinball_loss([5], [3], 0.9) == pytest.approx(1.8)
    assert pinball_loss([5], [7], 0.9) == pytest.approx(0.2)
    assert pinball_loss([1, 2, 3], [2, 2, 2], 0.5) == pytest.approx(1 / 3)
    # the q-quantile minimises the mean pinball loss
    sample = np.random.default_rng(0).poisson(3, 2000)
    candidates = np.arange(0, 10)
    losses = [pinball_loss(sample, np.full(sample.size, c), 0.8) for c in candidates]
    assert candidates[int(np.argmin(losses))] == np.quantile(sample, 0.8, method="inverted_cdf")


@pytest.mark.parametrize("call, message", [
    (lambda: wmape([1, 2], [1]), "lengths must match"),
    (lambda: wmape([], []), "empty"),
    (lambda: wmape([1, np.nan], [1, 2]), "non-finite"),
    (lambda: bias([1, 2], [np.inf, 2]), "non-finite"),
    (lambda: wmape([0, 0], [1, 1]), "sums to zero"),
    (lambda: bias([0], [1]), "sums to zero"),
    (lambda: interval_coverage([1, 2], [2, 3], [1, 4]), "crossed"),
    (lambda: interval_coverage([1, 2], [0, 0], [3]), "lengths must match"),
    (lambda: pinball_loss([1], [1], 1.0), "between 0 and 1"),
    (lambda: wmape(np.ones((2, 2)), np.ones((2, 2))), "one-dimensional"),
    (lambda: wmape(["a"], [1]), "could not convert|float"),
])
def test_bad_input_raises_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
