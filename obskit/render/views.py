"""Views of one window and one feature, for the explorer and the deep-dive notebooks.

Like the rest of :mod:`obskit.render`, these read results and never compute them: a
window is a window of ``summary.json``, a drift series is what
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
from obskit.feature_ranking import rank_window_drift, summary_worst_value
from obskit.findings import bound_crossed
from obskit.performance import summary_primary_metric
from obskit.render._common import (
    COLOR_ALERT,
    COLOR_CURRENT,
    COLOR_REFERENCE,
    _badge,
    _list,
    _logged,
    _map,
    _method_name,
    _metric_name,
    _mpl,
    escape,
)
from obskit.render.plotting import figure_to_data_uri
from obskit.segments import segment_key

__all__ = ["img_html", "window_html", "feature_html", "distribution_figure",
           "drift_series_figure", "window_grid_figure", "verdict_badge"]


def img_html(fig: Figure | None, alt: str, *, missing: str = "no data") -> str:
    """An ``<img>`` of ``fig`` with escaped alt text (or an escaped note when ``None``)."""
    if fig is None:
        return f'<p class="muted"><em>{escape(alt)}: {escape(missing)}.</em></p>'
    return f'<img alt="{escape(alt)}" title="{escape(alt)}" src="{figure_to_data_uri(fig)}">'


def verdict_badge(drifted: Any) -> str:
    if drifted is True:
        return _badge("drifted", "alert")
    if drifted is False:
        return _badge("stable", "ok")
    return _badge("not judged", "na")


def _facts(pairs: Sequence[tuple[str, str]]) -> str:
    """A definition list; values must already be escaped."""
    return '<dl class="facts">' + "".join(f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in pairs) \
        + "</dl>"


def window_html(summary: Mapping[str, Any], window: Mapping[str, Any] | None, *,
                segment: str = "all rows",
                reference_performance: Mapping[str, Any] | None = None,
                max_features: int = 10) -> str:
    """One window: status, rows and labels, health, performance against the reference,
    the drifted features, multivariate drift, anomalies and the alerts that fired.

    Parameters
    ----------
    summary : Mapping
        The run's ``summary.json`` (for the reference performance, task and alerts).
    window : Mapping or None
        The window (of the whole log or of a segment).
    segment : str
        Label of the segment the window belongs to (``all rows`` or ``column=value``).
    reference_performance : Mapping, optional
        The reference performance the window is compared with (default: the run's).
    max_features : int
        Drift rows shown before the rest is collapsed.

    Returns
    -------
    str
        An HTML fragment.
    """
    if not window:
        return f'<div class="obskit"><p>No such window in {escape(segment)}.</p></div>'
    status = str(window.get("status") or "n/a")
    kind = {"ok": "ok", "empty": "na", "insufficient_data": "warning"}.get(status, "na")
    title = (f"<h3>Window {escape(fmt_time(window.get('start')))} to "
             f"{escape(fmt_time(window.get('end')))} · {escape(segment)} "
             f"{_badge(status, kind)}</h3>")
    health = _map(window.get("health"))
    perf, est = _map(window.get("performance")), _map(window.get("estimated_performance"))
    ref = _map(reference_performance) or _map(_map(summary.get("reference")).get("performance"))
    metric = summary_primary_metric(summary)
    metrics = [metric] + [m for m in ("accuracy", "f1", "rmse", "mae") if m != metric
                          and (m in perf or m in est)]
    perf_text = "; ".join(
        f"{escape(_metric_name(m))} {escape(fmt_num(perf.get(m)))} realized, "
        f"{escape(fmt_num(est.get(m)))} estimated (reference {escape(fmt_num(ref.get(m)))})"
        for m in metrics[:3] if m in perf or m in est or m in ref) or "n/a"
    facts = [
        ("Rows", escape(fmt_int(window.get("rows")))),
        ("Labelled", f"{escape(fmt_int(window.get('labelled_rows')))} "
                     f"({escape(fmt_pct(window.get('label_coverage')))})"),
        ("Latency p50 / p95 / p99", " / ".join(escape(fmt_ms(health.get(k))) for k in
                                               ("latency_p50_ms", "latency_p95_ms",
                                                "latency_p99_ms"))),
        ("Error rate", f"{escape(fmt_pct(health.get('error_rate')))} "
                       f"({escape(fmt_int(health.get('errors')))} failed)"),
        ("Performance", perf_text),
        ("Drifted share", f"{escape(fmt_pct(window.get('drift_share')))} of features"),
    ]
    # a health series the logs lack (no latency_ms / status column) is left out
    facts = [f for f in facts if not (
        (f[0].startswith("Latency") and not _logged(summary, "latency_ms"))
        or (f[0] == "Error rate" and not _logged(summary, "status", "error")))]
    mv = _map(window.get("multivariate_drift"))
    if mv:
        facts.append(("Multivariate", "; ".join(
            f"{escape(name.replace('_', ' '))} {escape(fmt_num(_map(d).get('value')))} "
            + (f"({escape(c[0])} the {'upper' if c[0] == 'above' else 'lower'} bound "
               f"{escape(fmt_num(c[1]))}) " if (c := bound_crossed(_map(d))) else "")
            + f"{verdict_badge(_map(d).get('drifted'))}" for name, d in mv.items())))
    counts = _map(window.get("anomaly_counts"))
    if counts:
        facts.append(("Flagged rows", escape(", ".join(
            f"{reason}: {fmt_int(n)}" for reason, n in
            sorted(counts.items(), key=lambda kv: -(finite(kv[1]) or 0))))))
    parts = [f'<div class="obskit">{title}{_facts(facts)}']

    def alert_segment(alert: Mapping[str, Any]) -> str:
        tag = _map(alert.get("segment"))
        return segment_key(tag) or "all rows"

    alerts = [a for a in _list(summary.get("alerts")) if isinstance(a, Mapping)
              and a.get("window_start") == window.get("start")
              and alert_segment(a) == segment]
    if alerts:
        parts.append("<p><strong>Alerts in this window:</strong> " + "; ".join(
            f"{_badge(a.get('severity'), str(a.get('severity')))} {escape(a.get('rule'))} "
            f"({escape(a.get('metric'))} = {escape(fmt_metric(a.get('metric'), a.get('value')))})"
            for a in alerts) + "</p>")
    unusual = [a for a in _list(summary.get("window_anomalies")) if isinstance(a, Mapping)
               and a.get("window") == window.get("index") and segment == "all rows"]
    for a in unusual:
        parts.append(f"<p>{_badge(a.get('severity'), 'warning')} {escape(a.get('text'))}</p>")

    window_drift = _map(window.get("drift"))
    drift = [(f, _map(window_drift.get(f))) for f in rank_window_drift(window_drift)]
    if drift:
        rows = "".join(
            f"<tr><td>{escape(f)}</td><td>{escape(_method_name(d.get('method')))}</td>"
            f"<td class=num>{escape(fmt_num(d.get('value')))}</td>"
            f"<td class=num>{escape(fmt_num(d.get('threshold')))}</td>"
            f"<td>{verdict_badge(d.get('drifted'))}</td></tr>" for f, d in drift)
        head = ("<thead><tr><th>Feature</th><th>Method</th><th class=num>Score</th>"
                "<th class=num>Threshold</th><th>Verdict</th></tr></thead>")
        n_drifted = sum(1 for _, d in drift if d.get("drifted") is True)
        table = f"<table>{head}<tbody>{rows}</tbody></table>"
        parts.append(f"<p>{n_drifted} of {plural(len(drift), 'feature')} drifted in this window, "
                     "most drifted first.</p>")
        parts.append(table if len(drift) <= max_features else
                     f"<details open><summary>{len(drift)} features</summary>{table}"
                     "</details>")
    return "".join(parts) + "</div>"


def feature_html(feature: str, entry: Mapping[str, Any] | None,
                 overview: Mapping[str, Any] | None, window: Mapping[str, Any] | None, *,
                 segment: str = "all rows", importance: Mapping[str, Any] | None = None
                 ) -> str:
    """A feature's verdict in the selected window and over the whole run, in words.

    Parameters
    ----------
    feature : str
        The feature.
    entry : Mapping or None
        Its drift entry in the window (``value``, ``threshold``, ``drifted``, ...).
    overview : Mapping or None
        Its ``drift_summary`` entry (over all windows).
    window : Mapping or None
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
    entry, overview = _map(entry), _map(overview)
    when = fmt_time(_map(window).get("start"))
    if entry:
        p_value = (f"; p-value {escape(fmt_num(entry.get('p_value')))}"
                   + (f", adjusted {escape(fmt_num(entry.get('adjusted')))}"
                      if entry.get("adjusted") is not None else "")
                   if entry.get("p_value") is not None else "")
        now = (f"<p><strong>{escape(feature)}</strong> on {escape(when)} ({escape(segment)}): "
               f"{escape(_method_name(entry.get('method')))} "
               f"<strong>{escape(fmt_num(entry.get('value')))}</strong> vs threshold "
               f"{escape(fmt_num(entry.get('threshold')))} "
               f"({escape(entry.get('threshold_kind') or 'constant')}){p_value} "
               f"{verdict_badge(entry.get('drifted'))}</p>")
    else:
        now = (f"<p><strong>{escape(feature)}</strong> has no drift value on {escape(when)} in "
               f"{escape(segment)}: the window has no rows there, too few to judge, or the "
               "feature was not logged.</p>")
    over = ""
    if overview:
        first = overview.get("first_drifted")
        over = (f"<p>Over the run: drifted in {escape(fmt_int(overview.get('drifted_windows')))}"
                f" of {escape(fmt_int(overview.get('windows')))} "
                f"{word(overview.get('windows'), 'window')}"
                + (f", first on {escape(fmt_time(first))}" if first else "")
                + f"; worst {escape(fmt_num(summary_worst_value(overview)))}, latest "
                  f"{escape(fmt_num(overview.get('last_value')))}.</p>")
    rank = ""
    imp = {str(k): finite(v) for k, v in _map(importance).items() if finite(v) is not None}
    if feature in imp:
        order = sorted(imp, key=lambda k: -(imp[k] or 0))
        total = sum(v or 0 for v in imp.values()) or 1.0
        rank = (f"<p>The model relies on it: rank {order.index(feature) + 1} of {len(order)} "
                f"by mean |SHAP| on the reference ({escape(fmt_pct((imp[feature] or 0) / total))}"
                " of the total).</p>")
    return f'<div class="obskit">{now}{over}{rank}</div>'


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
            ax.set_xticks(x, [_mpl(cats[i]) for i in order], rotation=30, ha="right",
                          fontsize=8)
    else:  # bins drawn by position: the open-ended outer bins have no finite edge
        edges = np.arange(n + 1) - 0.5
        ax.stairs(ref, edges, fill=True, color=COLOR_REFERENCE, alpha=0.8, label="reference")
        ax.stairs(cur, edges, color=COLOR_CURRENT, lw=1.6, label="window")
        if ticks:
            labels = _bin_labels(list(dist.get("edges") or []))[:n]
            step = max(1, n // 8)
            ax.set_xticks(range(0, n, step), [_mpl(labels[i]) for i in range(0, n, step)],
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
    ax.set_title(_mpl(title), fontsize=10)
    ax.set_ylabel("Share of rows")
    ax.set_xlabel("Category" if dist.get("kind") == "categorical"
                  else f"{_mpl(dist.get('feature') or 'value')} (bins of the reference)")
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
            ax.plot(x, ys, lw=0.9, alpha=0.7, label=_mpl(name))
    ax.plot(x, values, marker="o", ms=3, color=COLOR_CURRENT, label=_mpl(segment))
    if np.isfinite(thresholds).any():
        ax.plot(x, thresholds, ls="--", lw=1.2, color=COLOR_ALERT, label="threshold")
    drifted = np.array([s.get("drifted") is True for s in series])
    ax.scatter(x[drifted], values[drifted], color=COLOR_ALERT, zorder=3, s=28, label="drifted")
    if selected is not None:
        pos = next((i for i, s in enumerate(series) if s.get("index") == selected), None)
        if pos is not None:
            ax.axvspan(pos - 0.5, pos + 0.5, color=COLOR_CURRENT, alpha=0.12, lw=0)
    method = next((s.get("method") for s in series if s.get("method")), None)
    ax.set_title(_mpl(f"{feature}: {_method_name(method)} per window"), fontsize=10)
    ax.set_ylabel("Drift score")
    step = max(1, int(np.ceil(len(series) / 10)))
    ax.set_xticks(x[::step], [_mpl(fmt_time(s.get("start"))) for s in series][::step],
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
    fig.suptitle(_mpl(f"{feature}: reference (grey) vs each window (blue)"),
                 fontweight="bold")
    for i, (s, d) in enumerate(cells):
        ax = fig.add_subplot(rows, columns, i + 1)
        _draw_distribution(ax, d, ticks=False, top=8)
        ax.set_yticks([])
        color = COLOR_ALERT if s.get("drifted") is True else "#1f2328"
        ax.set_title(_mpl(f"{fmt_time(s.get('start'))}  {fmt_num(s.get('value'))}"),
                     fontsize=8, color=color)
    return fig
