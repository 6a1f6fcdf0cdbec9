"""Prediction logs written by the serving process, in obskit's log schema.

:class:`PredictionLogger` puts each row on a bounded queue; one background thread
writes them to rotating JSONL or Parquet files (rotated by size and by age), so the
request path never waits longer than the bound. A file being written ends in ``.part``
and gets its final name (an atomic rename) when it is finished, so ``obskit report``
never reads half a file. The ``.part`` files of a process that was killed are finished
by the next logger to start on the directory (:mod:`obskit.instrument._recover`).

Example
-------
>>> from obskit.instrument.logger import PredictionLogger
>>> with PredictionLogger("logs", max_bytes=16 * 2**20) as plog:  # doctest: +SKIP
...     plog.log({"request_id": "r1", "model_version": "v1", "prediction": 1,
...               "score": 0.91, "latency_ms": 12.5, "status": 200,
...               "features": {"age": 42, "region": "west"}})
"""

from __future__ import annotations

import atexit
import functools
import queue
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from obskit.instrument._files import Row
from obskit.instrument._recover import recover_orphans
from obskit.instrument._writer import FileWriter

__all__ = ["PredictionLogger", "LoggerStats"]

_WAKE = object()  # wakes the writer (flush, close); never written
_BATCH = 2000  # rows taken off the queue per write


@dataclass(frozen=True)
class LoggerStats:
    """Row accounting of a :class:`PredictionLogger`: once it is closed, every row
    offered to :meth:`~PredictionLogger.log` is either ``written`` or ``dropped``."""

    queued: int  #: rows accepted onto the queue
    written: int  #: rows in log files
    dropped: int  #: rows refused (queue full) or lost to a write error
    files_closed: int  #: files finished under their final name
    queue_depth: int  #: rows waiting for the writer now
    last_error: str | None = None  #: the last write (or recovery) error, if any
    #: files a killed process left unfinished that this logger finished when it started,
    #: and the rows in them (not counted in ``written``)
    recovered_files: int = 0
    recovered_rows: int = 0
    #: unfinished Parquet files found unreadable when it started (renamed ``.broken``)
    broken_files: int = 0
    #: partial JSONL lines cut off those files when it started
    cut_lines: int = 0


@functools.cache
def _current_span() -> Callable[[], Any] | None:
    """``opentelemetry.trace.get_current_span``, or None when OpenTelemetry is absent."""
    try:
        from opentelemetry import trace
    except ImportError:
        return None
    return trace.get_current_span


def _trace_id() -> str | None:
    """The active span's trace id as 32 lowercase hex digits (W3C Trace Context)."""
    get = _current_span()
    if get is None:
        return None
    ctx = get().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


class PredictionLogger:
    """Write prediction rows to rotating JSONL or Parquet files from a background thread.

    Parameters
    ----------
    directory : str or Path
        Where the files go (created when the first file opens).
    format : {"jsonl", "parquet"}
        JSONL: one object per line, features nested under ``"features"`` (like the demo
        logs); strict JSON (RFC 8259), so NaN and infinity are written as ``null``.
        Parquet: one column per feature, ``timestamp`` as ``timestamp[us, UTC]``, every
        number a ``double`` except ``status`` (``int64``); NaN and infinity are null.
    prefix : str
        File names are ``<prefix>-<UTC start yyyymmddTHHMMSSZ>-<pid>-<seq>.<format>``
        (the process id keeps processes that share the directory apart).
    max_bytes, max_age_s : int, float
        A file is finished once it holds ``max_bytes`` or is ``max_age_s`` seconds old.
    queue_size : int
        The bound of the queue between :meth:`log` and the writer.
    when_full : {"block", "drop"}
        A full queue makes :meth:`log` wait (at most ``block_timeout_s``; None waits for
        room) or drop the row at once; either way a row not queued is counted as dropped.
    block_timeout_s : float or None
        The longest :meth:`log` waits for room when ``when_full="block"``.
    flush_interval_s : float
        How often the writer pushes buffered bytes to the operating system.
    row_group_rows : int
        Parquet: rows per row group. Rows are kept in memory until they fill one, or the
        file is finished (rotation, close): a killed process loses them, as it loses an
        unfinished Parquet file anyway (it has no footer).

    Notes
    -----
    When it starts, the logger finishes the ``<prefix>-….part`` files in ``directory``
    that no live process holds (each writer holds an exclusive :func:`fcntl.flock` on its
    ``.part`` file), i.e. the files of a process that was killed: the complete JSONL lines
    are kept and the file renamed to its final name; a partial last line is cut off; an
    unfinished Parquet file cannot be read and is renamed ``<name>.broken``. Each is named
    in a warning on the ``obskit.instrument`` logger and counted in :meth:`stats`. Not on
    Windows (no ``fcntl``): there such files stay.

    Raises
    ------
    ValueError
        An unknown ``format`` or ``when_full``, or a bound that is not positive.
    """

    def __init__(self, directory: str | Path, *, format: Literal["jsonl", "parquet"] = "jsonl",
                 prefix: str = "predictions", max_bytes: int = 64 * 2**20,
                 max_age_s: float = 3600.0, queue_size: int = 10_000,
                 when_full: Literal["block", "drop"] = "block",
                 block_timeout_s: float | None = None, flush_interval_s: float = 1.0,
                 row_group_rows: int = 10_000) -> None:
        if format not in ("jsonl", "parquet"):
            raise ValueError(f"format must be 'jsonl' or 'parquet', not {format!r}")
        if when_full not in ("block", "drop"):
            raise ValueError(f"when_full must be 'block' or 'drop', not {when_full!r}")
        for name, value in (("max_bytes", max_bytes), ("max_age_s", max_age_s),
                            ("queue_size", queue_size), ("flush_interval_s", flush_interval_s),
                            ("row_group_rows", row_group_rows)):
            if not value > 0:
                raise ValueError(f"{name} must be > 0, not {value!r}")
        if block_timeout_s is not None and not block_timeout_s >= 0:
            raise ValueError(f"block_timeout_s must be None or >= 0, not {block_timeout_s!r}")
        self.directory = Path(directory)
        self.format, self.prefix, self.when_full = format, prefix, when_full
        self.max_bytes, self.max_age_s = max_bytes, max_age_s
        self.block_timeout_s, self.flush_interval_s = block_timeout_s, flush_interval_s
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self._lock = threading.Lock()
        self._flushed_cond = threading.Condition()
        self._flush_wanted = threading.Event()
        self._closed = False
        self._inflight = self._queued = self._refused = self._flushed = 0
        self._recovery = recover_orphans(self.directory, prefix)
        self._writer = FileWriter(self.directory, fmt=format, prefix=prefix,
                                  max_bytes=max_bytes, max_age_s=max_age_s,
                                  row_group_rows=row_group_rows)
        self._writer.last_error = self._recovery.error
        self._thread = threading.Thread(target=self._run, name="obskit-prediction-logger",
                                        daemon=True)
        self._thread.start()
        self._atexit = functools.partial(self.close, 30.0)  # a normal exit drains the queue
        atexit.register(self._atexit)

    # -- the request path ------------------------------------------------------------

    def log(self, row: Mapping[str, Any]) -> bool:
        """Queue one row; fill ``timestamp`` (UTC now) and ``trace_id`` (the active span's)
        when absent.

        Returns
        -------
        bool
            True if queued, False if dropped because the queue was full.

        Raises
        ------
        RuntimeError
            The logger is closed.
        """
        item: Row = dict(row)
        if isinstance(item.get("features"), Mapping):
            item["features"] = dict(item["features"])
        if item.get("timestamp") is None:
            item["timestamp"] = datetime.now(timezone.utc)
        if "trace_id" not in item:
            trace_id = _trace_id()
            if trace_id is not None:
                item["trace_id"] = trace_id
        with self._lock:
            if self._closed:
                raise RuntimeError(f"PredictionLogger({str(self.directory)!r}) is closed")
            self._inflight += 1
        ok = False
        try:
            if self.when_full == "drop":
                self._queue.put_nowait(item)
            else:
                self._queue.put(item, timeout=self.block_timeout_s)
            ok = True
        except queue.Full:
            pass
        finally:
            with self._lock:
                self._inflight -= 1
                if ok:
                    self._queued += 1
                else:
                    self._refused += 1
        return ok

    def stats(self) -> LoggerStats:
        """The row accounting so far."""
        w, r = self._writer, self._recovery
        with self._lock, w.lock:
            return LoggerStats(queued=self._queued, written=w.written,
                               dropped=self._refused + w.lost, files_closed=w.files_closed,
                               queue_depth=self._queue.qsize(), last_error=w.last_error,
                               recovered_files=r.files, recovered_rows=r.rows,
                               broken_files=r.broken, cut_lines=r.cut_lines)

    def check_writable(self) -> None:
        """Create the directory if needed and write (then remove) a probe file in it.

        Raises
        ------
        OSError
            The directory cannot be created or written; the message names it.
        """
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.directory, prefix=".obskit-probe-"):
                pass
        except OSError as exc:
            raise OSError(exc.errno, f"prediction log directory {str(self.directory)!r} is "
                          f"not writable: {exc.strerror or exc}", str(self.directory)) from exc

    def flush(self, timeout_s: float | None = None) -> bool:
        """Wait until the rows queued before this call are written and flushed (Parquet:
        handed to the open file, which keeps them in memory until a row group is full).

        Returns
        -------
        bool
            True when they are; False if ``timeout_s`` passed first.
        """
        with self._lock:
            target = self._queued
        if not self._flush_wanted.is_set():  # one wake-up token, not one per caller
            self._flush_wanted.set()
            self._wake()
        with self._flushed_cond:
            return self._flushed_cond.wait_for(
                lambda: self._flushed >= target or not self._thread.is_alive(), timeout_s)

    def close(self, timeout_s: float | None = None) -> bool:
        """Stop accepting rows, write every queued row, finish the open file (renamed to
        its final name). Idempotent.

        Returns
        -------
        bool
            True when the writer finished; False if ``timeout_s`` passed first (it keeps
            draining in the background).
        """
        with self._lock:
            self._closed = True
        self._wake()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout_s)
        atexit.unregister(self._atexit)
        return not self._thread.is_alive()

    def __enter__(self) -> PredictionLogger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"PredictionLogger({str(self.directory)!r}, format={self.format!r}, "
                f"when_full={self.when_full!r})")

    def _wake(self) -> None:
        try:
            self._queue.put_nowait(_WAKE)
        except queue.Full:
            pass  # the writer is busy and will look at the flags after this batch

    # -- the writer thread -----------------------------------------------------------

    def _run(self) -> None:
        last_flush = time.monotonic()
        while True:
            left = self._writer.seconds_left()
            timeout = self.flush_interval_s if left is None else min(self.flush_interval_s, left)
            batch: list[Row] = []
            woken = False
            try:
                item = self._queue.get(timeout=timeout)
                while True:
                    if item is _WAKE:
                        woken = True
                    else:
                        batch.append(item)
                    if len(batch) >= _BATCH:
                        break
                    item = self._queue.get_nowait()
            except queue.Empty:
                pass
            self._writer.write(batch)
            self._writer.finish_if_due()
            now = time.monotonic()
            if woken or self._flush_wanted.is_set() or now - last_flush >= self.flush_interval_s:
                self._flush()
                last_flush = now
            with self._lock:
                if self._closed and self._inflight == 0 and self._queue.empty():
                    break
        self._writer.finish()
        self._flush()

    def _flush(self) -> None:
        self._writer.flush()
        if self._queue.empty():
            self._flush_wanted.clear()
        with self._writer.lock:
            settled = self._writer.settled
        with self._flushed_cond:
            self._flushed = settled
            self._flushed_cond.notify_all()
