"""Health and performance figures (matplotlib), drawn from ``summary.json`` alone; ``None``
when there is nothing to draw."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from obskit._format import finite, fmt_num
from obskit.render._common import (
    _QUANTILE_COLORS,
    COLOR_ALERT,
    COLOR_CURRENT,
    COLOR_ESTIMATED,
    COLOR_REFERENCE,
    _alert_positions,
    _logged,
    _map,
    _metric_name,
    _mpl,
    _rule_threshold,
    _series,
    _windows,
)
from obskit.render.plotting import no_data, shade, window_axis


def health_figure(summary: Mapping[str, Any]) -> Figure | None:
    """Volume, latency quantiles and error rate over windows, with the alert thresholds.

    Parameters
    ----------
    summary : Mapping
        The run's ``summary.json`` document.

    Returns
    -------
    Figure or None
        Three panels sharing the window axis; ``None`` when there are no windows.
    """
    windows = _windows(summary)
    if not windows:
        return None
    x = np.arange(len(windows))
    alerting = _alert_positions(summary, windows, "health.")
    # a series whose column the log lacks is left out (health_notes_html says why)
    has_lat, has_err = _logged(summary, "latency_ms"), _logged(summary, "status", "error")
    n = 1 + has_lat + has_err
    fig = Figure(figsize=(9, 1.2 + 2.13 * n), layout="constrained")
    axes = list(np.atleast_1d(fig.subplots(n, 1, sharex=True)))
    ax_rows = axes.pop(0)
    ax_lat = axes.pop(0) if has_lat else None
    ax_err = axes.pop(0) if has_err else None
    fig.suptitle("Service health per window", fontweight="bold")

    rows = _series(windows, "rows")
    ok = np.array([w.get("status") == "ok" for w in windows])
    ax_rows.bar(x[ok], np.nan_to_num(rows[ok]), width=0.8, color=COLOR_CURRENT, label="rows")
    if (~ok).any():
        ax_rows.bar(x[~ok], np.nan_to_num(rows[~ok]), width=0.8, color=COLOR_REFERENCE,
                    label="empty / too few rows")
    min_rows = finite(_map(summary.get("methods")).get("min_window_rows"))
    if min_rows:
        ax_rows.axhline(min_rows, color=COLOR_REFERENCE, ls="--", lw=1,
                        label=f"minimum rows per window ({min_rows:,.0f})")
    ax_rows.set_ylim(0, max(np.nanmax(rows, initial=0), min_rows or 0, 1) * 1.3)
    ax_rows.set_title("Volume")
    ax_rows.set_ylabel("Rows per window")

    if ax_lat is not None:
        threshold = _rule_threshold(summary, "health.latency_p95_ms")
        any_latency = False
        for q in ("p50", "p95", "p99"):
            values = _series(windows, "health", f"latency_{q}_ms")
            if np.isfinite(values).any():
                any_latency = True
                ax_lat.plot(x, values, marker="o", ms=3, color=_QUANTILE_COLORS[q], label=q)
        if threshold is not None and any_latency:  # no line through the "no values" note
            ax_lat.axhline(threshold, color=COLOR_ALERT, ls="--", lw=1.2,
                           label=f"p95 alert threshold ({threshold:,.0f} ms)")
            p95 = _series(windows, "health", "latency_p95_ms")
            over = np.isfinite(p95) & (p95 > threshold)
            ax_lat.scatter(x[over], p95[over], color=COLOR_ALERT, zorder=3, s=30)
        if not any_latency:
            no_data(ax_lat, "no latency values in these windows")
        ax_lat.set_title("Latency quantiles")
        ax_lat.set_ylabel("Latency (ms)")

    if ax_err is not None:
        err = _series(windows, "health", "error_rate", scale=100)
        threshold = _rule_threshold(summary, "health.error_rate")
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


def _performance_metrics(summary: Mapping[str, Any],
                         windows: list[Mapping[str, Any]]) -> list[str]:
    """Metrics with a realized or estimated value in some window: the headline ones first
    (the task's primary metric leading), at most ``MAX_PERFORMANCE_PANELS``."""
    seen: list[str] = []
    for w in windows:
        for key in ("performance", "estimated_performance"):
            for metric, value in _map(w.get(key)).items():
                if metric not in seen and finite(value) is not None:
                    seen.append(str(metric))
    ranked = sorted(seen, key=lambda m: (_PANEL_ORDER.index(m) if m in _PANEL_ORDER
                                         else len(_PANEL_ORDER), seen.index(m)))
    return ranked[:MAX_PERFORMANCE_PANELS]


def _band(windows: list[Mapping[str, Any]], key: str, metric: str
          ) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds per window from ``key`` (metric → [lo, hi])."""
    lo, hi = [], []
    for w in windows:
        pair = _map(w.get(key)).get(metric)
        pair = pair if isinstance(pair, (list, tuple)) and len(pair) == 2 else (None, None)
        lo.append(np.nan if finite(pair[0]) is None else finite(pair[0]))
        hi.append(np.nan if finite(pair[1]) is None else finite(pair[1]))
    return np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)


def performance_figure(summary: Mapping[str, Any]) -> Figure | None:
    """Realized performance per metric over windows against the reference, and label coverage.

    Parameters
    ----------
    summary : Mapping
        The run's ``summary.json`` document.

    Returns
    -------
    Figure or None
        One panel per metric (reference dashed, alerting windows marked) and a label
        coverage panel; ``None`` when no window has a performance value.
    """
    windows = _windows(summary)
    metrics = _performance_metrics(summary, windows)
    if not metrics:
        return None
    reference = _map(_map(summary.get("reference")).get("performance"))
    x = np.arange(len(windows))
    ncols = 1 if len(metrics) == 1 else 2
    nrows = math.ceil(len(metrics) / ncols)
    fig = Figure(figsize=(9, 2.3 * nrows + 2.2), layout="constrained")
    grid = fig.add_gridspec(nrows + 1, ncols, height_ratios=[1.0] * nrows + [0.8])
    fig.suptitle("Performance per window: realized and estimated", fontweight="bold")
    legend: dict[str, Any] = {}
    for i, metric in enumerate(metrics):
        ax = fig.add_subplot(grid[i // ncols, i % ncols])
        values = _series(windows, "performance", metric)
        lo, hi = _band(windows, "performance_ci", metric)
        if np.isfinite(lo).any():
            ax.fill_between(x, lo, hi, color=COLOR_CURRENT, alpha=0.15, lw=0,
                            label="realized, 95% interval")
        ax.plot(x, values, marker="o", ms=3, color=COLOR_CURRENT, label="realized (labels)")
        estimated = _series(windows, "estimated_performance", metric)
        if np.isfinite(estimated).any():
            elo, ehi = _band(windows, "estimated_performance_ci", metric)
            if np.isfinite(elo).any():
                ax.fill_between(x, elo, ehi, color=COLOR_ESTIMATED, alpha=0.10, lw=0,
                                label="estimated, sampling error")
            ax.plot(x, estimated, marker="s", ms=3, ls=":", color=COLOR_ESTIMATED,
                    label="estimated (no labels)")
        ref = finite(reference.get(metric))
        if ref is not None:
            ax.axhline(ref, color=COLOR_REFERENCE, ls="--", lw=1.2,
                       label=f"reference ({fmt_num(ref)})")
        fired = sorted(_alert_positions(summary, windows, f"performance.{metric}"))
        if fired:
            ax.scatter(x[fired], values[fired], color=COLOR_ALERT, zorder=3, s=30,
                       label="alert (drop beyond allowed)")
        ax.set_title(_mpl(_metric_name(metric) + (f" (reference {fmt_num(ref)})"
                                                  if ref is not None else "")))
        ax.set_ylabel(_mpl(f"{_metric_name(metric)} (score)"))
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
    coverage = _series(windows, "label_coverage", scale=100)
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
