"""Health and performance figures (matplotlib), drawn from a typed
:class:`~obskit.results.Run` alone; ``None`` when there is nothing to draw."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from obskit._format import finite, fmt_num
from obskit.render.common import (
    COLOR_ALERT,
    COLOR_CURRENT,
    COLOR_ESTIMATED,
    COLOR_REFERENCE,
    QUANTILE_COLORS,
    alert_positions,
    complete,
    logged,
    metric_name,
    mpl,
    rule_threshold,
    series,
)
from obskit.render.plotting import no_data, shade, window_axis
from obskit.results import Run, Window
from obskit.results.windows import Interval

__all__ = ["MAX_PERFORMANCE_PANELS", "health_figure", "performance_figure",
           "performance_metrics"]


def _health(key: str) -> Callable[[Window], Any]:
    """A reader of one health field (``latency_p95_ms``, ...) of a window."""
    return lambda w: getattr(w.health, key)


def _metric(field: str, metric: str) -> Callable[[Window], Any]:
    """A reader of one metric of a window's ``performance`` or ``estimated_performance``."""
    return lambda w: getattr(w, field).get(metric)


def health_figure(run: Run) -> Figure | None:
    """Volume, latency quantiles and error rate over windows, with the alert thresholds.

    Parameters
    ----------
    run : Run
        The run (its windows, alert rules, alerts and roles).

    Returns
    -------
    Figure or None
        Three panels sharing the window axis; ``None`` when there are no windows.
    """
    run = complete(run)
    windows = run.windows
    if not windows:
        return None
    x = np.arange(len(windows))
    alerting = alert_positions(run, windows, "health.")
    # a series whose column the log lacks is left out (health_notes_html says why)
    has_lat, has_err = logged(run, "latency_ms"), logged(run, "status", "error")
    n = 1 + has_lat + has_err
    fig = Figure(figsize=(9, 1.2 + 2.13 * n), layout="constrained")
    axes = list(np.atleast_1d(fig.subplots(n, 1, sharex=True)))
    ax_rows = axes.pop(0)
    ax_lat = axes.pop(0) if has_lat else None
    ax_err = axes.pop(0) if has_err else None
    fig.suptitle("Service health per window", fontweight="bold")

    rows = series(windows, lambda w: w.rows)
    ok = np.array([w.status == "ok" for w in windows])
    ax_rows.bar(x[ok], np.nan_to_num(rows[ok]), width=0.8, color=COLOR_CURRENT, label="rows")
    if (~ok).any():
        ax_rows.bar(x[~ok], np.nan_to_num(rows[~ok]), width=0.8, color=COLOR_REFERENCE,
                    label="empty / too few rows")
    min_rows = finite(run.methods.min_window_rows)
    if min_rows:
        ax_rows.axhline(min_rows, color=COLOR_REFERENCE, ls="--", lw=1,
                        label=f"minimum rows per window ({min_rows:,.0f})")
    ax_rows.set_ylim(0, max(np.nanmax(rows, initial=0), min_rows or 0, 1) * 1.3)
    ax_rows.set_title("Volume")
    ax_rows.set_ylabel("Rows per window")

    if ax_lat is not None:
        threshold = rule_threshold(run, "health.latency_p95_ms")
        any_latency = False
        for q in ("p50", "p95", "p99"):
            values = series(windows, _health(f"latency_{q}_ms"))
            if np.isfinite(values).any():
                any_latency = True
                ax_lat.plot(x, values, marker="o", ms=3, color=QUANTILE_COLORS[q], label=q)
        if threshold is not None and any_latency:  # no line through the "no values" note
            ax_lat.axhline(threshold, color=COLOR_ALERT, ls="--", lw=1.2,
                           label=f"p95 alert threshold ({threshold:,.0f} ms)")
            p95 = series(windows, lambda w: w.health.latency_p95_ms)
            over = np.isfinite(p95) & (p95 > threshold)
            ax_lat.scatter(x[over], p95[over], color=COLOR_ALERT, zorder=3, s=30)
        if not any_latency:
            no_data(ax_lat, "no latency values in these windows")
        ax_lat.set_title("Latency quantiles")
        ax_lat.set_ylabel("Latency (ms)")

    if ax_err is not None:
        err = series(windows, lambda w: w.health.error_rate, scale=100)
        threshold = rule_threshold(run, "health.error_rate")
        if np.isfinite(err).any():
            ax_err.plot(x, err, marker="o", ms=3, color=COLOR_CURRENT, label="error rate")
        else:
            no_data(ax_err, "no error status in these windows")
        if threshold is not None and np.isfinite(err).any():
            ax_err.axhline(threshold * 100, color=COLOR_ALERT, ls="--", lw=1.2,
                           label=f"alert threshold ({threshold:.1%})")
            over = np.isfinite(err) & (err > threshold * 100)
            ax_err.scatter(x[over], err[over], color=COLOR_ALERT, zorder=3, s=30)
        ax_err.set_title("Error rate")
        ax_err.set_ylabel("Errors (% of rows)")
        ax_err.set_ylim(bottom=0)

    for ax in (a for a in (ax_rows, ax_lat, ax_err) if a is not None):
        shade(ax, alerting)
        handles, labels = ax.get_legend_handles_labels()
        if alerting:
            handles.append(Patch(color=COLOR_ALERT, alpha=0.25))
            labels.append("window with a health alert")
        if handles:
            ax.legend(handles, labels, fontsize=7, loc="upper left", frameon=False,
                      ncols=min(len(handles), 4))
        ax.margins(y=0.15)
    window_axis([a for a in (ax_rows, ax_lat, ax_err) if a is not None][-1], windows)
    return fig


#: Panels shown, in this order, when present (at most MAX_PERFORMANCE_PANELS).
_PANEL_ORDER = ("roc_auc", "accuracy", "f1", "f1_macro", "precision", "recall", "pr_auc",
                "f1_weighted", "log_loss", "brier", "ece", "mae", "rmse", "r2", "mape",
                "mean_error")
MAX_PERFORMANCE_PANELS = 6


def performance_metrics(windows: Sequence[Window]) -> list[str]:
    """Metrics with a realized or estimated value in some window, the headline ones first.

    Parameters
    ----------
    windows : sequence of Window

    Returns
    -------
    list of str
        Metric names in panel order, at most ``MAX_PERFORMANCE_PANELS``.
    """
    seen: list[str] = []
    for w in windows:
        for values in (w.performance, w.estimated_performance):
            for metric, value in values.items():
                if metric not in seen and finite(value) is not None:
                    seen.append(str(metric))
    ranked = sorted(seen, key=lambda m: (_PANEL_ORDER.index(m) if m in _PANEL_ORDER
                                         else len(_PANEL_ORDER), seen.index(m)))
    return ranked[:MAX_PERFORMANCE_PANELS]


def _band(intervals: Sequence[Mapping[str, Interval]], metric: str
          ) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds per window of ``metric`` (NaN where missing)."""
    lo, hi = [], []
    for per_metric in intervals:
        pair: Any = per_metric.get(metric)
        pair = pair if isinstance(pair, (list, tuple)) and len(pair) == 2 else (None, None)
        low, high = finite(pair[0]), finite(pair[1])
        lo.append(np.nan if low is None else low)
        hi.append(np.nan if high is None else high)
    return np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)


def performance_figure(run: Run) -> Figure | None:
    """Realized performance per metric over windows against the reference, and label coverage.

    Parameters
    ----------
    run : Run
        The run (its windows, reference performance and alerts).

    Returns
    -------
    Figure or None
        One panel per metric (reference dashed, alerting windows marked) and a label
        coverage panel; ``None`` when no window has a performance value.
    """
    run = complete(run)
    windows = run.windows
    metrics = performance_metrics(windows)
    if not metrics:
        return None
    reference = run.reference.performance
    x = np.arange(len(windows))
    ncols = 1 if len(metrics) == 1 else 2
    nrows = math.ceil(len(metrics) / ncols)
    fig = Figure(figsize=(9, 2.3 * nrows + 2.2), layout="constrained")
    grid = fig.add_gridspec(nrows + 1, ncols, height_ratios=[1.0] * nrows + [0.8])
    fig.suptitle("Performance per window: realized and estimated", fontweight="bold")
    legend: dict[str, Any] = {}
    for i, metric in enumerate(metrics):
        ax = fig.add_subplot(grid[i // ncols, i % ncols])
        values = series(windows, _metric("performance", metric))
        lo, hi = _band([w.performance_ci for w in windows], metric)
        if np.isfinite(lo).any():
            ax.fill_between(x, lo, hi, color=COLOR_CURRENT, alpha=0.15, lw=0,
                            label="realized, 95% interval")
        ax.plot(x, values, marker="o", ms=3, color=COLOR_CURRENT, label="realized (labels)")
        estimated = series(windows, _metric("estimated_performance", metric))
        if np.isfinite(estimated).any():
            elo, ehi = _band([w.estimated_performance_ci for w in windows], metric)
            if np.isfinite(elo).any():
                ax.fill_between(x, elo, ehi, color=COLOR_ESTIMATED, alpha=0.10, lw=0,
                                label="estimated, sampling error")
            ax.plot(x, estimated, marker="s", ms=3, ls=":", color=COLOR_ESTIMATED,
                    label="estimated (no labels)")
        ref = finite(reference.get(metric))
        if ref is not None:
            ax.axhline(ref, color=COLOR_REFERENCE, ls="--", lw=1.2,
                       label=f"reference ({fmt_num(ref)})")
        fired = sorted(alert_positions(run, windows, f"performance.{metric}"))
        if fired:
            ax.scatter(x[fired], values[fired], color=COLOR_ALERT, zorder=3, s=30,
                       label="alert (drop beyond allowed)")
        ax.set_title(mpl(metric_name(metric) + (f" (reference {fmt_num(ref)})"
                                                if ref is not None else "")))
        ax.set_ylabel(mpl(f"{metric_name(metric)} (score)"))
        ax.margins(y=0.2)
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label.startswith("reference"):
                label = "reference (dashed)"
            if label not in legend:
                legend[label] = handle
        window_axis(ax, windows, label=i // ncols == nrows - 1)
    fig.legend(list(legend.values()), list(legend), loc="outside lower center",
               ncols=len(legend), fontsize=8, frameon=False)
    ax = fig.add_subplot(grid[nrows, :])
    coverage = series(windows, lambda w: w.label_coverage, scale=100)
    if np.isfinite(coverage).any():
        ax.bar(x, np.nan_to_num(coverage), width=0.8, color=COLOR_CURRENT, alpha=0.45,
               label="labelled rows")
    else:
        no_data(ax, "no label coverage")
    ax.set_ylim(0, 105)
    ax.set_title("Label coverage")
    ax.set_ylabel("Labelled rows (%)")
    window_axis(ax, windows)
    return fig
