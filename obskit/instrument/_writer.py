"""The writer side of :class:`~obskit.instrument.logger.PredictionLogger`: the open log
file, its rotation by size and age, and the accounting of the rows it settles (written,
or lost to a write error). Only the logger's writer thread calls its methods; the
counters are read under :attr:`FileWriter.lock` from any thread.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from obskit.instrument._files import JsonlFile, LogFile, Row
from obskit.instrument._parquet import ParquetFile

__all__ = ["FileWriter", "open_log_file"]

_log = logging.getLogger("obskit.instrument")


class FileWriter:
    """Write batches to rotating files; never raises (errors are counted and kept)."""

    def __init__(self, directory: Path, *, fmt: str, prefix: str, max_bytes: int,
                 max_age_s: float, row_group_rows: int = 10_000) -> None:
        self.directory, self.fmt, self.prefix = directory, fmt, prefix
        self.max_bytes, self.max_age_s = max_bytes, max_age_s
        self.row_group_rows = row_group_rows
        self._bytes_per_row: float | None = None  # of the last Parquet file
        self.lock = threading.Lock()
        #: rows in finished or open files, rows lost to errors, rows settled either way
        self.written = self.lost = self.settled = 0
        self.files_closed = 0
        self.last_error: str | None = None
        self._file: LogFile | None = None
        self._deadline = 0.0
        self._seq = 0

    def seconds_left(self) -> float | None:
        """Seconds until the open file is due to be finished; None when none is open."""
        if self._file is None:
            return None
        return max(0.0, self._deadline - time.monotonic())

    def write(self, rows: list[Row]) -> None:
        """Write rows, starting a new file when one is full, old or does not fit them."""
        while rows:
            before = 0
            try:
                if self._file is None:
                    self._file, self._seq = open_log_file(
                        self.directory, self.prefix, f".{self.fmt}", self._factory(), self._seq)
                    self._seq += 1
                    self._deadline = time.monotonic() + self.max_age_s
                before = self._file.rows
                rest = self._file.write(rows, self.max_bytes)
                self._count(written=self._file.rows - before,
                            settled=self._file.rows - before)
                before = self._file.rows
                if rest and self._file.rows == 0:
                    raise ValueError(f"a row with the keys {sorted(rest[0])} cannot be "
                                     f"written to {self._file.part}")
                rows = rest
                if rest or self._file.size >= self.max_bytes:
                    self.finish()
            except Exception as exc:  # noqa: BLE001 - the writer must live on; counted
                # rows of this batch the file took are settled with the file, below
                taken = self._file.rows - before if self._file is not None else 0
                self._count(written=taken, settled=taken)
                self._error(exc, len(rows) - taken)
                if self._file is not None and not self._file.abandon():
                    self._count(written=-self._file.rows, lost=self._file.rows)
                self._file = None
                return

    def _factory(self) -> Callable[[Path], LogFile]:
        if self.fmt == "jsonl":
            return JsonlFile
        hint, rows = self._bytes_per_row, self.row_group_rows
        return lambda path: ParquetFile(path, row_group_rows=rows, bytes_per_row=hint)

    def finish_if_due(self) -> None:
        """Finish the open file once it is ``max_age_s`` old."""
        if self._file is not None and time.monotonic() >= self._deadline:
            self.finish()

    def finish(self) -> None:
        """Finish the open file: close it and give it its final name."""
        if self._file is None:
            return
        file, self._file = self._file, None
        if isinstance(file, ParquetFile):
            self._bytes_per_row = file.bytes_per_row or self._bytes_per_row
        try:
            file.finish()
            with self.lock:
                self.files_closed += 1
        except Exception as exc:  # noqa: BLE001 - e.g. the directory was removed
            self._error(exc, 0)
            self._count(written=-file.rows, lost=file.rows)

    def flush(self) -> None:
        """Push the open file's buffered bytes to the operating system."""
        if self._file is not None:
            try:
                self._file.flush()
            except Exception as exc:  # noqa: BLE001 - the next write reports it too
                self._error(exc, 0)

    def _count(self, *, written: int = 0, lost: int = 0, settled: int = 0) -> None:
        with self.lock:
            self.written += written
            self.lost += lost
            self.settled += settled

    def _error(self, exc: BaseException, rows: int) -> None:
        message = f"{type(exc).__name__}: {exc}"
        if message != self.last_error:  # said once, not once per batch
            _log.error("obskit prediction logger (%s): %s; %d row(s) dropped",
                       self.directory, message, rows)
        with self.lock:
            self.last_error = message
            self.lost += rows
            self.settled += rows


def open_log_file(directory: Path, prefix: str, suffix: str,
                  make: Callable[[Path], LogFile], seq: int) -> tuple[LogFile, int]:
    """Open the next free ``<prefix>-<UTC start yyyymmddTHHMMSSZ>-<pid>-<seq>`` file (the
    process id keeps processes sharing the directory apart).

    Returns the file and the sequence number used (the next free one from ``seq``).
    """
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    directory.mkdir(parents=True, exist_ok=True)
    while True:
        path = directory / f"{prefix}-{stamp}-{os.getpid()}-{seq:06d}{suffix}"
        if not path.exists():
            try:
                return make(path), seq
            except FileExistsError:
                pass
        seq += 1
