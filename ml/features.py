"""Leakage-free, censoring-aware features for forecasting daily demand from a forecast origin.

A forecast is made at an *origin*: the last day whose sales are known. It covers the target days
``origin + 1 ... origin + horizon``. Every feature of a target day is computed from days ``<= origin``
plus the *plan* for the target day (price, promotion), which the shop sets itself and so knows in
advance. That is the whole leakage contract, and :func:`build_features` enforces it structurally: it
drops every row after the origin before computing anything, so later data cannot leak in, whatever
the code below does. :func:`training_rows` computes the same features for many origins at once on
the full history (fast) and is tested to match :func:`build_features` exactly.

Censoring: on a stockout day (``is_stockout``) the shop sold what it had, so ``units`` is a lower
bound of demand and the lost part is never observed. Averaging those days in would teach the model
that demand is low exactly when it was high. So every statistic of past units (lags, rolling and
same-weekday means, the level) uses in-stock days only (a censored day counts as missing), and
:func:`training_rows` flags stockout target days so the forecaster can leave them out of its targets.
What remains is a mild selection bias (stockouts tend to hit high-demand days), documented, not fixed.

The planned price of a target day defaults to the last known regular price carried forward, with no
promotion: the best guess when nothing is planned. A ``future`` frame (``product_id, channel, date,
price`` and optionally ``is_promo, discount_pct``) overrides it, for planned promotions or to ask
"what if we charged this?"; :func:`promotion_plan` turns the promotion calendar into one, so the
promotions the shop has scheduled (and announced by the origin) shape the forecast. In training, the
plan is what actually happened on the target day (the shop planned it), with the competitor price and
the reference prices frozen at the origin, exactly as at prediction time.

Demand levels differ by two orders of magnitude between products, so the unit-based features come
as an absolute ``level`` (in-stock mean of the last 56 days) plus ratios to it (last week, same
weekday, longer windows): a ratio means the same thing for a slow and a fast mover, so the trees can
share weekly and trend patterns across products instead of relearning them per volume band.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.panel import PANEL_COLUMNS

__all__ = [
    "CATEGORICAL_FEATURES", "FEATURE_COLUMNS", "FORECAST_PANEL_COLUMNS", "KEY_COLUMNS", "PanelCube", "build_features",
    "panel_cube", "plan_for_origin", "promotion_plan", "training_origins", "training_rows",
]

# The sales panel's columns (ml.panel.PANEL_COLUMNS, their one home) that forecasting reads: all but the
# unit cost, which only the elasticity model uses (its instrument). A plan or a what-if panel needs no cost.
FORECAST_PANEL_COLUMNS = tuple(column for column in PANEL_COLUMNS if column != "unit_cost")
FUTURE_COLUMNS = ("product_id", "channel", "date", "price")
KEY_COLUMNS = ("origin", "date", "horizon", "product_id", "channel")
CATEGORICAL_FEATURES = ("channel", "category")
FEATURE_COLUMNS = (
    # target day and horizon
    "horizon", "day_of_week", "is_weekend", "month", "doy_sin", "doy_cos", "origin_day_of_week",
    *CATEGORICAL_FEATURES,
    # past units (in-stock days only), absolute level then ratios to it
    "level", "level_7_ratio", "level_28_ratio", "level_91_ratio", "level_all_ratio", "last_day_ratio",
    "same_weekday_4_ratio", "same_weekday_8_ratio", "product_level", "in_stock_share_28", "promo_share_28",
    # planned price and promotion of the target day
    "log_price", "price_vs_regular", "price_vs_list", "price_vs_competitor", "price_vs_recent",
    "is_promo", "discount_pct", "promo_day", "days_since_promo",
)
LEVEL_DAYS = 56
PROMO_LOOKBACK = 60  # days_since_promo is capped here: older promotions no longer matter
MIN_LEVEL = 0.05  # floor of the level, so ratios stay finite for products that barely sell


@dataclass(frozen=True)
class PanelCube:
    """The panel as dense ``series x day`` arrays (NaN where a row is missing), with running sums.

    Rolling statistics at any origin are then differences of cumulative sums: O(1) per series,
    which is what makes building training rows for fifty origins take well under a second.
    """

    dates: pd.DatetimeIndex
    product_id: np.ndarray
    channel: np.ndarray
    category: np.ndarray
    units: np.ndarray
    in_stock: np.ndarray  # a row exists, units is known and the day was not a stockout
    stockout: np.ndarray
    price: np.ndarray
    is_promo: np.ndarray
    discount_pct: np.ndarray
    first_day: np.ndarray  # (S,): first day with a row; a series does not exist before it
    last_regular: np.ndarray  # last known value up to each day (forward-filled)
    last_list: np.ndarray
    last_competitor: np.ndarray
    cum_units: np.ndarray  # (S, D + 1): sum of in-stock units before each day
    cum_days: np.ndarray  # (S, D + 1): in-stock days before each day
    cum_price: np.ndarray  # (S, D + 1): sum of known prices before each day
    cum_priced: np.ndarray
    cum_promo: np.ndarray

    @property
    def n_series(self) -> int:
        return len(self.product_id)

    def day(self, date) -> int:
        """Index of ``date`` on the cube's day axis (may be outside the cube)."""
        return int((pd.Timestamp(date).normalize() - self.dates[0]).days)


def _validate(panel: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in panel.columns]
    if missing:
        raise ValueError(f"{what} lacks columns {missing}")


def _ffill(values: np.ndarray) -> np.ndarray:
    """Forward-fill NaNs along the day axis (leading NaNs stay NaN)."""
    idx = np.where(np.isnan(values), 0, np.arange(values.shape[1]))
    np.maximum.accumulate(idx, axis=1, out=idx)
    filled = values[np.arange(values.shape[0])[:, None], idx]
    return filled


def _cumsum(values: np.ndarray) -> np.ndarray:
    return np.concatenate([np.zeros((values.shape[0], 1)), np.cumsum(values, axis=1)], axis=1)


def panel_cube(panel: pd.DataFrame, *, end=None) -> PanelCube:
    """Dense arrays of a daily panel; the day axis runs from its first date to ``end`` (default: last date)."""
    _validate(panel, FORECAST_PANEL_COLUMNS, "the panel")
    if panel.empty:
        raise ValueError("the panel is empty")
    dates = pd.to_datetime(panel["date"]).dt.normalize()
    if pd.DataFrame({"d": dates, "p": panel["product_id"], "c": panel["channel"]}).duplicated().any():
        raise ValueError("the panel has more than one row per product_id x channel x date")
    series = pd.MultiIndex.from_frame(panel[["product_id", "channel"]].astype(str))
    codes, uniques = pd.factorize(series, sort=True)
    start = dates.min()
    last = dates.max() if end is None else max(pd.Timestamp(end).normalize(), start)
    day_index = pd.date_range(start, last, freq="D")
    col = ((dates - start).dt.days).to_numpy()
    keep = col < len(day_index)
    row, col = codes[keep], col[keep]
    shape = (len(uniques), len(day_index))

    def dense(name, fill=np.nan):
        out = np.full(shape, fill, dtype=float)
        out[row, col] = pd.to_numeric(panel[name], errors="coerce").to_numpy(float)[keep]
        return out

    def flag(name):
        out = np.zeros(shape, dtype=bool)
        out[row, col] = panel[name].fillna(False).to_numpy(bool)[keep]
        return out

    units, price = dense("units"), dense("price")
    stockout, is_promo = flag("is_stockout"), flag("is_promo")
    in_stock = ~np.isnan(units) & ~stockout
    category = (panel.assign(_s=codes).drop_duplicates("_s", keep="last").sort_values("_s")["category"]
                .astype(str).to_numpy())
    regular = dense("regular_price")
    implied = 100 * (1 - price / regular)  # when a promotion row lacks its discount
    discount = np.where(is_promo, dense("discount_pct"), 0.0)
    discount = np.where(is_promo & np.isnan(discount), implied, discount)
    first_day = np.full(shape[0], shape[1], dtype=int)
    np.minimum.at(first_day, row, col)
    return PanelCube(
        dates=day_index,
        product_id=np.asarray(uniques.get_level_values(0), dtype=object),
        channel=np.asarray(uniques.get_level_values(1), dtype=object),
        category=category,
        units=units, in_stock=in_stock, stockout=stockout, price=price, is_promo=is_promo,
        discount_pct=np.nan_to_num(discount, nan=0.0),
        first_day=first_day,
        last_regular=_ffill(regular),
        last_list=_ffill(dense("list_price")),
        last_competitor=_ffill(dense("competitor_price")),
        cum_units=_cumsum(np.where(in_stock, units, 0.0)),
        cum_days=_cumsum(in_stock.astype(float)),
        cum_price=_cumsum(np.nan_to_num(price, nan=0.0)),
        cum_priced=_cumsum((~np.isnan(price)).astype(float)),
        cum_promo=_cumsum(is_promo.astype(float)),
    )


def _window(cum: np.ndarray, origin: int, days: int) -> np.ndarray:
    """Sum over the ``days`` days ending at ``origin`` (inclusive), clipped to the cube's start."""
    return cum[:, origin + 1] - cum[:, max(origin + 1 - days, 0)]


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def plan_for_origin(cube: PanelCube, origin: int, horizon: int, future: pd.DataFrame | None = None,
                    *, actual: bool = False) -> dict[str, np.ndarray]:
    """Planned ``price``, ``is_promo`` and ``discount_pct`` of every series and target day, ``(S, horizon)``.

    Default: the last known regular price, no promotion. ``actual=True`` takes what happened on the
    target days (training: the shop planned those prices); ``future`` overrides either, row by row. A
    promotion row (``is_promo``) may leave ``price`` empty and give ``discount_pct``: the price is then
    that discount off the last regular price (see :func:`promotion_plan`).
    """
    regular = np.repeat(cube.last_regular[:, [origin]], horizon, axis=1)
    price, promo, discount = regular.copy(), np.zeros_like(regular, dtype=bool), np.zeros_like(regular)
    if actual:
        days = np.arange(origin + 1, origin + 1 + horizon)
        inside = days < len(cube.dates)
        cols = days[inside]
        known = ~np.isnan(cube.price[:, cols])
        price[:, inside] = np.where(known, cube.price[:, cols], price[:, inside])
        promo[:, inside] = cube.is_promo[:, cols] & known
        discount[:, inside] = np.where(promo[:, inside], cube.discount_pct[:, cols], 0.0)
    if future is not None:
        _validate(future, FUTURE_COLUMNS, "future")
        f = future.copy()
        h = ((pd.to_datetime(f["date"]).dt.normalize() - cube.dates[0]).dt.days - origin).to_numpy()
        lookup = pd.Series(np.arange(cube.n_series),
                           index=pd.MultiIndex.from_arrays([cube.product_id, cube.channel]))
        s = lookup.reindex(pd.MultiIndex.from_frame(f[["product_id", "channel"]].astype(str))).to_numpy()
        is_promo = f["is_promo"].fillna(False).to_numpy(bool) if "is_promo" in f else np.zeros(len(f), bool)
        d = pd.to_numeric(f["discount_pct"], errors="coerce").to_numpy(float) if "discount_pct" in f \
            else np.full(len(f), np.nan)
        p = pd.to_numeric(f["price"], errors="coerce").to_numpy(float)
        priced = ~np.isnan(p) | (is_promo & ~np.isnan(d))  # a promotion may give its discount, not its price
        ok = (h >= 1) & (h <= horizon) & ~np.isnan(s) & priced
        s, j, p, d, is_promo = s[ok].astype(int), h[ok] - 1, p[ok], d[ok], is_promo[ok]
        p = np.where(np.isnan(p), regular[s, j] * (1 - d / 100), p)  # the discount off the regular price
        implied = 100 * (1 - p / regular[s, j])  # discount off the regular price when not given
        d = np.where(is_promo, np.where(np.isnan(d), implied, d), 0.0)
        price[s, j], promo[s, j], discount[s, j] = p, is_promo, d
    return {"price": price, "is_promo": promo, "discount_pct": discount}


def promotion_plan(promotion_days: pd.DataFrame, origin, horizon: int) -> pd.DataFrame:
    """The ``future`` frame of the promotions scheduled for ``origin + 1 ... origin + horizon``.

    ``promotion_days`` has one row per product x channel x promotion day (``date, product_id, channel,
    discount_pct``, optionally ``announced_on``: the mart ``fct_promotion_days``). Only promotions
    announced on or before the origin are used, so a backtest plans with what the shop knew then.
    """
    _validate(promotion_days, ("date", "product_id", "channel", "discount_pct"), "the promotion days")
    origin = pd.Timestamp(origin).normalize()
    dates = pd.to_datetime(promotion_days["date"]).dt.normalize()
    keep = (dates > origin) & (dates <= origin + pd.Timedelta(days=int(horizon)))
    if "announced_on" in promotion_days:
        keep &= pd.to_datetime(promotion_days["announced_on"]).dt.normalize() <= origin
    rows = promotion_days.loc[keep]
    return pd.DataFrame({
        "product_id": rows["product_id"].astype(str).to_numpy(), "channel": rows["channel"].astype(str).to_numpy(),
        "date": dates[keep].to_numpy(), "price": np.nan, "is_promo": True,
        "discount_pct": pd.to_numeric(rows["discount_pct"], errors="coerce").to_numpy(float),
    })


def _promo_timing(cube: PanelCube, origin: int, planned: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``promo_day`` (consecutive promotion days up to and including each target day, 0 when none) and
    ``days_since_promo`` (days since the last promotion day before it, capped at PROMO_LOOKBACK), over
    the known history up to the origin followed by the plan. The post-promotion dip hangs on the latter."""
    first = max(origin + 1 - PROMO_LOOKBACK, 0)
    flags = np.concatenate([cube.is_promo[:, first:origin + 1], planned], axis=1)
    run = np.zeros(cube.n_series)
    since = np.full(cube.n_series, float(PROMO_LOOKBACK))
    runs, sinces = [], []
    for k in range(flags.shape[1]):
        sinces.append(np.minimum(since, PROMO_LOOKBACK))  # before today's flag: days since the last promo day
        run = np.where(flags[:, k], run + 1, 0)
        runs.append(run)
        since = np.where(flags[:, k], 1.0, since + 1)
    horizon = planned.shape[1]
    return np.stack(runs[-horizon:], axis=1), np.stack(sinces[-horizon:], axis=1)


def _origin_features(cube: PanelCube, origin: int, horizon: int, plan: dict[str, np.ndarray]) -> pd.DataFrame:
    """Feature rows (series x horizon, series-major) for one origin; reads only days <= origin of the
    cube's history arrays, plus ``plan``."""
    S, H = cube.n_series, horizon
    hs = np.arange(1, H + 1)
    origin_date = cube.dates[0] + pd.Timedelta(days=origin)
    target_dates = origin_date + pd.to_timedelta(hs, unit="D")

    def mean(days):
        return _ratio(_window(cube.cum_units, origin, days), _window(cube.cum_days, origin, days))

    level_all = mean(origin + 1)
    level = mean(LEVEL_DAYS)
    level = np.where(np.isnan(level), level_all, level)
    if np.isnan(level).any():  # no in-stock day at all yet: the channel's typical level
        fallback = pd.Series(level).groupby(cube.channel).transform("median").to_numpy()
        level = np.where(np.isnan(level), fallback, level)
    level = np.maximum(np.nan_to_num(level, nan=MIN_LEVEL), MIN_LEVEL)
    product_level = pd.Series(level).groupby(cube.product_id).transform("sum").to_numpy()

    # same weekday as the target, in the last 4 / 8 weeks up to the origin, in-stock days only
    weeks_back = np.ceil(hs / 7).astype(int)
    idx = (origin + hs)[:, None] - 7 * (weeks_back[:, None] + np.arange(8)[None, :])  # (H, 8)
    valid = idx >= 0
    safe = np.where(valid, idx, 0)
    units = cube.units[:, safe]  # (S, H, 8)
    use = cube.in_stock[:, safe] & valid[None]
    sums, counts = np.where(use, units, 0).cumsum(axis=2), use.cumsum(axis=2)
    same4 = _ratio(sums[:, :, 3], counts[:, :, 3])
    same8 = _ratio(sums[:, :, 7], counts[:, :, 7])
    last_day = np.where(cube.in_stock[:, origin], cube.units[:, origin], np.nan)

    last_regular = cube.last_regular[:, origin]
    recent_price = _ratio(_window(cube.cum_price, origin, 28), _window(cube.cum_priced, origin, 28))
    price = plan["price"]
    with np.errstate(divide="ignore", invalid="ignore"):
        def log_vs(ref):
            return np.log(price / ref[:, None])
        log_price = np.log(price)
        vs_regular, vs_list = log_vs(last_regular), log_vs(cube.last_list[:, origin])
        vs_competitor, vs_recent = log_vs(cube.last_competitor[:, origin]), log_vs(recent_price)
    promo_day, since_promo = _promo_timing(cube, origin, plan["is_promo"])

    def per_series(values):  # (S,) -> (S, H)
        return np.repeat(np.asarray(values)[:, None], H, axis=1)

    def per_day(values):  # (H,) -> (S, H)
        return np.repeat(np.asarray(values)[None, :], S, axis=0)

    doy = 2 * np.pi * (target_dates.day_of_year.to_numpy() - 1) / 365.25
    dow = target_dates.day_of_week.to_numpy()
    columns = {
        "origin": per_day(np.full(H, origin_date)),
        "date": per_day(target_dates.to_numpy()),
        "horizon": per_day(hs),
        "product_id": per_series(cube.product_id),
        "channel": per_series(cube.channel),
        "category": per_series(cube.category),
        "day_of_week": per_day(dow),
        "is_weekend": per_day((dow >= 5).astype(int)),
        "month": per_day(target_dates.month.to_numpy()),
        "doy_sin": per_day(np.sin(doy)),
        "doy_cos": per_day(np.cos(doy)),
        "origin_day_of_week": np.full((S, H), origin_date.day_of_week),
        "level": per_series(level),
        "level_7_ratio": per_series(mean(7) / level),
        "level_28_ratio": per_series(mean(28) / level),
        "level_91_ratio": per_series(mean(91) / level),
        "level_all_ratio": per_series(level_all / level),
        "last_day_ratio": per_series(last_day / level),
        "same_weekday_4_ratio": same4 / level[:, None],
        "same_weekday_8_ratio": same8 / level[:, None],
        "product_level": per_series(product_level),
        "in_stock_share_28": per_series(_window(cube.cum_days, origin, 28) / min(28, origin + 1)),
        "promo_share_28": per_series(_window(cube.cum_promo, origin, 28) / min(28, origin + 1)),
        "log_price": log_price,
        "price_vs_regular": vs_regular,
        "price_vs_list": vs_list,
        "price_vs_competitor": vs_competitor,
        "price_vs_recent": vs_recent,
        "is_promo": plan["is_promo"].astype(int),
        "discount_pct": plan["discount_pct"],
        "promo_day": promo_day,
        "days_since_promo": since_promo,
    }
    frame = pd.DataFrame({k: np.asarray(v).reshape(-1) for k, v in columns.items()})
    numeric = [c for c in FEATURE_COLUMNS if c not in CATEGORICAL_FEATURES]
    frame[numeric] = frame[numeric].astype(float).replace([np.inf, -np.inf], np.nan)
    return frame


def build_features(panel: pd.DataFrame, origin, horizon: int = 14, *, future: pd.DataFrame | None = None
                   ) -> pd.DataFrame:
    """Feature rows for the forecast made at ``origin`` for days ``origin + 1 ... origin + horizon``.

    One row per product x channel with data on or before ``origin`` and horizon, with the key columns
    ``origin, date, horizon, product_id, channel`` and :data:`FEATURE_COLUMNS`. Rows of ``panel`` after
    ``origin`` are dropped first, so they cannot influence any feature; the plan for the target days
    comes from ``future`` (or defaults to the last regular price, no promotion).
    """
    if int(horizon) != horizon or horizon < 1:
        raise ValueError(f"horizon must be a positive integer, got {horizon!r}")
    _validate(panel, FORECAST_PANEL_COLUMNS, "the panel")
    origin = pd.Timestamp(origin).normalize()
    known = panel[pd.to_datetime(panel["date"]).dt.normalize() <= origin]
    if known.empty:
        raise ValueError(f"the panel has no rows on or before the origin {origin.date()}")
    cube = panel_cube(known, end=origin)
    o = cube.day(origin)
    return _origin_features(cube, o, int(horizon), plan_for_origin(cube, o, int(horizon), future))


def training_origins(dates, horizon: int, every_days: int, *, min_history: int = 28, end=None) -> list[pd.Timestamp]:
    """Origins for training rows: every ``every_days`` days back from the last origin whose first target
    is still observed (``end`` - 1 day, ``end`` defaulting to the last date), keeping ``min_history``
    days of history before each. When the step is a multiple of 7, the origin's weekday is rotated
    (origin k moves back k mod 7 extra days), so the model sees every (weekday, horizon) pair and cannot
    tie a horizon to one weekday."""
    dates = pd.to_datetime(pd.Series(dates))
    first, last = dates.min().normalize(), (dates.max() if end is None else pd.Timestamp(end)).normalize()
    origins, k = [], 0
    while True:
        shift = k % 7 if every_days % 7 == 0 else 0
        origin = last - pd.Timedelta(days=1 + k * every_days + shift)
        if origin < first + pd.Timedelta(days=min_history - 1):
            break
        origins.append(origin)
        k += 1
    return sorted(origins)


def training_rows(panel_or_cube, origins: Iterable, horizon: int) -> pd.DataFrame:
    """Feature rows for many origins with the targets ``units`` and ``is_stockout`` of each target day.

    The plan is what actually happened on the target day; everything else is the same computation as
    :func:`build_features`, restricted to days <= origin. Target days past the data or without a
    known ``units`` are dropped; stockout target days are kept and flagged (their units are censored).
    """
    cube = panel_or_cube if isinstance(panel_or_cube, PanelCube) else panel_cube(panel_or_cube)
    frames = []
    for origin in origins:
        o = cube.day(origin)
        if not 0 <= o < len(cube.dates) - 1:
            continue
        frame = _origin_features(cube, o, horizon, plan_for_origin(cube, o, horizon, actual=True))
        days = o + np.arange(1, horizon + 1)
        inside = days < len(cube.dates)
        units = np.full((cube.n_series, horizon), np.nan)
        stockout = np.zeros((cube.n_series, horizon), dtype=bool)
        units[:, inside] = cube.units[:, days[inside]]
        stockout[:, inside] = cube.stockout[:, days[inside]]
        frame["units"], frame["is_stockout"] = units.reshape(-1), stockout.reshape(-1)
        exists = np.repeat(cube.first_day <= o, horizon)  # as at prediction: only series seen by the origin
        frames.append(frame[frame["units"].notna().to_numpy() & exists])
    if not frames:
        raise ValueError("no origin leaves a target day inside the panel: the history is too short")
    return pd.concat(frames, ignore_index=True)
