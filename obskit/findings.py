"""Findings in words, most severe first, each with its evidence and a next step.

Built from a ``summary.json`` document alone, so a summary can always be re-explained.
Texts are plain strings; the renderer escapes them.
"""

from __future__ import annotations

import shlex
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from obskit._format import fmt_metric, fmt_num
from obskit._text import plural, word
from obskit.drift import is_pvalue_method, method_label
from obskit.feature_ranking import rank_features, summary_worst_value
from obskit.performance import metric_direction, summary_primary_metric
from obskit.schema import measures_performance
from obskit.segments import segment_key, segment_label
from obskit.severity import severity_rank

__all__ = ["build_findings", "attach_commands", "deep_dive_command", "bound_crossed"]


def _day(iso: str | None) -> str:
    return (iso or "?")[:16].replace("T00:00", "").replace("T", " ")


def _metric_label(metric: str) -> str:
    name = metric.split(".")[-1]
    return {"latency_p50_ms": "p50 latency", "latency_p95_ms": "p95 latency",
            "latency_p99_ms": "p99 latency", "error_rate": "error rate",
            "drift_share": "share of drifted features"}.get(name, name)


def _segment_text(segment: Mapping[str, Any] | None) -> str:
    return segment_key(segment)


def _alert_findings(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for alert in summary.get("alerts", []):
        groups[(alert["rule"], alert["metric"], _segment_text(alert.get("segment")))
               ].append(alert)
    total = sum(1 for w in summary["windows"] if w["status"] == "ok")
    out = []
    for (rule, metric, segment), alerts in groups.items():
        alerts.sort(key=lambda a: a["window"])
        if metric.startswith(("drift.", "data_quality.")):
            continue  # reported by the drift and data quality findings
        if segment:
            overall = {a["window"] for a in groups.get((rule, metric, ""), [])}
            if {a["window"] for a in alerts} <= overall:
                continue  # the whole log already shows it
        label = _metric_label(metric)
        prefix = f"In segment {segment}: " if segment else ""
        first = alerts[0]
        if first["op"] == "drop_pct":
            worst = min(alerts, key=lambda a: a["value"]) if first["value"] <= first["threshold"] \
                else max(alerts, key=lambda a: a["value"])
            text = (f"{prefix}{label} fell from {fmt_metric(metric, first['reference'])} "
                    f"(reference) to "
                    f"{fmt_metric(metric, worst['value'])} on {_day(worst['window_start'])}; "
                    f"beyond the allowed drop in {len(alerts)} of {total} windows from "
                    f"{_day(first['window_start'])}.")
            section, step = "performance", "Check label quality and retrain on recent data."
        elif first["op"] == "significant_drop":
            higher = metric_direction(metric.split(".")[-1]) == "higher"
            worst = (min if higher else max)(alerts, key=lambda a: a["value"])
            lo, hi = worst.get("interval") or (None, None)
            verb = "fell" if higher else "rose"
            text = (f"{prefix}{label} {verb} from {fmt_metric(metric, first['reference'])} "
                    f"(reference) to {fmt_metric(metric, worst['value'])} on "
                    f"{_day(worst['window_start'])} (95% interval {fmt_metric(metric, lo)}–"
                    f"{fmt_metric(metric, hi)}): worse than the reference beyond sampling noise in "
                    f"{len(alerts)} of {total} windows from {_day(first['window_start'])}.")
            instead = sorted({a["instead_of"].split(".")[-1] for a in alerts
                              if a.get("instead_of")})
            if instead:
                text += (f" ({', '.join(instead)} is undefined in "
                         f"{sum(1 for a in alerts if a.get('instead_of'))} of these windows, "
                         f"with one class labelled: {label} was judged instead.)")
            section, step = "performance", "Check label quality and retrain on recent data."
        else:
            worst = max(alerts, key=lambda a: a["value"]) if first["op"] in (">", ">=") \
                else min(alerts, key=lambda a: a["value"])
            text = (f"{prefix}{label} {first['op']} {fmt_metric(metric, first['threshold'])} in "
                    f"{len(alerts)} of {total} windows from {_day(first['window_start'])} "
                    f"(worst {fmt_metric(metric, worst['value'])} on "
                    f"{_day(worst['window_start'])}).")
            section = "health" if metric.startswith("health.") else "drift"
            step = {"health": "Look at the serving side for these windows: traces, deploys, "
                              "upstream dependencies.",
                    "drift": "See the per-feature drift table below."}[section]
        out.append({"severity": first["severity"], "kind": rule, "text": text,
                    "section": section, "next_step": step, "segment": alerts[0].get("segment"),
                    "windows": [a["window"] for a in alerts],
                    "window_start": worst.get("window_start")})
    return out


def _concentration(summary: Mapping[str, Any], feature: str) -> str:
    """Where a feature's drift is concentrated, when only some segments show it."""
    parts = []
    for column, entries in (summary.get("segments") or {}).items():
        judged = [e for e in entries if e.get("status") == "ok"]
        drifted = [e for e in judged
                   if (e.get("drift_summary") or {}).get(feature, {}).get("drifted_windows")]
        if drifted and len(drifted) < len(judged):
            parts.append(" and ".join(segment_label(column, e["value"]) for e in drifted))
    return f"; concentrated in {', '.join(parts)}" if parts else ""


def _drift_findings(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    summaries = summary.get("drift_summary", {})
    drifted = [(name, summaries[name]) for name in rank_features(summaries)
               if summaries[name]["drifted_windows"]]
    out = []
    for name, d in drifted:
        method = method_label(d["method"])
        worst = summary_worst_value(d)
        bound = "down to" if is_pvalue_method(d["method"]) else "up to"
        text = (f"{name} drifted from {_day(d['first_drifted'])} ({method} {bound} "
                f"{fmt_num(worst)} vs threshold {d['threshold']:g}; "
                f"{d['drifted_windows']} of {plural(d['windows'], 'window')}"
                f"{_concentration(summary, name)}).")
        out.append({"severity": "warning", "kind": "feature_drift", "feature": name,
                    "text": text, "section": "drift",
                    "next_step": f"Compare {name} in the reference and the drifted windows; "
                                 "find what changed upstream."})
    for name in summary.get("missing_features") or []:
        out.append({"severity": "warning", "kind": "missing_feature", "feature": name,
                    "text": f"{name} is in the reference but missing from the current logs; "
                            "its drift cannot be judged.",
                    "section": "drift",
                    "next_step": f"Check whether the producer stopped logging {name}."})
    return out


_MV_NAMES = {"domain_classifier": ("a domain classifier tells the window from the reference",
                                   "ROC AUC"),
              "pca_reconstruction": ("the joint distribution moved off the reference's "
                                     "principal components", "PCA reconstruction error")}


def bound_crossed(entry: Mapping[str, Any]) -> tuple[str, float, float] | None:
    """Which bound a multivariate value crossed: ``("above", upper, excess)`` or
    ``("below", lower, excess)``, ``excess`` how far past the bound relative to it; None
    when it lies within (or there is nothing to compare).

    ``threshold`` (one-sided, e.g. the domain classifier's AUC) counts as an upper bound;
    ``threshold_lower`` / ``threshold_upper`` (PCA reconstruction error) are two-sided.

    Examples
    --------
    >>> bound_crossed({"value": 1.0, "threshold_lower": 1.1, "threshold_upper": 1.28})
    ('below', 1.1, 0.09090909090909098)
    """
    value = entry.get("value")
    if value is None:
        return None
    upper = entry.get("threshold")
    upper = entry.get("threshold_upper") if upper is None else upper
    lower = entry.get("threshold_lower")
    if upper is not None and value > upper:
        return "above", float(upper), (value - upper) / abs(upper) if upper else float("inf")
    if lower is not None and value < lower:
        return "below", float(lower), (lower - value) / abs(lower) if lower else float("inf")
    return None


def _multivariate_findings(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    methods: dict[str, list[dict]] = defaultdict(list)
    for w in summary["windows"]:
        for method, entry in (w.get("multivariate_drift") or {}).items():
            if entry.get("drifted"):
                methods[method].append({**entry, "start": w["start"]})
    judged = sum(1 for w in summary["windows"] if w["status"] == "ok")
    for method, hits in methods.items():
        what, measure = _MV_NAMES.get(method, (method, "score"))
        sides = [(h, bound_crossed(h)) for h in hits]
        parts = []
        for side, verb in (("above", "up to"), ("below", "down to")):
            crossed = [(h, c) for h, c in sides if c and c[0] == side]
            if crossed:
                peak, (_, bound, _) = max(crossed, key=lambda hc: hc[1][2])
                parts.append(f"{verb} {peak['value']:.3g}, {side} the "
                             f"{'upper' if side == 'above' else 'lower'} bound {bound:.3g}, "
                             f"in {plural(len(crossed), 'window')}")
        if method == "pca_reconstruction" and parts and all(
                c and c[0] == "below" for _, c in sides):
            what = ("the features fit the reference's principal components more closely "
                    "than the reference itself (less variety: constant or duplicated inputs?)")
        detail = "; ".join(parts) or f"up to {max(h.get('value') or 0 for h in hits):.3g}"
        out.append({"severity": "warning", "kind": "multivariate_drift", "section": "drift",
                    "text": f"Multivariate drift from {_day(hits[0]['start'])}: {what} "
                            f"({measure} {detail}; {len(hits)} of {plural(judged, 'window')}).",
                    "next_step": "Read it with the per-feature table: features drifting "
                                 "together, or a change in how they relate."})
    return out


def _gap_windows(windows: list[Mapping[str, Any]], metric: str) -> list[dict[str, Any]]:
    """Windows whose realized metric lies beyond the estimate's sampling band, on the bad
    side: the labels disagree with what the scores promise."""
    direction = metric_direction(metric)
    out = []
    for w in windows:
        realized = (w.get("performance") or {}).get(metric)
        band = (w.get("estimated_performance_ci") or {}).get(metric)
        estimate = (w.get("estimated_performance") or {}).get(metric)
        if realized is None or estimate is None or not band or None in band:
            continue
        if (direction == "higher" and realized < band[0]) or \
                (direction == "lower" and realized > band[1]):
            ci = (w.get("performance_ci") or {}).get(metric) or [None, None]
            clear = (ci[1] is not None and ci[1] < band[0] if direction == "higher"
                     else ci[0] is not None and ci[0] > band[1])
            out.append({"start": w["start"], "realized": realized, "estimated": estimate,
                        "clear": clear})
    return out


def _is_gap(gaps: list[dict[str, Any]]) -> bool:
    """A gap worth a finding: two windows or more beyond the band, or one whose realized
    value's own interval lies wholly beyond it (a clear one-window collapse; one window
    slightly beyond the band is noise)."""
    return len(gaps) >= 2 or any(g["clear"] for g in gaps)


def _estimate_findings(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Realized performance worse than its label-free estimate: concept drift or broken
    inputs, which neither drift statistics nor estimates can see on their own."""
    scopes = [("", summary["windows"])]
    for column, entries in (summary.get("segments") or {}).items():
        scopes += [(segment_label(column, e["value"]), e.get("windows") or []) for e in entries]
    headline = summary_primary_metric(summary)
    out = []
    for scope, windows in scopes:
        metrics = sorted({m for w in windows for m in (w.get("estimated_performance") or {})})
        gaps = {m: g for m in metrics if _is_gap(g := _gap_windows(windows, m))}
        if not gaps:
            continue
        metric = headline if headline in gaps else next(iter(gaps))
        first, last = gaps[metric][0], gaps[metric][-1]
        others = [m for m in gaps if m != metric]
        where = f"In segment {scope}: " if scope else ""
        also = f" (also {', '.join(others)})" if others else ""
        out.append({
            "severity": "warning", "kind": "estimate_gap", "section": "performance",
            "segment": scope or None,
            "text": f"{where}realized {metric}{also} is below its label-free estimate from "
                    f"{_day(first['start'])} in {len(gaps[metric])} "
                    f"window{'s' if len(gaps[metric]) != 1 else ''} "
                    f"({last['realized']:.3g} realized vs {last['estimated']:.3g} estimated "
                    f"on {_day(last['start'])}): the link between inputs and outcomes "
                    "changed (concept drift) or inputs are broken.",
            "next_step": "Check recent labels and upstream inputs; retrain if the relation "
                         "changed."})
    return out


def _anomaly_findings(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Unusual windows, and what drives the anomalous predictions (with a model)."""
    out = []
    unusual = summary.get("window_anomalies") or []
    for a in [a for a in unusual if a["severity"] == "critical"][:5]:
        out.append({"severity": "warning", "kind": "window_anomaly", "section": "anomalies",
                    "window_start": a.get("window_start"),
                    "text": a["text"] + ".", "next_step": "See the anomalous predictions of "
                                                           "that window below."})
    rows = summary.get("anomalies") or []
    explanations = summary.get("explanations") or {}
    cohort = explanations.get("cohort_attribution") or []
    if rows and cohort and cohort[0].get("excess", 0) > 0:
        top = cohort[0]
        where = ""
        for column, entries in (summary.get("segments") or {}).items():
            total = sum(e["rows"] for e in entries) or 1
            for e in entries:
                flagged = sum(1 for r in rows if str(r.get(column)) == e["value"])
                share, base = flagged / len(rows), e["rows"] / total
                if share >= 0.5 and share > 2 * base:
                    where = (f"; {share:.0%} of them come from {segment_label(column, e['value'])} "
                             f"({base:.0%} of all rows)")
        out.append({
            "severity": "warning", "kind": "anomaly_drivers", "section": "anomalies",
            "feature": top["feature"], "request_id": rows[0].get("request_id"),
            "text": f"{top['feature']} drives the anomalous predictions: mean |SHAP| "
                    f"{top['anomalous']:.3g} in the {plural(len(rows), 'flagged row')} vs "
                    f"{top['normal']:.3g} in normal rows and {top['reference']:.3g} on the "
                    f"reference{where}.",
            "next_step": f"Inspect {top['feature']} upstream for the flagged rows "
                         "(request ids below)."})
    return out


def _data_findings(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    rows = summary["rows"]
    if rows["quarantined"]:
        reasons = summary["quarantine"]["by_reason"]
        top = max(reasons, key=reasons.get) if reasons else "?"
        share = rows["quarantined"] / rows["read"] if rows["read"] else 0
        out.append({"severity": "warning" if share > 0.01 else "info", "kind": "quarantine",
                    "text": f"{rows['quarantined']:,} of {rows['read']:,} rows read "
                            f"({share:.2%}) were quarantined; most often: {top}.",
                    "section": "data-quality",
                    "next_step": "Fix the producer of the logs; the examples below show "
                                 "file and line."})
    roles = summary.get("roles") or []
    if "label" in roles and not measures_performance(
            summary.get("task") or "", roles, class_scores=bool(summary.get("class_scores"))):
        out.append({"severity": "info", "kind": "performance_not_measured",
                    "text": "Performance is not measured: the logs have labels but no "
                            + ("prediction or score" if summary.get("task") == "binary"
                               else "prediction") + " to compare them with.",
                    "section": "performance",
                    "next_step": "Map the model's output with --column prediction=NAME "
                                 "(or score=NAME) in the next run."})
    unjudged = [r for r in summary.get("alert_rules_not_applicable") or []
                if r.get("needs_reference")]
    if unjudged:
        no_ref = "there is no reference" in unjudged[0]["reason"]
        out.append({"severity": "info" if no_ref else "warning",
                    "kind": "performance_not_judged",
                    "text": f"Performance is not compared with the reference: rule "
                            f"{', '.join(r['rule'] for r in unjudged)} cannot be judged "
                            f"({unjudged[0]['reason']}).",
                    "section": "performance",
                    "next_step": "Use a labelled reference (or a label source that covers "
                                 "it) to judge performance drops."})
    null_scores = sum(int(w.get("null_scores") or 0) for w in summary["windows"])
    if null_scores:
        total = sum(int(w["rows"]) for w in summary["windows"])
        share = null_scores / total if total else 0
        worst = max(summary["windows"], key=lambda w: int(w.get("null_scores") or 0))
        out.append({"severity": "warning" if share > 0.01 else "info", "kind": "null_scores",
                    "text": f"{null_scores:,} of {total:,} rows ({share:.2%}) have no score "
                            f"(most on {_day(worst['start'])}: {worst['null_scores']:,}); "
                            "they are left out of ROC AUC, PR AUC, log loss, Brier, ECE, "
                            "CBPE and confident mistakes.",
                    "section": "performance",
                    "next_step": "Find why the model logged no score for these requests."})
    partial = [w for w in summary["windows"]
               if w.get("label_coverage") is not None and w["label_coverage"] < 0.95
               and w["rows"]]
    if partial:
        lowest = min(partial, key=lambda w: w["label_coverage"])
        out.append({"severity": "info", "kind": "label_coverage",
                    "text": f"{plural(len(partial), 'window')} {word(len(partial), 'is', 'are')} "
                            "partly labelled (lowest coverage "
                            f"{lowest['label_coverage']:.0%} on {_day(lowest['start'])}); "
                            "their realized performance rests on fewer rows.",
                    "section": "performance", "next_step": "Re-run when more labels arrive."})
    return out


_DQ_WORDS = {"missing": "of values missing", "non_finite": "of values non-finite (NaN, ±inf)",
             "out_of_range": "of values outside the reference's range",
             "unseen": "of values in categories unseen in the reference",
             "wrong_type": "of values of the wrong type (quarantined rows)"}
_DQ_COUNTED = {"non_finite": ("non-finite value", " (NaN, ±inf)"),
               "wrong_type": ("value of the wrong type", " (rows quarantined)")}
_DQ_STEPS = {"missing": "Check whether the producer stopped sending {f} or a join upstream "
                        "lost it.",
             "non_finite": "Find where {f} overflows or divides by zero upstream; the drift "
                           "statistics use only its finite values.",
             "out_of_range": "Check {f}'s units and scale upstream (a changed unit or a "
                             "default value).",
             "unseen": "Check whether {f}'s new categories are expected (a new value "
                       "upstream) or a spelling change.",
             "wrong_type": "Fix the producer of {f}; the quarantine examples show file and "
                           "line."}


def _pct(share: float) -> str:
    """A share as a percentage, small ones with two decimals (``0.0004`` → ``0.04%``)."""
    return f"{share:.2%}" if 0 < abs(share) < 0.01 else f"{share:.1%}"


def _data_quality_findings(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A feature whose share of bad values jumped above the reference's, per measure (and
    segment); then, as notes, bad values counted where no rule fired."""
    groups: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for alert in summary.get("alerts", []):
        parts = str(alert.get("metric") or "").split(".")
        if len(parts) == 3 and parts[0] == "data_quality" and parts[2].endswith("_increase"):
            measure = parts[2][: -len("_increase")]
            groups[(parts[1], measure, _segment_text(alert.get("segment")))].append(alert)
    total = sum(1 for w in summary["windows"] if w["status"] == "ok")
    starts = {w["index"]: w["start"] for w in summary["windows"]}
    scopes = [("", summary["windows"])] + [
        (segment_label(column, e["value"]), e.get("windows") or [])
        for column, entries in (summary.get("segments") or {}).items() for e in entries]
    shares = {(scope, w["index"], f): q for scope, windows in scopes for w in windows
              for f, q in (w.get("data_quality") or {}).items()}
    out = []
    absent = set(summary.get("missing_features") or [])
    for (feature, measure, segment), alerts in groups.items():
        if feature in absent:
            continue  # not logged at all: the missing-feature finding says so
        if segment and {a["window"] for a in alerts} <= {
                a["window"] for a in groups.get((feature, measure, ""), [])}:
            continue  # the whole log already shows it
        alerts.sort(key=lambda a: a["window"])
        worst = max(alerts, key=lambda a: a["value"])
        quality = shares.get((segment, worst["window"], feature), {})
        share = quality.get(f"{measure}_share")
        base = quality.get(f"reference_{measure}_share")
        if share is None or base is None:  # not in the summary: the alert has the rise
            amount = f"a rise of {_pct(worst['value'])} in the share"
            versus = f"{_DQ_WORDS.get(measure, measure)} over the reference"
        else:
            amount = f"{_pct(share)} {_DQ_WORDS.get(measure, measure)}"
            versus = f"vs {_pct(base)} expected from the reference"
        prefix = f"In segment {segment}: " if segment else ""
        if not segment:  # where it is concentrated, when segments show it too
            worst_in = [(seg, max(a["value"] for a in hits))
                        for (f, m, seg), hits in groups.items()
                        if f == feature and m == measure and seg]
            if worst_in:
                versus += "; " + ", ".join(f"up to +{_pct(v)} in {seg}" for seg, v in worst_in)
        days = ", ".join(_day(starts.get(a["window"])) for a in alerts[:3])
        more = f" and {len(alerts) - 3} more" if len(alerts) > 3 else ""
        out.append({
            "severity": worst["severity"], "kind": "data_quality", "feature": feature,
            "measure": measure, "section": "data-quality", "segment": worst.get("segment"),
            "windows": [a["window"] for a in alerts], "window_start": worst["window_start"],
            "text": f"{prefix}{feature}: {amount} on {_day(worst['window_start'])} "
                    f"({versus}; {len(alerts)} of {plural(total, 'window')}: {days}{more}).",
            "next_step": _DQ_STEPS.get(measure, "See the data quality table.").format(
                f=feature)})
    flagged = {(f, m) for f, m, seg in groups if not seg}
    for feature, entry in (summary.get("data_quality") or {}).items():
        for measure in ("non_finite", "wrong_type"):
            count = (entry.get(measure) or {}).get("count")
            if count and (feature, measure) not in flagged:
                out.append({
                    "severity": "info", "kind": "data_quality", "feature": feature,
                    "measure": measure, "section": "data-quality",
                    "text": f"{feature}: {plural(count, _DQ_COUNTED[measure][0])}"
                            f"{_DQ_COUNTED[measure][1]} in the current "
                            "logs, below the alert threshold; they are counted in the data "
                            "quality table and left out of the statistics.",
                    "next_step": _DQ_STEPS[measure].format(f=feature)})
    return out


def deep_dive_command(summary: Mapping[str, Any], command: str, *args: Any) -> str:
    """The shell command that opens a deep dive on this run (``obskit deep-dive`` or
    ``obskit investigate``), every part shell-quoted; it reuses the run's ``summary.json``
    when the run folder is known, and says ``CONFIG.yml`` when the config file is not.

    Examples
    --------
    >>> deep_dive_command({"config_path": "/d/config.yml"}, "deep-dive", "--feature", "age")
    'obskit deep-dive --config /d/config.yml --feature age'
    """
    parts: list[Any] = ["obskit", command, "--config", summary.get("config_path") or "CONFIG.yml",
                        *args]
    if summary.get("run_dir"):
        parts += ["--summary", str(Path(str(summary["run_dir"])) / "summary.json")]
    return " ".join(shlex.quote(str(p)) for p in parts)


def _command(summary: Mapping[str, Any], finding: Mapping[str, Any]) -> str | None:
    kind = finding.get("kind")
    if kind == "feature_drift" and finding.get("feature"):
        return deep_dive_command(summary, "deep-dive", "--feature", finding["feature"])
    if kind == "anomaly_drivers" and finding.get("request_id"):
        return deep_dive_command(summary, "investigate", "--request-id",
                                 finding["request_id"])
    if finding.get("window_start") and (kind == "window_anomaly"
                                        or finding.get("section") == "health"):
        return deep_dive_command(summary, "investigate", "--window-start",
                                 str(finding["window_start"])[:10]
                                 if str(finding["window_start"]).endswith("T00:00:00Z")
                                 else finding["window_start"])
    return None


def attach_commands(summary: dict[str, Any]) -> None:
    """Give each finding that has a deep dive its exact ``command`` (see
    :func:`deep_dive_command`); call again once ``config_path`` and ``run_dir`` are known."""
    for finding in summary.get("findings") or []:
        if isinstance(finding, dict) and (command := _command(summary, finding)):
            finding["command"] = command


def build_findings(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """All findings of a run, most severe first; those with a deep dive carry its
    ``command``."""
    findings = (_alert_findings(summary) + _drift_findings(summary)
                + _multivariate_findings(summary) + _estimate_findings(summary)
                + _anomaly_findings(summary) + _data_quality_findings(summary)
                + _data_findings(summary))
    if not summary.get("alerts"):
        findings.append({"severity": "info", "kind": "ok", "section": "health",
                         "text": "No alert rule fired in any window.", "next_step": ""})
    findings.sort(key=lambda f: severity_rank(f["severity"]))
    attach_commands({**summary, "findings": findings})
    return findings
