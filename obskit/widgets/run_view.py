"""What the explorer reads from a run's results: typed reads of an
:class:`obskit.results.Run`, nothing computed again and no engine involved.

:class:`RunView` answers the questions the views ask of the results: the segments, the
windows of a segment, a feature's drift over time, the flagged rows and their
explanations. :class:`~obskit.widgets.state.ExplorerState` adds what needs the logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from obskit._format import finite
from obskit.profiles.segments import segment_label as label_of
from obskit.results import (
    AnomalousPrediction,
    DriftSummary,
    ExplainedRow,
    FeatureDrift,
    Run,
    SegmentResult,
    Window,
    Windows,
)
from obskit.results.ranking import rank_features

__all__ = ["RunView", "Segment", "segment_label"]

#: a segment key: ``None`` for all rows, else ``(column, value)``
Segment = tuple[str, str] | None


def segment_label(segment: Segment) -> str:
    """``all rows`` or ``column=value``."""
    return "all rows" if segment is None else label_of(*segment)


def _iso(text: str) -> str:
    """A date or time as the summary writes window bounds (``...T00:00:00Z``)."""
    text = text.strip()
    if len(text) == 10:
        return text + "T00:00:00Z"
    return text.replace("+00:00", "Z")


class RunView:
    """Typed reads of one run's results.

    Parameters
    ----------
    run : Run
        The run (an :class:`~obskit.analysis.Analysis` is one too).

    Examples
    --------
    >>> from obskit.results import Run
    >>> RunView(Run()).features()
    []
    """

    def __init__(self, run: Run) -> None:
        self.run = run

    def segments(self) -> list[Segment]:
        """``None`` (all rows), then every analysed segment, largest first per column."""
        out: list[Segment] = [None]
        for column, entries in self.run.segments.items():
            for e in entries or ():
                if e.status == "ok":
                    out.append((str(column), str(e.value)))
        return out

    def segment_result(self, segment: Segment) -> SegmentResult | None:
        """The segment's results (``None`` for all rows).

        Raises
        ------
        KeyError
            The run has no such segment.
        """
        if segment is None:
            return None
        for e in self.run.segments.get(segment[0]) or ():
            if str(e.value) == segment[1]:
                return e
        raise KeyError(f"segment {segment_label(segment)!r} is not in this run")

    def reference_basis(self, segment: Segment) -> str | None:
        """What the segment was compared with (``same segment`` or ``whole reference``);
        ``None`` for all rows."""
        result = self.segment_result(segment)
        return result.reference_basis if result is not None else None

    def reference_performance(self, segment: Segment) -> Mapping[str, float | None] | None:
        """The reference performance a segment's windows are compared with (``None``: the
        run's, for all rows)."""
        result = self.segment_result(segment)
        return result.reference_performance if result is not None else None

    def windows(self, segment: Segment = None) -> Windows:
        """The windows of the whole log or of one segment, in time order."""
        result = self.segment_result(segment)
        if result is None:
            return self.run.windows
        return result.windows or Windows()

    def window(self, index: int | None, segment: Segment = None) -> Window | None:
        """One window by its ``index`` (``None`` if the segment has no such window)."""
        return next((w for w in self.windows(segment) if w.index == index), None)

    def default_window(self) -> int | None:
        """The window the explorer opens on: the latest judged one."""
        windows = list(self.windows())
        judged = [w for w in windows if w.status == "ok"] or windows
        return judged[-1].index if judged else None

    def drift_summary(self, segment: Segment = None) -> Mapping[str, DriftSummary]:
        """Feature → its drift over the windows (of the whole log or a segment)."""
        result = self.segment_result(segment)
        if result is None:
            return self.run.drift_summary
        return result.drift_summary or {}

    def features(self) -> list[str]:
        """Features, most severe first: drifted windows, then peak score relative to its
        threshold, then name."""
        summary = self.drift_summary()
        names = list(summary) + [f for f in self.run.features if f not in summary]
        return rank_features(summary, names)

    def top_drifted_feature(self) -> str | None:
        """The most severely drifted feature (the first of :meth:`features` if none)."""
        features = self.features()
        return features[0] if features else None

    def drift_series(self, feature: str, segment: Segment = None) -> list[dict[str, Any]]:
        """One entry per window: ``index, start, status, value, threshold, drifted,
        method, p_value, adjusted`` of ``feature`` (values ``None`` where the window has
        none)."""
        out = []
        for w in self.windows(segment):
            d = w.drift.get(feature) or FeatureDrift()
            out.append({"index": w.index, "start": w.start, "status": w.status,
                        "value": finite(d.value), "threshold": finite(d.threshold),
                        "drifted": d.drifted, "method": d.method,
                        "p_value": d.p_value, "adjusted": d.adjusted})
        return out

    def drift_entry(self, feature: str, index: int, segment: Segment = None
                    ) -> FeatureDrift | None:
        """The feature's drift in window ``index`` (``None`` without one)."""
        w = self.window(index, segment)
        return w.drift.get(feature) if w is not None else None

    def anomalies(self, *, window: int | None = None,
                  segment: Segment = None) -> list[AnomalousPrediction]:
        """Flagged predictions, most severe first (of one window / segment if given; the
        segment filter applies when the rows carry the segment's column)."""
        rows = [r for r in self.run.anomalies if isinstance(r, AnomalousPrediction)]
        if window is not None:
            rows = [r for r in rows if r.window == window]
        if segment is not None:
            column, value = segment
            documents = [r.to_dict() for r in rows]
            if any(column in d for d in documents):
                rows = [r for r, d in zip(rows, documents, strict=True)
                        if str(d.get(column)) == value]
        return rows

    def anomaly(self, request_id: str) -> AnomalousPrediction | None:
        """The flagged prediction of one request (``None`` when it was not flagged)."""
        return next((r for r in self.anomalies() if str(r.request_id) == request_id), None)

    def explanation(self, request_id: str) -> ExplainedRow | None:
        """The run's SHAP (and LIME) explanation of a flagged request, if it was explained."""
        explanations = self.run.explanations
        rows = (explanations.rows if explanations is not None else None) or ()
        return next((e for e in rows if str(e.request_id) == str(request_id)), None)

    def explanation_status(self) -> str:
        """``ok``, or why the run has no explanations."""
        explanations = self.run.explanations
        status = explanations.status if explanations is not None else None
        return str(status or "no explanations in this run")

    def importance(self) -> Mapping[str, float | None] | None:
        """Feature → mean |SHAP| on the reference (``None`` without explanations)."""
        explanations = self.run.explanations
        return explanations.importance if explanations is not None else None

    def window_of(self, timestamp: str) -> int | None:
        """The index of the window containing an ISO-8601 time (or starting that day)."""
        for w in self.windows():
            start, end = str(w.start or ""), str(w.end or "")
            if start and (start.startswith(timestamp) or start <= _iso(timestamp) < end):
                return w.index
        return None
