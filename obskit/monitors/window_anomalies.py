"""Window anomalies: the window-level detector (pure functions over window series) and
the reason rates of row anomalies.

Two levels of "this looks wrong":

- **Windows** (:func:`window_anomalies`, pure): a window whose volume, p95 latency, error
  rate, mean score, drift share or headline metric is far from the usual value of that
  series, by a robust z-score (median and MAD, so one bad window does not hide itself).
  Hourly windows are compared with the same hour of other days once three days exist.
- **Rows** (:class:`obskit.monitors.row_anomalies.RowAnomalyMonitor`): single predictions that
  failed, were slow, saw inputs outside the reference, or were confidently wrong; its
  options are :class:`obskit.config.AnomalyConfig` (the ``anomalies`` config section).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from obskit._format import finite

__all__ = ["SERIES", "robust_z", "robust_baseline", "window_anomalies",
           "reason_rarity", "ROUTINE_P", "RARE_LIFT", "LIFT_CAP"]

#: 1 / Φ⁻¹(0.75): turns a median absolute deviation into a standard deviation (normal data)
MAD_TO_SD = 1.4826
#: √(π/2): turns a mean absolute deviation into a standard deviation (normal data)
MEAN_AD_TO_SD = 1.253314
#: fewest windows a baseline is computed from (per hour of day for a seasonal baseline)
MIN_BASELINE_WINDOWS = 5
MIN_SEASONAL_WINDOWS = 3
#: hourly windows spanning at least this many days are compared hour-of-day by hour-of-day
SEASONAL_DAYS = 3
#: the series judged, in this order: name → (words for a reader, unit)
SERIES: dict[str, tuple[str, str]] = {
    "volume": ("volume", "rows"),
    "latency_p95_ms": ("p95 latency", "ms"),
    "error_rate": ("error rate", "%"),
    "mean_score": ("mean score", ""),
    "drift_share": ("drift share", "%"),
    "roc_auc": ("ROC AUC", ""),
    "accuracy": ("accuracy", ""),
    "rmse": ("RMSE", ""),
}
#: the way a series gets worse (+1 up, -1 down); volume and mean score: either way. A move
#: the other way is reported at severity ``info`` (a latency drop is news, not an incident)
WORSE: dict[str, int] = {"latency_p95_ms": 1, "error_rate": 1, "drift_share": 1, "rmse": 1,
                         "roc_auc": -1, "accuracy": -1}
#: a reason is at its usual rate in a window unless its count there has a Poisson
#: upper-tail probability below this under the reference's rate
ROUTINE_P = 0.01
#: a reason firing this many times more often than on the reference is never routine
#: (one row of a reason the reference (nearly) never shows)
RARE_LIFT = 10.0
#: cap of the log10 lift term of a reason's weight factor
LIFT_CAP = 3.0
#: the performance series is the first of these metrics any window has
_PERFORMANCE = ("roc_auc", "accuracy", "rmse")


# --------------------------------------------------------------------------- robust z-scores


def robust_baseline(values: ArrayLike) -> tuple[float, float]:
    """(median, robust standard deviation) of the finite ``values``.

    The standard deviation is ``1.4826 · MAD``; when the MAD is 0 (over half the values
    equal), ``1.253314 · mean absolute deviation`` around the median; 0 when that is 0 too
    (or there are no finite values: then the median is NaN).

    >>> robust_baseline([1.0, 2.0, 3.0, 4.0, 100.0])
    (3.0, 1.4826)
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if not len(x):
        return float("nan"), 0.0
    median = float(np.median(x))
    dev = np.abs(x - median)
    mad = float(np.median(dev))
    if mad > 0:
        return median, MAD_TO_SD * mad
    return median, MEAN_AD_TO_SD * float(dev.mean())


def robust_z(values: ArrayLike) -> np.ndarray:
    """Robust z-score of each value: ``0.6745 · (x − median) / MAD`` over the values.

    Falls back to ``(x − median) / (1.253314 · mean absolute deviation)`` when the MAD is
    0, and gives NaN when that is 0 too (a flat series has no outliers). Non-finite values
    are left out of the baseline and get NaN.

    >>> robust_z([1.0, 2.0, 3.0, 4.0, 100.0]).round(2).tolist()
    [-1.35, -0.67, 0.0, 0.67, 65.43]
    """
    x = np.asarray(values, dtype=float)
    median, sd = robust_baseline(x)
    if sd <= 0:
        return np.full(x.shape, np.nan)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(x), (x - median) / sd, np.nan)


# --------------------------------------------------------------------------- reason rates


def reason_rarity(rows: float, checked: float, reference_rows: float,
                  reference_checked: float) -> tuple[float, bool]:
    """How much more often a reason fires in a window than on the reference.

    The reference rate is ``(reference_rows + 0.5) / (reference_checked + 1)`` (never 0:
    a reason the reference never shows, such as a value outside its range, has a rate
    below one in its rows). Returns ``(factor, elevated)``: ``factor = 1 + min(log10(
    max(lift, 1)), 3)`` with ``lift`` the window's rate over the reference's, the
    multiplier of the reason's weight in this window (1 at the usual rate, up to 4);
    ``elevated``: the window's count is more than the reference rate explains (Poisson
    upper tail below :data:`ROUTINE_P`), or its rate is at least :data:`RARE_LIFT` times
    the reference's (a reason the reference nearly never shows).

    Examples
    --------
    >>> reason_rarity(4, 400, 15, 1500)  # 1% of rows, as on the reference: routine
    (1.0, False)
    >>> factor, elevated = reason_rarity(380, 400, 0, 1500)  # a broken feature
    >>> round(factor, 2), elevated
    (4.0, True)
    """
    from scipy import stats

    if checked <= 0 or rows <= 0:
        return 1.0, False
    rate = (reference_rows + 0.5) / (reference_checked + 1.0)
    lift = (rows / checked) / rate
    factor = 1.0 + min(math.log10(max(lift, 1.0)), LIFT_CAP)
    elevated = lift >= RARE_LIFT or float(stats.poisson.sf(rows - 1, checked * rate)) < ROUTINE_P
    return factor, bool(elevated)


# --------------------------------------------------------------------------- window detector


def _series_values(window: Mapping[str, Any], performance: str | None) -> dict[str, Any]:
    health = window.get("health") or {}
    perf = window.get("performance") or {}
    return {
        # a partial window (data starting late or stopping early in it) has fewer rows
        # by construction: its volume is not judged
        "volume": None if window.get("partial") else window.get("rows"),
        "latency_p95_ms": health.get("latency_p95_ms"),
        "error_rate": health.get("error_rate"),
        "mean_score": window.get("mean_score"),
        "drift_share": window.get("drift_share"),
        **({performance: perf.get(performance)} if performance else {}),
    }


def _start(window: Mapping[str, Any]) -> pd.Timestamp | None:
    start = window.get("start")
    if start is None:
        return None
    ts = pd.Timestamp(start)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _is_hourly_seasonal(starts: list[pd.Timestamp | None]) -> bool:
    """Hourly windows (on the hour, 1 h apart) spanning at least ``SEASONAL_DAYS`` days."""
    known = sorted(s for s in starts if s is not None)
    if len(known) < 2 or any(s != s.floor("h") for s in known):
        return False
    gaps = np.diff([s.value for s in known]) / 1e9
    span = (known[-1] - known[0]).total_seconds()
    return float(gaps.min()) == 3600.0 and span >= (SEASONAL_DAYS * 24 - 1) * 3600


def _format(series: str, value: float) -> str:
    unit = SERIES[series][1]
    if unit == "%":
        return f"{value * 100:.3g}%"
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}" if unit else text


def _when(start: pd.Timestamp | None, index: int) -> str:
    if start is None:
        return f"in window {index}"
    if start == start.floor("D"):
        return f"on {start:%Y-%m-%d}"
    return f"on {start:%Y-%m-%d %H:%M} UTC"


def window_anomalies(windows: list[dict[str, Any]], *, threshold: float = 3.5,
                     seasonal: bool = True) -> list[dict[str, Any]]:
    """Windows whose value of a series is far from that series' usual value.

    Each series (``volume`` = rows, ``latency_p95_ms``, ``error_rate``, ``mean_score``,
    ``drift_share`` and the first of ``roc_auc`` / ``accuracy`` / ``rmse`` that any window
    has) is judged by the robust z-score of :func:`robust_z` against the median of the
    windows whose ``status`` is ``ok`` (other windows are skipped; the volume of a
    ``partial`` window is neither judged nor part of the baseline). For hourly windows
    spanning at least three days the baseline is the windows of the same hour of day
    (when there are at least three of them), so a daily cycle is not an anomaly but a
    break in it is. A series needs at least five windows with values to be judged; a flat
    series (MAD and mean absolute deviation both 0) never is.

    Parameters
    ----------
    windows : list of dict
        The window records of ``summary.json`` (``index, start, rows, status, mean_score,
        drift_share, health{latency_p95_ms, error_rate}, performance{...}``).
    threshold : float, default 3.5
        ``|robust z|`` from which a value is anomalous; ``critical`` from twice it.
    seasonal : bool, default True
        Use the hour-of-day baseline for hourly windows (False: always the whole series).

    Returns
    -------
    list of dict
        One per anomalous (window, series), by window then ``|robust_z|`` (largest first):
        ``window, window_start, series, value, baseline, robust_z, severity, text``.

    Examples
    --------
    >>> p95 = [101, 140, 121, 160, 95, 122, 83, 133, 1042, 120]
    >>> ws = [{"index": i, "start": f"2026-11-{i + 1:02d}T00:00:00Z", "rows": 1000,
    ...        "status": "ok", "health": {"latency_p95_ms": v}} for i, v in enumerate(p95)]
    >>> [a["text"] for a in window_anomalies(ws)]
    ['p95 latency 1,042 ms on 2026-11-09 is 31.8 robust SDs above its usual 122 ms']
    """
    ok = [w for w in windows if w.get("status") == "ok"]
    performance = next((m for m in _PERFORMANCE for w in ok
                        if finite((w.get("performance") or {}).get(m)) is not None), None)
    starts = [_start(w) for w in windows]
    by_hour = seasonal and _is_hourly_seasonal(starts)
    ok_starts = [_start(w) for w in ok]
    hours = np.array([s.hour if s is not None else -1 for s in ok_starts])
    rows = [_series_values(w, performance) for w in ok]
    found: list[dict[str, Any]] = []
    for series in SERIES:
        if series in _PERFORMANCE and series != performance:
            continue
        got = [finite(row.get(series)) for row in rows]
        values = np.array([np.nan if v is None else v for v in got], dtype=float)
        has = np.isfinite(values)
        if has.sum() < MIN_BASELINE_WINDOWS:
            continue
        overall = robust_baseline(values)
        for i, w in enumerate(ok):
            if not has[i]:
                continue
            median, sd = overall
            hour = None
            if by_hour and hours[i] >= 0:
                same = values[(hours == hours[i]) & has]
                if len(same) >= MIN_SEASONAL_WINDOWS:
                    median, sd = robust_baseline(same)
                    hour = int(hours[i])
            if sd <= 0:
                continue
            z = (values[i] - median) / sd
            if abs(z) < threshold:
                continue
            usual = _format(series, median) + (f" at {hour:02d}:00" if hour is not None
                                               else "")
            text = (f"{SERIES[series][0]} {_format(series, values[i])} "
                    f"{_when(ok_starts[i], int(w['index']))} is {abs(z):.1f} robust SDs "
                    f"{'above' if z > 0 else 'below'} its usual {usual}")
            found.append({
                "window": int(w["index"]), "window_start": w.get("start"), "series": series,
                "value": float(values[i]), "baseline": median, "robust_z": float(z),
                "severity": ("info" if WORSE.get(series, 0) * z < 0
                             else "critical" if abs(z) >= 2 * threshold else "warning"),
                "text": text,
            })
    found.sort(key=lambda a: (a["window"], -abs(a["robust_z"])))
    return found
