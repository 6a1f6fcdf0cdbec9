"""Wall-clock time per stage of a run: ``summary.json`` ``timings`` and the run log.

A :class:`Stopwatch` is made active for the length of a run with :func:`recording`; code
anywhere below marks its work with ``with stage("drift"):``. Stages nest, and each second
is counted once, for the innermost stage (explanations inside anomalies are not counted
twice). Without an active stopwatch :func:`stage` costs nothing and records nothing.

>>> sw = Stopwatch()
>>> with recording(sw):
...     with stage("load"):
...         pass
>>> sorted(sw.to_dict())
['load_s', 'total_s']
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["STAGES", "Stopwatch", "active", "recording", "stage"]

log = logging.getLogger("obskit.timings")

#: the stages of a report run, in the order they happen
STAGES = ("load", "profile", "drift", "performance", "segments", "anomalies",
          "explanations", "render")

_active: ContextVar[Stopwatch | None] = ContextVar("obskit_stopwatch", default=None)


class Stopwatch:
    """Exclusive seconds per stage name, plus the total since the stopwatch was made."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._started = time.perf_counter()
        self._stack: list[list] = []  # [name, start of the current uncounted stretch]
        self._absorbing = False

    @contextmanager
    def stage(self, name: str, *, absorb: bool = False) -> Iterator[None]:
        """Time the block as ``name``; with ``absorb``, stages nested in it count as it.

        Parameters
        ----------
        name : str
            The stage.
        absorb : bool, default False
            Count stages nested in the block as this one.

        Yields
        ------
        None
        """
        if self._absorbing:
            yield
            return
        self._absorbing = absorb
        now = time.perf_counter()
        if self._stack:  # pause the enclosing stage
            outer = self._stack[-1]
            self._add(outer[0], now - outer[1])
        self._stack.append([name, now])
        try:
            yield
        finally:
            self._absorbing = False
            now = time.perf_counter()
            self._add(name, now - self._stack.pop()[1])
            if self._stack:
                self._stack[-1][1] = now
            if not self._stack:
                log.info("stage %s: %.2f s", name, self.seconds[name])

    def _add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def to_dict(self) -> dict[str, float]:
        """The stage times.

        Returns
        -------
        dict of str to float
            ``{"<stage>_s": seconds, ..., "total_s": seconds}`` in stage order, rounded to ms.
        """
        order = {name: i for i, name in enumerate(STAGES)}
        names = sorted(self.seconds, key=lambda n: (order.get(n, len(order)), n))
        out = {f"{n}_s": round(self.seconds[n], 3) for n in names}
        out["total_s"] = round(time.perf_counter() - self._started, 3)
        return out


@contextmanager
def recording(stopwatch: Stopwatch) -> Iterator[Stopwatch]:
    """Make ``stopwatch`` the one :func:`stage` records into, for the ``with`` block.

    Parameters
    ----------
    stopwatch : Stopwatch
        The stopwatch.

    Yields
    ------
    Stopwatch
        ``stopwatch``.
    """
    token = _active.set(stopwatch)
    try:
        yield stopwatch
    finally:
        _active.reset(token)


@contextmanager
def stage(name: str, *, absorb: bool = False) -> Iterator[None]:
    """Count the block's time under ``name`` in the active stopwatch, if any (``absorb``:
    stages nested in the block count as ``name`` too).

    Parameters
    ----------
    name : str
        The stage.
    absorb : bool, default False
        Count stages nested in the block as this one.

    Yields
    ------
    None
    """
    sw = _active.get()
    if sw is None:
        yield
        return
    with sw.stage(name, absorb=absorb):
        yield


def active() -> Stopwatch | None:
    """The stopwatch :func:`stage` records into now, if any.

    Returns
    -------
    Stopwatch or None
        The active stopwatch.
    """
    return _active.get()
