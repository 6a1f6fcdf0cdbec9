"""The top of the report: the header (title, status, period, windows, rows accounted for,
links, notes), the summary tiles and the findings in words. Every string from the data is
escaped."""

from __future__ import annotations

from obskit._format import finite, fmt_int, fmt_metric, fmt_num, fmt_pct, fmt_time
from obskit._text import plural
from obskit.metrics.performance import metric_direction
from obskit.render.common import (
    SECTIONS,
    alerts,
    as_read,
    badge,
    complete,
    escape,
    latest,
    logged,
    metric_name,
    primary_metric,
    rule_threshold,
)
from obskit.render.figures import performance_metrics
from obskit.results import Finding, Run, RunRecord, Window
from obskit.severity import severity_rank

__all__ = ["findings_html", "header_html", "summary_tiles_html"]


def _rows_text(run: Run) -> str:
    """Rows read, and how they are accounted for."""
    rows = run.rows
    read, used, quar = (finite(as_read(rows, k)) for k in ("read", "current", "quarantined"))
    outside = finite(as_read(rows, "outside_period")) or 0
    if read is not None and used is not None and quar is not None:
        gap = read - used - quar - outside
        terms = f"{fmt_int(used)} used + {fmt_int(quar)} quarantined"
        if outside:
            terms += f" + {fmt_int(outside)} outside the period"
        return (f"{'All ' if gap == 0 else ''}{fmt_int(read)} rows read"
                f"{' are accounted for' if gap == 0 else ''}: {terms} = "
                f"{fmt_int(used + quar + outside)}"
                + ("." if gap == 0 else f"; {fmt_int(gap)} not accounted for."))
    return f"{fmt_int(read)} rows read, {fmt_int(used)} used, {fmt_int(quar)} quarantined."


def _labels_text(run: Run) -> str:
    windows = run.windows
    labelled = sum(finite(w.labelled_rows) or 0 for w in windows)
    total = sum(finite(w.rows) or 0 for w in windows)
    in_log = "label" in run.roles or any(
        w.labelled_rows is not None for w in windows)  # labels in the log itself
    if run.labels is None and not in_log:
        return ("no labels (no label column, no label source): realized performance "
                "is not available")
    if total:
        return (f"{fmt_pct(labelled / total)} of the rows in windows "
                f"({fmt_int(labelled)} of {fmt_int(total)})")
    if run.labels is None:
        return "labels in the logs; no rows in the windows"
    return f"{fmt_int(run.labels.matched)} labels matched"


def _window_text(run: Run) -> str:
    windows = run.windows
    statuses = [str(w.status) for w in windows]
    not_ok = len(statuses) - statuses.count("ok")
    text = (f"<code>{escape(run.window)}</code>, {plural(len(windows), 'window')}"
            + (f" ({not_ok} empty or with too few rows)" if not_ok else ""))
    partial = [w for w in windows if w.partial is True]
    if partial:  # the data covers them only in part: their volume is not judged
        text += (f"; {len(partial)} partial (" + ", ".join(
            escape(fmt_time(w.start)) for w in partial)
            + "), covered only in part by the data, volume not judged")
    return text


def header_html(run: Run, record: RunRecord | None = None) -> str:
    """The report header: title, status, period, windows, rows accounted for, links, notes.

    Parameters
    ----------
    run : Run
        The run.
    record : RunRecord, optional
        The runner's record of it (:func:`obskit.results.load_record`): its ``error``, when
        the run failed, is shown under the title.

    Returns
    -------
    str
        An HTML fragment.
    """
    run = complete(run)
    status = str(as_read(run, "status") or "n/a")
    title = run.title or "obskit monitoring report"
    kind = status if status in ("ok", "alert", "failed") else "na"
    parts = [f'<div class="obskit"><h1>{escape(title)} {badge(status, kind)}</h1>']
    error = record.error if record is not None else None
    if error:
        parts.append(f'<div class="error">The run failed: {escape(error)}</div>')
    rows = run.rows
    ref_text = (f"{fmt_int(as_read(rows, 'reference'))} reference rows "
                f"({fmt_int(as_read(rows, 'reference_quarantined'))} quarantined).")
    version = f" by obskit {escape(run.obskit_version)}" if run.obskit_version else ""
    facts = [
        ("Model task", escape(run.task)),
        ("Data period", f"{escape(fmt_time(run.period.start))} to "
                        f"{escape(fmt_time(run.period.end))} (UTC)"),
        ("Windows", _window_text(run)),
        ("Rows", f"{escape(_rows_text(run))} {escape(ref_text)}"),
        ("Label coverage", escape(_labels_text(run))),
        ("Generated", f"{escape(fmt_time(run.generated_at))} UTC{version}"),
        ("Links", '<a href="summary.json">summary.json</a> (exact values) · '
                  '<a href="../index.html">history of runs</a>'),
    ]
    parts.append('<dl class="facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
                 + "</dl>")
    notes = [n for n in run.notes if n]
    if notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{escape(n)}</li>" for n in notes)
                     + "</ul>")
    return "".join(parts) + "</div>"


def _tile(label: str, value: str, sub: str = "", kind: str = "") -> str:
    """One tile; all three texts must already be escaped."""
    return (f'<div class="tile {kind}"><div class="label">{label}</div>'
            f'<div class="value">{value}</div><div class="sub">{sub}</div></div>')


def _headline_metric(run: Run) -> str | None:
    """The task's primary metric if it has a value, else the first metric with one."""
    available = performance_metrics(run.windows)
    if not available:
        return None
    preferred = primary_metric(run)
    return preferred if preferred in available else available[0]


def _health_value(w: Window, key: str) -> float | None:
    value = getattr(w.health, key)
    return None if value is None else float(value)


def _performance_tile(run: Run, metric: str | None) -> str:
    if metric is None:
        return _tile("Performance, latest", "n/a",
                     "no labels" if run.labels is None else "no values")
    value, start = latest(run.windows, lambda w: w.performance.get(metric))
    ref = finite(run.reference.performance.get(metric))
    sub = f"on {escape(fmt_time(start))}"
    kind = ""
    if ref is not None and value is not None:
        change = (value - ref) / abs(ref) if ref else None
        sub += f"; reference {escape(fmt_num(ref))}"
        if change is not None:
            sub += f" ({change:+.1%})"
        direction = metric_direction(metric)
        worse = (value < ref if direction == "higher" else value > ref if direction == "lower"
                 else abs(value) > abs(ref))
        fired = any(str(a.metric) == f"performance.{metric}" and a.window_start == start
                    for a in alerts(run))
        kind = "alert" if fired else ("ok" if not worse or change is None
                                      or abs(change) < 0.01 else "")
    return _tile(f"{escape(metric_name(metric))}, latest", escape(fmt_num(value)), sub, kind)


def summary_tiles_html(run: Run) -> str:
    """Tiles: windows, alerts, drifted features, latest drift share, latency, errors, metric.

    Parameters
    ----------
    run : Run
        The run.

    Returns
    -------
    str
        An HTML fragment.
    """
    run = complete(run)
    windows = run.windows
    fired = alerts(run)
    tiles = []
    n_ok = sum(1 for w in windows if w.status == "ok")
    tiles.append(_tile("Windows", str(len(windows)), f"{n_ok} with enough rows"))
    alert_windows = {a.window for a in fired}
    in_segments = len(alerts(run, segments=True))
    tiles.append(_tile("Alerts fired", str(len(fired)),
                       f"in {len(alert_windows)} window{'s' * (len(alert_windows) != 1)}"
                       + (f"; {in_segments} more in segments" if in_segments else ""),
                       "alert" if fired or in_segments else "ok"))

    drift = run.drift_summary
    total = len(drift) or len(run.features)
    drifted = sum(1 for d in drift.values() if (finite(d.drifted_windows) or 0) > 0)
    tiles.append(_tile("Features drifted", f"{drifted} / {total}", "in any window",
                       "alert" if drifted else ("ok" if total else "")))

    def latest_tile(label: str, key: str, metric: str) -> str:
        if key == "drift_share":
            value, start = latest(windows, lambda w: w.drift_share)
        else:
            value, start = latest(windows, lambda w: _health_value(w, key))
        threshold = rule_threshold(run, metric)
        kind = "" if value is None or threshold is None else \
            ("alert" if value > threshold else "ok")
        sub = f"on {escape(fmt_time(start))}" if value is not None else "no data"
        if threshold is not None:
            sub += f"; alert above {escape(fmt_metric(metric, threshold))}"
        return _tile(label, escape(fmt_metric(metric, value)), sub, kind)

    tiles.append(latest_tile("Drifted share, latest", "drift_share", "drift_share"))
    if logged(run, "latency_ms"):  # else health_notes_html says why there is none
        tiles.append(latest_tile("p95 latency, latest", "latency_p95_ms",
                                 "health.latency_p95_ms"))
    if logged(run, "status", "error"):
        tiles.append(latest_tile("Error rate, latest", "error_rate", "health.error_rate"))
    tiles.append(_performance_tile(run, _headline_metric(run)))
    return '<div class="obskit"><div class="tiles">' + "".join(tiles) + "</div></div>"


def findings_html(run: Run, *, limit: int | None = None) -> str:
    """The findings in words, most severe first, each with its next step and a section link.

    Parameters
    ----------
    run : Run
        The run (its ``findings`` and ``status``).
    limit : int, optional
        Show only the first ``limit`` findings, in the order the run lists them (before
        the sort by severity); all by default.

    Returns
    -------
    str
        An HTML fragment (an ordered list, or a sentence when there is nothing to report).
    """
    run = complete(run)
    listed: list[Finding] = list(run.findings)[:limit]
    if not listed:
        text = ("The run failed before findings could be made; see the error above."
                if run.status == "failed"
                else "Nothing to report: no alert fired and no feature drifted.")
        return f'<div class="obskit"><p>{escape(text)}</p></div>'
    items = []
    for f in sorted(listed, key=lambda f: severity_rank(f.severity)):
        severity = str(f.severity or "info")
        section = str(f.section or "").lower().replace("_", "-")
        link = f' <a href="#{section}">see {section.replace("-", " ")} ↓</a>' \
            if section in SECTIONS else ""
        nxt = f'<br><span class="next">Next step: {escape(f.next_step)}</span>' \
            if f.next_step else ""
        if f.command:
            nxt += f'<br><span class="next">Deep dive: <code>{escape(f.command)}</code></span>'
        items.append(f"<li>{badge(severity, severity)} {escape(f.text)}{link}{nxt}</li>")
    return '<div class="obskit"><ol class="findings">' + "".join(items) + "</ol></div>"
