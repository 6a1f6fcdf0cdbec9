"""What the explorer reads from the logs, asked of :mod:`obskit.profiles` once and kept.

:class:`LogView` gives the data-level answers a run's results do not hold: one feature's
counts per window in the bins of the run's reference distribution, the same counts for a
segment's own reference, one request's full row, the reference's quantiles. Each answer
is one engine query (run through :mod:`obskit.profiles`, never built here), made on first
use and cached, so changing a widget never queries the engine twice for the same thing.

The rows are the run's own: the analysis's windowed table when there is one, else the
logs cut by :func:`obskit.profiles.period.analysed_rows`, as the run cut them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import numpy as np

from obskit.profiles.drift import category_counts, histogram_by_window, numeric_histogram
from obskit.profiles.period import analysed_rows
from obskit.profiles.rows import first_row, numeric_quantiles, segment_rows
from obskit.results import Distribution, Run
from obskit.schema import is_numeric_type

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from obskit.config import Config
    from obskit.io.logs import LoadedLogs

__all__ = ["LogView", "QUANTILES"]

#: numeric quantiles of the reference used to place a request's values
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
#: what a segment's reference basis says when the segment was compared with its own rows
SAME_SEGMENT = "same segment"

T = TypeVar("T")


def _edges(dist: Distribution) -> np.ndarray:
    """The bin edges of a distribution (``None`` outer edges are open-ended)."""
    raw = list(dist.edges or ())
    return np.array([-np.inf if i == 0 and e is None else np.inf if e is None else float(e)
                     for i, e in enumerate(raw)], dtype=float)


def _in_categories(by_cat: dict[str, int], cats: list[str]) -> list[int]:
    """Counts per category in ``cats`` order, then the count of every other value."""
    return [by_cat.get(c, 0) for c in cats] + [sum(n for c, n in by_cat.items()
                                                   if c not in cats)]


class LogView:
    """The logs behind a run, read lazily through :mod:`obskit.profiles` and cached.

    Parameters
    ----------
    run : Run
        The run's results (for the reference distributions and the features).
    config : Config, optional
        The run's config (reaches the logs when ``logs`` is not given).
    logs : LoadedLogs, optional
        The loaded logs (an analysis has them).
    table : ibis.Table, optional
        The analysed current rows with ``window_index`` (an analysis has them).

    Attributes
    ----------
    queries : int
        Engine queries run so far (each answer is cached afterwards).
    """

    def __init__(self, run: Run, *, config: Config | None = None,
                 logs: LoadedLogs | None = None, table: ir.Table | None = None) -> None:
        self.run = run
        self.config = config
        self._logs = logs
        self._table = table
        self._cache: dict[tuple[Any, ...], Any] = {}
        self.queries = 0

    @property
    def data_available(self) -> bool:
        """Whether the logs can be reached (for per-window distributions and full rows)."""
        return self._logs is not None or self.config is not None

    @property
    def data_note(self) -> str:
        """Why the views that need the logs are missing (``""`` when they are not)."""
        return ("" if self.data_available else
                "Only a summary was given, so views that need the logs (distributions per "
                "window, full request rows) are not available. Pass config= (the run's "
                "config file) to reach them.")

    # ------------------------------------------------------------------ rows

    def _loaded(self) -> LoadedLogs | None:
        if self._logs is None:
            if self.config is None:
                return None
            from obskit.io import load_logs

            self._logs = load_logs(self.config)
        return self._logs

    def _windowed(self) -> ir.Table | None:
        """The current rows with ``window_index``, cut as the run cut them."""
        if self._table is None:
            logs = self._loaded()
            if logs is None or self.config is None:
                return None
            self._table = analysed_rows(self.config, logs).table
        return self._table

    @staticmethod
    def _in_segment(table: ir.Table, segment: tuple[str, str] | None) -> ir.Table:
        if segment is None or segment[0] not in table.columns:
            return table
        return segment_rows(table, *segment)

    def _reference(self, segment: tuple[str, str] | None, basis: str | None
                   ) -> ir.Table | None:
        logs = self._loaded()
        ref = logs.reference.table if logs is not None and logs.reference else None
        if ref is None or segment is None:
            return ref
        return self._in_segment(ref, segment) if basis == SAME_SEGMENT else ref

    def _cached(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        if key not in self._cache:
            self._cache[key] = compute()
        result: T = self._cache[key]
        return result

    # ------------------------------------------------------------------ answers

    def window_counts(self, feature: str, segment: tuple[str, str] | None = None
                      ) -> dict[int, np.ndarray] | None:
        """Counts of ``feature`` per window in the run's reference bins or categories.

        Parameters
        ----------
        feature : str
        segment : (column, value) or None
            Only the rows of that segment.

        Returns
        -------
        dict or None
            Window index → counts, shape ``(bins,)`` for a numeric feature, ``(categories
            + 1,)`` for a categorical one (the last: every other value); ``None`` without
            the logs, the feature in them, or a distribution in the run. One engine query
            per feature and segment, cached.
        """
        dist = self.run.distributions.get(feature)
        if dist is None:
            return None

        def compute() -> dict[int, np.ndarray] | None:
            table = self._windowed()
            if table is None or feature not in table.columns:
                return None
            table = self._in_segment(table, segment)
            self.queries += 1
            if dist.kind == "numeric":
                counts: dict[int, np.ndarray] = histogram_by_window(table, feature,
                                                                    _edges(dist))
                return counts
            cats = [str(c) for c in dist.categories or ()]
            frame = category_counts(table, feature)
            out: dict[int, np.ndarray] = {}
            for w, grp in frame.groupby("window_index"):
                by_cat = dict(zip(grp.category.astype(str), grp.n.astype(int), strict=True))
                out[int(cast(int, w))] = np.array(_in_categories(by_cat, cats))
            return out

        return self._cached(("window_counts", feature, segment), compute)

    def reference_counts(self, feature: str, segment: tuple[str, str] | None = None, *,
                         basis: str | None = None) -> np.ndarray | None:
        """The reference's counts in the same bins / categories as :meth:`window_counts`.

        Parameters
        ----------
        feature : str
        segment : (column, value) or None
        basis : str, optional
            The segment's reference basis: with ``same segment``, the segment's own
            reference rows are counted (one engine query, cached); else the run's counts.

        Returns
        -------
        numpy.ndarray or None
            Counts (float), same shape as a window's; ``None`` without a distribution.
        """
        dist = self.run.distributions.get(feature)
        if dist is None:
            return None
        whole = np.array(list(dist.reference), dtype=float)
        if dist.kind == "categorical":
            whole = np.append(whole, 0.0)  # the "other" slot of window_counts
        if segment is None or basis != SAME_SEGMENT:
            return whole

        def compute() -> np.ndarray | None:
            ref = self._reference(segment, basis)
            if ref is None or feature not in ref.columns:
                return whole
            self.queries += 1
            if dist.kind == "numeric":
                counts: np.ndarray = numeric_histogram(ref, feature, _edges(dist))
                return counts.astype(float)
            cats = [str(c) for c in dist.categories or ()]
            frame = category_counts(ref, feature, by_window=False)
            by_cat = dict(zip(frame.category.astype(str), frame.n.astype(int), strict=True))
            return np.array(_in_categories(by_cat, cats), dtype=float)

        return self._cached(("reference_counts", feature, segment), compute)

    def distribution(self, feature: str, index: int, segment: tuple[str, str] | None = None,
                     *, basis: str | None = None) -> dict[str, Any] | None:
        """Reference vs window ``index`` for ``feature``.

        Returns
        -------
        dict or None
            ``kind``, ``feature``, ``segment``, ``edges`` (numeric) or ``categories``
            (categorical, with ``(other)`` last), ``reference`` and ``window`` counts
            (arrays of one shape); ``None`` without the logs or a distribution.
        """
        dist = self.run.distributions.get(feature)
        counts = self.window_counts(feature, segment)
        if dist is None or counts is None:
            return None
        reference = self.reference_counts(feature, segment, basis=basis)
        size = len(reference) if reference is not None else 0
        window = counts.get(int(index), np.zeros(size, dtype=np.int64))
        out: dict[str, Any] = {"kind": dist.kind, "feature": feature,
                               "reference": reference, "window": window,
                               "segment": segment}
        if dist.kind == "numeric":
            out["edges"] = list(dist.edges) if dist.edges is not None else None
        else:
            out["categories"] = [str(c) for c in dist.categories or ()] + ["(other)"]
        return out

    def request_row(self, request_id: str) -> dict[str, Any] | None:
        """Every logged column of one request (first match), read with one engine query.

        Returns
        -------
        dict or None
            Column → JSON-friendly value (``{}`` when no row has that id; ``None``
            without the logs or a ``request_id`` column).
        """
        def compute() -> dict[str, Any] | None:
            table = self._windowed()
            if table is None or "request_id" not in table.columns:
                return None
            self.queries += 1
            row = first_row(table, "request_id", str(request_id))
            if row is None:
                return {}
            from obskit.profiles.values import plain

            return {k: plain(v) for k, v in row.items() if not k.startswith("_")}

        return self._cached(("request_row", str(request_id)), compute)

    def reference_quantiles(self) -> dict[str, dict[float, float]] | None:
        """Reference quantiles (:data:`QUANTILES`) of every numeric feature.

        Returns
        -------
        dict or None
            Feature → {probability → value}; ``None`` without reference logs. One engine
            query, cached.
        """
        def compute() -> dict[str, dict[float, float]] | None:
            logs = self._loaded()
            if logs is None or not logs.reference:
                return None
            ref = logs.reference.table
            numeric = [f for f, k in self.run.features.items()
                       if is_numeric_type(k) and f in ref.columns]
            if not numeric:
                return {}
            self.queries += 1
            return numeric_quantiles(ref, numeric, QUANTILES)

        return self._cached(("reference_quantiles",), compute)
