"""The public elasticity estimator recovers known elasticities from seeded synthetic panels.

Every panel is built as ``log q = a_i + b_t + e * log p + confounders + u`` with a known ``e``; each
test makes one thing go wrong for the naive estimator (product levels, time shocks, price reacting
to demand, an observed or nonlinear confounder, serial correlation) and checks that the matching
option fixes it, within a tolerance tied to the reported standard error.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from ml.elasticity_estimator import ElasticityError, ElasticityResult, WeakInstrumentWarning, estimate_elasticity

E = -1.5  # the true elasticity in every panel


def grid(products: int, periods: int) -> tuple[np.ndarray, np.ndarray]:
    """Product and period index of every row of a balanced panel."""
    return np.repeat(np.arange(products), periods), np.tile(np.arange(periods), products)


def frame(log_q, log_p, rng=None, **columns) -> pd.DataFrame:
    """Units are Poisson draws around exp(log q) when ``rng`` is given, else exactly exp(log q)."""
    units = rng.poisson(np.exp(log_q)) if rng is not None else np.exp(log_q)
    return pd.DataFrame({"units": units, "price": np.exp(log_p), **columns})


def fit(panel, **kwargs) -> ElasticityResult:
    return estimate_elasticity(panel, quantity="units", price="price", **kwargs)


def assert_recovers(result: ElasticityResult, truth: float = E, z: float = 3.0) -> None:
    assert abs(result.elasticity - truth) < z * result.std_error, result.summary()
    assert result.ci_low < truth < result.ci_high, result.summary()


# ----------------------------------------------------------------------------- OLS and fixed effects
def test_ols_recovers_the_elasticity_without_confounding():
    rng = np.random.default_rng(1)
    i, t = grid(40, 50)
    d = rng.normal(0, 0.3, i.size)
    panel = frame(4 + E * d + rng.normal(0, 0.3, i.size), d, rng)
    result = fit(panel)
    assert result.method == "ols" and result.n_obs == 2000 and result.n_clusters is None
    assert result.std_error < 0.05
    assert_recovers(result)


def test_product_fixed_effects_remove_the_bias_of_dearer_products_selling_more():
    rng = np.random.default_rng(2)
    i, t = grid(40, 50)
    a = rng.normal(0, 1, 40)  # popular products are priced higher
    d = 0.5 * a[i] + rng.normal(0, 0.2, i.size)
    panel = frame(4 + a[i] + E * d + rng.normal(0, 0.3, i.size), d, rng, product=i)
    pooled = fit(panel)
    within = fit(panel, fixed_effects=["product"])
    assert pooled.elasticity > E + 1.0  # pooled OLS even gets the sign wrong
    assert_recovers(within)
    assert within.diagnostics["absorbed_fixed_effects"] == {"product": 40}


def test_two_way_fixed_effects_remove_time_shocks_correlated_with_price():
    rng = np.random.default_rng(3)
    i, t = grid(40, 50)
    a, b = rng.normal(0, 1, 40), rng.normal(0, 0.5, 50)  # busy weeks carry higher prices
    d = 0.5 * a[i] + 0.6 * b[t] + rng.normal(0, 0.2, i.size)
    panel = frame(4 + a[i] + b[t] + E * d + rng.normal(0, 0.3, i.size), d, rng,
                  product=i, week=t, category=i % 4)
    one_way = fit(panel, fixed_effects=["product"])
    two_way = fit(panel, fixed_effects=["product", "week"])
    by_category_week = fit(panel, fixed_effects=["product", ("category", "week")])
    assert one_way.elasticity > E + 0.3
    assert_recovers(two_way)
    assert_recovers(by_category_week)
    assert by_category_week.diagnostics["absorbed_fixed_effects"] == {"product": 40, "category:week": 200}


def dummy_regression(design: np.ndarray, y: np.ndarray) -> tuple[float, float, int]:
    """The textbook: OLS with explicit dummies (numpy lstsq); the first column's coefficient, its HC1
    standard error and the parameter count K."""
    beta = np.linalg.lstsq(design, y, rcond=None)[0]
    residual = y - design @ beta
    n, k = design.shape
    bread = np.linalg.inv(design.T @ design)
    hc1 = bread @ (design.T * residual**2) @ design @ bread * n / (n - k)
    return float(beta[0]), float(np.sqrt(hc1[0, 0])), k


def test_absorbed_fixed_effects_match_the_dummy_regression_on_an_unbalanced_panel():
    """Alternating demeaning + Frisch-Waugh give the full dummy regression's coefficient and HC1 s.e."""
    rng = np.random.default_rng(4)
    i, t = grid(12, 15)
    keep = rng.random(i.size) > 0.3  # unbalanced, so demeaning needs several sweeps
    i, t = i[keep], t[keep]
    x = rng.normal(0, 1, i.size)
    d = 0.3 * i / 12 + 0.2 * np.sin(t) + 0.3 * x + rng.normal(0, 0.2, i.size)
    y = 2 + 0.1 * i + 0.05 * t + E * d + 0.5 * x + rng.normal(0, 0.3, i.size) * (1 + x**2)
    panel = frame(y, d, product=i, week=t, x=x)
    result = fit(panel, fixed_effects=["product", "week"], controls=["x"])
    assert result.diagnostics["fe_iterations"] > 1

    design = np.column_stack([d, x, pd.get_dummies(i).to_numpy(float), pd.get_dummies(t).to_numpy(float)[:, 1:]])
    beta, se, k = dummy_regression(design, y)
    assert result.elasticity == pytest.approx(beta, abs=1e-7)
    assert result.std_error == pytest.approx(se, rel=1e-6)
    assert result.diagnostics["dof_k"] == k


def raw_scale_panel(seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """An unbalanced product x week panel with a raw-scale control (income in dollars, ~4e11) that is
    constant within each product, as in Baltagi's cigarette panel; returns the panel and the textbook
    within-estimator's design and outcome (dummy-variable OLS; income is collinear with the product
    dummies, so it drops out of the textbook regression)."""
    rng = np.random.default_rng(seed)
    i, t = grid(20, 15)
    keep = rng.random(i.size) > 0.35
    i, t = i[keep], t[keep]
    income = rng.uniform(1e11, 8e11, 20)[i]
    x = rng.normal(0, 1, i.size)
    d = 0.3 * i / 20 + 0.2 * np.sin(t) + 0.3 * x + rng.normal(0, 0.2, i.size)
    y = 2 + 0.1 * i + 0.05 * t + E * d + 0.5 * x + rng.normal(0, 0.3, i.size)
    panel = frame(y, d, product=i, week=t, income=income, x=x)
    design = np.column_stack([d, x, pd.get_dummies(i).to_numpy(float), pd.get_dummies(t).to_numpy(float)[:, 1:]])
    return panel, design, y


@pytest.mark.parametrize("seed", [0, 2])
def test_a_raw_scale_control_constant_within_an_effect_does_not_end_demeaning_early(seed):
    """One tolerance at the scale of the largest column (income, 4e11) stopped the sweeps after two
    passes with log price still carrying group means; each column now has its own tolerance."""
    panel, design, y = raw_scale_panel(seed)
    result = fit(panel, fixed_effects=["product", "week"], controls=["income", "x"])
    beta, se, k = dummy_regression(design, y)
    assert result.elasticity == pytest.approx(beta, abs=1e-8)
    assert result.std_error == pytest.approx(se, rel=1e-6)
    assert result.diagnostics["fe_converged"] is True and result.diagnostics["fe_iterations"] > 2
    assert result.diagnostics["absorbed_controls"] == ["income"]  # collinear with the product effects
    assert result.diagnostics["dof_k"] == k  # the rounding residue of income is not a parameter
    assert "income" in result.summary()


def test_fe_converged_is_false_when_the_sweeps_run_out(monkeypatch):
    import ml.elasticity_estimator as estimator

    panel, _, _ = raw_scale_panel(0)
    monkeypatch.setattr(estimator, "FE_MAX_ITERATIONS", 2)
    with pytest.warns(RuntimeWarning, match="did not converge in 2 sweeps"):
        result = fit(panel, fixed_effects=["product", "week"], controls=["income", "x"])
    assert result.diagnostics["fe_converged"] is False and result.diagnostics["fe_iterations"] == 2


def test_clustered_2sls_matches_the_textbook_formulas():
    """2SLS with an intercept and a control, CR1 variance and the cluster-robust first-stage Wald F."""
    rng = np.random.default_rng(16)
    n = 600
    store = rng.integers(0, 25, n)
    x, z, u = rng.normal(0, 1, n), rng.normal(0, 1, n), rng.normal(0, 0.4, n) + rng.normal(0, 0.3, 25)[store]
    d = 0.4 * z + 0.3 * x + 0.5 * u + rng.normal(0, 0.2, n)
    y = 1 + E * d + 0.7 * x + u
    result = fit(frame(y, d, x=x, z=z, store=store), controls=["x"], instruments=["z"], cluster="store")

    def cr1(scores, bread, k):
        sums = np.zeros((25, scores.shape[1]))
        np.add.at(sums, store, scores)
        return bread @ sums.T @ sums @ bread * 25 / 24 * (n - 1) / (n - k)

    ones = np.ones(n)
    regressors, instruments = np.column_stack([d, ones, x]), np.column_stack([z, ones, x])
    fitted = instruments @ np.linalg.lstsq(instruments, regressors, rcond=None)[0]
    beta = np.linalg.solve(fitted.T @ regressors, fitted.T @ y)
    variance = cr1(fitted * (y - regressors @ beta)[:, None], np.linalg.inv(fitted.T @ fitted), 3)
    assert result.elasticity == pytest.approx(beta[0], abs=1e-9)
    assert result.std_error == pytest.approx(np.sqrt(variance[0, 0]), rel=1e-9)

    pi = np.linalg.lstsq(instruments, d, rcond=None)[0]
    first = cr1(instruments * (d - instruments @ pi)[:, None], np.linalg.inv(instruments.T @ instruments), 3)
    assert result.diagnostics["first_stage_f"] == pytest.approx(pi[0] ** 2 / first[0, 0], rel=1e-9)


# ----------------------------------------------------------------------------- instruments
def endogenous_panel(seed: int, pi: float) -> pd.DataFrame:
    """Price reacts to the demand shock u; the cost shifter z moves price and is independent of u."""
    rng = np.random.default_rng(seed)
    i, t = grid(40, 50)
    u, z = rng.normal(0, 0.5, i.size), rng.normal(0, 1, i.size)
    d = pi * z + 0.8 * u + rng.normal(0, 0.1, i.size)
    return frame(4 + E * d + u, d, rng, product=i, log_cost=z)


def test_iv_recovers_the_elasticity_when_price_responds_to_demand_shocks():
    panel = endogenous_panel(5, pi=0.5)
    ols = fit(panel)
    iv = fit(panel, instruments=["log_cost"])
    assert ols.elasticity - E > 0.3  # price rises with the shock: OLS looks less elastic
    assert not ols.ci_low < E < ols.ci_high
    assert iv.method == "iv"
    assert_recovers(iv)
    assert iv.diagnostics["first_stage_f"] > 100 and not iv.diagnostics["weak_instrument"]
    assert 0.3 < iv.diagnostics["first_stage_partial_r2"] < 0.9
    assert iv.diagnostics["first_stage_coef"][0] == pytest.approx(0.5, abs=0.05)
    clustered = fit(panel, instruments=["log_cost"], cluster="product")
    assert clustered.n_clusters == 40 and clustered.diagnostics["first_stage_f"] > 100


def test_a_weak_instrument_is_flagged_and_warned_about():
    with pytest.warns(WeakInstrumentWarning, match=r"\['log_cost'\]: first-stage F = \d"):
        result = fit(endogenous_panel(6, pi=0.02), instruments=["log_cost"])
    assert result.diagnostics["first_stage_f"] < 10
    assert result.diagnostics["weak_instrument"] is True
    assert "weak instrument" in result.summary()


def test_a_strong_instrument_warns_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error", WeakInstrumentWarning)
        assert not fit(endogenous_panel(5, pi=0.5), instruments=["log_cost"]).diagnostics["weak_instrument"]


# ----------------------------------------------------------------------------- controls
def test_an_observed_confounder_in_controls_removes_its_bias():
    rng = np.random.default_rng(7)
    n = 2000
    x = rng.normal(0, 1, n)  # e.g. a competitor's log price: moves our price and our demand
    d = 0.5 * x + rng.normal(0, 0.2, n)
    panel = frame(4 + E * d + x + rng.normal(0, 0.3, n), d, rng, x=x)
    assert fit(panel).elasticity > E + 1.0
    assert_recovers(fit(panel, controls=["x"]))


def test_a_categorical_control_is_one_hot_encoded():
    rng = np.random.default_rng(8)
    n = 2000
    region = rng.choice(["north", "south", "east"], n)
    level = pd.Series(region).map({"north": 0.0, "south": 0.8, "east": -0.6}).to_numpy()
    d = 0.5 * level + rng.normal(0, 0.2, n)
    panel = frame(4 + E * d + level + rng.normal(0, 0.3, n), d, rng, region=region)
    assert fit(panel).elasticity > E + 0.8
    as_strings = fit(panel, controls=["region"])
    as_category = fit(panel.assign(region=panel["region"].astype("category")), controls=["region"])
    assert_recovers(as_strings)
    assert as_category.elasticity == pytest.approx(as_strings.elasticity, abs=1e-12)
    assert as_strings.diagnostics["dof_k"] == 1 + 2 + 1  # price, two region dummies, intercept


# ----------------------------------------------------------------------------- double ML
def nonlinear_panel(seed: int, n: int = 1500, endogenous: bool = False) -> pd.DataFrame:
    """Price and demand depend on sin / abs / interaction of x1, x2: a linear control cannot absorb it."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.uniform(-2, 2, n), rng.uniform(-2, 2, n)
    g = np.sin(2 * x1) + np.abs(x2) + 0.5 * x1 * x2
    u = rng.normal(0, 0.3, n)
    z = 0.5 * np.cos(x1) + rng.normal(0, 0.5, n)  # the cost shifter depends on x too
    d = 0.6 * g + (0.6 * z + 0.5 * u if endogenous else 0) + rng.normal(0, 0.3, n)
    return frame(3 + 1.2 * g + E * d + u, d, x1=x1, x2=x2, log_cost=z, store=np.arange(n) // 25)


def test_dml_recovers_the_elasticity_under_nonlinear_confounding():
    panel = nonlinear_panel(0)
    linear = fit(panel, controls=["x1", "x2"])
    dml = fit(panel, controls=["x1", "x2"], method="dml")
    assert linear.elasticity > E + 1.0
    assert abs(dml.elasticity - E) < 0.1, dml.summary()
    assert dml.method == "dml" and dml.diagnostics["estimator"] == "DML partially linear"
    assert dml.diagnostics["n_folds"] == 5 and dml.diagnostics["r2_price_nuisance"] > 0.6
    assert dml.diagnostics["first_stage_f"] is None


def test_dml_iv_recovers_the_elasticity_with_nonlinear_confounding_and_endogenous_price():
    panel = nonlinear_panel(2, n=1000, endogenous=True)
    dml = fit(panel, controls=["x1", "x2"], method="dml")
    dml_iv = fit(panel, controls=["x1", "x2"], instruments=["log_cost"], method="dml", cluster="store")
    assert dml.elasticity > E + 0.15  # cross-fitting alone cannot fix the reaction to u
    assert abs(dml_iv.elasticity - E) < 0.1, dml_iv.summary()
    assert dml_iv.n_clusters == 40 and dml_iv.diagnostics["interval"] == "t(39)"
    assert dml_iv.diagnostics["first_stage_f"] > 100
    assert dml_iv.diagnostics["estimator"] == "DML partially linear IV"


def test_dml_with_ridge_and_fixed_effects_agrees_with_the_linear_estimator_on_a_linear_panel():
    rng = np.random.default_rng(10)
    i, t = grid(30, 40)
    a, x = rng.normal(0, 1, 30), rng.normal(0, 1, i.size)
    d = 0.5 * a[i] + 0.5 * x + rng.normal(0, 0.2, i.size)
    panel = frame(4 + a[i] + E * d + x + rng.normal(0, 0.3, i.size), d, product=i, x=x)
    linear = fit(panel, controls=["x"], fixed_effects=["product"])
    ridge = fit(panel, controls=["x"], fixed_effects=["product"], method="dml", dml_learner="ridge")
    assert_recovers(ridge)
    assert ridge.elasticity == pytest.approx(linear.elasticity, abs=0.02)
    assert ridge.std_error == pytest.approx(linear.std_error, rel=0.1)


# ----------------------------------------------------------------------------- standard errors
def test_the_95_percent_interval_covers_the_truth_in_most_of_30_small_panels():
    covered = 0
    for seed in range(30):
        rng = np.random.default_rng(100 + seed)
        i, t = grid(10, 20)
        a = rng.normal(0, 1, 10)
        d = 0.3 * a[i] + rng.normal(0, 0.3, i.size)
        panel = frame(4 + a[i] + E * d + rng.normal(0, 0.3, i.size) * (0.5 + np.abs(d)), d, product=i)
        result = fit(panel, fixed_effects=["product"])
        covered += result.ci_low < E < result.ci_high
    assert 26 <= covered <= 30  # 95% nominal; 26/30 is 87%


def test_clustered_standard_errors_exceed_robust_ones_under_serial_correlation():
    rng = np.random.default_rng(10)
    products, periods = 30, 60

    def ar1(scale: float) -> np.ndarray:  # strongly persistent within each product
        shocks = rng.normal(0, scale, (products, periods))
        for step in range(1, periods):
            shocks[:, step] += 0.9 * shocks[:, step - 1]
        return shocks.ravel()

    i, t = grid(products, periods)
    d, u = ar1(0.1), ar1(0.1)
    panel = frame(4 + E * d + u, d, product=i, week=t)
    robust = fit(panel, fixed_effects=["product"])
    clustered = fit(panel, fixed_effects=["product"], cluster="product")
    assert clustered.elasticity == robust.elasticity
    assert clustered.std_error > 1.5 * robust.std_error
    assert clustered.n_clusters == products and clustered.diagnostics["se_type"] == "CR1"
    # product effects are nested in product clusters, so they do not count in K (reghdfe's rule)
    assert clustered.diagnostics["dof_k"] == 2 and robust.diagnostics["dof_k"] == 1 + products


# ----------------------------------------------------------------------------- zeros and missing values
def test_zeros_drop_removes_and_counts_zero_rows():
    rng = np.random.default_rng(11)
    n = 2000
    d = rng.normal(0, 0.3, n)
    panel = frame(4 + E * d + rng.normal(0, 0.3, n), d)
    panel.loc[rng.choice(n, 100, replace=False), "units"] = 0  # e.g. days out of stock
    dropped = fit(panel)
    assert dropped.diagnostics["dropped_zero_rows"] == 100 and dropped.n_obs == n - 100
    assert_recovers(dropped)


def test_zeros_log1p_keeps_zero_rows_and_shrinks_small_counts_towards_zero():
    rng = np.random.default_rng(12)
    n = 2000
    d = rng.normal(0, 0.3, n)
    panel = frame(0.5 + E * d + rng.normal(0, 0.3, n), d, rng)  # about 2 units a row, many zeros
    zeros = int((panel["units"] == 0).sum())
    assert zeros > 200
    kept = fit(panel, zeros="log1p")
    assert kept.n_obs == n and kept.diagnostics["dropped_zero_rows"] == 0
    assert E + 0.5 < kept.elasticity < 0  # the log(q + 1) slope is e * q / (q + 1), documented
    assert fit(panel).diagnostics["dropped_zero_rows"] == zeros


def test_rows_with_missing_values_are_dropped_and_counted():
    rng = np.random.default_rng(13)
    i, t = grid(20, 30)
    x = rng.normal(0, 1, i.size)
    d = rng.normal(0, 0.3, i.size)
    panel = frame(4 + E * d + x + rng.normal(0, 0.3, i.size), d, product=i.astype(object), x=x, unused=np.nan)
    panel.loc[:4, "price"] = np.nan
    panel.loc[10:12, "x"] = np.inf
    panel.loc[20:21, "product"] = None
    result = fit(panel, controls=["x"], fixed_effects=["product"])
    assert result.diagnostics["dropped_nan_rows"] == 10 and result.n_obs == i.size - 10
    assert_recovers(result)


# ----------------------------------------------------------------------------- bad input
def bad_input_panel() -> pd.DataFrame:
    rng = np.random.default_rng(14)
    i, t = grid(10, 10)
    d = rng.normal(0, 0.3, i.size)
    return frame(3 + E * d, d, product=i, week=t, log_cost=rng.normal(0, 1, i.size),
                 fixed_price=np.exp(0.1 * i), product_cost=0.1 * i, day=pd.Timestamp("2025-01-01"),
                 x=rng.normal(0, 1, i.size), one_store=1)


BAD_INPUTS = [
    ("missing columns", dict(controls=["promo", "x", "stock"]), "'promo', 'stock'"),
    ("missing price column", dict(price="list_price"), "'list_price'"),
    ("non-positive price", dict(panel=lambda p: p.assign(price=p["price"].where(p.index > 2, 0.0))),
     "price column 'price' has 3 non-positive"),
    ("too few rows", dict(panel=lambda p: p.assign(units=p["units"].where(p.index < 5, 0))), "too few rows: 5 usable"),
    ("no price variation after fixed effects", dict(price="fixed_price", fixed_effects=["product"]),
     "no variation in log price 'fixed_price'"),
    ("instruments with ols", dict(instruments=["log_cost"], method="ols"), "method='ols'"),
    ("iv without instruments", dict(method="iv"), "needs at least one instrument"),
    ("non-numeric, non-categorical control", dict(controls=["day"]), "control 'day' has dtype datetime64"),
    ("instrument without variation after fixed effects",
     dict(instruments=["product_cost"], fixed_effects=["product"]), "instrument 'product_cost' has no variation"),
    ("non-numeric instrument", dict(instruments=["day"]), "instrument column 'day' must be numeric"),
    ("unknown method", dict(method="lasso"), "method must be"),
    ("unknown zeros policy", dict(zeros="impute"), "zeros must be one of"),
    ("negative quantity with log1p", dict(zeros="log1p", panel=lambda p: p.assign(units=p["units"] - 100)),
     "quantity column 'units' has"),
    ("negative quantity with drop", dict(panel=lambda p: p.assign(units=p["units"].where(p.index > 2, -1.0))),
     "quantity column 'units' has 3 negative value(s) (min -1): a negative quantity is not a zero sale"),
    ("threads", dict(n_threads=0), "n_threads must be a positive integer or None"),
    ("dml without controls", dict(method="dml"), "needs at least one control"),
    ("a single cluster", dict(cluster="one_store"), "cluster column 'one_store' has 1 cluster"),
    ("fewer clusters than folds", dict(method="dml", controls=["x"], cluster="product", n_folds=20),
     "fewer than n_folds=20"),
]


@pytest.mark.parametrize(("case", "kwargs", "message"), BAD_INPUTS, ids=[case for case, _, _ in BAD_INPUTS])
def test_bad_input_raises_an_error_that_names_the_problem(case, kwargs, message):
    kwargs = dict(kwargs)
    panel = bad_input_panel()
    if "panel" in kwargs:
        panel = kwargs.pop("panel")(panel)
    kwargs = {"quantity": "units", "price": "price", **kwargs}
    with pytest.raises(ElasticityError) as raised:
        estimate_elasticity(panel, **kwargs)
    assert message in str(raised.value)
    assert isinstance(raised.value, ValueError)


# ----------------------------------------------------------------------------- the result object
def test_the_result_is_frozen_serialisable_and_summarised():
    result = fit(endogenous_panel(15, pi=0.5), instruments=["log_cost"], fixed_effects=["product"], cluster="product")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.elasticity = 0.0  # type: ignore[misc]
    as_dict = json.loads(json.dumps(result.to_dict()))
    assert as_dict["elasticity"] == result.elasticity and as_dict["n_clusters"] == 40
    expected = {"first_stage_f", "first_stage_partial_r2", "weak_instrument", "dropped_zero_rows",
                "dropped_nan_rows", "absorbed_fixed_effects", "r2_price_nuisance", "r2_quantity_nuisance", "n_folds"}
    assert expected <= set(result.diagnostics)
    text = result.summary()
    assert "2SLS" in text and "40 clusters (product)" in text and "first-stage F" in text and "product (40 levels)" in text


@pytest.mark.parametrize("n_threads", [1, 2])
def test_double_ml_fits_inside_the_thread_cap(monkeypatch, n_threads):
    """The learners fit with OpenMP and BLAS capped at ``n_threads``, whatever the environment says."""
    from threadpoolctl import threadpool_info

    import ml.elasticity_estimator as estimator

    seen = []
    real_learner = estimator._learner

    class Recording:
        def __init__(self, name, random_state):
            self.model = real_learner(name, random_state)

        def fit(self, X, y):
            seen.extend(pool["num_threads"] for pool in threadpool_info())
            self.model.fit(X, y)
            return self

        def predict(self, X):
            return self.model.predict(X)

    monkeypatch.setattr(estimator, "_learner", Recording)
    fit(nonlinear_panel(16, n=300), method="dml", controls=["x1", "x2"], dml_learner="ridge", n_folds=2,
        n_threads=n_threads)
    assert seen and set(seen) == {n_threads}


def test_importing_the_module_does_no_heavy_work():
    code = "import sys, ml.elasticity_estimator; print(sorted(m for m in ('sklearn', 'scipy.stats') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
