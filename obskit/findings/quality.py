"""Data quality findings: a feature whose share of bad values (missing, non-finite, out
of range, unseen categories, wrong type) rose above the reference's, per measure and
segment; then, as notes, bad values counted where no rule fired."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import fields

from obskit._text import plural
from obskit.findings.wording import day, finding, judged, pct, segment_text
from obskit.profiles.segments import segment_label
from obskit.results import Alert, FeatureQuality, Finding, Run, Window

__all__ = ["data_quality_findings"]

_FIELDS = frozenset(f.name for f in fields(FeatureQuality)) - {"extra", "layout"}
_WORDS = {"missing": "of values missing", "non_finite": "of values non-finite (NaN, ±inf)",
          "out_of_range": "of values outside the reference's range",
          "unseen": "of values in categories unseen in the reference",
          "wrong_type": "of values of the wrong type (quarantined rows)"}
_COUNTED = {"non_finite": ("non-finite value", " (NaN, ±inf)"),
            "wrong_type": ("value of the wrong type", " (rows quarantined)")}
_STEPS = {"missing": "Check whether the producer stopped sending {f} or a join upstream "
                     "lost it.",
          "non_finite": "Find where {f} overflows or divides by zero upstream; the drift "
                        "statistics use only its finite values.",
          "out_of_range": "Check {f}'s units and scale upstream (a changed unit or a "
                          "default value).",
          "unseen": "Check whether {f}'s new categories are expected (a new value "
                    "upstream) or a spelling change.",
          "wrong_type": "Fix the producer of {f}; the quarantine examples show file and "
                        "line."}


def _groups(run: Run) -> dict[tuple[str, str, str], list[Alert]]:
    """The data quality alerts by feature, measure and segment key."""
    groups: dict[tuple[str, str, str], list[Alert]] = defaultdict(list)
    for alert in run.alerts:
        parts = str(alert.metric or "").split(".")
        if len(parts) == 3 and parts[0] == "data_quality" and parts[2].endswith("_increase"):
            measure = parts[2][: -len("_increase")]
            groups[(parts[1], measure, segment_text(alert.segment))].append(alert)
    return groups


def _qualities(run: Run) -> dict[tuple[str, int, str], FeatureQuality]:
    """Each window's data quality by (segment label or ``""``, window index, feature)."""
    scopes: list[tuple[str, tuple[Window, ...]]] = [("", run.windows)] + [
        (segment_label(column, e.value), e.windows or ())
        for column, entries in run.segments.items() for e in entries]
    return {(scope, w.index, f): q for scope, windows in scopes for w in windows
            for f, q in w.data_quality.items()}


def _share(quality: FeatureQuality | None, name: str) -> float | None:
    """A share of ``quality`` by name (one this version does not know from ``extra``)."""
    if quality is None:
        return None
    value = getattr(quality, name) if name in _FIELDS else quality.extra.get(name)
    return value if isinstance(value, (int, float)) else None


def data_quality_findings(run: Run) -> list[Finding]:
    """A feature whose share of bad values jumped above the reference's, per measure (and
    segment); then, as notes, non-finite and wrong-type values counted where no rule
    fired.

    Parameters
    ----------
    run : Run
        The run; its alerts, windows (of the whole log and of segments), data quality
        summary and missing features are read.

    Returns
    -------
    list of Finding
        Kind ``data_quality`` (with ``feature`` and ``measure``).
    """
    groups = _groups(run)
    # windows judged: the ``ok`` ones, and those judged on their quarantined rows alone
    unjudged = {w.index for w in run.windows if w.status != "ok"}
    total = judged(run.windows) + len(unjudged & {
        a.window for a in run.alerts
        if not a.segment and (a.metric or "").startswith("data_quality.")})
    starts = {w.index: w.start for w in run.windows}
    shares = _qualities(run)
    out = []
    absent = set(run.missing_features)
    for (feature, measure, segment), alerts in groups.items():
        if feature in absent:
            continue  # not logged at all: the missing-feature finding says so
        if segment and {a.window for a in alerts} <= {
                a.window for a in groups.get((feature, measure, ""), [])}:
            continue  # the whole log already shows it
        alerts.sort(key=lambda a: a.window if a.window is not None else -1)
        worst = max(alerts, key=lambda a: a.value)
        quality = shares.get((segment, worst.window if worst.window is not None else -1,
                              feature))
        share = _share(quality, f"{measure}_share")
        base = _share(quality, f"reference_{measure}_share")
        if share is None or base is None:  # not in the summary: the alert has the rise
            amount = f"a rise of {pct(worst.value)} in the share"
            versus = f"{_WORDS.get(measure, measure)} over the reference"
        else:
            amount = f"{pct(share)} {_WORDS.get(measure, measure)}"
            versus = f"vs {pct(base)} expected from the reference"
        prefix = f"In segment {segment}: " if segment else ""
        if not segment:  # where it is concentrated, when segments show it too
            worst_in = [(seg, max(a.value for a in hits))
                        for (f, m, seg), hits in groups.items()
                        if f == feature and m == measure and seg]
            if worst_in:
                versus += "; " + ", ".join(f"up to +{pct(v)} in {seg}" for seg, v in worst_in)
        days = ", ".join(day(starts.get(a.window) if a.window is not None else None)
                         for a in alerts[:3])
        more = f" and {len(alerts) - 3} more" if len(alerts) > 3 else ""
        out.append(finding(
            severity=worst.severity, kind="data_quality", feature=feature,
            measure=measure, section="data-quality", segment=worst.segment,
            windows=[a.window for a in alerts], window_start=worst.window_start,
            text=f"{prefix}{feature}: {amount} on {day(worst.window_start)} "
                 f"({versus}; {len(alerts)} of {plural(total, 'window')}: {days}{more}).",
            next_step=_STEPS.get(measure, "See the data quality table.").format(f=feature)))
    flagged = {(f, m) for f, m, seg in groups if not seg}
    for feature, entry in run.data_quality.items():
        for measure in ("non_finite", "wrong_type"):
            summary = entry.non_finite if measure == "non_finite" else entry.wrong_type
            count = summary.count if summary is not None else None
            if count and (feature, measure) not in flagged:
                out.append(finding(
                    severity="info", kind="data_quality", feature=feature,
                    measure=measure, section="data-quality",
                    text=f"{feature}: {plural(count, _COUNTED[measure][0])}"
                         f"{_COUNTED[measure][1]} in the current "
                         "logs, below the alert threshold; they are counted in the data "
                         "quality table and left out of the statistics.",
                    next_step=_STEPS[measure].format(f=feature)))
    return out
