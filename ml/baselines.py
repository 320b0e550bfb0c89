"""Baselines the demand forecaster must beat: seasonal naive, and a plain gradient-boosting peer.

A model is only worth its complexity if it beats what anyone would try first, measured on the same
holdout: the seasonal naive forecast (last week's same weekday) and :class:`PlainGBM`, the model a
competent team without this project's care would ship: a gradient-boosting regressor on raw columns,
unit lags and codes, trained on sales as recorded. In particular it treats stockout days as ordinary
days (censored sales teach it that demand was low), and it sees the raw price, not prices relative to
the product's own references. Both return the forecaster's columns with a ``p50`` point forecast.

``PlainGBM.predict_units`` answers "how many units would these rows have sold at a different price",
which is how the benchmark reads a black-box model's implied price response: the same rows with the
``price`` column changed differ only in the price feature (lags, calendar and codes come from units,
dates and identifiers, which the caller leaves alone).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.features import FORECAST_PANEL_COLUMNS, PanelCube, panel_cube, plan_for_origin, training_origins
from ml.threads import limit_threads

__all__ = ["PlainGBM", "seasonal_naive"]

KEYS = ["origin", "date", "horizon", "product_id", "channel"]
UNIT_LAGS = 7  # units on each of the last 7 days up to the origin


def _check_horizon(horizon) -> int:
    if int(horizon) != horizon or horizon < 1:
        raise ValueError(f"horizon must be a positive integer, got {horizon!r}")
    return int(horizon)


def _known_cube(panel: pd.DataFrame, origin) -> tuple[PanelCube, int]:
    origin = pd.Timestamp(origin).normalize()
    known = panel[pd.to_datetime(panel["date"]).dt.normalize() <= origin]
    if known.empty:
        raise ValueError(f"the panel has no rows on or before the origin {origin.date()}")
    cube = panel_cube(known, end=origin)
    return cube, cube.day(origin)


def _keys(cube: PanelCube, origin: int, horizon: int) -> pd.DataFrame:
    """Key columns of the ``series x horizon`` grid of one origin, series-major."""
    hs = np.arange(1, horizon + 1)
    origin_date = cube.dates[0] + pd.Timedelta(days=origin)
    return pd.DataFrame({
        "origin": origin_date,
        "date": np.tile((origin_date + pd.to_timedelta(hs, unit="D")).to_numpy(), cube.n_series),
        "horizon": np.tile(hs, cube.n_series),
        "product_id": np.repeat(cube.product_id, horizon),
        "channel": np.repeat(cube.channel, horizon),
    })


def seasonal_naive(panel: pd.DataFrame, origin, horizon: int = 14) -> pd.DataFrame:
    """``p50`` = units sold on the same weekday in the last week up to ``origin`` (as recorded, 0 if no row).

    Target ``origin + h`` copies day ``origin + h - 7 * ceil(h / 7)``: for h <= 7 last week's, for
    8 <= h <= 14 the same day again (the newest observation of that weekday).
    """
    horizon = _check_horizon(horizon)
    cube, o = _known_cube(panel, origin)
    hs = np.arange(1, horizon + 1)
    source = o + hs - 7 * np.ceil(hs / 7).astype(int)
    valid = source >= 0
    values = np.where(valid[None, :], cube.units[:, np.where(valid, source, 0)], np.nan)
    out = _keys(cube, o, horizon)
    out["p50"] = np.nan_to_num(values.reshape(-1), nan=0.0)
    return out


class PlainGBM:
    """The peer baseline: ``HistGradientBoostingRegressor`` on raw features, no censoring handling.

    Features of a target day at horizon ``h`` from an origin: planned ``price``, ``is_promo`` and
    ``discount_pct`` of the target day, last known ``competitor_price``, day of week, month, ``h``,
    channel and product codes, units of the last 7 days up to the origin (lags ``h ... h + 6``), of the
    same weekday last week, and their 7- and 28-day means, all as recorded (stockout days included).

    Args:
        horizon: days forecast from each origin.
        origin_every_days: spacing of the training origins (as :class:`~ml.forecast.DemandForecaster`).
        loss: ``"poisson"`` (counts) or ``"squared_error"``.
        max_iter, learning_rate, random_state: passed to the regressor.
        n_threads: OpenMP threads (None: all cores; default 1, see :class:`~ml.forecast.DemandForecaster`).

    Fitted attributes: ``model_``, ``feature_names_``, ``products_``, ``channels_``, ``history_`` (the
    fitted panel, the source of unit lags for :meth:`predict_units`), ``n_training_rows_``.
    """

    def __init__(self, *, horizon: int = 14, origin_every_days: int = 7, loss: str = "poisson",
                 max_iter: int = 200, learning_rate: float = 0.1, random_state: int = 0,
                 n_threads: int | None = 1):
        self.horizon = horizon
        self.origin_every_days = origin_every_days
        self.loss = loss
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.random_state = random_state
        self.n_threads = n_threads

    feature_names = ("horizon", "day_of_week", "month", "channel", "product_id", "price", "competitor_price",
                     "is_promo", "discount_pct", *(f"units_lag_{k}" for k in range(UNIT_LAGS)),
                     "units_same_weekday", "units_mean_7", "units_mean_28")

    def _features(self, cube: PanelCube, origin: int, plan: dict[str, np.ndarray]) -> pd.DataFrame:
        """Raw feature rows (series x horizon, series-major) for one origin: days <= origin and ``plan``."""
        H, S = self.horizon, cube.n_series
        hs = np.arange(1, H + 1)
        frame = _keys(cube, origin, H)
        dates = pd.DatetimeIndex(frame["date"])
        units = cube.units  # as recorded: a stockout day is an ordinary day here

        def lag(day):
            return units[:, day] if day >= 0 else np.full(S, np.nan)

        def mean(days):
            window = units[:, max(origin + 1 - days, 0):origin + 1]
            counts = (~np.isnan(window)).sum(axis=1)
            return np.where(counts > 0, np.nansum(window, axis=1) / np.maximum(counts, 1), np.nan)

        same = origin + hs - 7 * np.ceil(hs / 7).astype(int)
        columns = {
            "horizon": frame["horizon"].to_numpy(),
            "day_of_week": dates.day_of_week.to_numpy(),
            "month": dates.month.to_numpy(),
            "channel": frame["channel"].to_numpy(),
            "product_id": frame["product_id"].to_numpy(),
            "price": plan["price"].reshape(-1),
            "competitor_price": np.repeat(cube.last_competitor[:, origin], H),
            "is_promo": plan["is_promo"].reshape(-1).astype(float),
            "discount_pct": plan["discount_pct"].reshape(-1),
            **{f"units_lag_{k}": np.repeat(lag(origin - k), H) for k in range(UNIT_LAGS)},
            "units_same_weekday": np.where(same >= 0, units[:, np.maximum(same, 0)], np.nan).reshape(-1),
            "units_mean_7": np.repeat(mean(7), H),
            "units_mean_28": np.repeat(mean(28), H),
        }
        return frame.assign(**columns)

    def _matrix(self, frame: pd.DataFrame) -> np.ndarray:
        columns = []
        for name in self.feature_names_:
            if name in ("channel", "product_id"):
                levels = self.channels_ if name == "channel" else self.products_
                codes = pd.Categorical(frame[name].astype(str), categories=levels).codes
                columns.append(np.where(codes < 0, np.nan, codes).astype(float))
            else:
                columns.append(frame[name].to_numpy(float))
        return np.column_stack(columns)

    def fit(self, panel: pd.DataFrame) -> PlainGBM:
        """Fit on a daily panel; every target day counts, stockout or not. Returns ``self``."""
        from sklearn.ensemble import HistGradientBoostingRegressor

        self.horizon = _check_horizon(self.horizon)
        cube = panel_cube(panel)
        frames = []
        for origin in training_origins(cube.dates, self.horizon, self.origin_every_days):
            o = cube.day(origin)
            frame = self._features(cube, o, plan_for_origin(cube, o, self.horizon, actual=True))
            days = o + np.arange(1, self.horizon + 1)
            inside = days < len(cube.dates)
            units = np.full((cube.n_series, self.horizon), np.nan)
            units[:, inside] = cube.units[:, days[inside]]
            frame["units"] = units.reshape(-1)
            frames.append(frame[frame["units"].notna().to_numpy()])
        rows = pd.concat(frames, ignore_index=True)

        self.feature_names_ = list(self.feature_names)
        self.channels_ = sorted(map(str, np.unique(cube.channel)))
        self.products_ = sorted(map(str, np.unique(cube.product_id)))
        # HistGradientBoosting takes at most 255 categories per feature; beyond, product codes stay ordinal.
        categorical = [name == "channel" or (name == "product_id" and len(self.products_) <= 250)
                       for name in self.feature_names_]
        model = HistGradientBoostingRegressor(
            loss=self.loss, max_iter=self.max_iter, learning_rate=self.learning_rate,
            categorical_features=categorical, early_stopping=False, random_state=self.random_state)
        with limit_threads(self.n_threads):
            self.model_ = model.fit(self._matrix(rows), rows["units"].to_numpy(float))
        self.history_ = panel[list(FORECAST_PANEL_COLUMNS)].copy()
        self.n_training_rows_ = int(len(rows))
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise RuntimeError("PlainGBM is not fitted: call fit(panel) first")

    def predict(self, panel: pd.DataFrame, origin, *, future: pd.DataFrame | None = None) -> pd.DataFrame:
        """``p50`` for every product x channel of ``panel`` seen by ``origin``, days 1..horizon."""
        self._check_fitted()
        cube, o = _known_cube(panel, origin)
        frame = self._features(cube, o, plan_for_origin(cube, o, self.horizon, future))
        out = frame[KEYS].copy()
        out["p50"] = self._predict(frame)
        return out.reset_index(drop=True)

    def _predict(self, frame: pd.DataFrame) -> np.ndarray:
        with limit_threads(self.n_threads):
            return np.clip(self.model_.predict(self._matrix(frame)), 0, None)

    def row_features(self, rows: pd.DataFrame, *, horizon: int = 1) -> pd.DataFrame:
        """Feature rows of arbitrary panel rows, each a target ``horizon`` days after its origin.

        ``rows`` has the panel's columns. Unit lags come from the fitted history and from the ``units``
        of ``rows`` themselves (on days up to each row's origin), the target day's price, promotion and
        discount from the row itself, the competitor price from the days up to the origin. One feature
        row per input row, in its order, with the key columns.
        """
        self._check_fitted()
        horizon = _check_horizon(horizon)
        if horizon > self.horizon:
            raise ValueError(f"horizon {horizon} exceeds the fitted horizon {self.horizon}")
        rows = rows.reset_index(drop=True)
        combined = pd.concat([self.history_, rows[list(FORECAST_PANEL_COLUMNS)]], ignore_index=True)
        combined["date"] = pd.to_datetime(combined["date"]).dt.normalize()
        combined = combined.drop_duplicates(["product_id", "channel", "date"], keep="last")  # rows win
        cube = panel_cube(combined)
        lookup = pd.Series(np.arange(cube.n_series), index=pd.MultiIndex.from_arrays([cube.product_id, cube.channel]))
        series = lookup.loc[pd.MultiIndex.from_frame(rows[["product_id", "channel"]].astype(str))].to_numpy()
        days = (pd.to_datetime(rows["date"]).dt.normalize() - cube.dates[0]).dt.days.to_numpy()
        if (days - horizon < 0).any():
            raise ValueError(f"rows on or before {(cube.dates[0] + pd.Timedelta(days=horizon - 1)).date()} have no "
                             f"origin {horizon} day(s) before them in the history")
        picked = []
        for day in np.unique(days):
            origin = day - horizon
            frame = self._features(cube, origin, plan_for_origin(cube, origin, self.horizon, actual=True))
            at = np.flatnonzero(days == day)
            picked.append(frame.iloc[series[at] * self.horizon + horizon - 1].set_axis(at))
        return pd.concat(picked).sort_index()

    def predict_units(self, rows: pd.DataFrame, *, horizon: int = 1) -> np.ndarray:
        """Predicted units of arbitrary panel rows (see :meth:`row_features`), one per row, in order.

        Built for counterfactuals: pass holdout rows with ``price`` multiplied by 1.1 and compare with
        the unmodified rows. Only the ``price`` feature differs between the two calls.
        """
        return self._predict(self.row_features(rows, horizon=horizon))
