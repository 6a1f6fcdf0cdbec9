"""What the explorer and the deep-dive notebooks show, computed once and cached.

:class:`ExplorerState` reads a run's results (an :class:`~obskit.analysis.Analysis`, or a
published ``summary.json`` with the config to reach the logs) and answers the questions
the views ask: the windows of a segment, a feature's drift over time, the reference vs
one window's distribution, the anomalous rows and their explanations. Everything already
in the summary is read from it; what is not (per-window distributions, one request's full
row, the reference's quantiles) is computed in the engine on first use, one query per
feature and segment, and kept. Changing a widget never queries the engine twice for the
same thing.

Without access to the logs (a summary alone), the data-level answers are ``None`` and
:attr:`ExplorerState.data_note` says why.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from obskit._format import finite
from obskit.feature_ranking import rank_features
from obskit.io.casting import is_infinite
from obskit.profiles.drift import category_counts, histogram_by_window, numeric_histogram
from obskit.schema import is_numeric_type
from obskit.segments import segment_label as label_of

__all__ = ["ExplorerState", "Segment", "load_state"]

#: a segment key: ``None`` for all rows, else ``(column, value)``
Segment = tuple[str, str] | None
#: numeric quantiles of the reference used to place a request's values
_QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


def _edges(dist: Mapping[str, Any]) -> np.ndarray:
    """The bin edges of a summary distribution (``null`` outer edges are open-ended)."""
    raw = list(dist.get("edges") or [])
    return np.array([-np.inf if i == 0 and e is None else np.inf if e is None else float(e)
                     for i, e in enumerate(raw)], dtype=float)


def segment_label(segment: Segment) -> str:
    """``all rows`` or ``column=value``."""
    return "all rows" if segment is None else label_of(*segment)


class ExplorerState:
    """A run's results with lazily computed, cached data-level views.

    Parameters
    ----------
    summary : Mapping
        The run's ``summary.json`` document.
    analysis : Analysis, optional
        The run itself (gives the logs and config, so distributions per window can be
        computed); ``None`` for a published summary alone.
    config : Config, optional
        With a summary: the config whose logs the summary describes (the logs are loaded
        on first use). Ignored when ``analysis`` is given.

    Examples
    --------
    >>> state = ExplorerState({"windows": [], "drift_summary": {}})
    >>> state.features(), state.data_available
    ([], False)
    """

    def __init__(self, summary: Mapping[str, Any], *, analysis: Any = None,
                 config: Any = None) -> None:
        self.summary = summary
        self.analysis = analysis
        self.config = analysis.config if analysis is not None else config
        self._logs = analysis.logs if analysis is not None else None
        self._table: Any = None
        self._cache: dict[tuple[Any, ...], Any] = {}
        #: engine queries run so far (each is cached afterwards)
        self.queries = 0

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_analysis(cls, analysis: Any) -> ExplorerState:
        """From an :class:`~obskit.analysis.Analysis` (what :func:`obskit.analyze` returns)."""
        return cls(analysis.to_summary(), analysis=analysis)

    @classmethod
    def from_summary(cls, summary: Mapping[str, Any] | str | Path, *,
                     config: Any = None) -> ExplorerState:
        """From a ``summary.json`` document or path, and optionally the config (or config
        file path) to reach its logs."""
        if not isinstance(summary, Mapping):
            summary = json.loads(Path(summary).read_text())
        if config is not None and not hasattr(config, "current"):
            from obskit.config import load_config

            config = load_config(config)
        return cls(summary, config=config)

    # ------------------------------------------------------------------ summary views

    @property
    def data_available(self) -> bool:
        """Whether the logs can be reached (for per-window distributions and full rows)."""
        return self._logs is not None or self.config is not None

    @property
    def data_note(self) -> str:
        return ("" if self.data_available else
                "Only a summary was given, so views that need the logs (distributions per "
                "window, full request rows) are not available. Pass config= (the run's "
                "config file) to reach them.")

    def segments(self) -> list[Segment]:
        """``None`` (all rows), then every analysed segment, largest first per column."""
        out: list[Segment] = [None]
        for column, entries in (self.summary.get("segments") or {}).items():
            for e in entries or []:
                if e.get("status") == "ok":
                    out.append((str(column), str(e.get("value"))))
        return out

    def _segment_entry(self, segment: Segment) -> Mapping[str, Any]:
        if segment is None:
            return self.summary
        for e in (self.summary.get("segments") or {}).get(segment[0]) or []:
            if str(e.get("value")) == segment[1]:
                return e
        raise KeyError(f"segment {segment_label(segment)!r} is not in this run")

    def windows(self, segment: Segment = None) -> list[Mapping[str, Any]]:
        """The windows of the whole log or of one segment, in time order."""
        return list(self._segment_entry(segment).get("windows") or [])

    def window(self, index: int, segment: Segment = None) -> Mapping[str, Any] | None:
        """One window by its ``index`` (``None`` if the segment has no such window)."""
        return next((w for w in self.windows(segment) if w.get("index") == index), None)

    def default_window(self) -> int | None:
        """The window the explorer opens on: the latest judged one."""
        windows = self.windows()
        judged = [w for w in windows if w.get("status") == "ok"] or windows
        return judged[-1]["index"] if judged else None

    def drift_summary(self, segment: Segment = None) -> Mapping[str, Mapping[str, Any]]:
        return self._segment_entry(segment).get("drift_summary") or {}

    def features(self) -> list[str]:
        """Features, most severe first: drifted windows, then peak score relative to its
        threshold, then name."""
        summary = self.drift_summary()
        names = list(summary) + [f for f in self.summary.get("features") or {}
                                 if f not in summary]
        return rank_features(summary, names)

    def top_drifted_feature(self) -> str | None:
        """The most severely drifted feature (the first of :meth:`features` if none)."""
        features = self.features()
        return features[0] if features else None

    def drift_series(self, feature: str, segment: Segment = None) -> list[dict[str, Any]]:
        """One entry per window: ``index, start, status, value, threshold, drifted, method``
        of ``feature`` (values ``None`` where the window has none)."""
        out = []
        for w in self.windows(segment):
            d = (w.get("drift") or {}).get(feature) or {}
            out.append({"index": w.get("index"), "start": w.get("start"),
                        "status": w.get("status"), "value": finite(d.get("value")),
                        "threshold": finite(d.get("threshold")),
                        "drifted": d.get("drifted"), "method": d.get("method"),
                        "p_value": d.get("p_value"), "adjusted": d.get("adjusted")})
        return out

    def drift_entry(self, feature: str, index: int, segment: Segment = None
                    ) -> Mapping[str, Any] | None:
        w = self.window(index, segment)
        return ((w or {}).get("drift") or {}).get(feature)

    def anomalies(self, *, window: int | None = None,
                  segment: Segment = None) -> list[Mapping[str, Any]]:
        """Flagged predictions, most severe first (of one window / segment if given)."""
        rows = [r for r in self.summary.get("anomalies") or [] if isinstance(r, Mapping)]
        if window is not None:
            rows = [r for r in rows if r.get("window") == window]
        if segment is not None and any(segment[0] in r for r in rows):
            rows = [r for r in rows if str(r.get(segment[0])) == segment[1]]
        return rows

    def anomaly(self, request_id: str) -> Mapping[str, Any] | None:
        return next((r for r in self.anomalies() if str(r.get("request_id")) == request_id),
                    None)

    def explanation(self, request_id: str) -> Mapping[str, Any] | None:
        """The run's SHAP (and LIME) explanation of a flagged request, if it was explained."""
        rows = (self.summary.get("explanations") or {}).get("rows") or []
        return next((e for e in rows if str(e.get("request_id")) == str(request_id)), None)

    def explanation_status(self) -> str:
        explanations = self.summary.get("explanations") or {}
        return str(explanations.get("status") or "no explanations in this run")

    def window_of(self, timestamp: str) -> int | None:
        """The index of the window containing an ISO-8601 time (or starting that day)."""
        for w in self.windows():
            start, end = str(w.get("start") or ""), str(w.get("end") or "")
            if start and (start.startswith(timestamp) or start <= _iso(timestamp) < end):
                return w.get("index")
        return None

    # ------------------------------------------------------------------ engine access

    def _logs_(self) -> Any:
        if self._logs is None:
            if self.config is None:
                return None
            from obskit.io import load_logs

            self._logs = load_logs(self.config)
        return self._logs

    def _windowed(self) -> Any:
        """The current logs with ``window_index``, cut as the run cut them."""
        if self._table is None:
            table = getattr(self.analysis, "table", None)
            if table is None:
                logs = self._logs_()
                if logs is None:
                    return None
                import ibis

                from obskit.windows import anchor_window

                current = logs.current.table
                start, end = self.config.period_start, self.config.period_end
                if start or end:
                    ts, keep = current.timestamp, ibis.literal(True)
                    if start:
                        keep &= ts >= ibis.timestamp(start).cast("timestamp('UTC')")
                    if end:
                        keep &= ts < ibis.timestamp(end).cast("timestamp('UTC')")
                    current = current.filter(keep)
                spec = anchor_window(self.config.window_spec, current, start=start)
                table = spec.assign(current)
            self._table = table
        return self._table

    def _filter(self, table: Any, segment: Segment) -> Any:
        if segment is None or segment[0] not in table.columns:
            return table
        return table.filter(table[segment[0]].cast("string") == segment[1])

    def _reference(self, segment: Segment) -> Any:
        logs = self._logs_()
        ref = logs.reference.table if logs is not None and logs.reference else None
        if ref is None or segment is None:
            return ref
        basis = self._segment_entry(segment).get("reference_basis")
        return self._filter(ref, segment) if basis == "same segment" else ref

    def _cached(self, key: tuple[Any, ...], compute: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def window_counts(self, feature: str, segment: Segment = None
                      ) -> dict[int, np.ndarray] | None:
        """Window index → counts of ``feature`` in the bins (numeric) or categories of the
        run's reference distribution; one engine query per feature and segment, cached."""
        dist = (self.summary.get("distributions") or {}).get(feature)
        if not dist:
            return None

        def compute() -> dict[int, np.ndarray] | None:
            table = self._windowed()
            if table is None or feature not in table.columns:
                return None
            table = self._filter(table, segment)
            self.queries += 1
            if dist.get("kind") == "numeric":
                return histogram_by_window(table, feature, _edges(dist))
            cats = [str(c) for c in dist.get("categories") or []]
            counts = category_counts(table, feature)
            out: dict[int, np.ndarray] = {}
            for w, grp in counts.groupby("window_index"):
                by_cat = dict(zip(grp.category.astype(str), grp.n.astype(int), strict=True))
                other = sum(n for c, n in by_cat.items() if c not in cats)
                out[int(w)] = np.array([by_cat.get(c, 0) for c in cats] + [other])
            return out

        return self._cached(("window_counts", feature, segment), compute)

    def reference_counts(self, feature: str, segment: Segment = None) -> np.ndarray | None:
        """The reference's counts in the same bins/categories (the segment's own reference
        when the run compared the segment with it)."""
        dist = (self.summary.get("distributions") or {}).get(feature)
        if not dist:
            return None
        whole = np.array(list(dist.get("reference") or []), dtype=float)
        if dist.get("kind") == "categorical":
            whole = np.append(whole, 0.0)  # the "other" slot of window_counts
        if segment is None or self._segment_entry(segment).get("reference_basis") \
                != "same segment":
            return whole

        def compute() -> np.ndarray | None:
            ref = self._reference(segment)
            if ref is None or feature not in ref.columns:
                return whole
            self.queries += 1
            if dist.get("kind") == "numeric":
                return numeric_histogram(ref, feature, _edges(dist)).astype(float)
            cats = [str(c) for c in dist.get("categories") or []]
            counts = category_counts(ref, feature, by_window=False)
            by_cat = dict(zip(counts.category.astype(str), counts.n.astype(int), strict=True))
            return np.array([by_cat.get(c, 0) for c in cats]
                            + [sum(n for c, n in by_cat.items() if c not in cats)], dtype=float)

        return self._cached(("reference_counts", feature, segment), compute)

    def distribution(self, feature: str, index: int, segment: Segment = None
                     ) -> dict[str, Any] | None:
        """Reference vs window ``index`` for ``feature``: ``kind``, ``edges`` or
        ``categories``, ``reference`` and ``window`` counts (``None`` without the logs
        or without a distribution for the feature)."""
        dist = (self.summary.get("distributions") or {}).get(feature)
        counts = self.window_counts(feature, segment)
        if not dist or counts is None:
            return None
        reference = self.reference_counts(feature, segment)
        size = len(reference) if reference is not None else 0
        window = counts.get(int(index), np.zeros(size, dtype=np.int64))
        out: dict[str, Any] = {"kind": dist.get("kind"), "feature": feature,
                               "reference": reference, "window": window,
                               "segment": segment}
        if dist.get("kind") == "numeric":
            out["edges"] = dist.get("edges")
        else:
            out["categories"] = [str(c) for c in dist.get("categories") or []] + ["(other)"]
        return out

    def request_row(self, request_id: str) -> dict[str, Any] | None:
        """Every logged column of one request (first match), read with one engine query."""
        def compute() -> dict[str, Any] | None:
            table = self._windowed()
            if table is None or "request_id" not in table.columns:
                return None
            self.queries += 1
            rows = table.filter(table.request_id.cast("string") == str(request_id)) \
                .limit(1).execute()
            if not len(rows):
                return {}
            from obskit.profiles.values import plain

            return {str(k): plain(v) for k, v in rows.iloc[0].items()
                    if not str(k).startswith("_")}

        return self._cached(("request_row", str(request_id)), compute)

    def reference_quantiles(self) -> dict[str, dict[float, float]] | None:
        """Reference quantiles of every numeric feature (one engine query, cached)."""
        def compute() -> dict[str, dict[float, float]] | None:
            logs = self._logs_()
            if logs is None or not logs.reference:
                return None
            ref = logs.reference.table
            numeric = [f for f, k in (self.summary.get("features") or {}).items()
                       if is_numeric_type(k) and f in ref.columns]
            if not numeric:
                return {}
            aggs = {}
            for i, f in enumerate(numeric):
                col = ref[f].cast("float64")
                ok = col.notnull() & ~col.isnan() & ~is_infinite(col)
                for j, q in enumerate(_QUANTILES):
                    aggs[f"q{i}_{j}"] = col.quantile(q, where=ok)
            self.queries += 1
            row = ref.aggregate(**aggs).execute().iloc[0]
            return {f: {q: float(row[f"q{i}_{j}"]) for j, q in enumerate(_QUANTILES)
                        if finite(row[f"q{i}_{j}"]) is not None}
                    for i, f in enumerate(numeric)}

        return self._cached(("reference_quantiles",), compute)

    def resolve_target(self, *, window_start: str | None = None,
                       request_id: str | None = None) -> tuple[int | None, str | None]:
        """``(window index, request id)`` to investigate: the request's window, the window
        starting at (or containing) ``window_start`` with its most severe flagged request,
        or by default the most anomalous request of the run.

        Raises ``ValueError`` naming the windows when ``window_start`` matches none.
        """
        if request_id is not None:
            return self.window_of_request(str(request_id)), str(request_id)
        if window_start is not None:
            index = self.window_of(str(window_start))
            if index is None:
                starts = ", ".join(str(w.get("start"))[:16] for w in self.windows())
                raise ValueError(f"window_start {window_start!r}: no window starts at or "
                                 f"contains it; windows start at {starts}")
            rows = self.anomalies(window=index)
            return index, (str(rows[0].get("request_id")) if rows else None)
        rows = self.anomalies()
        if rows:
            return rows[0].get("window"), str(rows[0].get("request_id"))
        return self.default_window(), None

    def window_of_request(self, request_id: str) -> int | None:
        row = self.anomaly(request_id) or self.request_row(request_id) or {}
        index = row.get("window", row.get("window_index"))
        return int(index) if index is not None else None


def _iso(text: str) -> str:
    """A date or time as the summary writes window bounds (``...T00:00:00Z``)."""
    text = text.strip()
    if len(text) == 10:
        return text + "T00:00:00Z"
    return text.replace("+00:00", "Z")


def load_state(config_path: str | None = None, *, overrides: Mapping[str, Any] | None = None,
               summary_path: str | None = None) -> ExplorerState:
    """The state the deep-dive notebooks start from.

    With ``summary_path``, the run's results are read from it (nothing is recomputed) and
    ``config_path`` (with ``overrides``) only gives access to the logs; without it, the
    config is analysed here.
    """
    from obskit.config import load_config

    config = (load_config(config_path, overrides=overrides)
              if config_path is not None or overrides else None)
    if summary_path:
        return ExplorerState.from_summary(summary_path, config=config)
    if config is None:
        raise ValueError("pass config_path (a config file) or summary_path (a summary.json)")
    from obskit.analysis import analyze

    return ExplorerState.from_analysis(analyze(config))
