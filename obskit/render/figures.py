"""Report figures (matplotlib), drawn from ``summary.json`` alone; ``None`` when there is
nothing to draw."""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from obskit._format import finite as _num
from obskit._format import fmt_num as _fmt_num
from obskit._format import fmt_time as _fmt_time
from obskit.render._common import (
    _HEATMAP_CAP,
    _HEATMAP_MAX_FEATURES,
    _QUANTILE_COLORS,
    COLOR_ALERT,
    COLOR_CURRENT,
    COLOR_ESTIMATED,
    COLOR_REFERENCE,
    _alert_positions,
    _drift_rows,
    _list,
    _logged,
    _map,
    _metric_name,
    _mpl,
    _rule_threshold,
    _series,
    _windows,
)


def _window_axis(ax: Any, windows: list[Mapping[str, Any]], *, label: bool = True) -> None:
    """Window starts as readable date ticks on a positional x axis."""
    n = len(windows)
    step = max(1, math.ceil(n / 10))
    ticks = list(range(0, n, step))
    ax.set_xticks(ticks)
    ax.set_xticklabels([_mpl(_fmt_time(windows[i].get("start"))) for i in ticks],
                       rotation=30, ha="right", fontsize=8)
    ax.set_xlim(-0.6, n - 0.4)
    if label:
        ax.set_xlabel("Window start (UTC)")


def _no_data(ax: Any, text: str = "no data") -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center",
            color=COLOR_REFERENCE)


def _shade(ax: Any, positions: set[int]) -> None:
    for p in sorted(positions):
        ax.axvspan(p - 0.5, p + 0.5, color=COLOR_ALERT, alpha=0.12, lw=0)


def figure_to_data_uri(fig: Figure, *, dpi: int | None = None) -> str:
    """Render a figure as a PNG ``data:`` URI.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to render.
    dpi : int, optional
        Resolution; the figure's own by default.

    Returns
    -------
    str
        ``data:image/png;base64,...``, usable as an ``<img src>``.
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi or fig.dpi, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


# --------------------------------------------------------------------------- fragments



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
    min_rows = _num(_map(summary.get("methods")).get("min_window_rows"))
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
            _no_data(ax_lat, "no latency values in these windows")
        ax_lat.set_title("Latency quantiles")
        ax_lat.set_ylabel("Latency (ms)")

    if ax_err is not None:
        err = _series(windows, "health", "error_rate", scale=100)
        threshold = _rule_threshold(summary, "health.error_rate")
        if np.isfinite(err).any():
            ax_err.plot(x, err, marker="o", ms=3, color=COLOR_CURRENT, label="error rate")
        else:
            _no_data(ax_err, "no error status in these windows")
        if threshold is not None and np.isfinite(err).any():
            ax_err.axhline(threshold * 100, color=COLOR_ALERT, ls="--", lw=1.2,
                           label=f"alert threshold ({threshold:.1%})")
            over = np.isfinite(err) & (err > threshold * 100)
            ax_err.scatter(x[over], err[over], color=COLOR_ALERT, zorder=3, s=30)
        ax_err.set_title("Error rate")
        ax_err.set_ylabel("Errors (% of rows)")
        ax_err.set_ylim(bottom=0)

    for ax in (a for a in (ax_rows, ax_lat, ax_err) if a is not None):
        _shade(ax, alerting)
        handles, labels = ax.get_legend_handles_labels()
        if alerting:
            handles.append(Patch(color=COLOR_ALERT, alpha=0.25))
            labels.append("window with a health alert")
        if handles:
            ax.legend(handles, labels, fontsize=7, loc="upper left", frameon=False,
                      ncols=min(len(handles), 4))
        ax.margins(y=0.15)
    _window_axis([a for a in (ax_rows, ax_lat, ax_err) if a is not None][-1], windows)
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
                if metric not in seen and _num(value) is not None:
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
        lo.append(np.nan if _num(pair[0]) is None else _num(pair[0]))
        hi.append(np.nan if _num(pair[1]) is None else _num(pair[1]))
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
        ref = _num(reference.get(metric))
        if ref is not None:
            ax.axhline(ref, color=COLOR_REFERENCE, ls="--", lw=1.2,
                       label=f"reference ({_fmt_num(ref)})")
        fired = sorted(_alert_positions(summary, windows, f"performance.{metric}"))
        if fired:
            ax.scatter(x[fired], values[fired], color=COLOR_ALERT, zorder=3, s=30,
                       label="alert (drop beyond allowed)")
        ax.set_title(_mpl(_metric_name(metric) + (f" (reference {_fmt_num(ref)})"
                                                  if ref is not None else "")))
        ax.set_ylabel(_mpl(f"{_metric_name(metric)} (score)"))
        ax.margins(y=0.2)
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label.startswith("reference"):
                label = "reference (dashed)"
            if label not in legend:
                legend[label] = handle
        _window_axis(ax, windows, label=i // ncols == nrows - 1)
    fig.legend(list(legend.values()), list(legend), loc="outside lower center",
               ncols=len(legend), fontsize=8, frameon=False)
    ax = fig.add_subplot(grid[nrows, :])
    coverage = _series(windows, "label_coverage", scale=100)
    if np.isfinite(coverage).any():
        ax.bar(x, np.nan_to_num(coverage), width=0.8, color=COLOR_CURRENT, alpha=0.45,
               label="labelled rows")
    else:
        _no_data(ax, "no label coverage")
    ax.set_ylim(0, 105)
    ax.set_title("Label coverage")
    ax.set_ylabel("Labelled rows (%)")
    _window_axis(ax, windows)
    return fig



def drift_figure(summary: Mapping[str, Any]) -> Figure | None:
    """Share of drifted features over windows, and a feature × window heatmap.

    Parameters
    ----------
    summary : Mapping
        The run's ``summary.json`` document.

    Returns
    -------
    Figure or None
        Two panels: the drifted share with its alert threshold, and each feature's score
        relative to its threshold (capped at 3; drifted cells marked ×). ``None`` when no
        window has a drift value.
    """
    windows = _windows(summary)
    features = [f for f, _ in _drift_rows(summary)]
    for w in windows:
        features += [str(f) for f in _map(w.get("drift")) if str(f) not in features]
    if not windows or not features:
        return None
    shown = features[:_HEATMAP_MAX_FEATURES]
    ratio = np.full((len(shown), len(windows)), np.nan)
    drifted = np.zeros_like(ratio, dtype=bool)
    for j, w in enumerate(windows):
        drift = _map(w.get("drift"))
        for i, f in enumerate(shown):
            d = _map(drift.get(f))
            value, threshold = _num(d.get("value")), _num(d.get("threshold"))
            if value is not None and threshold:
                ratio[i, j] = min(value / threshold, _HEATMAP_CAP)
            drifted[i, j] = d.get("drifted") is True
    share = _series(windows, "drift_share", scale=100)
    if not np.isfinite(ratio).any() and not np.isfinite(share).any():
        return None

    x = np.arange(len(windows))
    fig = Figure(figsize=(9, 2.6 + 0.28 * len(shown) + 0.9), layout="constrained")
    grid = fig.add_gridspec(2, 1, height_ratios=[2.2, 0.28 * len(shown) + 0.9])
    fig.suptitle("Drift per window", fontweight="bold")
    ax = fig.add_subplot(grid[0])
    ax.plot(x, share, marker="o", ms=3, color=COLOR_CURRENT, label="share drifted")
    threshold = _rule_threshold(summary, "drift_share")
    if threshold is not None:
        ax.axhline(threshold * 100, color=COLOR_ALERT, ls="--", lw=1.2,
                   label=f"alert threshold ({threshold:.0%})")
        over = np.isfinite(share) & (share > threshold * 100)
        ax.scatter(x[over], share[over], color=COLOR_ALERT, zorder=3, s=30)
    ax.set_ylim(bottom=0, top=max(10.0, np.nanmax(share, initial=0) * 1.2,
                                  (threshold or 0) * 120))
    ax.set_title("Share of drifted features")
    ax.set_ylabel("Features drifted (%)")
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    _window_axis(ax, windows, label=False)

    ax = fig.add_subplot(grid[1])
    image = ax.imshow(np.ma.masked_invalid(ratio), aspect="auto", cmap="YlOrRd", vmin=0,
                      vmax=_HEATMAP_CAP, interpolation="nearest")
    ys, xs = np.nonzero(drifted)
    dark = np.nan_to_num(ratio[ys, xs]) >= 2  # white marks on the darkest cells
    ax.scatter(xs, ys, marker="x", c=np.where(dark, "white", "black"), s=18, lw=1)
    ax.set_yticks(range(len(shown)))
    ax.set_yticklabels([_mpl(f) for f in shown], fontsize=8)
    extra = f" (top {len(shown)} of {len(features)})" if len(features) > len(shown) else ""
    ax.set_title(f"Score relative to threshold per feature{extra}; × = drifted")
    ax.set_ylabel("Feature")
    _window_axis(ax, windows)
    bar = fig.colorbar(image, ax=ax, shrink=0.9, pad=0.01)
    bar.set_label("score / threshold (capped at 3)", fontsize=8)
    return fig


_MV_TITLES = {"domain_classifier": ("Domain classifier: can a model tell window from reference?",
                                    "Cross-validated ROC AUC"),
              "pca_reconstruction": ("PCA reconstruction error (fit on the reference)",
                                     "Mean error (scaled units)")}


def multivariate_figure(summary: Mapping[str, Any]) -> Figure | None:
    """Multivariate drift over windows: one panel per method with its threshold(s).

    Parameters
    ----------
    summary : Mapping
        The run's ``summary.json`` document.

    Returns
    -------
    Figure or None
        ``None`` when no window has a multivariate drift value.
    """
    windows = _windows(summary)
    methods: list[str] = []
    for w in windows:
        methods += [str(m) for m in _map(w.get("multivariate_drift")) if str(m) not in methods]
    methods = [m for m in methods
               if np.isfinite(_series(windows, "multivariate_drift", m, "value")).any()]
    if not methods:
        return None
    x = np.arange(len(windows))
    fig = Figure(figsize=(9, 2.4 * len(methods) + 0.4), layout="constrained")
    fig.suptitle("Multivariate drift per window", fontweight="bold")
    for i, method in enumerate(methods):
        ax = fig.add_subplot(len(methods), 1, i + 1)
        values = _series(windows, "multivariate_drift", method, "value")
        ax.plot(x, values, marker="o", ms=3, color=COLOR_CURRENT, label="window")
        for key, label in (("threshold", "threshold"), ("threshold_lower", "lower bound"),
                           ("threshold_upper", "upper bound")):
            bound = _series(windows, "multivariate_drift", method, key)
            if np.isfinite(bound).any():
                ax.plot(x, bound, ls="--", lw=1.2, color=COLOR_ALERT, label=label)
        drifted = np.array([_map(_map(w.get("multivariate_drift")).get(method)).get("drifted")
                            is True for w in windows])
        ax.scatter(x[drifted], values[drifted], color=COLOR_ALERT, zorder=3, s=30,
                   label="drifted")
        title, ylabel = _MV_TITLES.get(method, (_mpl(method), "value"))
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=7, frameon=False, loc="upper left")
        _window_axis(ax, windows, label=i == len(methods) - 1)
    return fig


# --------------------------------------------------------------------------- drift table


def _sparkline(dist: Mapping[str, Any]) -> Figure | None:
    """Reference (grey bars) vs current (blue) shares of one feature, ~2.4 × 0.8 in."""
    ref = np.asarray([_num(v) or 0.0 for v in _list(dist.get("reference"))], dtype=float)
    cur = np.asarray([_num(v) or 0.0 for v in _list(dist.get("current"))], dtype=float)
    n = min(len(ref), len(cur))
    if n == 0 or (ref[:n].sum() == 0 and cur[:n].sum() == 0):
        return None
    ref, cur = ref[:n], cur[:n]
    ref = ref / ref.sum() if ref.sum() else ref
    cur = cur / cur.sum() if cur.sum() else cur
    fig = Figure(figsize=(2.4, 0.8), dpi=72)
    ax = fig.add_axes((0.01, 0.04, 0.98, 0.92))
    x = np.arange(n)
    if dist.get("kind") == "categorical":
        top = np.argsort(-(ref + cur), kind="stable")[:8]
        x = np.arange(len(top))
        ax.bar(x - 0.2, ref[top], width=0.4, color=COLOR_REFERENCE)
        ax.bar(x + 0.2, cur[top], width=0.4, color=COLOR_CURRENT)
        ax.set_xlim(-0.6, len(top) - 0.4)
    else:  # bins drawn by index: the open-ended outer bins need no finite edge
        edges = np.arange(n + 1) - 0.5
        ax.stairs(ref, edges, fill=True, color=COLOR_REFERENCE)
        ax.stairs(cur, edges, color=COLOR_CURRENT, lw=1.3)
        ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(0, max(ref.max(), cur.max()) * 1.08)
    ax.set_axis_off()
    return fig


def explanation_figures(summary: Mapping[str, Any], *, rows: int = 3) -> list[Figure]:
    """A SHAP waterfall and a LIME chart for the first flagged rows explained by both."""
    from obskit.explain import lime_figure, waterfall_figure

    figures: list[Figure] = []
    explained = [_map(e) for e in _list(_map(summary.get("explanations")).get("rows"))]
    for e in [e for e in explained if e.get("lime")][:rows]:
        shap_row = pd.Series({str(k): _num(v) or 0.0 for k, v in _map(e.get("shap")).items()})
        title = f"request {e.get('request_id')}"
        figures.append(waterfall_figure(shap_row, _num(e.get("base_value")) or 0.0,
                                        _map(e.get("values")), f"SHAP, {title}"))
        figures.append(lime_figure([(str(f), _num(w) or 0.0) for f, w in _list(e.get("lime"))],
                                   f"LIME, {title}"))
    return figures
