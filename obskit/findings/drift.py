"""Drift findings: features that drifted (ranked most drifted first, with the segments
their drift is concentrated in), features missing from the current logs, and
multivariate drift with the bound it crossed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from obskit._format import fmt_num
from obskit._text import plural
from obskit.findings.wording import day, finding, judged
from obskit.profiles.segments import segment_label
from obskit.results import Finding, MultivariateDrift, Run
from obskit.results.ranking import rank_features, summary_worst_value
from obskit.stattests.drift_rules import is_pvalue_method, method_label

__all__ = ["bound_crossed", "feature_drift_findings", "multivariate_findings"]


def _concentration(run: Run, feature: str) -> str:
    """Where a feature's drift is concentrated, when only some segments show it."""
    parts = []
    for column, entries in run.segments.items():
        ok = [e for e in entries if e.status == "ok"]
        drifted = []
        for e in ok:
            entry = (e.drift_summary or {}).get(feature)
            if entry is not None and entry.drifted_windows:
                drifted.append(e)
        if drifted and len(drifted) < len(ok):
            parts.append(" and ".join(segment_label(column, e.value) for e in drifted))
    return f"; concentrated in {', '.join(parts)}" if parts else ""


def feature_drift_findings(run: Run) -> list[Finding]:
    """A finding per drifted feature (most drifted first), then one per feature missing
    from the current logs.

    Parameters
    ----------
    run : Run
        The run; its ``drift_summary``, ``segments`` and ``missing_features`` are read.

    Returns
    -------
    list of Finding
        Kinds ``feature_drift`` and ``missing_feature``.
    """
    out = []
    for name in rank_features(run.drift_summary):
        d = run.drift_summary[name]
        if not d.drifted_windows:
            continue
        method = method_label(d.method)
        worst = summary_worst_value(d)
        bound = "down to" if is_pvalue_method(d.method) else "up to"
        text = (f"{name} drifted from {day(d.first_drifted)} ({method} {bound} "
                f"{fmt_num(worst)} vs threshold {d.threshold:g}; "
                f"{d.drifted_windows} of {plural(d.windows, 'window')}"
                f"{_concentration(run, name)}).")
        out.append(finding(severity="warning", kind="feature_drift", feature=name, text=text,
                           section="drift",
                           next_step=f"Compare {name} in the reference and the drifted "
                                     "windows; find what changed upstream."))
    for name in run.missing_features:
        out.append(finding(severity="warning", kind="missing_feature", feature=name,
                           text=f"{name} is in the reference but missing from the current "
                                "logs; its drift cannot be judged.",
                           section="drift",
                           next_step=f"Check whether the producer stopped logging {name}."))
    return out


_MV_NAMES = {"domain_classifier": ("a domain classifier tells the window from the reference",
                                   "ROC AUC"),
             "pca_reconstruction": ("the joint distribution moved off the reference's "
                                    "principal components", "PCA reconstruction error")}


def bound_crossed(entry: MultivariateDrift | Mapping[str, Any]
                  ) -> tuple[str, float, float] | None:
    """Which bound a multivariate value crossed.

    ``threshold`` (one-sided, e.g. the domain classifier's AUC) counts as an upper bound;
    ``threshold_lower`` / ``threshold_upper`` (PCA reconstruction error) are two-sided.

    Parameters
    ----------
    entry : MultivariateDrift or Mapping
        One method's result in one window (a ``multivariate_drift`` entry).

    Returns
    -------
    tuple (str, float, float) or None
        ``("above", upper, excess)`` or ``("below", lower, excess)``, ``excess`` how far
        past the bound relative to it (``inf`` for a zero bound); None when the value lies
        within the bounds (or there is nothing to compare).

    Examples
    --------
    >>> bound_crossed(MultivariateDrift(value=1.0, threshold_lower=1.1,
    ...                                 threshold_upper=1.28))
    ('below', 1.1, 0.09090909090909098)
    """
    if not isinstance(entry, MultivariateDrift):
        entry = MultivariateDrift.from_dict(entry)
    value = entry.value
    if value is None:
        return None
    upper = entry.threshold_upper if entry.threshold is None else entry.threshold
    lower = entry.threshold_lower
    if upper is not None and value > upper:
        return "above", float(upper), (value - upper) / abs(upper) if upper else float("inf")
    if lower is not None and value < lower:
        return "below", float(lower), (lower - value) / abs(lower) if lower else float("inf")
    return None


def multivariate_findings(run: Run) -> list[Finding]:
    """A finding per multivariate method that found drift, with the bound it crossed.

    Parameters
    ----------
    run : Run
        The run; its windows' ``multivariate_drift`` is read.

    Returns
    -------
    list of Finding
        Kind ``multivariate_drift``.
    """
    out = []
    methods: dict[str, list[tuple[MultivariateDrift, str | None]]] = defaultdict(list)
    for w in run.windows:
        for method, entry in w.multivariate_drift.items():
            if entry.drifted:
                methods[method].append((entry, w.start))
    total = judged(run.windows)
    for method, hits in methods.items():
        what, measure = _MV_NAMES.get(method, (method, "score"))
        sides = [(h, bound_crossed(h)) for h, _ in hits]
        parts = []
        for side, verb in (("above", "up to"), ("below", "down to")):
            crossed = [(h, c) for h, c in sides if c and c[0] == side]
            if crossed:
                peak, (_, bound, _) = max(crossed, key=lambda hc: hc[1][2])
                parts.append(f"{verb} {peak.value:.3g}, {side} the "
                             f"{'upper' if side == 'above' else 'lower'} bound {bound:.3g}, "
                             f"in {plural(len(crossed), 'window')}")
        if method == "pca_reconstruction" and parts and all(
                c and c[0] == "below" for _, c in sides):
            what = ("the features fit the reference's principal components more closely "
                    "than the reference itself (less variety: constant or duplicated inputs?)")
        detail = "; ".join(parts) or f"up to {max(h.value or 0 for h, _ in hits):.3g}"
        out.append(finding(severity="warning", kind="multivariate_drift", section="drift",
                           text=f"Multivariate drift from {day(hits[0][1])}: {what} "
                                f"({measure} {detail}; {len(hits)} of "
                                f"{plural(total, 'window')}).",
                           next_step="Read it with the per-feature table: features drifting "
                                     "together, or a change in how they relate."))
    return out
