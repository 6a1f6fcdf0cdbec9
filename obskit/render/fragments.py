"""HTML fragments of the report; every string from the data is escaped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from obskit._format import finite, fmt_int, fmt_metric, fmt_ms, fmt_num, fmt_pct, fmt_time
from obskit._text import plural, word
from obskit.feature_ranking import rank_features, summary_worst_value
from obskit.performance import metric_direction, summary_primary_metric
from obskit.render._common import (
    _SECTIONS,
    _TABLE_VISIBLE_ROWS,
    COLOR_CURRENT,
    COLOR_REFERENCE,
    _alerts,
    _badge,
    _basename,
    _drift_rows,
    _latest,
    _list,
    _logged,
    _map,
    _method_name,
    _metric_name,
    _rule_threshold,
    _windows,
    escape,
)
from obskit.render.drift_figures import sparkline_figure
from obskit.render.figures import _performance_metrics
from obskit.render.plotting import figure_to_data_uri
from obskit.severity import severity_rank


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
.obskit .facts dt { color: #57606a; white-space: nowrap; } .obskit .facts dd { margin: 0; }
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
    parts = [f'<div class="obskit"><h1>{escape(title)} {_badge(status, kind)}</h1>']
    if summary.get("error"):
        parts.append(f'<div class="error">The run failed: {escape(summary.get("error"))}</div>')

    read, used, quar = (finite(rows.get(k)) for k in ("read", "current", "quarantined"))
    outside = finite(rows.get("outside_period")) or 0
    if read is not None and used is not None and quar is not None:
        gap = read - used - quar - outside
        terms = f"{fmt_int(used)} used + {fmt_int(quar)} quarantined"
        if outside:
            terms += f" + {fmt_int(outside)} outside the period"
        rows_text = (f"{'All ' if gap == 0 else ''}{fmt_int(read)} rows read"
                     f"{' are accounted for' if gap == 0 else ''}: {terms} = "
                     f"{fmt_int(used + quar + outside)}"
                     + ("." if gap == 0 else f"; {fmt_int(gap)} not accounted for."))
    else:
        rows_text = (f"{fmt_int(read)} rows read, {fmt_int(used)} used, "
                     f"{fmt_int(quar)} quarantined.")
    ref_text = (f"{fmt_int(rows.get('reference'))} reference rows "
                f"({fmt_int(rows.get('reference_quarantined'))} quarantined).")

    labelled = sum(finite(w.get("labelled_rows")) or 0 for w in windows)
    total = sum(finite(w.get("rows")) or 0 for w in windows)
    in_log = "label" in (summary.get("roles") or []) or any(
        w.get("labelled_rows") is not None for w in windows)  # labels in the log itself
    if summary.get("labels") is None and not in_log:
        labels_text = ("no labels (no label column, no label source): realized performance "
                       "is not available")
    elif total:
        labels_text = (f"{fmt_pct(labelled / total)} of the rows in windows "
                       f"({fmt_int(labelled)} of {fmt_int(total)})")
    elif summary.get("labels") is None:
        labels_text = "labels in the logs; no rows in the windows"
    else:
        labels_text = f"{fmt_int(_map(summary.get('labels')).get('matched'))} labels matched"

    statuses = [str(w.get("status")) for w in windows]
    not_ok = len(statuses) - statuses.count("ok")
    window_text = (f"<code>{escape(summary.get('window'))}</code>, {plural(len(windows), 'window')}"
                   + (f" ({not_ok} empty or with too few rows)" if not_ok else ""))
    partial = [w for w in windows if w.get("partial") is True]
    if partial:  # the data covers them only in part: their volume is not judged
        window_text += (f"; {len(partial)} partial (" + ", ".join(
            escape(fmt_time(w.get("start"))) for w in partial)
            + "), covered only in part by the data, volume not judged")
    version = f" by obskit {escape(summary['obskit_version'])}" \
        if summary.get("obskit_version") else ""
    facts = [
        ("Model task", escape(summary.get("task"))),
        ("Data period", f"{escape(fmt_time(period.get('start')))} to "
                        f"{escape(fmt_time(period.get('end')))} (UTC)"),
        ("Windows", window_text),
        ("Rows", f"{escape(rows_text)} {escape(ref_text)}"),
        ("Label coverage", escape(labels_text)),
        ("Generated", f"{escape(fmt_time(summary.get('generated_at')))} UTC{version}"),
        ("Links", '<a href="summary.json">summary.json</a> (exact values) · '
                  '<a href="../index.html">history of runs</a>'),
    ]
    parts.append('<dl class="facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
                 + "</dl>")
    notes = [n for n in _list(summary.get("notes")) if n]
    if notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{escape(n)}</li>" for n in notes)
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
    preferred = summary_primary_metric(summary)
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
    in_segments = len(_alerts(summary, segments=True))
    tiles.append(_tile("Alerts fired", str(len(alerts)),
                       f"in {len(alert_windows)} window{'s' * (len(alert_windows) != 1)}"
                       + (f"; {in_segments} more in segments" if in_segments else ""),
                       "alert" if alerts or in_segments else "ok"))

    drift = _map(summary.get("drift_summary"))
    total = len(drift) or len(_map(summary.get("features")))
    drifted = sum(1 for d in drift.values() if (finite(_map(d).get("drifted_windows")) or 0) > 0)
    tiles.append(_tile("Features drifted", f"{drifted} / {total}", "in any window",
                       "alert" if drifted else ("ok" if total else "")))

    def latest_tile(label: str, path: tuple[str, ...], metric: str) -> str:
        value, start = _latest(windows, *path)
        threshold = _rule_threshold(summary, metric)
        kind = "" if value is None or threshold is None else \
            ("alert" if value > threshold else "ok")
        sub = f"on {escape(fmt_time(start))}" if value is not None else "no data"
        if threshold is not None:
            sub += f"; alert above {escape(fmt_metric(metric, threshold))}"
        return _tile(label, escape(fmt_metric(metric, value)), sub, kind)

    tiles.append(latest_tile("Drifted share, latest", ("drift_share",), "drift_share"))
    if _logged(summary, "latency_ms"):  # else health_notes_html says why there is none
        tiles.append(latest_tile("p95 latency, latest", ("health", "latency_p95_ms"),
                                 "health.latency_p95_ms"))
    if _logged(summary, "status", "error"):
        tiles.append(latest_tile("Error rate, latest", ("health", "error_rate"),
                                 "health.error_rate"))

    metric = _primary_metric(summary, windows)
    if metric is None:
        tiles.append(_tile("Performance, latest", "n/a",
                           "no labels" if summary.get("labels") is None else "no values"))
    else:
        value, start = _latest(windows, "performance", metric)
        ref = finite(_map(_map(summary.get("reference")).get("performance")).get(metric))
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
            fired = any(str(a.get("metric")) == f"performance.{metric}"
                        and a.get("window_start") == start for a in alerts)
            kind = "alert" if fired else ("ok" if not worse or change is None
                                          or abs(change) < 0.01 else "")
        tiles.append(_tile(f"{escape(_metric_name(metric))}, latest", escape(fmt_num(value)),
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
        return f'<div class="obskit"><p>{escape(text)}</p></div>'
    findings = sorted(findings, key=lambda f: severity_rank(f.get("severity")))
    items = []
    for f in findings:
        severity = str(f.get("severity") or "info")
        section = str(f.get("section") or "").lower().replace("_", "-")
        link = f' <a href="#{section}">see {section.replace("-", " ")} ↓</a>' \
            if section in _SECTIONS else ""
        nxt = f'<br><span class="next">Next step: {escape(f.get("next_step"))}</span>' \
            if f.get("next_step") else ""
        if f.get("command"):
            nxt += ('<br><span class="next">Deep dive: '
                    f'<code>{escape(f.get("command"))}</code></span>')

        items.append(f"<li>{_badge(severity, severity)} {escape(f.get('text'))}{link}{nxt}</li>")
    return '<div class="obskit"><ol class="findings">' + "".join(items) + "</ol></div>"


# --------------------------------------------------------------------------- figures



def _sparkline_img(feature: str, dist: Mapping[str, Any]) -> str:
    fig = sparkline_figure(dist)
    if fig is None:
        return '<span class="muted">no data</span>'
    alt = f"{feature}: reference vs current distribution"
    if dist.get("kind") == "categorical":
        cats = _list(dist.get("categories"))
        ref = [finite(v) or 0.0 for v in _list(dist.get("reference"))]
        cur = [finite(v) or 0.0 for v in _list(dist.get("current"))]
        order = sorted(range(min(len(cats), len(ref), len(cur))),
                       key=lambda i: -(ref[i] / (sum(ref) or 1) + cur[i] / (sum(cur) or 1)))
        alt += "; categories left to right: " + ", ".join(str(cats[i]) for i in order[:8])
    return f'<img class="spark" width="172" height="57" alt="{escape(alt)}" ' \
           f'title="{escape(alt)}" src="{figure_to_data_uri(fig)}">'


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
    method_notes = [_map(m).get("note") for m in
                    _map(_map(summary.get("methods")).get("drift")).values()]
    notes = "".join(f"<li>{escape(n)}</li>" for n in method_notes if n)
    notes = f'<ul class="notes">{notes}</ul>' if notes else ""
    if not rows:
        return f'<div class="obskit">{notes}<p>No drift was computed in this run.</p></div>'
    distributions = _map(summary.get("distributions"))
    windows = _windows(summary)
    latest = _map(windows[-1].get("drift")) if windows else {}
    head = ("<thead><tr><th>Feature</th><th>Type</th><th>Method</th><th class=num>Threshold"
            "</th><th class=num>Drifted windows</th><th>First drifted</th><th class=num>Worst"
            "</th><th class=num>Last</th><th>Verdict</th><th>Reference vs current</th>"
            "</tr></thead>")
    body = []
    for feature, d in rows:
        k, n = finite(d.get("drifted_windows")), finite(d.get("windows"))
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
            f"<td><strong>{escape(feature)}</strong></td><td>{escape(d.get('type'))}</td>"
            f"<td>{escape(_method_name(d.get('method')))}</td>"
            f"<td class=num>{escape(fmt_num(d.get('threshold')))}"
            + (f"<br><small>{escape(d.get('threshold_kind'))}</small>"
               if d.get("threshold_kind") not in (None, "constant") else "")
            + "</td>"
            f"<td class=num>{escape(fmt_int(k))} of {escape(fmt_int(n))}</td>"
            f"<td>{escape(fmt_time(d.get('first_drifted')) if d.get('first_drifted') else '—')}"
            f"</td><td class=num>{escape(fmt_num(summary_worst_value(d)))}</td>"
            f"<td class=num>{escape(fmt_num(d.get('last_value')))}</td><td>{verdict}</td>"
            f"<td>{_sparkline_img(feature, _map(distributions.get(feature)))}</td></tr>")
    legend = (f'<p class="muted"><span class="swatch" style="background:{COLOR_REFERENCE}">'
              f'</span>reference <span class="swatch" style="background:{COLOR_CURRENT}">'
              "</span>current (whole period). Numeric features: shares per bin, the outer "
              "bins open-ended; categorical: shares of the 8 most frequent categories. "
              "Worst: the most drifted window's value (the smallest p-value, the largest "
              "distance). Sorted by drifted windows, then by how far the worst value lies "
              "past its threshold.</p>")
    table = f"<table>{head}<tbody>{''.join(body[:_TABLE_VISIBLE_ROWS])}</tbody></table>"
    if len(body) > _TABLE_VISIBLE_ROWS:
        table += (f"<details><summary>{plural(len(body) - _TABLE_VISIBLE_ROWS, 'more feature')}"
                  f"</summary><table>{head}<tbody>{''.join(body[_TABLE_VISIBLE_ROWS:])}"
                  "</tbody></table></details>")
    return f'<div class="obskit">{notes}{legend}{table}</div>'


# --------------------------------------------------------------------------- notes


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]],
           numeric: frozenset[int] = frozenset()) -> str:
    """A plain table; every cell is escaped."""
    cls = [" class=num" if i in numeric else "" for i in range(len(header))]
    head = "".join(f"<th{cls[i]}>{escape(h)}</th>" for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(f"<td{cls[i]}>{escape(c)}</td>" for i, c in enumerate(row))
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
    read = finite(rows.get("read"))
    parts = ['<div class="obskit"><h3>Quarantined rows</h3>']
    if by_reason:
        reasons = sorted(by_reason.items(), key=lambda kv: -(finite(kv[1]) or 0))
        parts.append(_table(("Reason", "Rows", "Share of rows read"),
                            [(r, fmt_int(c), fmt_pct((finite(c) or 0) / read) if read else
                              "n/a") for r, c in reasons], frozenset({1, 2})))
    else:
        parts.append(f"<p>No rows were quarantined ({escape(fmt_int(read))} rows read, "
                     f"{escape(fmt_int(rows.get('current')))} used).</p>")
    if finite(rows.get("reference_quarantined")):
        parts.append(f"<p>{escape(fmt_int(rows.get('reference_quarantined')))} reference rows "
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
                            [(label, fmt_int(labels.get(k))) for k, label in names],
                            frozenset({1})))
    else:
        parts.append("<p>No label source was given: realized performance is not available."
                     "</p>")

    sources = _map(summary.get("sources"))
    files = [(kind, _basename(p)) for kind, paths in sources.items() for p in _list(paths)]
    if files:
        parts.append(f"<details><summary>{plural(len(files), 'source file')} read</summary>"
                     + _table(("Role", "File"), files) + "</details>")
    return "".join(parts) + "</div>"


def _rule_condition(rule: Mapping[str, Any]) -> str:
    op, value, metric = rule.get("op"), rule.get("value"), str(rule.get("metric") or "")
    if op == "drop_pct":
        return f"worse than the reference by more than {fmt_num(value)}%"
    if op == "significant_drop":
        return ("worse than the reference beyond both 95% intervals and by more than "
                f"{fmt_num(value)}%")
    return f"{op} {fmt_metric(metric, value)}"


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
        key = (_method_name(m.get("method")), fmt_num(m.get("threshold")))
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
            f"{escape(k)}: {escape(', '.join(v))}" for k, v in by_type.items()) + ".</p>")
    parts.append(f"<p>Windows with fewer than {escape(fmt_int(methods.get('min_window_rows')))} "
                 "rows are marked as having insufficient data and are not judged by the alert "
                 "rules."
                 + (f" Latency quantiles: {escape(methods.get('latency_quantiles'))}."
                    if _logged(summary, "latency_ms") else "") + "</p>")

    rules = [_map(r) for r in _list(summary.get("alert_rules"))]
    default = summary.get("alert_rules_default")
    which = {True: "the default rules", False: "rules from the configuration"}.get(default,
                                                                                 "rules")
    parts.append(f"<h3>Alert rules in force ({escape(which)})</h3>")
    if rules:
        parts.append(_table(("Rule", "Metric", "Fires when", "Severity"),
                            [(r.get("name"), r.get("metric"), _rule_condition(r),
                              r.get("severity")) for r in rules]))
    else:
        parts.append("<p>No alert rules in force.</p>")

    not_applicable = [_map(r) for r in _list(summary.get("alert_rules_not_applicable"))]
    if not_applicable:
        parts.append("<h3>Rules that do not apply to these logs</h3><p>Never evaluated: their "
                     "metric needs a column the logs do not have.</p>")
        parts.append(_table(("Rule", "Metric", "Why"),
                            [(r.get("rule"), r.get("metric"), r.get("reason"))
                             for r in not_applicable]))

    windows = _windows(summary)
    starts = {w.get("index"): w.get("start") for w in windows}
    grouped: dict[str, list[str]] = {}
    for item in _list(summary.get("insufficient_data")):
        item = _map(item) if isinstance(item, Mapping) else {"window": item}
        start = item.get("window_start") or starts.get(item.get("window"))
        what = item.get("metric") or {"empty": "empty window",
                                      "insufficient_data": "too few rows"}.get(
            str(item.get("reason")), str(item.get("reason") or "not judged"))
        grouped.setdefault(fmt_time(start), []).append(str(what))
    parts.append("<h3>Not judged for lack of data</h3>")
    if grouped:
        table = _table(("Window start", "Not judged"),
                       [(s, ", ".join(dict.fromkeys(w))) for s, w in grouped.items()])
        parts.append(table if len(grouped) <= 5 else
                     f"<details><summary>{plural(len(grouped), 'window')}</summary>{table}"
                     "</details>")
    else:
        parts.append("<p>Every rule could be judged in every window.</p>")
    return "".join(parts) + "</div>"


#: a health series, the log roles it comes from (any one), and what is off without them
_HEALTH_SERIES = (
    ("Latency", ("latency_ms",), "the latency panel and tile"),
    ("Errors", ("status", "error"), "the error-rate panel and tile"),
)


def health_notes_html(summary: Mapping[str, Any]) -> str:
    """One line per health series the logs cannot have, saying why and what is off, e.g.
    "Latency not logged (no latency_ms column): the latency panel and tile and the
    latency_p95 rule are off."

    Parameters
    ----------
    summary : Mapping
        The run's ``summary.json`` document.

    Returns
    -------
    str
        An HTML fragment (empty when every series is logged).
    """
    not_applicable = [_map(r) for r in _list(summary.get("alert_rules_not_applicable"))]
    lines = []
    for name, roles, what in _HEALTH_SERIES:
        if _logged(summary, *roles):
            continue
        rules = [str(r.get("rule")) for r in not_applicable
                 if set(map(str, _list(r.get("missing_roles")))) & set(roles)]
        rule_text = (f" and the {', '.join(rules)} rule{'s' * (len(rules) > 1)}"
                     if rules else "")
        lines.append(f"<p><em>{name} not logged (no {' or '.join(roles)} column): {what}"
                     f"{escape(rule_text)} are off.</em></p>")
    return '<div class="obskit">' + "".join(lines) + "</div>" if lines else ""


_ESTIMATION_TEXT = {
    "CBPE": "Estimated without labels by CBPE (NannyML's confidence-based performance "
            "estimation): the scores are calibrated on the labelled reference, and each "
            "window's expected confusion matrix and expected ROC curve give the estimate.",
    "CBPE (one-vs-rest)": "Estimated without labels by CBPE for multiclass (NannyML's "
                          "one-vs-rest method): each class's probability is calibrated on the "
                          "labelled reference, and the expected per-class confusion counts "
                          "give the estimated accuracy, macro f1 and macro ROC AUC.",
    "DLE": "Estimated without labels by DLE (direct loss estimation): models learnt on the "
           "labelled reference predict each row's absolute and squared error.",
}


def estimation_html(summary: Mapping[str, Any]) -> str:
    """One paragraph on the performance estimated without labels: the method in use and
    its assumption, or why nothing was estimated.

    Parameters
    ----------
    summary : Mapping
        The run's ``summary.json`` document.

    Returns
    -------
    str
        An HTML fragment (empty for a summary without the ``estimation`` key).
    """
    est = _map(summary.get("estimation"))
    method, reason = est.get("method"), est.get("reason")
    if method:
        text = _ESTIMATION_TEXT.get(str(method), f"Estimated without labels by {method}.")
        text += (" The band is ± 3 standard errors of the realized metric on a window of that "
                 "size; the estimate assumes no concept drift (inputs relate to outcomes as in "
                 "the reference).")
    elif reason:
        text = f"Performance is not estimated without labels: {reason}."
    else:
        return ""
    return f'<div class="obskit"><p>{escape(text)}</p></div>'


def segments_html(summary: Mapping[str, Any]) -> str:
    """Per segment (e.g. each ``model_version``): rows, drifted features, worst drift share,
    latest realized and estimated headline metric, and alerts.

    Parameters
    ----------
    summary : Mapping
        The run's ``summary.json`` document.

    Returns
    -------
    str
        An HTML fragment (a sentence when the logs have no segments).
    """
    segments = _map(summary.get("segments"))
    if not segments:
        return ('<div class="obskit"><p>No segments: the logs have no <code>model_version'
                "</code> and no <code>segments</code> are configured.</p></div>")
    parts = ['<div class="obskit">']
    for column, entries in segments.items():
        rows = []
        for seg in _list(entries):
            seg = _map(seg)
            windows = [_map(w) for w in _list(seg.get("windows"))]
            drifted = {f: d for f, d in _map(seg.get("drift_summary")).items()
                       if finite(_map(d).get("drifted_windows"))}
            drifted_text = ", ".join(
                f"{f} ({fmt_int(_map(d).get('drifted_windows'))} "
                f"{word(_map(d).get('drifted_windows'), 'window')})"
                for f, d in ((f, drifted[f]) for f in rank_features(drifted))
            ) or "none"
            shares = [s for s in (finite(w.get("drift_share")) for w in windows) if s is not None]
            metric = summary_primary_metric(summary)
            realized, _ = _latest(windows, "performance", metric)
            estimated, _ = _latest(windows, "estimated_performance", metric)
            rows.append([
                seg.get("value"), fmt_int(seg.get("rows")), seg.get("status"),
                seg.get("reference_basis") or "n/a", drifted_text,
                fmt_pct(max(shares)) if shares else "n/a",
                f"{fmt_num(realized)} / {fmt_num(estimated)}",
                fmt_int(len(_list(seg.get("alerts")))),
            ])
        parts.append(f"<h3>By {escape(column)}</h3>")
        parts.append(_table(
            ["Segment", "Rows", "Status", "Compared with", "Drifted features",
             "Worst drift share", f"Latest {_metric_name(metric)} realized / estimated",
             "Alerts"], rows, numeric=frozenset({1, 5, 7})))
    parts.append("<p>Segments below the minimum size are listed as insufficient data and "
                 "not analysed. Each segment is compared with the same segment of the "
                 "reference when the reference has enough of it, else with the whole "
                 "reference.</p></div>")
    return "".join(parts)


def anomalies_html(summary: Mapping[str, Any], *, limit: int = 20) -> str:
    """Unusual windows, the top anomalous predictions with their reasons and ids, the
    features that drive them (cohort SHAP) and drift ranked by importance.

    Parameters
    ----------
    summary : Mapping
        The run's ``summary.json`` document.
    limit : int
        Rows shown before the rest is folded into ``<details>``.

    Returns
    -------
    str
        An HTML fragment.
    """
    parts = ['<div class="obskit">']
    unusual = [_map(a) for a in _list(summary.get("window_anomalies"))]
    if unusual:
        parts.append("<h3>Unusual windows</h3><ul>" + "".join(
            f"<li>{_badge(a.get('severity'), 'alert' if a.get('severity') == 'critical' else 'na')}"
            f" {escape(a.get('text'))}</li>" for a in unusual[:limit]) + "</ul>")
    rows = [_map(r) for r in _list(summary.get("anomalies"))]
    explanations = _map(summary.get("explanations"))
    if not rows:
        parts.append("<p>No prediction was flagged as anomalous.</p></div>")
        return "".join(parts)
    # (header, cell, numeric, shown): a column whose role the log lacks is left out
    columns = [
        ("Request", lambda r: r.get("request_id"), False, _logged(summary, "request_id")),
        ("Trace", lambda r: r.get("trace_id"), False, _logged(summary, "trace_id")),
        ("Window", lambda r: fmt_time(r.get("window_start")), False, True),
        ("Version", lambda r: r.get("model_version"), False,
         _logged(summary, "model_version")),
        ("Reasons", lambda r: ", ".join(map(str, _list(r.get("reasons")))), False, True),
        ("Severity", lambda r: fmt_num(r.get("severity")), True, True),
        ("Score", lambda r: fmt_num(r.get("score")), True, _logged(summary, "score")),
        ("Latency", lambda r: fmt_ms(r.get("latency_ms")), True,
         _logged(summary, "latency_ms")),
        ("Top SHAP features", lambda r: ", ".join(map(str, _list(r.get("top_features")))) or "—",
         False, any(_list(r.get("top_features")) for r in rows)),
    ]
    columns = [c for c in columns if c[3]]
    header = [c[0] for c in columns]
    numeric = frozenset(i for i, c in enumerate(columns) if c[2])
    table_rows = [[c[1](r) for c in columns] for r in rows]
    parts.append(f"<h3>Anomalous predictions ({len(rows)} flagged, most severe first)</h3>")
    parts.append(_table(header, table_rows[:limit], numeric=numeric))
    more = table_rows[limit:limit + 4 * limit]  # the rest only in summary.json
    if more:
        parts.append(f"<details><summary>{len(more)} more</summary>"
                     + _table(header, more, numeric=numeric) + "</details>")
    if len(table_rows) > limit + len(more):
        parts.append(f"<p>All {len(table_rows)} flagged predictions are listed in "
                     '<a href="summary.json">summary.json</a> (<code>anomalies</code>).</p>')
    if explanations.get("status") != "ok":
        parts.append(f"<p><em>{escape(explanations.get('status') or 'No explanations.')}</em></p>")
        return "".join(parts) + "</div>"
    parts.append(
        f"<p>SHAP ({escape(explanations.get('explainer'))}, explaining the "
        f"{escape(explanations.get('output'))}) on {fmt_int(explanations.get('rows_explained'))} "
        f"flagged rows; LIME on the first {fmt_int(explanations.get('lime_rows'))}.</p>")
    cohort = [_map(c) for c in _list(explanations.get("cohort_attribution"))]
    parts.append("<h3>What drives the anomalies</h3><p>Mean |SHAP| per feature in the "
                 "flagged rows, in normal rows of the same windows and on the reference.</p>")
    parts.append(_table(["Feature", "Anomalous", "Normal", "Reference", "Ratio"],
                        [[c.get("feature"), fmt_num(c.get("anomalous")),
                          fmt_num(c.get("normal")), fmt_num(c.get("reference")),
                          fmt_num(c.get("ratio"))] for c in cohort[:10]],
                        numeric=frozenset({1, 2, 3, 4})))
    agree = [_map(e.get("agreement")) for e in map(_map, _list(explanations.get("rows")))
             if e.get("agreement")]
    if agree:
        n = sum(1 for a in agree if a.get("agree"))
        parts.append(f"<p>SHAP and LIME agree on the top features for {n} of "
                     f"{plural(len(agree), 'row')} explained by both.</p>")
    ranking = [_map(r) for r in _list(explanations.get("drift_importance"))]
    if ranking:
        parts.append("<h3>Drift ranked by how much the model uses the feature</h3>")
        parts.append(_table(["Feature", "Drift / threshold", "Importance share", "Score"],
                            [[r.get("feature"), fmt_num(r.get("drift_ratio")),
                              fmt_pct(r.get("importance_share")), fmt_num(r.get("score"))]
                             for r in ranking[:10]], numeric=frozenset({1, 2, 3})))
    return "".join(parts) + "</div>"
