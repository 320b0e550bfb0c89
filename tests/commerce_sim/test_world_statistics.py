"""Statistical properties of the embedded world: the things a causal pricing model must cope with.

Two seeded one-year worlds of the default shop's size (200 products, 3 channels) are simulated once:

- ``confounded``: the default scenario (data defects off, so landing and truth can be compared exactly);
  the shop's historical repricing leans into demand shocks, promotions and reference prices move demand.
- ``unconfounded``: the same shop with those switched off, so price moves only with supplier cost and noise.

Tolerances come from measurement with a margin; the measured values are written next to each assertion
(seed 42, 200 products x 365 days; other seeds 1-3 are quoted where they show the spread).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq
import pytest

from commerce_sim.scenario import Scenario, load_scenario
from commerce_sim.simulator import Simulator
from commerce_sim.truth import GroundTruth

SEED = 42
N_PRODUCTS = 200
DAYS = 365
NO_DEFECTS = {
    "data_defects.duplicate_order_line_rate": 0.0,
    "data_defects.unknown_product_rate": 0.0,
    "data_defects.negative_quantity_rate": 0.0,
    "data_defects.missing_price_rate": 0.0,
    "data_defects.absurd_competitor_price_rate": 0.0,
}
UNCONFOUNDED = {
    "pricing_history.shock_response": 0.0,
    "promotions.rate_per_product_month": 0.0,
    "demand.reference_price.gain_sensitivity": 0.0,
    "demand.reference_price.loss_sensitivity": 0.0,
}


@dataclass(frozen=True)
class World:
    scenario: Scenario
    root: Path
    landing: Path | None
    products: pd.DataFrame  # GroundTruth.products()
    daily: pd.DataFrame  # GroundTruth.daily(), with a datetime64 "day" column added
    seconds: float  # how long simulating the year took


def _with_day(daily: pd.DataFrame) -> pd.DataFrame:
    return daily.assign(day=pd.to_datetime(daily["date"]))


@pytest.fixture(scope="module")
def confounded(tmp_path_factory, scenario_changes) -> World:
    """The default shop for a year through the public API (advance: landing zone + truth), ~20 s.

    The default scenario is this size, so this year is also the suite's check that the default year
    simulates in one go (:func:`test_the_default_year_simulates_in_one_go`)."""
    scenario = scenario_changes(load_scenario().with_overrides(products=N_PRODUCTS, days=DAYS, seed=SEED), NO_DEFECTS)
    base = tmp_path_factory.mktemp("confounded")
    started = time.perf_counter()
    simulator = Simulator.create(scenario, base / "sim", base / "landing")
    simulator.advance(DAYS)
    seconds = time.perf_counter() - started
    truth = GroundTruth(base / "sim")
    return World(scenario, base / "sim", base / "landing", truth.products(), _with_day(truth.daily()), seconds)


@pytest.fixture(scope="module")
def unconfounded(tmp_path_factory, scenario_changes) -> World:
    """The same shop without the confounders, ~9 s.

    Only the truth is needed here, so days are stepped without writing the landing zone (half the cost of
    ``advance``); the sealed static truth is still read through GroundTruth.
    """
    scenario = scenario_changes(load_scenario().with_overrides(products=N_PRODUCTS, days=DAYS, seed=SEED),
                                UNCONFOUNDED)
    base = tmp_path_factory.mktemp("unconfounded")
    simulator = Simulator.create(scenario, base / "sim", base / "landing")
    daily = pd.concat([simulator.step().truth for _ in range(DAYS)], ignore_index=True)
    return World(scenario, base / "sim", None, GroundTruth(base / "sim").products(), _with_day(daily), float("nan"))


# ----------------------------------------------------------------------------- the default year
def test_the_default_year_simulates_in_one_go(confounded, tmp_path, capsys):
    """The default size (200 products, 3 channels, 3 warehouses, 5000 customers, 365 days) in one
    ``advance``, and a fork of the whole year. The speed target ("well under a minute") is reported,
    not asserted: timing belongs to benchmarks."""
    scenario, landing = confounded.scenario, confounded.landing
    default = load_scenario()
    assert (scenario.catalog.n_products, scenario.history_days) == (default.catalog.n_products, default.history_days)
    simulator = Simulator.open(confounded.root, landing)
    forked = time.perf_counter()
    fork = simulator.fork(tmp_path / "fork" / "sim", tmp_path / "fork" / "landing")
    fork_seconds = time.perf_counter() - forked
    with capsys.disabled():
        print(f"\n[benchmark] default scenario: {DAYS} days, {N_PRODUCTS} products in {confounded.seconds:.1f} s "
              f"({confounded.seconds / DAYS:.3f} s a day); a fork of the year in {fork_seconds:.2f} s")
    assert fork.current_date == simulator.current_date

    last = (scenario.start_date + dt.timedelta(days=DAYS - 1)).isoformat()
    products = pd.read_json(landing / "catalog" / last / "products.jsonl", lines=True)
    assert products["product_id"].nunique() >= 200
    assert len(pd.read_csv(landing / "catalog" / last / "channels.csv")) == 3
    assert len(pd.read_csv(landing / "inventory" / last / "warehouses.csv")) == 3
    customers = pd.concat(pq.read_table(p).to_pandas() for p in (landing / "customers").glob("*/customers.parquet"))
    assert customers["customer_id"].nunique() >= 5000
    orders = pd.read_csv(landing / "orders" / last / "orders.csv")
    assert set(orders["channel"]) == {"web", "marketplace", "app"}
    assert len(list((landing / "orders").iterdir())) == 365


# ----------------------------------------------------------------------------- reading the landing zone
def read_landing(landing: Path, source: str, file: str, columns: list[str]) -> pd.DataFrame:
    """One landing file across all batch dates, only ``columns``, with the batch date as ``day``."""
    frames = []
    for path in sorted((landing / source).glob(f"*/{file}")):
        if path.suffix == ".csv":
            table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
                include_columns=columns, strings_can_be_null=True,
                column_types={c: pa.string() for c in columns if c.endswith("_id")}))
        elif path.suffix == ".jsonl":
            table = pajson.read_json(path).select(columns)
        else:
            table = pq.read_table(path, columns=columns)
        frames.append(table.to_pandas().assign(day=pd.Timestamp(path.parent.name)))
    return pd.concat(frames, ignore_index=True)


# ----------------------------------------------------------------------------- the estimator
def weekly_panel(daily: pd.DataFrame, products: pd.DataFrame, cost: pd.DataFrame | None = None) -> pd.DataFrame:
    """Product x channel x ISO week: units sold, mean paid price (and mean supplier cost).

    Weeks with any stockout (censored sales) and weeks without sales (no log) are dropped.
    """
    frame = daily.merge(products[["product_id", "category"]], on="product_id")
    if cost is not None:  # the exported supplier cost (the truth keeps its own copy: leave it out)
        frame = frame.drop(columns="unit_cost").merge(cost, on=["product_id", "day"], validate="many_to_one")
    iso = frame["day"].dt.isocalendar()
    frame["week"] = (iso["year"] * 100 + iso["week"]).astype(int)
    aggregations = {"units": ("sold_units", "sum"), "price": ("paid_price", "mean"), "stockout": ("stockout", "any")}
    if cost is not None:
        aggregations["cost"] = ("unit_cost", "mean")
    weekly = frame.groupby(["product_id", "channel", "category", "week"], as_index=False).agg(**aggregations)
    return weekly[~weekly["stockout"] & (weekly["units"] > 0)].reset_index(drop=True)


def absorb(values: pd.Series, groups: list[pd.Series], iterations: int = 10) -> np.ndarray:
    """Remove fixed effects of several groupings by alternating demeaning."""
    out = values.astype(float).copy()
    for _ in range(iterations):
        for group in groups:
            out = out - out.groupby(group).transform("mean")
    return out.to_numpy()


@dataclass(frozen=True)
class Estimates:
    ols: float
    iv: float | None = None
    first_stage: float | None = None
    first_stage_f: float | None = None
    first_stage_f_clustered: float | None = None
    rows: int = 0


def estimate_elasticity(weekly: pd.DataFrame) -> Estimates:
    """Pooled log-log slope with product x channel and category x week fixed effects; IV on log cost if present."""
    groups = [weekly["product_id"] + "|" + weekly["channel"], weekly["category"] + "|" + weekly["week"].astype(str)]
    y = absorb(np.log(weekly["units"]), groups)
    x = absorb(np.log(weekly["price"]), groups)
    ols = float(x @ y / (x @ x))
    if "cost" not in weekly:
        return Estimates(ols=ols, rows=len(weekly))
    z = absorb(np.log(weekly["cost"]), groups)
    pi = float(z @ x / (z @ z))
    residual = x - pi * z
    dof = len(x) - sum(g.nunique() for g in groups) - 1
    f_plain = pi**2 / (residual @ residual / dof / (z @ z))
    scores = pd.Series(z * residual).groupby(weekly["product_id"].to_numpy()).sum().to_numpy()
    f_clustered = pi**2 / ((scores @ scores) / (z @ z) ** 2)
    return Estimates(ols=ols, iv=float(z @ y / (z @ x)), first_stage=pi, first_stage_f=float(f_plain),
                     first_stage_f_clustered=float(f_clustered), rows=len(weekly))


def report(label: str, **values) -> None:
    print(f"\n[world statistics] {label}: " + ", ".join(
        f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items()))


# ----------------------------------------------------------------------------- price elasticity
def test_naive_regression_recovers_the_true_elasticity_when_prices_are_unconfounded(unconfounded):
    truth = unconfounded.products["own_elasticity"].mean()
    estimate = estimate_elasticity(weekly_panel(unconfounded.daily, unconfounded.products))
    report("unconfounded", truth=truth, ols=estimate.ols, rows=estimate.rows)
    # measured: -1.981 vs truth -1.991 (seed 42, the world of keyed random streams, 2026-12); the world
    # before it measured -1.810 vs -1.986, and seeds 1-3 of an earlier one missed by 0.19, 0.08, 0.03. The
    # spread is sampling noise: persistent demand shocks (sd 0.2) against cost-driven price moves.
    assert abs(estimate.ols - truth) < 0.2


@pytest.fixture(scope="module")
def exported_cost(confounded) -> pd.DataFrame:
    return read_landing(confounded.landing, "catalog", "products.jsonl", ["product_id", "unit_cost"])


@pytest.fixture(scope="module")
def confounded_estimates(confounded, exported_cost) -> Estimates:
    return estimate_elasticity(weekly_panel(confounded.daily, confounded.products, exported_cost))


@pytest.fixture(scope="module")
def reference_adjusted_estimates(confounded, exported_cost) -> Estimates:
    """The same estimator on units with the truth's reference-price (loss-aversion) term taken out."""
    daily = confounded.daily.assign(sold_units=confounded.daily["sold_units"] * np.exp(-confounded.daily["reference_term"]))
    return estimate_elasticity(weekly_panel(daily, confounded.products, exported_cost))


def test_naive_regression_is_biased_toward_zero_in_the_confounded_world(confounded, confounded_estimates):
    truth = confounded.products["own_elasticity"].mean()
    report("confounded naive", truth=truth, ols=confounded_estimates.ols, rows=confounded_estimates.rows)
    bias = confounded_estimates.ols - truth
    # measured: ols -1.651 vs truth -1.991, bias 0.34 (2026-11 world: -1.564, bias 0.42; seeds 1-3 now:
    # 0.39, 0.39, 0.37)
    assert bias > 0.3


def test_supplier_cost_is_a_strong_instrument_that_removes_most_of_the_bias(confounded, confounded_estimates,
                                                                           reference_adjusted_estimates):
    """The cost instrument removes the confounding. What it cannot remove is the short-run loss aversion
    of a cost-driven raise (the reference price lags), which steepens any weekly log-log slope by about
    0.2: on expected units the IV gives -2.23 against a truth of -1.99, in this world and in the one
    before it (measured -2.22 there at seed 42; stockout censoring of that world's sales happened to
    offset it, -2.01 on units sold). With the truth's reference term taken out, the IV recovers the
    structural elasticity."""
    truth = confounded.products["own_elasticity"].mean()
    e, adjusted = confounded_estimates, reference_adjusted_estimates
    report("confounded IV", truth=truth, ols=e.ols, iv=e.iv, first_stage=e.first_stage, F=e.first_stage_f,
           F_clustered_by_product=e.first_stage_f_clustered, iv_without_reference_term=adjusted.iv)
    # measured first stage: coefficient 0.67 (cost passthrough 0.8), F 20518, product-clustered F 2695
    assert 0.5 < e.first_stage < 1.0
    assert e.first_stage_f > 1000
    assert e.first_stage_f_clustered > 100
    # measured: IV -2.167 vs truth -1.991 (off by 0.18, the loss aversion above) while OLS is off by 0.34;
    # without the reference term -2.004, off by 0.01 (seed 1: -1.892 against -2.024)
    assert abs(e.iv - truth) < 0.25
    assert abs(adjusted.iv - truth) < 0.5 * abs(e.ols - truth)


# ----------------------------------------------------------------------------- stockouts censor demand
def test_stockouts_censor_sales_and_the_rest_is_lost(confounded):
    d = confounded.daily
    assert (d["sold_units"] >= 0).all()
    assert (d["sold_units"] <= d["demand_units"]).all()
    assert (d["lost_units"] == d["demand_units"] - d["sold_units"]).all()
    assert (d["lost_units"] >= 0).all()
    # nothing is lost while every region's home warehouse has stock (demand it cannot serve is offered
    # delivery from another warehouse, and some of those customers walk away)
    assert not d.loc[~d["regional_stockout"], "lost_units"].any()
    assert d.loc[d["stockout"], "regional_stockout"].all()
    censored = d[d["stockout"]]
    report("stockouts", stockout_rows=int(d["stockout"].sum()), censored_rows=int((censored["lost_units"] > 0).sum()),
           lost_units=int(d["lost_units"].sum()), sold_units=int(d["sold_units"].sum()))
    # measured: 681 stockout rows (product x channel x day, every warehouse out), 502 of them censored;
    # 5003 units lost of 406917 sold, most to regional stockouts (customers who would not wait for a
    # delivery from afar). The pooled world before regional fulfilment: 87 rows, 72 censored, 422 lost.
    assert (censored["sold_units"] < censored["demand_units"]).sum() >= 10


def test_lost_demand_never_reaches_the_order_system(confounded):
    """Landed order lines add up to what was sold per product, channel and day: never to what was wanted."""
    lines = read_landing(confounded.landing, "orders", "order_lines.csv", ["order_id", "product_id", "quantity"])
    orders = read_landing(confounded.landing, "orders", "orders.csv", ["order_id", "channel"])
    landed = (lines.merge(orders.drop(columns="day"), on="order_id", how="left", validate="many_to_one")
              .groupby(["product_id", "channel", "day"])["quantity"].sum())
    truth = confounded.daily.set_index(["product_id", "channel", "day"])
    assert landed.index.isin(truth.index).all()
    landed = landed.reindex(truth.index, fill_value=0)
    assert (landed == truth["sold_units"]).all()
    assert landed.sum() == truth["sold_units"].sum() < truth["demand_units"].sum()
    stockout = truth[truth["lost_units"] > 0]
    assert (landed.loc[stockout.index] < stockout["demand_units"]).all()


def test_a_stockout_empties_every_warehouse_and_the_landed_prices_are_the_prices_paid(confounded):
    stock = read_landing(confounded.landing, "inventory", "inventory_snapshot.parquet", ["product_id", "on_hand"])
    on_hand = stock.groupby(["product_id", "day"])["on_hand"].sum()
    out = confounded.daily.loc[confounded.daily["stockout"], ["product_id", "day"]].drop_duplicates()
    assert (on_hand.loc[pd.MultiIndex.from_frame(out)] == 0).all()
    prices = read_landing(confounded.landing, "prices", "prices.csv", ["product_id", "channel", "price"])
    merged = confounded.daily.merge(prices, on=["product_id", "channel", "day"], validate="one_to_one")
    assert len(merged) == len(confounded.daily)
    np.testing.assert_allclose(merged["price"], merged["paid_price"])


# ----------------------------------------------------------------------------- the demand equation's parts
def test_own_elasticities_differ_by_product_around_the_scenario_mean(confounded):
    spec = confounded.scenario.demand
    own = confounded.products["own_elasticity"]
    low, high = spec.elasticity_bounds
    report("own elasticities", mean=own.mean(), sd=own.std(), min=own.min(), max=own.max())
    # measured: mean -1.991, sd 0.581 (the world before: -1.986, 0.542; seeds 1-3 there: 0.52, 0.57, 0.58)
    assert abs(own.mean() - spec.elasticity_mean) < 0.15
    assert own.std() > 0.3
    assert ((own >= low) & (own <= high)).all()
    assert own.nunique() > 0.9 * len(own)
    by_category = confounded.products.groupby("category")["own_elasticity"].mean()
    assert by_category["electronics"] < by_category["apparel"]  # elasticity_shift -0.4 vs +0.3


def test_cheaper_substitutes_take_demand_away(confounded):
    """Cross-price effects are positive and follow the other products' prices in the category and channel."""
    products = confounded.products
    assert (products["cross_elasticity"] > 0).all()
    assert abs(products["cross_elasticity"].mean() - confounded.scenario.demand.cross_elasticity_mean) < 0.05
    d = confounded.daily.merge(products[["product_id", "category", "list_price", "cross_elasticity"]], on="product_id")
    markup = {c.id: c.price_markup for c in confounded.scenario.channels}
    relative = np.log(d["paid_price"]) - np.log(d["list_price"] * (1 + d["channel"].map(markup)))
    keys = [d["category"], d["channel"], d["day"]]
    others = (relative.groupby(keys).transform("sum") - relative) / (relative.groupby(keys).transform("size") - 1)
    np.testing.assert_allclose(d["cross_term"], d["cross_elasticity"] * others, atol=1e-9)
    assert np.corrcoef(d["cross_term"], others)[0, 1] > 0.9


def test_demand_is_over_dispersed(confounded):
    d = confounded.daily
    expected, drawn = d["expected_units"], d["demand_units"]
    k = confounded.scenario.demand.dispersion
    squared = ((drawn - expected) ** 2).sum()
    poisson_ratio = squared / expected.sum()
    nb_ratio = squared / (expected + expected**2 / k).sum()
    report("dispersion", var_over_poisson=poisson_ratio, var_over_negative_binomial=nb_ratio,
           mean_over_expected=drawn.sum() / expected.sum())
    # measured: variance / Poisson variance 2.42, / negative-binomial variance 1.00, mean ratio 1.00
    # (the world before: 2.23, 0.99, 1.00; seeds 1-3 there: 2.09, 2.06, 2.28; 0.98, 0.98, 0.99)
    assert poisson_ratio > 1.6
    assert abs(nb_ratio - 1) < 0.05
    assert abs(drawn.sum() / expected.sum() - 1) < 0.01
    big = d[expected > 5]  # the excess grows with the mean, as a negative binomial's does
    assert ((big["demand_units"] - big["expected_units"]) ** 2).sum() / big["expected_units"].sum() > poisson_ratio


def test_weekly_rhythm_peaks_at_the_weekend_and_most_in_the_app(confounded):
    d = confounded.daily.assign(weekday=confounded.daily["day"].dt.weekday)
    by_weekday = d.groupby("weekday")["expected_units"].sum()
    per_channel = d.groupby(["channel", "weekday"])["expected_units"].sum().unstack()
    weekend_lift = per_channel[6] / per_channel[3]  # Sunday over Thursday
    report("weekly", saturday_over_tuesday=by_weekday[5] / by_weekday[1],
           **{f"sunday_over_thursday_{c}": float(v) for c, v in weekend_lift.items()})
    # measured: Saturday/Tuesday 1.48; Sunday/Thursday app 1.59, marketplace 1.29, web 1.23 (seeds 1-3 within 0.02)
    assert by_weekday.idxmax() == 5
    assert by_weekday[5] / by_weekday[1] > 1.3
    assert weekend_lift["app"] > weekend_lift["marketplace"] > weekend_lift["web"]


def test_yearly_seasons_differ_by_category(confounded):
    d = confounded.daily.merge(confounded.products[["product_id", "category"]], on="product_id")
    monthly = d.groupby([d["category"], d["day"].dt.month])["expected_units"].sum().unstack(0)
    share = monthly.div(monthly.sum(axis=1), axis=0)  # calendar events and trend cancel out
    report("seasons", garden_peak=int(share["garden"].idxmax()), garden_low=int(share["garden"].idxmin()),
           toys_peak=int(share["toys"].idxmax()), apparel_peak=int(share["apparel"].idxmax()),
           garden_may_over_november=float(monthly.loc[5, "garden"] / monthly.loc[11, "garden"]))
    # peaks on day 140 (garden), 350 (toys), 100 (apparel); measured peak months: garden 5 (low 12), toys 12,
    # apparel 5; garden May / November 2.53 (the world before: low 11, 2.66; seeds 1-3: 2.73, 2.84, 2.79)
    assert share["garden"].idxmax() in (5, 6)
    assert share["garden"].idxmin() in (11, 12)
    assert share["toys"].idxmax() in (11, 12, 1)
    assert share["apparel"].idxmax() in (3, 4, 5)
    assert monthly.loc[5, "garden"] > 2.0 * monthly.loc[11, "garden"]


def test_black_friday_is_the_biggest_day_of_the_year(confounded):
    total = confounded.daily.groupby("day")["expected_units"].sum()
    black_friday = pd.Timestamp("2025-11-28")
    ratio = total[black_friday] / total[black_friday - pd.Timedelta(days=7)]
    report("black friday", over_previous_friday=ratio, busiest=str(total.idxmax().date()))
    # lift 2.0 -> x3; measured x3.06 over the Friday before (the world before: 2.78; seeds 1-3: 3.08, 2.86, 2.87)
    assert total.idxmax() == black_friday
    assert 2.4 < ratio < 3.6


def _promotion_windows(daily: pd.DataFrame, promo: pd.DataFrame, window: int = 7) -> pd.DataFrame:
    """Mean expected/sold units before, during and after every promotion run of a product on a channel."""
    frame = daily.merge(promo, on=["product_id", "channel", "day"], validate="one_to_one")
    rows = []
    for _, series in frame.sort_values("day").groupby(["product_id", "channel"]):
        on = series["on_promo"].to_numpy()
        expected, sold = series["expected_units"].to_numpy(), series["sold_units"].to_numpy()
        edges = np.diff(np.r_[0, on.astype(int), 0])
        for start, end in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
            before, after = slice(start - 2 * window, start), slice(end, end + window)
            if start < 2 * window or end + window > len(on) or on[before].any() or on[after].any():
                continue  # need clean windows: no promotion, and no post-promotion dip, before
            rows.append({
                "before": expected[start - window:start].mean(), "during": expected[start:end].mean(),
                "after": expected[after].mean(), "sold_before": sold[start - window:start].mean(),
                "sold_during": sold[start:end].mean(),
            })
    return pd.DataFrame(rows)


def test_promotions_lift_sales_and_are_followed_by_a_dip(confounded):
    prices = read_landing(confounded.landing, "prices", "prices.csv", ["product_id", "channel", "promo_id"])
    prices["on_promo"] = prices["promo_id"].notna()
    runs = _promotion_windows(confounded.daily, prices.drop(columns="promo_id"))
    lift = np.exp(np.log(runs["during"] / runs["before"]).mean())
    dip = np.exp(np.log(runs["after"] / runs["before"]).mean())
    sold_lift = runs["sold_during"].sum() / runs["sold_before"].sum()
    report("promotions", runs=len(runs), expected_lift=lift, sold_lift=sold_lift, after_over_before=dip)
    # measured: 1164 clean runs; expected units x2.15 during, x0.88 in the week after; units sold x2.19
    # (lift now grows with depth and saturates; the world before: 2.30, 0.84, 2.39)
    assert len(runs) > 300
    assert lift > 1.6
    assert sold_lift > 1.6
    assert dip < 0.92
