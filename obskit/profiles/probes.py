"""Engine aggregates of health probes per window: sent, passed, latency quantiles and
the reasons of the failures (``sources.probes``, :mod:`obskit.io.probes`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import ibis
import ibis.expr.types as ir
import pandas as pd

from obskit.profiles._common import W

__all__ = ["NO_REASON", "ProbeFrames", "probes_by_window"]

#: the reason of a failed probe whose line gives none
NO_REASON = "no reason given"


class ProbeFrames(NamedTuple):
    """What :func:`probes_by_window` returns."""

    #: one row per window with probes: ``window_index``, ``sent``, ``passed``,
    #: ``latency_p50_ms``, ``latency_p95_ms``
    counts: pd.DataFrame
    #: ``window_index``, ``reason``, ``failed``: failed probes per window and reason
    failures: pd.DataFrame
    #: probes in no window
    outside: int


#: the open end of the last row window: later than any probe (pandas' microsecond range
#: reaches far past it, and so do DuckDB's timestamps)
_OPEN_END = pd.Timestamp("9999-12-31T23:59:59.999999Z")


def _bounds(windows: Sequence[tuple[int, str | None, str | None]], *,
            row_windows: bool) -> pd.DataFrame:
    """``(index, lo, hi)`` per window, holding ``lo <= t < hi``: ``[start, end)`` for
    period windows; for row windows ``[start, next start)``, the last one open-ended
    ``[start, ∞)`` (a probe belongs to the block whose start it follows)."""
    rows = [(i, pd.Timestamp(s), pd.Timestamp(e)) for i, s, e in windows if s and e]
    out = []
    for k, (i, lo, hi) in enumerate(rows):
        if row_windows:
            hi = rows[k + 1][1] if k + 1 < len(rows) else _OPEN_END
        out.append((i, lo, hi))
    return pd.DataFrame(out, columns=[W, "_lo", "_hi"]).astype(
        {W: "int64", "_lo": "datetime64[us, UTC]", "_hi": "datetime64[us, UTC]"})


def probes_by_window(probes: ir.Table, windows: Sequence[tuple[int, str | None, str | None]],
                     *, row_windows: bool = False) -> ProbeFrames:
    """Probe figures per window of a run.

    Parameters
    ----------
    probes : ibis Table
        Typed probe results (``timestamp``, ``passed``, ``latency_ms``, ``reason``).
    windows : sequence of (int, str, str)
        The run's windows: index, start and end (ISO-8601 UTC), as in ``summary.json``.
    row_windows : bool, default False
        The windows are row blocks (``start``/``end``: first and last row times, both
        included): a probe belongs to the block whose start it follows, up to the next
        block's start, and the last block holds every probe from its start on (probes
        taken after the last log row, e.g. while the service idles, are its health);
        period windows hold ``[start, end)``.

    Returns
    -------
    ProbeFrames
        Counts and latency quantiles (exact, linear interpolation as numpy's default;
        over the probes with a latency) per window, failures by reason, and the probes
        outside every window.
    """
    bounds = _bounds(windows, row_windows=row_windows)
    total = int(probes.count().execute())
    if not len(bounds):
        return ProbeFrames(pd.DataFrame({W: []}), pd.DataFrame({W: [], "reason": []}), total)
    b = ibis.memtable(bounds)
    joined = probes.join(b, (probes.timestamp >= b._lo) & (probes.timestamp < b._hi))
    lat = joined.latency_ms
    counts = joined.group_by(W).aggregate(
        sent=joined.count(), passed=joined.passed.cast("int64").sum(),
        latency_p50_ms=lat.quantile(0.5), latency_p95_ms=lat.quantile(0.95),
    ).order_by(W).execute()
    failed = joined.filter(~joined.passed)
    failures = failed.group_by([W, failed.reason.fill_null(NO_REASON).name("reason")]) \
        .aggregate(failed=failed.count()).order_by([W, ibis.desc("failed"), "reason"]) \
        .execute()
    return ProbeFrames(counts, failures, total - int(counts["sent"].sum()))
