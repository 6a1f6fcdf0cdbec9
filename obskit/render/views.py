"""Views of one window and one feature, for the explorer and the deep-dive notebooks.

Like the rest of :mod:`obskit.render`, these read results and never compute them: a
window is a :class:`~obskit.results.Window` of the run, a drift series is what
:meth:`obskit.widgets.state.ExplorerState.drift_series` returns, a distribution what
:meth:`~obskit.widgets.state.ExplorerState.distribution` returns. Every string from the
data is escaped; figures are matplotlib, embedded as PNG ``data:`` URIs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from obskit._format import finite, fmt_int, fmt_metric, fmt_ms, fmt_num, fmt_pct, fmt_time
from obskit._text import plural, word
from obskit.findings import bound_crossed
from obskit.profiles.segments import segment_key
from obskit.render.common import (
    COLOR_ALERT,
    COLOR_CURRENT,
    COLOR_REFERENCE,
    badge,
    complete,
    escape,
    logged,
    method_name,
    metric_name,
    mpl,
    primary_metric,
    rank_window,
    worst_value,
)
from obskit.render.plotting import figure_to_data_uri
from obskit.results import DriftSummary, FeatureDrift, Run, Window

__all__ = ["img_html", "window_html", "feature_html", "distribution_figure",
           "drift_series_figure", "window_grid_figure", "verdict_badge"]


def img_html(fig: Figure | None, alt: str, *, missing: str = "no data") -> str:
    """An ``<img>`` of ``fig`` with escaped alt text (or an escaped note when ``None``)."""
    if fig is None:
        return f'<p class="muted"><em>{escape(alt)}: {escape(missing)}.</em></p>'
    return f'<img alt="{escape(alt)}" title="{escape(alt)}" src="{figure_to_data_uri(fig)}">'


def verdict_badge(drifted: bool | None) -> str:
    """A drift verdict as a badge: drifted, stable, or not judged (None)."""
    if drifted is True:
        return badge("drifted", "alert")
    if drifted is False:
        return badge("stable", "ok")
    return badge("not judged", "na")


def _facts(pairs: Sequence[tuple[str, str]]) -> str:
    """A definition list; values must already be escaped."""
    return '<dl class="facts">' + "".join(f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in pairs) \
        + "</dl>"


def _performance_text(run: Run, window: Window,
                      reference: Mapping[str, float | None]) -> str:
    perf, est = window.performance, window.estimated_performance
    metric = primary_metric(run)
    metrics = [metric] + [m for m in ("accuracy", "f1", "rmse", "mae") if m != metric
                          and (m in perf or m in est)]
    return "; ".join(
        f"{escape(metric_name(m))} {escape(fmt_num(perf.get(m)))} realized, "
        f"{escape(fmt_num(est.get(m)))} estimated (reference {escape(fmt_num(reference.get(m)))})"
        for m in metrics[:3] if m in perf or m in est or m in reference) or "n/a"


def _window_facts(run: Run, window: Window,
                  reference: Mapping[str, float | None]) -> list[tuple[str, str]]:
    health = window.health
    facts = [
        ("Rows", escape(fmt_int(window.rows))),
        ("Labelled", f"{escape(fmt_int(window.labelled_rows))} "
                     f"({escape(fmt_pct(window.label_coverage))})"),
        ("Latency p50 / p95 / p99", " / ".join(escape(fmt_ms(v)) for v in
                                               (health.latency_p50_ms, health.latency_p95_ms,
                                                health.latency_p99_ms))),
        ("Error rate", f"{escape(fmt_pct(health.error_rate))} "
                       f"({escape(fmt_int(health.errors))} failed)"),
        ("Performance", _performance_text(run, window, reference)),
        ("Drifted share", f"{escape(fmt_pct(window.drift_share))} of features"),
    ]
    # a health series the logs lack (no latency_ms / status column) is left out
    facts = [f for f in facts if not (
        (f[0].startswith("Latency") and not logged(run, "latency_ms"))
        or (f[0] == "Error rate" and not logged(run, "status", "error")))]
    mv = window.multivariate_drift
    if mv:
        facts.append(("Multivariate", "; ".join(
            f"{escape(name.replace('_', ' '))} {escape(fmt_num(d.value))} "
            + (f"({escape(c[0])} the {'upper' if c[0] == 'above' else 'lower'} bound "
               f"{escape(fmt_num(c[1]))}) " if (c := bound_crossed(d.to_dict())) else "")
            + f"{verdict_badge(d.drifted)}" for name, d in mv.items())))
    counts = window.anomaly_counts
    if counts:
        facts.append(("Flagged rows", escape(", ".join(
            f"{reason}: {fmt_int(n)}" for reason, n in
            sorted(counts.items(), key=lambda kv: -(finite(kv[1]) or 0))))))
    return facts


def _window_drift(drift: Mapping[str, FeatureDrift], max_features: int) -> list[str]:
    ranked = rank_window(drift)
    if not ranked:
        return []
    rows = "".join(
        f"<tr><td>{escape(f)}</td><td>{escape(method_name(d.method))}</td>"
        f"<td class=num>{escape(fmt_num(d.value))}</td>"
        f"<td class=num>{escape(fmt_num(d.threshold))}</td>"
        f"<td>{verdict_badge(d.drifted)}</td></tr>" for f, d in ranked)
    head = ("<thead><tr><th>Feature</th><th>Method</th><th class=num>Score</th>"
            "<th class=num>Threshold</th><th>Verdict</th></tr></thead>")
    n_drifted = sum(1 for _, d in ranked if d.drifted is True)
    shown = f"<table>{head}<tbody>{rows}</tbody></table>"
    return [f"<p>{n_drifted} of {plural(len(ranked), 'feature')} drifted in this window, "
            "most drifted first.</p>",
            shown if len(ranked) <= max_features else
            f"<details open><summary>{len(ranked)} features</summary>{shown}</details>"]


def window_html(run: Run, window: Window | None, *,
                segment: str = "all rows",
                reference_performance: Mapping[str, float | None] | None = None,
                max_features: int = 10) -> str:
    """One window: status, rows and labels, health, performance against the reference,
    the drifted features, multivariate drift, anomalies and the alerts that fired.

    Parameters
    ----------
    run : Run
        The run (for the reference performance, task, roles and alerts).
    window : Window or None
        The window (of the whole log or of a segment).
    segment : str
        Label of the segment the window belongs to (``all rows`` or ``column=value``).
    reference_performance : Mapping, optional
        The reference performance (metric → value) the window is compared with (default:
        the run's).
    max_features : int
        Drift rows shown before the rest is collapsed.

    Returns
    -------
    str
        An HTML fragment.
    """
    run = complete(run)
    window = complete(window) if window is not None else None
    if not window:
        return f'<div class="obskit"><p>No such window in {escape(segment)}.</p></div>'
    status = str(window.status or "n/a")
    kind = {"ok": "ok", "empty": "na", "insufficient_data": "warning"}.get(status, "na")
    title = (f"<h3>Window {escape(fmt_time(window.start))} to "
             f"{escape(fmt_time(window.end))} · {escape(segment)} "
             f"{badge(status, kind)}</h3>")
    reference = reference_performance or run.reference.performance
    parts = [f'<div class="obskit">{title}{_facts(_window_facts(run, window, reference))}']
    fired = [a for a in run.alerts if a.window_start == window.start
             and (segment_key(a.segment) or "all rows") == segment]
    if fired:
        parts.append("<p><strong>Alerts in this window:</strong> " + "; ".join(
            f"{badge(a.severity, str(a.severity))} {escape(a.rule)} "
            f"({escape(a.metric)} = {escape(fmt_metric(a.metric, a.value))})"
            for a in fired) + "</p>")
    if segment == "all rows":
        for a in run.window_anomalies:
            if a.window == window.index:
                parts.append(f"<p>{badge(a.severity, 'warning')} {escape(a.text)}</p>")
    parts += _window_drift(window.drift, max_features)
    return "".join(parts) + "</div>"


def _importance_text(feature: str, importance: Mapping[str, Any] | None) -> str:
    imp = {str(k): finite(v) for k, v in (importance or {}).items() if finite(v) is not None}
    if feature not in imp:
        return ""
    order = sorted(imp, key=lambda k: -(imp[k] or 0))
    total = sum(v or 0 for v in imp.values()) or 1.0
    return (f"<p>The model relies on it: rank {order.index(feature) + 1} of {len(order)} "
            f"by mean |SHAP| on the reference ({escape(fmt_pct((imp[feature] or 0) / total))}"
            " of the total).</p>")


def feature_html(feature: str, entry: FeatureDrift | None,
                 overview: DriftSummary | None, window: Window | None, *,
                 segment: str = "all rows",
                 importance: Mapping[str, float | None] | None = None) -> str:
    """A feature's verdict in the selected window and over the whole run, in words.

    Parameters
    ----------
    feature : str
        The feature.
    entry : FeatureDrift or None
        Its drift in the window (``value``, ``threshold``, ``drifted``, ...).
    overview : DriftSummary or None
        Its drift over all windows (the run's or the segment's ``drift_summary``).
    window : Window or None
        The selected window.
    segment : str
        The segment label.
    importance : Mapping, optional
        Feature → mean |SHAP| on the reference (the run's ``explanations.importance``).

    Returns
    -------
    str
        An HTML fragment.
    """
    when = fmt_time(window.start if window is not None else None)
    if entry is not None and entry.layout != ():
        p_value = (f"; p-value {escape(fmt_num(entry.p_value))}"
                   + (f", adjusted {escape(fmt_num(entry.adjusted))}"
                      if entry.adjusted is not None else "")
                   if entry.p_value is not None else "")
        now = (f"<p><strong>{escape(feature)}</strong> on {escape(when)} ({escape(segment)}): "
               f"{escape(method_name(entry.method))} "
               f"<strong>{escape(fmt_num(entry.value))}</strong> vs threshold "
               f"{escape(fmt_num(entry.threshold))} "
               f"({escape(entry.threshold_kind or 'constant')}){p_value} "
               f"{verdict_badge(entry.drifted)}</p>")
    else:
        now = (f"<p><strong>{escape(feature)}</strong> has no drift value on {escape(when)} in "
               f"{escape(segment)}: the window has no rows there, too few to judge, or the "
               "feature was not logged.</p>")
    over = ""
    if overview is not None and overview.layout != ():
        first = overview.first_drifted
        over = (f"<p>Over the run: drifted in {escape(fmt_int(overview.drifted_windows))}"
                f" of {escape(fmt_int(overview.windows))} "
                f"{word(overview.windows, 'window')}"
                + (f", first on {escape(fmt_time(first))}" if first else "")
                + f"; worst {escape(fmt_num(worst_value(overview)))}, latest "
                  f"{escape(fmt_num(overview.last_value))}.</p>")
    return f'<div class="obskit">{now}{over}{_importance_text(feature, importance)}</div>'


def _shares(counts: Any) -> np.ndarray:
    arr = np.asarray(counts if counts is not None else [], dtype=float)
    return arr / arr.sum() if arr.size and arr.sum() else arr


def _bin_labels(edges: Sequence[Any]) -> list[str]:
    labels = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=False):
        if lo is None:
            labels.append(f"< {fmt_num(hi)}")
        elif hi is None:
            labels.append(f"≥ {fmt_num(lo)}")
        else:
            labels.append(f"{fmt_num(lo)}–{fmt_num(hi)}")
    return labels


def _draw_distribution(ax: Any, dist: Mapping[str, Any], *, ticks: bool = True,
                       top: int = 10) -> None:
    ref, cur = _shares(dist.get("reference")), _shares(dist.get("window"))
    n = min(len(ref), len(cur))
    ref, cur = ref[:n], cur[:n]
    if dist.get("kind") == "categorical":
        cats = list(dist.get("categories") or [])[:n]
        order = [i for i in np.argsort(-(ref + cur), kind="stable")[:top] if ref[i] + cur[i]]
        x = np.arange(len(order))
        ax.bar(x - 0.2, ref[order], width=0.4, color=COLOR_REFERENCE, label="reference")
        ax.bar(x + 0.2, cur[order], width=0.4, color=COLOR_CURRENT, label="window")
        if ticks:
            ax.set_xticks(x, [mpl(cats[i]) for i in order], rotation=30, ha="right",
                          fontsize=8)
    else:  # bins drawn by position: the open-ended outer bins have no finite edge
        edges = np.arange(n + 1) - 0.5
        ax.stairs(ref, edges, fill=True, color=COLOR_REFERENCE, alpha=0.8, label="reference")
        ax.stairs(cur, edges, color=COLOR_CURRENT, lw=1.6, label="window")
        if ticks:
            labels = _bin_labels(list(dist.get("edges") or []))[:n]
            step = max(1, n // 8)
            ax.set_xticks(range(0, n, step), [mpl(labels[i]) for i in range(0, n, step)],
                          rotation=30, ha="right", fontsize=8)
        ax.set_xlim(-0.5, n - 0.5)
    if not ticks:
        ax.set_xticks([])
    ax.set_ylim(0, max(float(ref.max(initial=0)), float(cur.max(initial=0)), 0.01) * 1.1)


def distribution_figure(dist: Mapping[str, Any] | None, *, title: str = "") -> Figure | None:
    """Reference (grey) vs one window (blue), as shares of rows per bin or category.

    Parameters
    ----------
    dist : Mapping or None
        ``kind``, ``edges`` or ``categories``, ``reference`` and ``window`` counts.
    title : str
        The figure title (escaped for mathtext).

    Returns
    -------
    Figure or None
        ``None`` when there is nothing to draw.
    """
    if not dist or not np.asarray(dist.get("window") if dist.get("window") is not None
                                  else []).sum() and not np.asarray(
            dist.get("reference") if dist.get("reference") is not None else []).sum():
        return None
    fig = Figure(figsize=(6.4, 3.0), layout="constrained")
    ax = fig.add_subplot()
    _draw_distribution(ax, dist)
    ax.set_title(mpl(title), fontsize=10)
    ax.set_ylabel("Share of rows")
    ax.set_xlabel("Category" if dist.get("kind") == "categorical"
                  else f"{mpl(dist.get('feature') or 'value')} (bins of the reference)")
    ax.legend(fontsize=8, frameon=False)
    return fig


def drift_series_figure(series: Sequence[Mapping[str, Any]], *, feature: str,
                        selected: int | None = None, segment: str = "all rows",
                        others: Mapping[str, Sequence[Mapping[str, Any]]] | None = None
                        ) -> Figure | None:
    """A feature's drift score over windows, its threshold (dashed) and drifted windows
    (orange); the selected window is shaded; ``others`` adds one thin line per segment.

    Returns ``None`` when no window has a value.
    """
    values = np.array([finite(s.get("value")) if finite(s.get("value")) is not None else np.nan
                       for s in series], dtype=float)
    if not len(values) or not np.isfinite(values).any():
        return None
    thresholds = np.array([finite(s.get("threshold")) if finite(s.get("threshold")) is not None
                           else np.nan for s in series], dtype=float)
    x = np.arange(len(series))
    fig = Figure(figsize=(7.5, 2.8), layout="constrained")
    ax = fig.add_subplot()
    for name, other in (others or {}).items():
        ys = np.array([finite(s.get("value")) if finite(s.get("value")) is not None else np.nan
                       for s in other], dtype=float)
        if len(ys) == len(x):
            ax.plot(x, ys, lw=0.9, alpha=0.7, label=mpl(name))
    ax.plot(x, values, marker="o", ms=3, color=COLOR_CURRENT, label=mpl(segment))
    if np.isfinite(thresholds).any():
        ax.plot(x, thresholds, ls="--", lw=1.2, color=COLOR_ALERT, label="threshold")
    drifted = np.array([s.get("drifted") is True for s in series])
    ax.scatter(x[drifted], values[drifted], color=COLOR_ALERT, zorder=3, s=28, label="drifted")
    if selected is not None:
        pos = next((i for i, s in enumerate(series) if s.get("index") == selected), None)
        if pos is not None:
            ax.axvspan(pos - 0.5, pos + 0.5, color=COLOR_CURRENT, alpha=0.12, lw=0)
    method = next((s.get("method") for s in series if s.get("method")), None)
    ax.set_title(mpl(f"{feature}: {method_name(method)} per window"), fontsize=10)
    ax.set_ylabel("Drift score")
    step = max(1, int(np.ceil(len(series) / 10)))
    ax.set_xticks(x[::step], [mpl(fmt_time(s.get("start"))) for s in series][::step],
                  rotation=30, ha="right", fontsize=8)
    ax.set_xlim(-0.6, len(series) - 0.4)
    ax.set_xlabel("Window start (UTC)")
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    return fig


def window_grid_figure(feature: str, series: Sequence[Mapping[str, Any]],
                       distributions: Sequence[Mapping[str, Any] | None], *,
                       columns: int = 5) -> Figure | None:
    """Small multiples: the reference vs each window, titled with the window's start and
    score (orange when drifted). ``distributions`` aligns with ``series``."""
    cells = [(s, d) for s, d in zip(series, distributions, strict=True)
             if d is not None and np.asarray(d.get("window")).sum()]
    if not cells:
        return None
    rows = int(np.ceil(len(cells) / columns))
    fig = Figure(figsize=(2.2 * columns, 1.55 * rows + 0.6), layout="constrained")
    fig.suptitle(mpl(f"{feature}: reference (grey) vs each window (blue)"),
                 fontweight="bold")
    for i, (s, d) in enumerate(cells):
        ax = fig.add_subplot(rows, columns, i + 1)
        _draw_distribution(ax, d, ticks=False, top=8)
        ax.set_yticks([])
        color = COLOR_ALERT if s.get("drifted") is True else "#1f2328"
        ax.set_title(mpl(f"{fmt_time(s.get('start'))}  {fmt_num(s.get('value'))}"),
                     fontsize=8, color=color)
    return fig
