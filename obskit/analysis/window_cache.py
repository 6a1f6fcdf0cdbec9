"""Per-window results kept on disk, so a daily run computes only the windows that are new.

The monitors of :func:`~obskit.analysis.table.analyse_table` give one small frame each,
keyed by ``window_index``. A window's rows of those frames depend only on the window's own
rows, the reference and the settings, so :class:`WindowCache` stores them under a key made
of

- the window's bounds (start and end of a period window; its index for row windows and
  for regression with estimation, whose error model samples by index), never its index
  alone, which shifts when the report shows a moving range;
- the fingerprint of the window's data: its row count and two sums of a hash of every
  column of every row, and the same of its quarantined rows, computed by the engine in
  one query for all windows (one per segment column);
- the reference's fingerprint (:func:`~obskit.analysis.reference_cache.data_fingerprint`);
- the scope (the whole log, or one segment and which reference it is judged against);
- the settings that can change a window's numbers: every config key except those that
  only say where results go or how they are judged afterwards (:data:`NOT_SETTINGS`),
  the features and their types, the task, the columns' roles and the drift rules in
  force (which look at the whole current log);
- the engine and the obskit version.

The monitors then run on the windows not found only, and the stored frames are merged
back: the run's windows are the same as without the cache. What spans windows is
computed afresh on the merged frames every run: drift persistence, the windows' summaries,
alerts and findings. The distributions over the whole log, the drift rules, anomalies,
traces and probes are not cached. The anomalies' per-window part (each window's reason
counts, ranked rows and explanation samples) is stored under the same key with its own
scope (:mod:`obskit.analysis.anomaly_cache`).

Entries are pickles obskit itself wrote into ``<out>/.cache/windows`` (a directory the
report owner controls, like the reference cache next to it). ``window_cache: false`` in
the config turns it off.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import pickle
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from obskit._version import __version__
from obskit.analysis.assemble import WindowFrames
from obskit.analysis.reference_cache import cache_directory, log_fingerprint
from obskit.config import Config
from obskit.io.logs import LoadedLogs
from obskit.monitors.data_quality import windowed_quarantine
from obskit.profiles import W
from obskit.profiles.segments import Segment
from obskit.results import WindowCacheStats
from obskit.thresholds import persistent_runs
from obskit.timings import stage
from obskit.windows import PeriodWindow, WindowSpec

__all__ = ["NOT_SETTINGS", "WindowCache", "WindowPlan", "settings_text", "store_entry",
           "window_cache"]

log = logging.getLogger("obskit.window_cache")

#: config keys that never change a window's frames (where results go, how windows are
#: judged and published afterwards, which rows the run covers: the data says that)
NOT_SETTINGS = frozenset({
    "title", "out", "alerts", "alerts_default", "fail_on_alert", "schedule", "sinks",
    "remediation", "keep", "reference_cache", "window_cache", "notebook_timeout_s",
    "dry_run", "period_start", "period_end"})

#: the frames of :class:`~obskit.analysis.assemble.WindowFrames`
_FRAMES = tuple(f.name for f in dataclasses.fields(WindowFrames))

_P = 2_147_483_647  # a prime below 2**31: sums of hashes modulo it stay in int64


def _text(value: Any) -> str:
    """A stable text of a setting (dicts sorted; dataclasses by their fields)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _text({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_text(v)}" for k, v in
                               sorted(value.items(), key=lambda kv: repr(kv[0]))) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(sorted(_text(v) for v in value)) + "}"
    return repr(value)


def settings_text(value: Any) -> str:
    """A stable text of settings, for a key: dicts sorted, dataclasses by their fields.

    Parameters
    ----------
    value : Any
        Settings (mappings, sequences, dataclasses, plain values).

    Returns
    -------
    str
    """
    return _text(value)


def _fingerprints(table: Any, by: str | None = None) -> dict[Any, str]:
    """Window (or (window, value of ``by``)) → count and hash sums of its rows, one query."""
    row = ibis.struct({c: table[c] for c in table.columns if c != W}).hash()
    keys = [table[W]] + ([table[by].cast("string").name("value")] if by else [])
    got = table.group_by(keys).aggregate(
        n=table.count(), a=(row % _P).sum(), b=((row // _P) % _P).sum()).execute()
    out: dict[Any, str] = {}
    for r in got.itertuples(index=False):
        key = (int(r[0]), r[1]) if by else int(r[0])
        out[key] = f"{int(r.n)}:{int(r.a)}:{int(r.b)}"
    return out


class WindowCache:
    """The per-window results of a run, stored and restored (see the module docs).

    ``directory`` None turns caching off: :meth:`plan` then leaves every window to compute.
    """

    def __init__(self, directory: str | os.PathLike | None, base: str | None = None,
                 table: Any = None, quarantine: Any = None) -> None:
        self.directory = Path(directory) if directory is not None and base else None
        self.base = base
        self.table = table
        self.quarantine = quarantine
        self.hits = 0
        self.misses = 0
        self._prints: dict[str, dict[Any, str]] = {}

    @property
    def enabled(self) -> bool:
        return self.directory is not None

    def stats(self) -> WindowCacheStats:
        """Windows restored (hits) and computed (misses) so far.

        Returns
        -------
        WindowCacheStats
        """
        return WindowCacheStats(enabled=self.enabled, hits=self.hits, misses=self.misses)

    def _window_prints(self, segment: Segment | None) -> dict[int, str]:
        """Window → the fingerprint of its rows (in ``segment``) and of its quarantine."""
        if "all" not in self._prints:
            self._prints["all"] = _fingerprints(self.table)
            q = self.quarantine
            self._prints["quarantine"] = _fingerprints(q) if q is not None else {}
        quarantined = self._prints["quarantine"]
        prints = self._prints["all"]
        if segment is not None:
            column = f"segment:{segment.column}"
            if column not in self._prints:
                self._prints[column] = _fingerprints(self.table, segment.column)
            prints = {w: fp for (w, v), fp in self._prints[column].items()
                      if v == segment.value}
        return {w: f"{fp}|q={quarantined.get(w)}" for w, fp in prints.items()}

    def plan(self, spec: WindowSpec, table: Any, *, settings: str, scope: str,
             segment: Segment | None = None, by_index: bool = False,
             counted: bool = True) -> WindowPlan:
        """Which windows of ``table`` are stored, and the table of those to compute.

        Parameters
        ----------
        spec : WindowSpec
            How the rows were cut into windows.
        table : ibis.Table
            The windowed rows of the scope (the whole log, or one segment).
        settings : str
            What else the scope's results depend on (the drift rules in force, ...).
        scope : str
            The whole log (``all``) or a segment, and its reference.
        segment : Segment, optional
            The segment ``table`` holds.
        by_index : bool, default False
            Key windows by their index too (their results depend on it).
        counted : bool, default True
            Count the windows in :meth:`stats` (the anomalies' entries are not).

        Returns
        -------
        WindowPlan
        """
        if not self.enabled:
            return WindowPlan(table, {}, {})
        assert self.directory is not None
        paths: dict[int, Path] = {}
        with stage("profile"):
            prints = self._window_prints(segment)
        for w, fp in prints.items():
            if isinstance(spec, PeriodWindow):
                bounds = "/".join(b.isoformat() for b in spec.bounds(w))
            else:
                bounds = f"rows {spec}"
            text = "\n".join([str(self.base), settings, scope, bounds, fp,
                              f"index={w}" if by_index or bounds.startswith("rows") else ""])
            paths[w] = self.directory / f"{hashlib.sha256(text.encode()).hexdigest()}.pkl"
        stored: dict[int, dict[str, Any]] = {}
        for w, path in paths.items():
            if path.is_file():
                try:
                    stored[w] = pickle.loads(path.read_bytes())
                except Exception as exc:  # a torn or foreign file: compute, overwrite it
                    log.warning("window cache %s unreadable (%s); recomputing", path, exc)
        todo = [w for w in paths if w not in stored]
        if counted:
            self.hits += len(stored)
            self.misses += len(todo)
        pending = table if not stored else table.filter(table[W].isin(todo))
        return WindowPlan(pending, stored, {w: paths[w] for w in todo},
                          period=isinstance(spec, PeriodWindow),
                          stored_paths={w: paths[w] for w in stored})


@dataclasses.dataclass
class WindowPlan:
    """The windows of one scope: those restored, and the table of those to compute."""

    #: the rows of the windows to compute (the whole table when nothing was stored)
    pending: Any
    #: window → its stored frames
    stored: dict[int, dict[str, Any]]
    #: window to compute → where its frames go
    paths: dict[int, Path]
    #: period windows (the empty windows between two others are shown)
    period: bool = True
    #: window stored → where its frames are (to update an entry)
    stored_paths: dict[int, Path] = dataclasses.field(default_factory=dict)

    def merge(self, frames: WindowFrames, *, persistence: Any) -> WindowFrames:
        """Store the computed windows' frames; return them with the stored ones merged in.

        Parameters
        ----------
        frames : WindowFrames
            What the monitors found on :attr:`pending`.
        persistence : int
            Consecutive drifted windows before a feature is ``persistent`` (recomputed
            over the merged windows).

        Returns
        -------
        WindowFrames
            As the monitors would have found on every window.
        """
        for w, path in self.paths.items():
            store_entry(path, {name: _rows(getattr(frames, name), w) for name in _FRAMES})
        if not self.stored:
            return frames
        merged: dict[str, Any] = {}
        for name in _FRAMES:
            fresh = getattr(frames, name)
            if fresh is None:
                merged[name] = None
                continue
            keep = fresh[~fresh[W].isin(self.stored)] if W in fresh else fresh
            parts = [keep] + [_reindexed(s[name], w) for w, s in sorted(self.stored.items())
                              if s.get(name) is not None]
            merged[name] = _concat(parts, fresh)
        out = WindowFrames(**merged)
        if self.period:
            out.overview = _fill(out.overview)
        if "persistent" in out.drift:
            out.drift["persistent"] = False
            for _, grp in out.drift.groupby("feature", sort=False):
                grp = grp.sort_values(W)
                out.drift.loc[grp.index, "persistent"] = persistent_runs(list(grp.drifted),
                                                                         persistence)
            out.drift["persistent"] = out.drift["persistent"].astype(bool)
        return out


def store_entry(path: Path, frames: dict[str, Any]) -> None:
    """Write one window's entry atomically (not at all when it cannot be pickled).

    Parameters
    ----------
    path : Path
        Where :meth:`WindowCache.plan` said the window's entry goes.
    frames : dict
        What is stored.
    """
    try:
        data = pickle.dumps(frames, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # something unpicklable: this window is not cached
        log.info("window cache: window not cached (%s)", exc)
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _rows(frame: pd.DataFrame | None, w: int) -> pd.DataFrame | None:
    if frame is None:
        return None
    return frame[frame[W] == w] if W in frame else frame.iloc[:0]


def _reindexed(frame: pd.DataFrame, w: int) -> pd.DataFrame:
    """A stored window's rows under the index the window has in this run."""
    if W not in frame or not len(frame) or bool((frame[W].to_numpy() == w).all()):
        return frame
    out = frame.copy()
    out[W] = w
    return out.astype({W: frame[W].dtype})


def _concat(parts: list[pd.DataFrame], like: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``parts`` in window order (the order within a window kept)."""
    rows = [p for p in parts if len(p)]
    if not rows:
        return like.iloc[:0]
    out = pd.concat(_typed_alike(rows), ignore_index=True) if len(rows) > 1 else rows[0]
    if W in out:
        out = out.sort_values(W, kind="stable")
    return out.reset_index(drop=True)


def _typed_alike(parts: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """``parts`` with each all-missing column cast to that column's type in the parts that
    hold values (when they agree on one), so that concatenating them neither depends on
    pandas' handling of all-missing columns (deprecated) nor changes a column's type."""
    types = {}
    for col in parts[0].columns:
        if len({p[col].dtype for p in parts if col in p}) == 1:
            continue  # one type already: nothing to cast (no scan of the values)
        seen = {p[col].dtype for p in parts if col in p and p[col].notna().any()}
        if len(seen) == 1:
            types[col] = seen.pop()
    out = []
    for part in parts:
        cast = {c: t for c, t in types.items()
                if c in part and part[c].dtype != t and part[c].isna().all()}
        try:
            out.append(part.astype(cast) if cast else part)
        except (TypeError, ValueError):  # e.g. missing values into an integer column
            out.append(part)
    return out


def _fill(overview: pd.DataFrame) -> pd.DataFrame:
    """Every window between the first and the last, the empty ones with no rows."""
    if not len(overview) or W not in overview:
        return overview
    span = range(int(overview[W].min()), int(overview[W].max()) + 1)
    if len(span) == len(overview):
        return overview
    full = pd.DataFrame({W: list(span)}).astype({W: overview[W].dtype})
    out = full.merge(overview, on=W, how="left")
    out["rows"] = out["rows"].fillna(0).astype(int)
    return out


def window_cache(config: Config, logs: LoadedLogs, spec: WindowSpec, table: Any
                 ) -> WindowCache:
    """The cache of per-window results for this run.

    Returns
    -------
    WindowCache
        Off with ``window_cache: false``, or when the reference's files cannot be
        recognised.
    """
    setting = config.window_cache
    if setting is False:
        return WindowCache(None)
    ref = logs.reference
    reference = "none"
    if ref is not None:
        known = log_fingerprint(ref, logs.features)
        if known is None:
            return WindowCache(None)
        reference = known
    directory = cache_directory(setting, config.out, "windows")
    settings = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)
                if f.name not in NOT_SETTINGS}
    base = "\n".join([__version__, config.engine, reference, _text(settings),
                      _text(dict(logs.features)), logs.task, _text(list(logs.roles)),
                      _text(dict(logs.class_scores)), _text(list(table.columns))])
    quarantine = (windowed_quarantine(logs.current.quarantine, spec.assign)
                  if isinstance(spec, PeriodWindow) else None)
    return WindowCache(directory, base, table, quarantine)
