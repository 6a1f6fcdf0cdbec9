"""HTML fragments and figures for the monitoring report, built from ``summary.json`` alone.

Fragment functions return HTML strings (shown with ``IPython.display.HTML``); figure
functions return a :class:`matplotlib.figure.Figure` (or ``None`` when there is nothing to
draw), which nbconvert embeds as a PNG. Everything is static and offline: no scripts, no
external URLs, images only as ``data:`` URIs. Every string that comes from the data is
escaped; numbers are rounded for reading (the exact values are in ``summary.json``).

Any value of the summary may be ``null`` and any list empty: the functions say "n/a" or
"no data" rather than fail.
"""

from __future__ import annotations

import base64
import html
import io
import math
import numbers
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from obskit.performance import HIGHER_IS_BETTER, primary_metric

__all__ = [
    "COLOR_ALERT",
    "COLOR_CURRENT",
    "COLOR_OK",
    "COLOR_REFERENCE",
    "data_quality_html",
    "drift_figure",
    "drift_table_html",
    "figure_to_data_uri",
    "findings_html",
    "header_html",
    "health_figure",
    "methods_html",
    "performance_figure",
    "report_css",
    "summary_tiles_html",
]

# One palette for every figure and badge (badges match the history page).
COLOR_REFERENCE = "#8c959f"  # grey: the reference data / reference values
COLOR_CURRENT = "#0969da"  # blue: the monitored (current) data
COLOR_OK = "#1a7f37"  # green: ok
COLOR_ALERT = "#b35900"  # orange: alert, thresholds, windows that fired
COLOR_FAILED = "#cf222e"  # red: failed runs, critical findings
_QUANTILE_COLORS = {"p50": "#80b6f2", "p95": COLOR_CURRENT, "p99": "#033d8b"}
_HEATMAP_CAP = 3.0
_HEATMAP_MAX_FEATURES = 30
_TABLE_VISIBLE_ROWS = 25
_SECTIONS = {"health", "performance", "drift", "data-quality"}
_SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
_METHOD_NAMES = {"wasserstein": "Wasserstein (normed)", "jensenshannon": "Jensen–Shannon"}
_METRIC_NAMES = {"roc_auc": "ROC AUC", "f1": "F1", "f1_macro": "F1 (macro)", "r2": "R²",
                 "mae": "MAE", "rmse": "RMSE", "mape": "MAPE", "accuracy": "Accuracy",
                 "precision": "Precision", "recall": "Recall"}


# --------------------------------------------------------------------------- helpers


def _e(value: Any) -> str:
    """Escape any value for HTML text or attributes (``None`` becomes "n/a")."""
    return "n/a" if value is None else html.escape(str(value), quote=True)


def _num(value: Any) -> float | None:
    """A finite float, or ``None`` for null, NaN, infinities, booleans and non-numbers."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, Sequence) and not isinstance(value, str) else []


def _mpl(text: Any) -> str:
    """Text safe for matplotlib (a ``$`` in data must not start mathtext)."""
    return str(text).replace("$", r"\$")


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


def _fmt_time(value: Any) -> str:
    """``2026-11-09`` at midnight, else ``2026-11-09 13:00`` (unescaped; may echo input).

    Examples
    --------
    >>> _fmt_time("2026-11-09T13:00:00Z")
    '2026-11-09 13:00'
    """
    parsed = _parse_time(value)
    if parsed is None:
        return "n/a" if value is None else str(value)
    if (parsed.hour, parsed.minute, parsed.second) == (0, 0, 0):
        return parsed.strftime("%Y-%m-%d")
    return parsed.strftime("%Y-%m-%d %H:%M")


def _fmt_int(value: Any) -> str:
    v = _num(value)
    return "n/a" if v is None else f"{v:,.0f}"


def _fmt_ms(value: Any) -> str:
    v = _num(value)
    return "n/a" if v is None else f"{v:,.0f} ms"


def _fmt_pct(value: Any) -> str:
    """A rate (0–1) as a percentage: ``0.1056`` → ``10.6%``, small rates keep 2 decimals."""
    v = _num(value)
    if v is None:
        return "n/a"
    return f"{v:.2%}" if 0 < abs(v) < 0.01 else f"{v:.1%}"


def _fmt_num(value: Any) -> str:
    """Three significant digits: ``0.76529`` → ``0.765``, ``58.367`` → ``58.4``."""
    v = _num(value)
    if v is None:
        return "n/a"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def _fmt_metric(metric: Any, value: Any) -> str:
    """Format a value the way its metric reads (ms, %, or 3 significant digits)."""
    name = str(metric or "")
    if name.endswith("_ms"):
        return _fmt_ms(value)
    if name.endswith("error_rate") or name.endswith("drift_share") \
            or name.endswith("label_coverage"):
        return _fmt_pct(value)
    return _fmt_num(value)


def _metric_name(metric: Any) -> str:
    name = str(metric or "").split(".")[-1]
    return _METRIC_NAMES.get(name, name)


def _method_name(method: Any) -> str:
    return _METHOD_NAMES.get(str(method), str(method)) if method is not None else "n/a"


def _basename(path: Any) -> str:
    return str(path).replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] if path else "n/a"


def _badge(label: Any, kind: str) -> str:
    """A coloured badge; ``kind`` is whitelisted so data never reaches the class name."""
    known = {"ok", "alert", "failed", "critical", "warning", "info", "na"}
    return f'<span class="obskit-badge {kind if kind in known else "na"}">{_e(label)}</span>'


def _windows(summary: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [w for w in _list(summary.get("windows")) if isinstance(w, Mapping)]


def _alerts(summary: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [a for a in _list(summary.get("alerts")) if isinstance(a, Mapping)]


def _rule_threshold(summary: Mapping[str, Any], metric: str) -> float | None:
    """The value of the first comparison rule watching ``metric``, if any."""
    for rule in _list(summary.get("alert_rules")):
        rule = _map(rule)
        if rule.get("metric") == metric and rule.get("op") in (">", ">=", "<", "<="):
            value = _num(rule.get("value"))
            if value is not None:
                return value
    return None


def _alert_positions(summary: Mapping[str, Any], windows: list[Mapping[str, Any]],
                     prefix: str) -> set[int]:
    """Positions (0…n-1) of windows with an alert on a metric starting with ``prefix``."""
    by_index = {w.get("index"): i for i, w in enumerate(windows) if w.get("index") is not None}
    by_start = {w.get("start"): i for i, w in enumerate(windows) if w.get("start") is not None}
    positions = set()
    for alert in _alerts(summary):
        if not str(alert.get("metric") or "").startswith(prefix):
            continue
        pos = by_index.get(alert.get("window"), by_start.get(alert.get("window_start")))
        if pos is not None:
            positions.add(pos)
    return positions


def _series(windows: list[Mapping[str, Any]], *path: str, scale: float = 1.0) -> np.ndarray:
    """One value per window along ``path`` (NaN where missing)."""
    out = []
    for w in windows:
        value: Any = w
        for key in path:
            value = _map(value).get(key)
        v = _num(value)
        out.append(np.nan if v is None else v * scale)
    return np.asarray(out, dtype=float)


def _latest(windows: list[Mapping[str, Any]], *path: str) -> tuple[float | None, Any]:
    """The latest non-null value along ``path`` and the start of its window."""
    for w in reversed(windows):
        value: Any = w
        for key in path:
            value = _map(value).get(key)
        if _num(value) is not None:
            return _num(value), w.get("start")
    return None, None


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


def report_css() -> str:
    """The report's stylesheet, scoped to ``.obskit`` so it leaves the notebook's alone.

    Returns
    -------
    str
        A ``<style>`` block: system fonts, tiles, tables, badges, ``<details>``.
    """
    return """<style>
.obskit { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1f2328; line-height: 1.45; font-size: 15px; max-width: 1100px; }
.obskit h1 { font-size: 1.6em; margin: .2em 0 .4em; }
.obskit h3 { font-size: 1.1em; margin: 1.2em 0 .4em; }
.obskit p { margin: .35em 0; }
.obskit a { color: #0969da; }
.obskit code { background: #f6f8fa; padding: 0 .25em; border-radius: 3px; }
.obskit .muted { color: #57606a; font-size: .9em; }
.obskit-badge { display: inline-block; color: #fff; border-radius: .7em; padding: .05em .6em;
  font-size: .8em; font-weight: 600; vertical-align: middle; text-transform: uppercase;
  letter-spacing: .03em; }
.obskit-badge.ok { background: #1a7f37; } .obskit-badge.alert { background: #b35900; }
.obskit-badge.warning { background: #b35900; } .obskit-badge.failed { background: #cf222e; }
.obskit-badge.critical { background: #cf222e; } .obskit-badge.info { background: #0969da; }
.obskit-badge.na { background: #8c959f; }
.obskit .facts { display: grid; grid-template-columns: max-content 1fr; gap: .15em 1em;
  margin: .5em 0; }
.obskit .facts dt { color: #57606a; } .obskit .facts dd { margin: 0; }
.obskit .error { border-left: 4px solid #cf222e; background: #fff5f5; padding: .4em .8em;
  white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: .9em; }
.obskit .notes { background: #f6f8fa; border-left: 4px solid #8c959f; padding: .3em .8em
  .3em 2em; }
.obskit .tiles { display: flex; flex-wrap: wrap; gap: .7em; margin: .8em 0; }
.obskit .tile { border: 1px solid #d0d7de; border-top: 4px solid #8c959f; border-radius: 6px;
  padding: .5em .8em; min-width: 9.5em; flex: 1 1 9.5em; }
.obskit .tile.ok { border-top-color: #1a7f37; } .obskit .tile.alert { border-top-color: #b35900; }
.obskit .tile .label { color: #57606a; font-size: .8em; text-transform: uppercase; }
.obskit .tile .value { font-size: 1.5em; font-weight: 600; }
.obskit .tile .sub { color: #57606a; font-size: .82em; }
.obskit table { border-collapse: collapse; margin: .5em 0; font-size: .92em; }
.obskit th, .obskit td { padding: .3em .7em; border-bottom: 1px solid #d0d7de;
  text-align: left; vertical-align: middle; }
.obskit th { background: #f6f8fa; font-weight: 600; }
.obskit td.num, .obskit th.num { text-align: right; font-variant-numeric: tabular-nums; }
.obskit tr.drifted td:first-child { border-left: 3px solid #b35900; }
.obskit ol.findings { padding-left: 1.6em; } .obskit ol.findings li { margin: .5em 0; }
.obskit ol.findings .next { color: #57606a; font-size: .92em; }
.obskit details { margin: .5em 0; } .obskit summary { cursor: pointer; color: #0969da; }
.obskit .swatch { display: inline-block; width: .9em; height: .9em; border-radius: 2px;
  vertical-align: middle; margin-right: .25em; }
.obskit img.spark { display: block; }
</style>
"""


def header_html(summary: Mapping[str, Any]) -> str:
    """The report header: title, status, period, windows, rows accounted for, links, notes.

    Parameters
    ----------
    summary : Mapping
        The run's ``summary.json`` document.

    Returns
    -------
    str
        An HTML fragment.
    """
    status = str(summary.get("status") or "n/a")
    windows = _windows(summary)
    period = _map(summary.get("period"))
    rows = _map(summary.get("rows"))
    title = summary.get("title") or "obskit monitoring report"
    kind = status if status in ("ok", "alert", "failed") else "na"
    parts = [f'<div class="obskit"><h1>{_e(title)} {_badge(status, kind)}</h1>']
    if summary.get("error"):
        parts.append(f'<div class="error">The run failed: {_e(summary.get("error"))}</div>')

    read, used, quar = (_num(rows.get(k)) for k in ("read", "current", "quarantined"))
    if read is not None and used is not None and quar is not None:
        gap = read - used - quar
        rows_text = (f"{'All ' if gap == 0 else ''}{_fmt_int(read)} rows read"
                     f"{' are accounted for' if gap == 0 else ''}: {_fmt_int(used)} used + "
                     f"{_fmt_int(quar)} quarantined = {_fmt_int(used + quar)}"
                     + ("." if gap == 0 else f"; {_fmt_int(gap)} not accounted for."))
    else:
        rows_text = (f"{_fmt_int(read)} rows read, {_fmt_int(used)} used, "
                     f"{_fmt_int(quar)} quarantined.")
    ref_text = (f"{_fmt_int(rows.get('reference'))} reference rows "
                f"({_fmt_int(rows.get('reference_quarantined'))} quarantined).")

    labelled = sum(_num(w.get("labelled_rows")) or 0 for w in windows)
    total = sum(_num(w.get("rows")) or 0 for w in windows)
    if summary.get("labels") is None:
        labels_text = "no label source: realized performance is not available"
    elif total:
        labels_text = (f"{_fmt_pct(labelled / total)} of the rows in windows "
                       f"({_fmt_int(labelled)} of {_fmt_int(total)})")
    else:
        labels_text = f"{_fmt_int(_map(summary.get('labels')).get('matched'))} labels matched"

    statuses = [str(w.get("status")) for w in windows]
    not_ok = len(statuses) - statuses.count("ok")
    window_text = (f"<code>{_e(summary.get('window'))}</code>, {len(windows)} windows"
                   + (f" ({not_ok} empty or with too few rows)" if not_ok else ""))
    version = f" by obskit {_e(summary['obskit_version'])}" \
        if summary.get("obskit_version") else ""
    facts = [
        ("Model task", _e(summary.get("task"))),
        ("Data period", f"{_e(_fmt_time(period.get('start')))} to "
                        f"{_e(_fmt_time(period.get('end')))} (UTC)"),
        ("Windows", window_text),
        ("Rows", f"{_e(rows_text)} {_e(ref_text)}"),
        ("Label coverage", _e(labels_text)),
        ("Generated", f"{_e(_fmt_time(summary.get('generated_at')))} UTC{version}"),
        ("Links", '<a href="summary.json">summary.json</a> (exact values) · '
                  '<a href="../index.html">history of runs</a>'),
    ]
    parts.append('<dl class="facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
                 + "</dl>")
    notes = [n for n in _list(summary.get("notes")) if n]
    if notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{_e(n)}</li>" for n in notes)
                     + "</ul>")
    return "".join(parts) + "</div>"


def _tile(label: str, value: str, sub: str = "", kind: str = "") -> str:
    """One tile; all three texts must already be escaped."""
    return (f'<div class="tile {kind}"><div class="label">{label}</div>'
            f'<div class="value">{value}</div><div class="sub">{sub}</div></div>')


def _primary_metric(summary: Mapping[str, Any], windows: list[Mapping[str, Any]]) -> str | None:
    """The task's primary metric if it has a value, else the first metric with one."""
    available = _performance_metrics(summary, windows)
    if not available:
        return None
    preferred = primary_metric(str(summary.get("task") or ""))
    return preferred if preferred in available else available[0]


def summary_tiles_html(summary: Mapping[str, Any]) -> str:
    """Tiles: windows, alerts, drifted features, latest drift share, latency, errors, metric.

    Parameters
    ----------
    summary : Mapping
        The run's ``summary.json`` document.

    Returns
    -------
    str
        An HTML fragment.
    """
    windows = _windows(summary)
    alerts = _alerts(summary)
    tiles = []
    n_ok = sum(1 for w in windows if w.get("status") == "ok")
    tiles.append(_tile("Windows", str(len(windows)), f"{n_ok} with enough rows"))
    alert_windows = {a.get("window") for a in alerts}
    tiles.append(_tile("Alerts fired", str(len(alerts)),
                       f"in {len(alert_windows)} window{'s' * (len(alert_windows) != 1)}",
                       "alert" if alerts else "ok"))

    drift = _map(summary.get("drift_summary"))
    total = len(drift) or len(_map(summary.get("features")))
    drifted = sum(1 for d in drift.values() if (_num(_map(d).get("drifted_windows")) or 0) > 0)
    tiles.append(_tile("Features drifted", f"{drifted} / {total}", "in any window",
                       "alert" if drifted else ("ok" if total else "")))

    def latest_tile(label: str, path: tuple[str, ...], metric: str) -> str:
        value, start = _latest(windows, *path)
        threshold = _rule_threshold(summary, metric)
        kind = "" if value is None or threshold is None else \
            ("alert" if value > threshold else "ok")
        sub = f"on {_e(_fmt_time(start))}" if value is not None else "no data"
        if threshold is not None:
            sub += f"; alert above {_e(_fmt_metric(metric, threshold))}"
        return _tile(label, _e(_fmt_metric(metric, value)), sub, kind)

    tiles.append(latest_tile("Drifted share, latest", ("drift_share",), "drift_share"))
    tiles.append(latest_tile("p95 latency, latest", ("health", "latency_p95_ms"),
                             "health.latency_p95_ms"))
    tiles.append(latest_tile("Error rate, latest", ("health", "error_rate"),
                             "health.error_rate"))

    metric = _primary_metric(summary, windows)
    if metric is None:
        tiles.append(_tile("Performance, latest", "n/a",
                           "no labels" if summary.get("labels") is None else "no values"))
    else:
        value, start = _latest(windows, "performance", metric)
        ref = _num(_map(_map(summary.get("reference")).get("performance")).get(metric))
        sub = f"on {_e(_fmt_time(start))}"
        kind = ""
        if ref is not None and value is not None:
            change = (value - ref) / abs(ref) if ref else None
            sub += f"; reference {_e(_fmt_num(ref))}"
            if change is not None:
                sub += f" ({change:+.1%})"
            worse = value < ref if metric in HIGHER_IS_BETTER else value > ref
            fired = any(str(a.get("metric")) == f"performance.{metric}"
                        and a.get("window_start") == start for a in alerts)
            kind = "alert" if fired else ("ok" if not worse or change is None
                                          or abs(change) < 0.01 else "")
        tiles.append(_tile(f"{_e(_metric_name(metric))}, latest", _e(_fmt_num(value)),
                           sub, kind))
    return '<div class="obskit"><div class="tiles">' + "".join(tiles) + "</div></div>"


def findings_html(summary: Mapping[str, Any]) -> str:
    """The findings in words, most severe first, each with its next step and a section link.

    Parameters
    ----------
    summary : Mapping
        The run's ``summary.json`` document.

    Returns
    -------
    str
        An HTML fragment (an ordered list, or a sentence when there is nothing to report).
    """
    findings = [f for f in _list(summary.get("findings")) if isinstance(f, Mapping)]
    if not findings:
        text = ("The run failed before findings could be made; see the error above."
                if summary.get("status") == "failed"
                else "Nothing to report: no alert fired and no feature drifted.")
        return f'<div class="obskit"><p>{_e(text)}</p></div>'
    findings = sorted(findings, key=lambda f: _SEVERITY_ORDER.get(str(f.get("severity")), 3))
    items = []
    for f in findings:
        severity = str(f.get("severity") or "info")
        section = str(f.get("section") or "").lower().replace("_", "-")
        link = f' <a href="#{section}">see {section.replace("-", " ")} ↓</a>' \
            if section in _SECTIONS else ""
        nxt = f'<br><span class="next">Next step: {_e(f.get("next_step"))}</span>' \
            if f.get("next_step") else ""
        items.append(f"<li>{_badge(severity, severity)} {_e(f.get('text'))}{link}{nxt}</li>")
    return '<div class="obskit"><ol class="findings">' + "".join(items) + "</ol></div>"


# --------------------------------------------------------------------------- figures


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
    fig = Figure(figsize=(9, 7.6), layout="constrained")
    ax_rows, ax_lat, ax_err = fig.subplots(3, 1, sharex=True)
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

    threshold = _rule_threshold(summary, "health.latency_p95_ms")
    any_latency = False
    for q in ("p50", "p95", "p99"):
        values = _series(windows, "health", f"latency_{q}_ms")
        if np.isfinite(values).any():
            any_latency = True
            ax_lat.plot(x, values, marker="o", ms=3, color=_QUANTILE_COLORS[q], label=q)
    if threshold is not None:
        ax_lat.axhline(threshold, color=COLOR_ALERT, ls="--", lw=1.2,
                       label=f"p95 alert threshold ({threshold:,.0f} ms)")
        p95 = _series(windows, "health", "latency_p95_ms")
        over = np.isfinite(p95) & (p95 > threshold)
        ax_lat.scatter(x[over], p95[over], color=COLOR_ALERT, zorder=3, s=30)
    if not any_latency:
        _no_data(ax_lat, "no latency in these logs")
    ax_lat.set_title("Latency quantiles")
    ax_lat.set_ylabel("Latency (ms)")

    err = _series(windows, "health", "error_rate", scale=100)
    threshold = _rule_threshold(summary, "health.error_rate")
    if np.isfinite(err).any():
        ax_err.plot(x, err, marker="o", ms=3, color=COLOR_CURRENT, label="error rate")
    else:
        _no_data(ax_err, "no error status in these logs")
    if threshold is not None:
        ax_err.axhline(threshold * 100, color=COLOR_ALERT, ls="--", lw=1.2,
                       label=f"alert threshold ({threshold:.1%})")
        over = np.isfinite(err) & (err > threshold * 100)
        ax_err.scatter(x[over], err[over], color=COLOR_ALERT, zorder=3, s=30)
    ax_err.set_title("Error rate")
    ax_err.set_ylabel("Errors (% of rows)")
    ax_err.set_ylim(bottom=0)

    for ax in (ax_rows, ax_lat, ax_err):
        _shade(ax, alerting)
        handles, labels = ax.get_legend_handles_labels()
        if alerting:
            handles.append(Patch(color=COLOR_ALERT, alpha=0.25))
            labels.append("window with a health alert")
        if handles:
            ax.legend(handles, labels, fontsize=7, loc="upper left", frameon=False,
                      ncols=min(len(handles), 4))
        ax.margins(y=0.15)
    _window_axis(ax_err, windows)
    return fig


def _performance_metrics(summary: Mapping[str, Any],
                         windows: list[Mapping[str, Any]]) -> list[str]:
    """Metrics with at least one value in some window, in first-seen order."""
    metrics: list[str] = []
    for w in windows:
        for metric, value in _map(w.get("performance")).items():
            if metric not in metrics and _num(value) is not None:
                metrics.append(str(metric))
    return metrics


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
    fig.suptitle("Realized performance per window", fontweight="bold")
    legend: dict[str, Any] = {}
    for i, metric in enumerate(metrics):
        ax = fig.add_subplot(grid[i // ncols, i % ncols])
        values = _series(windows, "performance", metric)
        ax.plot(x, values, marker="o", ms=3, color=COLOR_CURRENT, label="current")
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


def _drift_rows(summary: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """``(feature, drift summary)`` sorted by drifted windows desc, then max value desc."""
    rows = [(str(f), _map(d)) for f, d in _map(summary.get("drift_summary")).items()]

    def key(item: tuple[str, Mapping[str, Any]]) -> tuple[float, float, str]:
        d = item[1]
        ratio = _num(d.get("max_value"))
        return (-(_num(d.get("drifted_windows")) or 0),
                -(ratio if ratio is not None else -math.inf), item[0])

    return sorted(rows, key=key)


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


def _sparkline_img(feature: str, dist: Mapping[str, Any]) -> str:
    fig = _sparkline(dist)
    if fig is None:
        return '<span class="muted">no data</span>'
    alt = f"{feature}: reference vs current distribution"
    if dist.get("kind") == "categorical":
        cats = _list(dist.get("categories"))
        ref = [_num(v) or 0.0 for v in _list(dist.get("reference"))]
        cur = [_num(v) or 0.0 for v in _list(dist.get("current"))]
        order = sorted(range(min(len(cats), len(ref), len(cur))),
                       key=lambda i: -(ref[i] / (sum(ref) or 1) + cur[i] / (sum(cur) or 1)))
        alt += "; categories left to right: " + ", ".join(str(cats[i]) for i in order[:8])
    return f'<img class="spark" width="172" height="57" alt="{_e(alt)}" title="{_e(alt)}" ' \
           f'src="{figure_to_data_uri(fig)}">'


def drift_table_html(summary: Mapping[str, Any]) -> str:
    """One row per feature, most severe first, with a small reference/current chart.

    Parameters
    ----------
    summary : Mapping
        The run's ``summary.json`` document.

    Returns
    -------
    str
        An HTML table (rows past the first 25 collapsed in ``<details>``).
    """
    rows = _drift_rows(summary)
    if not rows:
        return '<div class="obskit"><p>No drift was computed in this run.</p></div>'
    distributions = _map(summary.get("distributions"))
    windows = _windows(summary)
    latest = _map(windows[-1].get("drift")) if windows else {}
    head = ("<thead><tr><th>Feature</th><th>Type</th><th>Method</th><th class=num>Threshold"
            "</th><th class=num>Drifted windows</th><th>First drifted</th><th class=num>Max"
            "</th><th class=num>Last</th><th>Verdict</th><th>Reference vs current</th>"
            "</tr></thead>")
    body = []
    for feature, d in rows:
        k, n = _num(d.get("drifted_windows")), _num(d.get("windows"))
        in_latest = _map(latest.get(feature)).get("drifted") is True
        if k is None:
            verdict = _badge("n/a", "na")
        elif in_latest:
            verdict = _badge("drifted", "alert")
        elif k > 0:
            verdict = _badge("drifted earlier", "warning")
        else:
            verdict = _badge("stable", "ok")
        body.append(
            f'<tr class="{"drifted" if k else "stable"}">'
            f"<td><strong>{_e(feature)}</strong></td><td>{_e(d.get('type'))}</td>"
            f"<td>{_e(_method_name(d.get('method')))}</td>"
            f"<td class=num>{_e(_fmt_num(d.get('threshold')))}</td>"
            f"<td class=num>{_e(_fmt_int(k))} of {_e(_fmt_int(n))}</td>"
            f"<td>{_e(_fmt_time(d.get('first_drifted')) if d.get('first_drifted') else '—')}"
            f"</td><td class=num>{_e(_fmt_num(d.get('max_value')))}</td>"
            f"<td class=num>{_e(_fmt_num(d.get('last_value')))}</td><td>{verdict}</td>"
            f"<td>{_sparkline_img(feature, _map(distributions.get(feature)))}</td></tr>")
    legend = (f'<p class="muted"><span class="swatch" style="background:{COLOR_REFERENCE}">'
              f'</span>reference <span class="swatch" style="background:{COLOR_CURRENT}">'
              "</span>current (whole period). Numeric features: shares per bin, the outer "
              "bins open-ended; categorical: shares of the 8 most frequent categories. "
              "Sorted by drifted windows, then by the largest score.</p>")
    table = f"<table>{head}<tbody>{''.join(body[:_TABLE_VISIBLE_ROWS])}</tbody></table>"
    if len(body) > _TABLE_VISIBLE_ROWS:
        table += (f"<details><summary>{len(body) - _TABLE_VISIBLE_ROWS} more features"
                  f"</summary><table>{head}<tbody>{''.join(body[_TABLE_VISIBLE_ROWS:])}"
                  "</tbody></table></details>")
    return f'<div class="obskit">{legend}{table}</div>'


# --------------------------------------------------------------------------- notes


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]],
           numeric: frozenset[int] = frozenset()) -> str:
    """A plain table; every cell is escaped."""
    cls = [" class=num" if i in numeric else "" for i in range(len(header))]
    head = "".join(f"<th{cls[i]}>{_e(h)}</th>" for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(f"<td{cls[i]}>{_e(c)}</td>" for i, c in enumerate(row))
                   + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def data_quality_html(summary: Mapping[str, Any]) -> str:
    """Quarantine counts by reason, examples, label accounting and the files read.

    Parameters
    ----------
    summary : Mapping
        The run's ``summary.json`` document.

    Returns
    -------
    str
        An HTML fragment.
    """
    rows = _map(summary.get("rows"))
    quarantine = _map(summary.get("quarantine"))
    by_reason = _map(quarantine.get("by_reason"))
    read = _num(rows.get("read"))
    parts = ['<div class="obskit"><h3>Quarantined rows</h3>']
    if by_reason:
        reasons = sorted(by_reason.items(), key=lambda kv: -(_num(kv[1]) or 0))
        parts.append(_table(("Reason", "Rows", "Share of rows read"),
                            [(r, _fmt_int(c), _fmt_pct((_num(c) or 0) / read) if read else
                              "n/a") for r, c in reasons], frozenset({1, 2})))
    else:
        parts.append(f"<p>No rows were quarantined ({_e(_fmt_int(read))} rows read, "
                     f"{_e(_fmt_int(rows.get('current')))} used).</p>")
    if _num(rows.get("reference_quarantined")):
        parts.append(f"<p>{_e(_fmt_int(rows.get('reference_quarantined')))} reference rows "
                     "were quarantined.</p>")
    examples = [x for x in _list(quarantine.get("examples")) if isinstance(x, Mapping)]
    if examples:
        parts.append(f"<details><summary>{len(examples)} example"
                     f"{'s' * (len(examples) != 1)} of quarantined rows</summary>"
                     + _table(("File", "Line", "Reason", "Detail"),
                              [(_basename(x.get("file")), x.get("line"), x.get("reason"),
                                x.get("detail")) for x in examples], frozenset({1}))
                     + "</details>")

    parts.append("<h3>Labels</h3>")
    labels = summary.get("labels")
    if isinstance(labels, Mapping):
        names = (("read", "labels read"), ("quarantined", "quarantined"),
                 ("duplicates", "duplicates dropped"), ("used", "used"),
                 ("matched", "matched to a prediction"), ("unmatched", "matched no prediction"))
        parts.append(_table(("Labels", "Count"),
                            [(label, _fmt_int(labels.get(k))) for k, label in names],
                            frozenset({1})))
    else:
        parts.append("<p>No label source was given: realized performance is not available."
                     "</p>")

    sources = _map(summary.get("sources"))
    files = [(kind, _basename(p)) for kind, paths in sources.items() for p in _list(paths)]
    if files:
        parts.append(f"<details><summary>{len(files)} source files read</summary>"
                     + _table(("Role", "File"), files) + "</details>")
    return "".join(parts) + "</div>"


def _rule_condition(rule: Mapping[str, Any]) -> str:
    op, value, metric = rule.get("op"), rule.get("value"), str(rule.get("metric") or "")
    if op == "drop_pct":
        return f"worse than the reference by more than {_fmt_num(value)}%"
    return f"{op} {_fmt_metric(metric, value)}"


def methods_html(summary: Mapping[str, Any]) -> str:
    """Methods and thresholds in force, alert rules, and the windows that could not be judged.

    Parameters
    ----------
    summary : Mapping
        The run's ``summary.json`` document.

    Returns
    -------
    str
        An HTML fragment.
    """
    methods = _map(summary.get("methods"))
    parts = ['<div class="obskit"><h3>Methods and thresholds</h3>']
    groups: dict[tuple[str, str], list[str]] = {}
    for feature, m in _map(methods.get("drift")).items():
        m = _map(m)
        key = (_method_name(m.get("method")), _fmt_num(m.get("threshold")))
        groups.setdefault(key, []).append(str(feature))
    if groups:
        parts.append(_table(("Drift method", "Threshold", "Features"),
                            [(m, t, ", ".join(fs)) for (m, t), fs in groups.items()],
                            frozenset({1})))
    else:
        parts.append("<p>No drift methods in force.</p>")
    types = _map(summary.get("features"))
    if types:
        by_type: dict[str, list[str]] = {}
        for feature, kind in types.items():
            by_type.setdefault(str(kind), []).append(str(feature))
        parts.append("<p>Feature types: " + "; ".join(
            f"{_e(k)}: {_e(', '.join(v))}" for k, v in by_type.items()) + ".</p>")
    parts.append(f"<p>Windows with fewer than {_e(_fmt_int(methods.get('min_window_rows')))} "
                 "rows are marked as having insufficient data and are not judged by the alert "
                 "rules. Latency quantiles: "
                 f"{_e(methods.get('latency_quantiles'))}.</p>")

    rules = [_map(r) for r in _list(summary.get("alert_rules"))]
    default = summary.get("alert_rules_default")
    which = {True: "the default rules", False: "rules from the configuration"}.get(default,
                                                                                 "rules")
    parts.append(f"<h3>Alert rules in force ({_e(which)})</h3>")
    if rules:
        parts.append(_table(("Rule", "Metric", "Fires when", "Severity"),
                            [(r.get("name"), r.get("metric"), _rule_condition(r),
                              r.get("severity")) for r in rules]))
    else:
        parts.append("<p>No alert rules in force.</p>")

    windows = _windows(summary)
    starts = {w.get("index"): w.get("start") for w in windows}
    grouped: dict[str, list[str]] = {}
    for item in _list(summary.get("insufficient_data")):
        item = _map(item) if isinstance(item, Mapping) else {"window": item}
        start = item.get("window_start") or starts.get(item.get("window"))
        what = item.get("metric") or {"empty": "empty window",
                                      "insufficient_data": "too few rows"}.get(
            str(item.get("reason")), str(item.get("reason") or "not judged"))
        grouped.setdefault(_fmt_time(start), []).append(str(what))
    parts.append("<h3>Not judged for lack of data</h3>")
    if grouped:
        table = _table(("Window start", "Not judged"),
                       [(s, ", ".join(dict.fromkeys(w))) for s, w in grouped.items()])
        parts.append(table if len(grouped) <= 5 else
                     f"<details><summary>{len(grouped)} windows</summary>{table}</details>")
    else:
        parts.append("<p>Every rule could be judged in every window.</p>")
    return "".join(parts) + "</div>"
