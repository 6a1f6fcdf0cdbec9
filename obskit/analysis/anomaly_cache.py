"""The per-window part of the anomalies, kept in the window cache.

Everything :meth:`~obskit.monitors.row_anomalies.RowAnomalyMonitor.scan` finds in a
window depends on that window's rows only (its reason counts, its candidates, its
isolation sample and the rarity weights they give), and so do the rows an explanation
draws from it (the first rows in hash order). :class:`AnomalyWindows` stores them per
window under the :class:`~obskit.analysis.window_cache.WindowCache` key (scope
``anomalies``), so a daily run scans only its new window; the ranking over the run, the
normal rows drawn over the whole run and the explanations are computed afresh from the
merged windows, and equal a run without the cache.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import ibis
import pandas as pd

from obskit.analysis.window_cache import WindowCache, WindowPlan, store_entry
from obskit.io.engine import fetch_frame, stable_hash
from obskit.monitors.row_anomalies import RowAnomalyMonitor
from obskit.profiles import W
from obskit.windows import WindowSpec

__all__ = ["AnomalyWindows", "hashed"]

_SAMPLES, _SAMPLED = "samples", "samples_rows"


def hashed(table: Any) -> Any:
    """``table`` with ``_h``, the explanations' sample key (a hash of ``request_id``, else
    of ``timestamp``).

    Parameters
    ----------
    table : ibis.Table

    Returns
    -------
    ibis.Table
    """
    key = table.request_id if "request_id" in table.columns else table.timestamp.cast("string")
    return table.mutate(_h=stable_hash(key))


def _merged(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """The frames in window order (each window's own order kept)."""
    parts = list(frames)
    full = [p for p in parts if len(p)]
    if not full:
        return parts[0].iloc[:0] if parts else pd.DataFrame()
    out = pd.concat(full, ignore_index=True) if len(full) > 1 else full[0]
    return out.sort_values(W, kind="stable").reset_index(drop=True)


def _as_int(value: Any) -> int:
    return int(value)


def _first(frame: pd.DataFrame) -> int:
    """The window index a stored window's rows carry."""
    return int(frame[W].to_numpy()[0])


def _window(frame: pd.DataFrame, w: int, index: int | None = None) -> pd.DataFrame:
    """The rows of window ``w`` (under ``index`` when given)."""
    out = frame[frame[W] == w]
    if index is not None and index != w and len(out):
        out = out.assign(**{W: index}).astype({W: frame[W].dtype})
    return out.reset_index(drop=True)


class AnomalyWindows:
    """The anomaly entries of a run's windows: restored, computed, stored.

    Parameters
    ----------
    cache : WindowCache or None
        The run's window cache (None or off: every window is computed, nothing stored).
    spec : WindowSpec or None
        How the rows were cut into windows.
    table : ibis.Table
        The analysed current rows with their ``window_index``.
    """

    def __init__(self, cache: WindowCache | None, spec: WindowSpec | None, table: Any) -> None:
        self.table = table
        self.plan: WindowPlan = (cache or WindowCache(None)).plan(
            spec, table, settings="anomalies", scope="anomalies",  # type: ignore[arg-type]
            counted=False)
        self.entries: dict[int, dict[str, Any]] = {w: dict(e)
                                                   for w, e in self.plan.stored.items()}
        self._changed: set[int] = set(self.plan.paths)

    @property
    def _windows(self) -> list[int]:
        return sorted([*self.plan.paths, *self.plan.stored])

    def _todo(self, windows: list[int]) -> Any:
        """The rows of ``windows`` (the whole table when that is every window)."""
        if not self.plan.paths and not self.plan.stored or set(windows) >= set(self._windows):
            return self.table
        return self.table.filter(self.table[W].isin(windows))

    def scan(self, monitor: RowAnomalyMonitor) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``monitor.scan`` of every window: the stored windows restored, the others
        scanned (in one pass) and kept for :meth:`save`.

        Parameters
        ----------
        monitor : RowAnomalyMonitor
            Fitted.

        Returns
        -------
        rows, counts : DataFrame
            As :meth:`RowAnomalyMonitor.scan` of the whole table.
        """
        stored = self.plan.stored
        fresh_rows = fresh_counts = None
        if self.plan.paths or not stored:
            fresh_rows, fresh_counts = monitor.scan(self._todo(list(self.plan.paths)))
        for w in self.plan.paths:
            assert fresh_rows is not None and fresh_counts is not None
            self.entries[w] = {"rows": _window(fresh_rows, w),
                               "counts": _window(fresh_counts, w)}
        if not stored:
            assert fresh_rows is not None and fresh_counts is not None
            return fresh_rows, fresh_counts
        return tuple(_merged([*([] if fresh is None else [fresh]),  # type: ignore[return-value]
                              *(_window(e[name], _first(e[name]), w)
                                if len(e[name]) else e[name]
                                for w, e in sorted(stored.items()))])
                     for fresh, name in ((fresh_rows, "rows"), (fresh_counts, "counts")))

    def samples(self, features: list[str], *, normal: int, per_window: int,
                skip: set[Any]) -> tuple[pd.DataFrame, dict[int, pd.DataFrame]]:
        """The ``normal`` rows among the first ``normal + len(skip)`` rows of the run in
        hash order (``_h``) that are not flagged (``request_id`` not in ``skip``, rows
        without one left out when ``skip`` is not empty), and per window its first
        ``per_window`` rows in the same order.

        Each window's first rows in hash order are stored (as many as the run needs, at
        least ``per_window``); the run's first rows are the first of their union. A
        window whose stored rows might not reach that far is read again.

        Parameters
        ----------
        features : list of str
        normal, per_window : int
        skip : set
            The flagged rows' ``request_id``.

        Returns
        -------
        normal_rows : DataFrame
            The features of the normal rows.
        windows : dict of int to DataFrame
            Window → the features of its rows.
        """
        need = normal + len(skip)
        keep = max(need, per_window)
        windows = self._windows
        todo = [w for w in windows if _SAMPLES not in self.entries.get(w, {})]
        rows = self._merged_samples(features, todo, keep)
        short = self._short(rows, need)
        if short:
            rows = self._merged_samples(features, short, max(keep, need))
        rows = rows.sort_values("_h", kind="stable")
        pool = rows.head(need)
        if skip and "request_id" in rows:
            pool = pool[pool.request_id.notna() & ~pool.request_id.isin(skip)]
        normal_rows = pool.head(normal)[features].reset_index(drop=True)
        first = rows[rows._wr < per_window]
        return normal_rows, {_as_int(w): grp[features].reset_index(drop=True)
                             for w, grp in first.sort_values([W, "_h"], kind="stable")
                             .groupby(W, sort=True)}

    def _merged_samples(self, features: list[str], todo: list[int], keep: int
                        ) -> pd.DataFrame:
        """Every window's first ``keep`` rows in hash order: those of ``todo`` read (in
        one query), the others restored. Without a cache, every window is read."""
        if todo or not self.entries:
            t = hashed(self._todo(todo))
            extra = ["request_id"] if "request_id" in t.columns else []
            t = t.mutate(_wr=ibis.row_number().over(group_by=W, order_by=t._h))
            got = fetch_frame(t.filter(t._wr < keep).select(W, "_h", "_wr", *extra, *features))
            if not self.entries:
                return got
            for w in todo:
                self.entries[w][_SAMPLES] = _window(got, w)
                self.entries[w][_SAMPLED] = keep
                self._changed.add(w)
        parts = []
        for w in self._windows:
            frame = self.entries[w][_SAMPLES]
            parts.append(_window(frame, _first(frame), w) if len(frame) else frame)
        return _merged(parts)

    def _short(self, rows: pd.DataFrame, need: int) -> list[int]:
        """Windows whose stored rows might miss one of the run's first ``need``."""
        if not self.entries:
            return []
        first = rows.sort_values("_h", kind="stable").head(need)
        taken = Counter(first[W].to_numpy().tolist())
        out = []
        for w, e in self.entries.items():
            stored = len(e[_SAMPLES])
            if stored >= e[_SAMPLED] and taken.get(w, 0) >= e[_SAMPLED]:
                out.append(w)
        return out

    def save(self) -> None:
        """Store the entries computed or completed in this run."""
        paths = {**self.plan.stored_paths, **self.plan.paths}
        for w in sorted(self._changed):
            if w in paths and w in self.entries:
                store_entry(paths[w], self.entries[w])
