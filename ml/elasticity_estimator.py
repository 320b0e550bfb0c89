"""The general, public price-elasticity estimator: log-log OLS, fixed effects, 2SLS and double ML on any panel.

:func:`estimate_elasticity` is what analysts run on ad-hoc panels (a DuckDB query into pandas). Its
two building blocks are public too, because the per-product model (:mod:`ml.price_elasticity`) is
built from them: :func:`two_stage` (OLS or 2SLS on residualized data with a robust sandwich) and
:func:`cross_fit` (out-of-fold nuisance residuals for double ML). One implementation, so an
analyst's number and the pipeline's come from the same code.

The model is ``log q = e * log p + controls + fixed effects + u``; ``e`` is the elasticity.

Choices an analyst should know (they change the numbers):

- **Fixed effects** are absorbed by alternating demeaning (the method of alternating projections,
  tolerance 1e-8 of each column's own spread), never by dummies, so a few thousand product levels
  cost nothing. Controls are then partialled out (Frisch-Waugh), which gives exactly the coefficient
  and sandwich of the full regression. A control the fixed effects absorb entirely (constant within
  them, like a region's income with region effects) is dropped and named in ``absorbed_controls``.
- **Standard errors** are heteroskedasticity-robust HC1 (``N / (N - K)``) or, with ``cluster=``,
  cluster-robust CR1 (``G / (G - 1) * (N - 1) / (N - K)``). ``K`` counts the price, the rank of the
  controls and the absorbed fixed-effect levels (first effect: all its levels, every further effect:
  levels - 1, exact for a connected panel and conservative otherwise), or 1 for the intercept. When
  clustering, effects nested in the clusters (product effects with product clusters) are not counted,
  as in Stata's ``reghdfe``: they do not use up cluster-level information, and counting them would
  inflate the correction by a factor near ``T / (T - 1)`` for no reason.
- **Intervals** use normal quantiles, or Student t with ``G - 1`` degrees of freedom when clustered,
  because with few clusters normal quantiles under-cover.
- **IV** is 2SLS with one endogenous regressor (log price). The first-stage F is the robust (or
  cluster-robust) Wald F on the excluded instruments, which with one endogenous regressor is the
  Kleibergen-Paap rk Wald F; F < 10 flags a weak instrument and emits a :class:`WeakInstrumentWarning`.
- **DML** is the partially linear model of Chernozhukov et al. (2018): cross-fitted learners predict
  log q and log p (and the instruments, for the partially linear IV model) from the controls, and the
  elasticity comes from the residuals with the influence-function variance. Folds are grouped by the
  cluster, so a cluster never sits in both training and prediction. With fixed effects, all variables
  are first demeaned by them (the within transformation) and the learners see the raw and the demeaned
  controls: product levels are arbitrary and cannot be learned from controls.
- **Zeros**: ``log q`` needs ``q > 0``. ``"drop"`` discards zero-sale rows (selection on the outcome;
  fine when zeros are rare), ``"log1p"`` keeps them as ``log(q + 1)``, whose slope is the elasticity
  shrunk by ``q / (q + 1)`` (fine for large counts only). A negative quantity (returns netted out, an
  export error) is no zero sale: it raises, whatever the policy.
- **Threads**: the double-ML learners and BLAS use ``n_threads`` threads (1 by default; see
  :func:`ml.threads.limit_threads`), because oversubscribed threads on a shared machine made one
  fit three times slower.
- **Missing values** in any used column drop the row; the count is reported in ``dropped_nan_rows``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from ml.threads import limit_threads

__all__ = ["ElasticityError", "ElasticityResult", "WeakInstrumentWarning", "cross_fit", "estimate_elasticity",
           "two_stage"]

FE_TOLERANCE = 1e-8  # largest group mean still removed in a sweep, relative to its column's spread
FE_MAX_ITERATIONS = 10_000
MIN_OBS = 10
WEAK_INSTRUMENT_F = 10.0  # Staiger-Stock rule of thumb
NO_VARIATION = 1e-10  # share of a column's variation left after fixed effects (and controls) that counts as none
METHODS = ("ols", "iv", "dml")
DML_LEARNERS = ("gbm", "ridge")
ZERO_POLICIES = ("drop", "log1p")


class WeakInstrumentWarning(UserWarning):
    """The first-stage F of the instruments is below ``WEAK_INSTRUMENT_F``: the IV estimate leans towards
    OLS and its interval under-covers. Emitted besides the ``weak_instrument`` flag, so a person running
    an analysis sees it without reading the diagnostics."""


class ElasticityError(ValueError):
    """Bad input to :func:`estimate_elasticity`; the message names the problem and the column.

    Its own class so the pipeline can tell bad data (skip that product and report why) from a bug.
    """


@dataclass(frozen=True)
class ElasticityResult:
    """One elasticity estimate with its uncertainty; frozen so a logged result cannot drift.

    ``diagnostics`` always has the same keys (``None`` where a key does not apply), so results from
    different methods log to MLflow and compare side by side without special cases. The ones to read:

    - ``first_stage_f`` / ``first_stage_partial_r2`` / ``weak_instrument``: instrument strength (IV and
      DML-IV); ``weak_instrument`` is ``F < 10``.
    - ``price_variation_share``: the share of log-price variance left after fixed effects and controls
      (or the price learner, for DML). Near zero, the estimate rests on little variation.
    - ``r2_price_nuisance`` / ``r2_quantity_nuisance``: out-of-fold R2 of the DML learners.
    - ``dropped_zero_rows`` / ``dropped_nan_rows``; ``absorbed_fixed_effects`` (levels per effect);
      ``absorbed_controls`` (control columns the fixed effects absorb, left out);
      ``fe_converged``; ``dof_k`` (the K in the small-sample correction); ``se_type``; ``interval``.
    """

    elasticity: float
    std_error: float
    ci_low: float
    ci_high: float
    method: str
    n_obs: int
    n_clusters: int | None
    diagnostics: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable fields, for MLflow params and audit rationales."""
        return asdict(self)

    def summary(self) -> str:
        """A few lines for a human: estimate, interval, what was controlled for, and warnings."""
        dg = self.diagnostics
        level = f"{dg['confidence']:.0%}"
        lines = [
            f"Price elasticity ({dg['estimator']}): {self.elasticity:.3f}  "
            f"s.e. {self.std_error:.3f}  {level} CI [{self.ci_low:.3f}, {self.ci_high:.3f}]",
            f"  {self.n_obs:,} observations"
            + (f", {self.n_clusters:,} clusters ({dg['cluster']})" if self.n_clusters else "")
            + f"; {dg['se_type']} standard errors, {dg['interval']} interval",
        ]
        if dg["absorbed_fixed_effects"]:
            fes = ", ".join(f"{k} ({v:,} levels)" for k, v in dg["absorbed_fixed_effects"].items())
            lines.append(f"  fixed effects: {fes}")
        if dg["controls"]:
            lines.append(f"  controls: {', '.join(dg['controls'])}")
        if dg["absorbed_controls"]:
            lines.append(f"  absorbed by the fixed effects (left out): {', '.join(dg['absorbed_controls'])}")
        if dg["instruments"]:
            lines.append(f"  instruments: {', '.join(dg['instruments'])}; first-stage F = "
                         f"{dg['first_stage_f']:.1f}, partial R2 = {dg['first_stage_partial_r2']:.3f}")
        if dg["n_folds"]:
            lines.append(f"  {dg['n_folds']}-fold cross-fitting with {dg['dml_learner']}: out-of-fold R2 "
                         f"log price {dg['r2_price_nuisance']:.3f}, log quantity {dg['r2_quantity_nuisance']:.3f}")
        if dg["dropped_zero_rows"] or dg["dropped_nan_rows"]:
            lines.append(f"  dropped rows: {dg['dropped_zero_rows']:,} with quantity 0, "
                         f"{dg['dropped_nan_rows']:,} with missing values")
        if dg["weak_instrument"]:
            lines.append("  WARNING: weak instrument (first-stage F < 10): the estimate leans towards OLS "
                         "and the interval is unreliable")
        return "\n".join(lines)


def estimate_elasticity(
    panel: pd.DataFrame,
    *,
    quantity: str,
    price: str,
    controls: Sequence[str] = (),
    fixed_effects: Sequence[str | tuple[str, ...]] = (),
    instruments: Sequence[str] = (),
    cluster: str | None = None,
    method: str = "auto",
    dml_learner: str = "gbm",
    n_folds: int = 5,
    zeros: str = "drop",
    confidence: float = 0.95,
    random_state: int = 0,
    n_threads: int | None = 1,
) -> ElasticityResult:
    """Own-price elasticity ``d log q / d log p`` from a panel, with standard error and diagnostics.

    Args:
        panel: one row per observation (e.g. product x channel x day from ``fct_daily_sales``).
        quantity: units sold, ``>= 0``; zero rows are dropped or kept as ``log(q + 1)`` (``zeros=``).
        price: prices, all ``> 0``.
        controls: numeric columns used as they are (log them yourself where that is meant), or
            categorical (object / string / category dtype) columns, one-hot encoded.
        fixed_effects: columns, or tuples of columns for interacted effects (``("category", "week")``),
            absorbed by alternating demeaning.
        instruments: excluded instruments for log price (e.g. ``"log_cost"``); they make ``"auto"`` IV.
        cluster: column to cluster standard errors (and DML folds) by; default heteroskedasticity-robust.
        method: ``"ols"``, ``"iv"``, ``"dml"``, or ``"auto"`` (IV when instruments are given, else OLS).
        dml_learner: ``"gbm"`` (HistGradientBoostingRegressor) or ``"ridge"``, for ``method="dml"``.
        n_folds: cross-fitting folds for ``method="dml"``.
        zeros: ``"drop"`` or ``"log1p"``.
        confidence: level of the interval.
        random_state: seeds the DML folds and learners, so a re-run gives the same number.
        n_threads: threads for the DML learners and linear algebra (None: all cores).

    Raises:
        ElasticityError: the input cannot identify an elasticity; the message says which column and why.

    Warns:
        WeakInstrumentWarning: the instruments' first-stage F is below 10 (also flagged in diagnostics).
    """
    method = _resolve_method(method, instruments)
    if dml_learner not in DML_LEARNERS:
        raise ElasticityError(f"dml_learner must be one of {DML_LEARNERS}, got {dml_learner!r}")
    if zeros not in ZERO_POLICIES:
        raise ElasticityError(f"zeros must be one of {ZERO_POLICIES}, got {zeros!r}")
    if not 0 < confidence < 1:
        raise ElasticityError(f"confidence must be between 0 and 1, got {confidence!r}")
    if method == "dml" and (int(n_folds) != n_folds or n_folds < 2):
        raise ElasticityError(f"n_folds must be an integer >= 2, got {n_folds!r}")
    if method == "dml" and not controls:
        raise ElasticityError("method='dml' needs at least one control to learn the nuisance functions from")

    if n_threads is not None and (int(n_threads) != n_threads or n_threads < 1):
        raise ElasticityError(f"n_threads must be a positive integer or None, got {n_threads!r}")

    with limit_threads(n_threads):
        return _estimate(panel, quantity, price, controls, fixed_effects, instruments, cluster, method, dml_learner,
                         n_folds, zeros, confidence, random_state)


def _estimate(panel, quantity, price, controls, fixed_effects, instruments, cluster, method, dml_learner, n_folds,
              zeros, confidence, random_state) -> ElasticityResult:
    data = _prepare(panel, quantity, price, list(controls), fixed_effects, list(instruments), cluster, zeros)
    n_groups = None if data.groups is None else int(data.groups.max()) + 1
    if n_groups is not None and n_groups < 2:
        raise ElasticityError(f"cluster column {cluster!r} has {n_groups} cluster: need at least 2")

    n_inst = data.Z.shape[1]
    absorbed, iterations, converged = _absorb(np.column_stack([data.y, data.d, data.Z, data.X]), data.fe_codes)
    y, d = absorbed[:, 0], absorbed[:, 1]
    Z, X = absorbed[:, 2:2 + n_inst], absorbed[:, 2 + n_inst:]
    X, absorbed_controls = _drop_absorbed_controls(X, data.X, data.control_names)
    k_fe = _count_fe_parameters(data.fe_codes, data.groups)
    ss_price = float(np.sum((data.d - data.d.mean()) ** 2))
    extra: dict[str, Any] = {"n_folds": None, "dml_learner": None, "r2_price_nuisance": None,
                             "r2_quantity_nuisance": None, "r2_instrument_nuisance": None}

    if method == "dml":
        if n_groups is not None and n_groups < n_folds:
            raise ElasticityError(f"cluster column {cluster!r} has {n_groups} clusters, fewer than n_folds={n_folds}")
        # With fixed effects the learners also see the demeaned controls; without, levels are learnable.
        features = np.column_stack([data.X, X]) if data.fe_codes else data.X
        targets = np.column_stack([y, d, Z])
        resid, r2 = cross_fit(features, targets, data.groups, int(n_folds), dml_learner, random_state)
        y, d, Z = resid[:, 0], resid[:, 1], resid[:, 2:]
        k = 1 + (k_fe if data.fe_codes else 0)  # nuisances are fitted out of sample: no K for controls
        extra.update(n_folds=int(n_folds), dml_learner=dml_learner, r2_quantity_nuisance=r2[0],
                     r2_price_nuisance=r2[1], r2_instrument_nuisance=r2[2:] or None)
    else:
        k_controls = 0
        if X.shape[1]:
            unit = X / np.linalg.norm(X, axis=0)  # rank and fit on unit columns: controls may differ in scale by 1e11
            k_controls = int(np.linalg.matrix_rank(unit))
            targets = np.column_stack([y, d, Z])
            rest = targets - unit @ np.linalg.lstsq(unit, targets, rcond=None)[0]
            y, d, Z = rest[:, 0], rest[:, 1], rest[:, 2:]
        k = 1 + k_controls + k_fe

    share = float(d @ d) / ss_price if ss_price > 0 else 0.0
    if share <= NO_VARIATION:
        raise ElasticityError(
            f"no variation in log price {price!r} is left after fixed effects {list(data.fe_codes) or 'none'} "
            f"and controls {list(controls) or 'none'}: the elasticity is not identified")
    _check_instruments(Z, data.Z, data.instruments)
    n = y.size
    if n - k < 1:
        raise ElasticityError(f"{n} usable rows are too few for {k} parameters (price, controls, fixed-effect levels)")

    fit = two_stage(y, d, Z if n_inst else None, data.groups, k)
    from scipy import stats

    tail = (1 + confidence) / 2
    quantile = stats.norm.ppf(tail) if n_groups is None else stats.t.ppf(tail, n_groups - 1)
    first_f = fit["first_stage_f"]
    weak = bool(first_f is not None and first_f < WEAK_INSTRUMENT_F)
    if weak:
        warnings.warn(f"weak instrument(s) {list(data.instruments)}: first-stage F = {first_f:.1f} < "
                      f"{WEAK_INSTRUMENT_F:g}; the estimate leans towards OLS and its interval under-covers",
                      WeakInstrumentWarning, stacklevel=3)
    diagnostics = {
        "estimator": {"ols": "OLS", "iv": "2SLS", "dml": "DML partially linear IV" if n_inst else
                      "DML partially linear"}[method],
        "confidence": float(confidence),
        "se_type": "CR1" if n_groups else "HC1",
        "interval": f"t({n_groups - 1})" if n_groups else "normal",
        "dof_k": int(k),
        "cluster": cluster,
        "controls": list(controls),
        "absorbed_controls": absorbed_controls,
        "instruments": list(data.instruments),
        "absorbed_fixed_effects": {name: int(codes.max()) + 1 for name, codes in data.fe_codes.items()},
        "fe_iterations": iterations,
        "fe_converged": converged,
        "price_variation_share": share,
        "first_stage_f": first_f,
        "first_stage_partial_r2": fit["first_stage_partial_r2"],
        "first_stage_coef": fit["first_stage_coef"],
        "weak_instrument": weak,
        "zeros": zeros,
        "dropped_zero_rows": data.dropped_zero_rows,
        "dropped_nan_rows": data.dropped_nan_rows,
        **extra,
    }
    beta, se = fit["beta"], fit["se"]
    return ElasticityResult(elasticity=beta, std_error=se, ci_low=float(beta - quantile * se),
                            ci_high=float(beta + quantile * se), method=method, n_obs=int(n),
                            n_clusters=n_groups, diagnostics=diagnostics)


# ----------------------------------------------------------------------------- input
@dataclass
class _Prepared:
    y: np.ndarray  # log q (or log1p q)
    d: np.ndarray  # log p
    Z: np.ndarray  # instruments, (n, L), L may be 0
    X: np.ndarray  # controls after one-hot, (n, p), p may be 0
    control_names: list[str]  # one per column of X (a categorical control: one per dummy)
    instruments: list[str]
    fe_codes: dict[str, np.ndarray]  # label -> 0..G-1 codes
    groups: np.ndarray | None  # cluster codes
    dropped_zero_rows: int
    dropped_nan_rows: int


def _resolve_method(method: str, instruments: Sequence[str]) -> str:
    if method == "auto":
        return "iv" if instruments else "ols"
    if method not in METHODS:
        raise ElasticityError(f"method must be 'auto' or one of {METHODS}, got {method!r}")
    if method == "ols" and instruments:
        raise ElasticityError(f"instruments {list(instruments)} were given with method='ols': "
                              "use method='iv' (or 'auto'), or drop the instruments")
    if method == "iv" and not instruments:
        raise ElasticityError("method='iv' needs at least one instrument (instruments=[...])")
    return method


def _is_categorical(series: pd.Series) -> bool:
    dtype = series.dtype
    return (isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(dtype)
            or pd.api.types.is_string_dtype(dtype))


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series.dtype) and not _is_categorical(series)


def _prepare(panel, quantity, price, controls, fixed_effects, instruments, cluster, zeros) -> _Prepared:
    """Validate columns, drop unusable rows (counting them) and build the numeric arrays."""
    if not isinstance(panel, pd.DataFrame):
        raise ElasticityError(f"panel must be a pandas DataFrame, got {type(panel).__name__}")
    fe_specs = [(fe,) if isinstance(fe, str) else tuple(fe) for fe in fixed_effects]
    used = list(dict.fromkeys([quantity, price, *controls, *(c for spec in fe_specs for c in spec),
                               *instruments, *([cluster] if cluster is not None else [])]))
    missing = [c for c in used if c not in panel.columns]
    if missing:
        raise ElasticityError(f"column(s) not in the panel: {', '.join(map(repr, missing))}")
    for column, role in [(quantity, "quantity"), (price, "price"), *((z, "instrument") for z in instruments)]:
        if not _is_numeric(panel[column]):
            raise ElasticityError(f"{role} column {column!r} must be numeric, has dtype {panel[column].dtype}")
    for column in controls:
        if not (_is_numeric(panel[column]) or _is_categorical(panel[column])):
            raise ElasticityError(f"control {column!r} has dtype {panel[column].dtype}, neither numeric nor "
                                  "categorical (object, string or category): convert it first")

    frame = panel[used]
    usable = np.ones(len(frame), dtype=bool)
    for column in used:
        series = frame[column]
        usable &= ~series.isna().to_numpy()
        if _is_numeric(series):
            usable &= np.isfinite(series.to_numpy(dtype=float, na_value=np.nan))
    dropped_nan = int((~usable).sum())
    frame = frame[usable]

    p = frame[price].to_numpy(dtype=float)
    if (p <= 0).any():
        raise ElasticityError(f"price column {price!r} has {int((p <= 0).sum())} non-positive value(s) "
                              f"(min {p.min():g}): log price needs prices > 0")
    q = frame[quantity].to_numpy(dtype=float)
    if (q < 0).any():
        raise ElasticityError(f"quantity column {quantity!r} has {int((q < 0).sum())} negative value(s) "
                              f"(min {q.min():g}): a negative quantity is not a zero sale; remove returns or "
                              "corrections before estimating")
    if zeros == "drop":
        keep = q > 0
        dropped_zero = int((~keep).sum())
        frame, q, p = frame[keep], q[keep], p[keep]
        y = np.log(q)
    else:
        dropped_zero = 0
        y = np.log1p(q)
    if len(frame) < MIN_OBS:
        raise ElasticityError(f"too few rows: {len(frame)} usable (need at least {MIN_OBS}) after dropping "
                              f"{dropped_zero} with {quantity!r} = 0 and {dropped_nan} with missing values")

    blocks, names = [], []
    for column in controls:
        series = frame[column]
        if _is_numeric(series):
            blocks.append(series.to_numpy(dtype=float)[:, None])
            names.append(column)
        else:  # drop_first: the intercept or the fixed effects carry the base level
            dummies = pd.get_dummies(series.astype(str), prefix=column, drop_first=True, dtype=float)
            blocks.append(dummies.to_numpy())
            names.extend(map(str, dummies.columns))
    n = len(frame)
    X = np.column_stack(blocks) if blocks else np.empty((n, 0))
    Z = np.column_stack([frame[z].to_numpy(dtype=float) for z in instruments]) if instruments else np.empty((n, 0))
    fe_codes = {":".join(spec): frame.groupby(list(spec), sort=False, observed=True).ngroup().to_numpy()
                for spec in fe_specs}
    groups = pd.factorize(frame[cluster])[0] if cluster is not None else None
    return _Prepared(y=y, d=np.log(p), Z=Z, X=X, control_names=names, instruments=list(instruments), fe_codes=fe_codes,
                     groups=groups, dropped_zero_rows=dropped_zero, dropped_nan_rows=dropped_nan)


def _check_instruments(Z: np.ndarray, Z_raw: np.ndarray, names: list[str]) -> None:
    """Each instrument needs variation left after fixed effects and controls, and they must not be collinear."""
    for j, name in enumerate(names):
        raw = float(np.sum((Z_raw[:, j] - Z_raw[:, j].mean()) ** 2))
        if raw == 0 or float(Z[:, j] @ Z[:, j]) <= NO_VARIATION * raw:
            raise ElasticityError(f"instrument {name!r} has no variation left after fixed effects and controls")
    if names and np.linalg.matrix_rank(Z) < len(names):
        raise ElasticityError(f"instruments {names} are collinear after fixed effects and controls")


def _drop_absorbed_controls(X: np.ndarray, X_raw: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """Controls with no variation left after the fixed effects, removed, with their names.

    Such a control is collinear with the effects (constant within them); what is left of it is
    rounding residue, which would count in K and enter the partialling as noise.
    """
    if not names:
        return X, []
    raw = np.sum((X_raw - X_raw.mean(axis=0)) ** 2, axis=0)
    left = np.sum(X**2, axis=0)
    absorbed = left <= NO_VARIATION * np.where(raw > 0, raw, 1.0)
    return X[:, ~absorbed], [name for name, gone in zip(names, absorbed) if gone]


# ----------------------------------------------------------------------------- fixed effects
def _absorb(matrix: np.ndarray, fe_codes: dict[str, np.ndarray]) -> tuple[np.ndarray, int, bool]:
    """Demean every column by each fixed effect in turn until no group mean is left (MAP).

    One effect is exact in one sweep; several converge geometrically, fast for well-connected panels
    (products x weeks) and slowly for sparse ones, hence the iteration cap and the warning.
    Without fixed effects this removes the grand mean, i.e. the intercept.

    The sweeps stop when every group mean is below ``FE_TOLERANCE`` *of its own column's spread*: each
    column is centred and scaled to a largest absolute value of 1 first (and scaled back at the end).
    One tolerance for all columns at the scale of the largest would let a raw-scale control (income in
    dollars, ~1e11) end the sweeps while log price and log quantity still carry group means.
    """
    if not fe_codes:
        return matrix - matrix.mean(axis=0), 0, True
    from scipy import sparse

    n = matrix.shape[0]
    indicators = []
    for codes in fe_codes.values():
        dummies = sparse.csr_matrix((np.ones(n), (np.arange(n), codes)))
        indicators.append((dummies, dummies.T.tocsr(), np.bincount(codes)[:, None]))
    centred = matrix.astype(float) - matrix.mean(axis=0)  # a constant is absorbed by any effect anyway
    scale = np.abs(centred).max(axis=0, initial=0.0)
    scale[scale == 0] = 1.0
    out = centred / scale
    for iteration in range(1, FE_MAX_ITERATIONS + 1):
        largest = 0.0
        for dummies, transposed, counts in indicators:
            means = (transposed @ out) / counts
            out -= dummies @ means
            largest = max(largest, float(np.abs(means).max(initial=0.0)))
        if largest < FE_TOLERANCE or len(indicators) == 1:
            return out * scale, iteration, True
    warnings.warn(f"fixed effects did not converge in {FE_MAX_ITERATIONS} sweeps (last change {largest:.2e} of a "
                  "column's spread); the panel may be poorly connected", RuntimeWarning, stacklevel=4)
    return out * scale, FE_MAX_ITERATIONS, False


def _count_fe_parameters(fe_codes: dict[str, np.ndarray], groups: np.ndarray | None) -> int:
    """Parameters the absorbed effects use, for the N - K correction (see the module docstring)."""
    counted = [codes for codes in fe_codes.values() if groups is None or not _nested(codes, groups)]
    if not counted:
        return 1  # the intercept (or effects nested in the clusters, which the clusters already carry)
    return sum(int(codes.max()) + 1 for codes in counted) - (len(counted) - 1)


def _nested(codes: np.ndarray, groups: np.ndarray) -> bool:
    pairs = codes.astype(np.int64) * (int(groups.max()) + 1) + groups
    return np.unique(pairs).size == int(codes.max()) + 1


# ----------------------------------------------------------------------------- estimation
def two_stage(y: np.ndarray, d: np.ndarray, Z: np.ndarray | None, groups: np.ndarray | None, k: int) -> dict:
    """OLS (``Z`` None) or 2SLS of ``y`` on ``d`` with a robust sandwich variance, on residualized data.

    The building block of :func:`estimate_elasticity`, public for estimators that residualize in their
    own way (the per-product model): ``y``, ``d`` (1-D, length n) and ``Z`` (n x L instruments) must
    already be free of intercept, fixed effects and controls (demeaned / partialled out), because no
    intercept is fitted here. ``groups`` (integer codes 0..G-1) clusters the variance (CR1); None gives
    HC1. ``k`` is the full parameter count of the regression for the small-sample correction (price,
    controls, absorbed levels); the first stage uses ``k - 1 + L`` (it has the instruments instead of
    the price).

    Returns a dict: ``beta`` and ``se`` (the coefficient on ``d`` and its standard error), and for 2SLS
    ``first_stage_f`` (robust / cluster-robust Wald F of the instruments), ``first_stage_partial_r2``
    and ``first_stage_coef`` (None for OLS).
    """
    n = y.size
    out: dict[str, Any] = {"first_stage_f": None, "first_stage_partial_r2": None, "first_stage_coef": None}
    if Z is None:
        x = d
    else:
        gram_inv = np.linalg.inv(Z.T @ Z)
        pi = gram_inv @ (Z.T @ d)
        x = Z @ pi
        v = d - x
        vcov_pi = gram_inv @ _meat(Z * v[:, None], groups) @ gram_inv * _correction(n, k - 1 + Z.shape[1], groups)
        out["first_stage_f"] = float(pi @ np.linalg.solve(vcov_pi, pi) / Z.shape[1])
        out["first_stage_partial_r2"] = float(1 - (v @ v) / (d @ d))
        out["first_stage_coef"] = [float(c) for c in pi]
    denominator = float(x @ d)
    beta = float(x @ y) / denominator
    residual = y - beta * d
    variance = _meat((x * residual)[:, None], groups)[0, 0] / denominator**2 * _correction(n, k, groups)
    out.update(beta=beta, se=float(np.sqrt(variance)))
    return out


def _meat(scores: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
    """Sum of outer products of the scores: per row (robust) or per cluster sum (cluster-robust)."""
    if groups is not None:
        summed = np.zeros((int(groups.max()) + 1, scores.shape[1]))
        np.add.at(summed, groups, scores)
        scores = summed
    return scores.T @ scores


def _correction(n: int, k: int, groups: np.ndarray | None) -> float:
    if groups is None:
        return n / (n - k)  # HC1
    g = int(groups.max()) + 1
    return g / (g - 1) * (n - 1) / (n - k)  # CR1


# ----------------------------------------------------------------------------- double ML
def cross_fit(features: np.ndarray, targets: np.ndarray, groups: np.ndarray | None, n_folds: int,
              learner: str, random_state: int) -> tuple[np.ndarray, list[float]]:
    """Out-of-fold residuals of every target column and their out-of-fold R2 (double ML's nuisance step).

    ``features`` (n x p) predict each column of ``targets`` (n x m) with a fresh ``learner`` (``"gbm"``
    or ``"ridge"``, see :data:`DML_LEARNERS`) per fold and column. Each row is predicted by a model that
    never saw it (nor, with ``groups``, its group: folds are grouped), because in-sample nuisance fits
    would overfit the noise and bias the elasticity. Seeded by ``random_state``. Returns the residuals
    (n x m, ``targets - predictions``) and one R2 per target column. Threads are the caller's to cap
    (:func:`ml.threads.limit_threads`).
    """
    from sklearn.model_selection import GroupKFold, KFold

    if groups is None:
        folds = KFold(n_splits=n_folds, shuffle=True, random_state=random_state).split(features)
    else:
        folds = GroupKFold(n_splits=n_folds, shuffle=True, random_state=random_state).split(features, groups=groups)
    predictions = np.empty_like(targets)
    for train, test in folds:
        for j in range(targets.shape[1]):
            model = _learner(learner, random_state).fit(features[train], targets[train, j])
            predictions[test, j] = model.predict(features[test])
    residuals = targets - predictions
    total = np.sum((targets - targets.mean(axis=0)) ** 2, axis=0)
    r2 = [float(1 - r / t) if t > 0 else 0.0 for r, t in zip(np.sum(residuals**2, axis=0), total)]
    return residuals, r2


def _learner(name: str, random_state: int):
    """A fresh nuisance model. GBM without early stopping: on a noisy panel it stopped before the
    curvature was learned, and the leftover confounding biased the elasticity (0.08 vs 0.02 here)."""
    if name == "gbm":
        from sklearn.ensemble import HistGradientBoostingRegressor

        return HistGradientBoostingRegressor(max_iter=300, max_leaf_nodes=15, early_stopping=False,
                                             random_state=random_state)
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 13)))
