"""Fitted reference statistics kept on disk, so a daily job does not recompute them.

A monitor's ``fit(reference)`` reads the whole reference through the engine (quantiles,
histograms, category counts, calibration, samples). Its fitted state depends only on the
reference data and the monitor's settings, so :class:`ReferenceCache` stores that state
under a key made of

- the fingerprint of the reference data: each reference file's absolute path, size and
  modification time (nanoseconds), the rows used and quarantined, and the feature types;
- the scope (``"all"``, or a segment such as ``model_version=v2``);
- the monitor's class and its settings (its attributes before fitting);
- the obskit version (a new release never reads an older release's state).

Change any of them and the monitor is fitted afresh. Entries are pickles that obskit
itself wrote into ``<out>/.cache/reference`` (a directory the report owner controls, like
the reports next to it); :func:`ReferenceCache.fit` never unpickles a file it did not find
under its own key. Large arrays a monitor hands over (``cache_arrays()``: the drift
monitor's sorted reference values, as distinct values and their counts) go beside the
pickle in an ``.npz`` of the same key, read back without pickle and given to the
monitor's ``restore_arrays``. Delete the directory to drop the cache; ``reference_cache: false`` in
the config turns it off.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import ibis.expr.types as ir
import numpy as np

from obskit._version import __version__

__all__ = ["ReferenceCache", "cache_directory", "data_fingerprint", "log_fingerprint"]

log = logging.getLogger("obskit.reference_cache")

M = TypeVar("M")

#: stands in a stored state for the reference table the monitor was fitted on
_REFERENCE = "<reference table>"
#: a stored state's key saying its monitor's arrays are in the ``.npz`` beside it
_ARRAYS = "<arrays>"


def data_fingerprint(files: Iterable[str | os.PathLike], *, rows_used: int,
                     rows_quarantined: int, features: Mapping[str, str]) -> str | None:
    """A key for the reference data, or None when a file cannot be stat'ed (not cached)."""
    parts = [f"rows={rows_used}/{rows_quarantined}", repr(sorted(features.items()))]
    for f in sorted(str(Path(p).resolve()) for p in files):
        try:
            st = os.stat(f)
        except OSError:
            return None
        parts.append(f"{f}:{st.st_size}:{st.st_mtime_ns}")
    if len(parts) == 2:  # no files: nothing to recognise the data by
        return None
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def log_fingerprint(log: Any, features: Mapping[str, str]) -> str | None:
    """:func:`data_fingerprint` of a loaded source (an :class:`obskit.io.log_table.LogTable`:
    its files, rows used and quarantined), under the run's ``features``."""
    return data_fingerprint(log.files, rows_used=log.rows_used,
                            rows_quarantined=log.rows_quarantined, features=features)


def cache_directory(setting: bool | str, out: str | os.PathLike, name: str) -> Path:
    """Where a cache keeps its entries: the directory the config names (``setting`` a
    path), else ``<out>/.cache/<name>``."""
    return Path(setting) if isinstance(setting, str) else Path(out).absolute() / ".cache" / name


def _settings(monitor: Any) -> str:
    """The monitor's unfitted attributes, in a stable text form."""
    items = sorted((k, v) for k, v in vars(monitor).items() if not k.endswith("_"))
    return repr(items)


class ReferenceCache:
    """Fit monitors on a reference, or restore their state from an earlier fit.

    ``directory`` None (or ``fingerprint`` None) turns caching off: :meth:`fit` then
    just fits.
    """

    def __init__(self, directory: str | os.PathLike | None, fingerprint: str | None) -> None:
        self.directory = Path(directory) if directory is not None else None
        self.fingerprint = fingerprint
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.directory is not None and self.fingerprint is not None

    def _path(self, monitor: Any, scope: str) -> Path:
        assert self.directory is not None
        text = "\n".join([__version__, str(self.fingerprint), scope,
                          f"{type(monitor).__module__}.{type(monitor).__qualname__}",
                          _settings(monitor)])
        return self.directory / f"{hashlib.sha256(text.encode()).hexdigest()}.pkl"

    def fit(self, monitor: M, reference: ir.Table, *, scope: str = "all", **options: Any
            ) -> M:
        """``monitor.fit(reference, **options)``, or its stored fitted state when the key
        matches (``scope`` must name what ``options`` depend on beyond the reference)."""
        if not self.enabled:
            return monitor.fit(reference, **options)  # type: ignore[attr-defined]
        path = self._path(monitor, scope)
        if path.is_file():
            try:
                state = pickle.loads(path.read_bytes())
                arrays = None
                if state.pop(_ARRAYS, False):
                    with np.load(path.with_suffix(".npz"), allow_pickle=False) as stored:
                        arrays = {k: stored[k] for k in stored.files}
            except Exception as exc:  # a torn or foreign file: fit afresh, overwrite it
                log.warning("reference cache %s unreadable (%s); refitting", path, exc)
            else:
                vars(monitor).update({k: reference if isinstance(v, str) and v == _REFERENCE
                                      else v
                                      for k, v in state.items()})
                if arrays is not None:
                    monitor.restore_arrays(arrays)  # type: ignore[attr-defined]
                self.hits += 1
                return monitor
        monitor.fit(reference, **options)  # type: ignore[attr-defined]
        self.misses += 1
        self._store(path, monitor)
        return monitor

    def _store(self, path: Path, monitor: Any) -> None:
        state = {}
        transient = set(getattr(monitor, "transient_state", ()))
        for k, v in vars(monitor).items():
            if not k.endswith("_") or k in transient:
                continue
            if isinstance(v, ir.Expr):
                state[k] = _REFERENCE  # only the reference itself is kept by monitors
            else:
                state[k] = v
        try:
            data = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # something unpicklable: this monitor is not cached
            log.info("reference cache: %s not cached (%s)", type(monitor).__name__, exc)
            return
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        arrays = monitor.cache_arrays() if hasattr(monitor, "cache_arrays") else {}
        if arrays:  # written first: a pickle found always has its arrays beside it
            tmp = path.with_suffix(f".tmp{os.getpid()}.npz")
            with tmp.open("wb") as out:
                np.savez(out, **arrays)
            os.replace(tmp, path.with_suffix(".npz"))
            data = pickle.dumps({**state, _ARRAYS: True}, protocol=pickle.HIGHEST_PROTOCOL)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(data)
        os.replace(tmp, path)
