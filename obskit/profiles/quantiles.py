"""Exact quantiles per window in bounded memory.

An engine computes an exact quantile as a holistic aggregate: it holds every value of the
group, and holds them outside its memory limit. On 100M rows in 14 daily windows, DuckDB
with ``memory_limit: 1GB`` reached 2.34 GB resident for the three latency quantiles of one
``GROUP BY`` (``benchmarks/README.md``, Memory). So the windows are taken in groups of at
most :data:`HOLISTIC_ROWS` rows, one aggregate per group; a window larger than that alone
is ranked instead, by a sort the engine can spill to disk (the same values, much slower:
677 s against 26 s for those 100M rows, 1.15 GB resident).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import ibis
import ibis.expr.types as ir
import pandas as pd

from obskit.profiles._common import W, quantile_list, unpack_quantiles

__all__ = ["HOLISTIC_ROWS", "quantiles_by_window", "window_batches"]

#: the most rows one exact-quantile aggregate holds at once
HOLISTIC_ROWS = 10_000_000


def window_batches(window_rows: Mapping[int, int], most: int) -> list[list[int]]:
    """Windows in ascending order, in consecutive groups of at most ``most`` rows (a
    window with more rows than that forms a group of its own).

    Parameters
    ----------
    window_rows : mapping of int to int
        Window → its rows.
    most : int
        The most rows of a group of several windows.

    Returns
    -------
    list of list of int
        The groups; windows without rows are left out.
    """
    groups: list[list[int]] = []
    held = most + 1  # no group open yet
    for window in sorted(window_rows):
        n = int(window_rows[window])
        if n <= 0:
            continue
        if held + n > most:
            groups.append([])
            held = 0
        groups[-1].append(int(window))
        held += n
    return groups


def quantiles_by_window(table: ir.Table, column: str, probabilities: Sequence[float],
                        names: Sequence[str], window_rows: Mapping[int, int], *,
                        most: int = HOLISTIC_ROWS) -> pd.DataFrame:
    """Exact quantiles (numpy's linear interpolation) of a column per window, holding at
    most ``most`` rows' values in one aggregate.

    Parameters
    ----------
    table : ibis Table
        Rows with ``window_index``.
    column : str
        A numeric column; nulls are left out.
    probabilities : sequence of float
        Probabilities in [0, 1].
    names : sequence of str
        The output column of each probability.
    window_rows : mapping of int to int
        Window → its rows (an upper bound of its values).
    most : int, default :data:`HOLISTIC_ROWS`
        The most rows of one aggregate.

    Returns
    -------
    DataFrame
        ``window_index`` and one column per name, for the windows with values, ascending.
    """
    parts, batches = [], window_batches(window_rows, most)
    for windows in batches:
        rows = table.filter(table[W].isin(windows)) if len(batches) > 1 else table
        if len(windows) == 1 and window_rows[windows[0]] > most:
            parts.append(_ranked(rows, column, probabilities, names))
            continue
        frame = rows.group_by(W).aggregate(
            q=quantile_list(rows[column], probabilities)).execute()
        frame = frame[frame.q.notnull()]
        parts.append(unpack_quantiles(frame, "q", names))
    if not parts:
        return pd.DataFrame({W: pd.Series([], dtype="int64"),
                             **{n: pd.Series([], dtype="float64") for n in names}})
    return pd.concat(parts, ignore_index=True).sort_values(W, ignore_index=True)


def _ranked(table: ir.Table, column: str, probabilities: Sequence[float],
            names: Sequence[str]) -> pd.DataFrame:
    """The quantiles from each window's values ranked by a sort: only the two values
    around each quantile's position come back."""
    t = table.filter(table[column].notnull())
    t = t.mutate(_i=ibis.row_number().over(group_by=W, order_by=t[column]),
                 _n=t.count().over(group_by=W))
    wanted = ibis.literal(False)
    for p in probabilities:
        pos = (t._n - 1).cast("float64") * p
        wanted = wanted | (t._i == pos.floor()) | (t._i == pos.ceil())
    got = t.filter(wanted).select(W, "_i", "_n", v=t[column].cast("float64")).execute()
    out = []
    for window, g in got.groupby(W, sort=True):
        at = dict(zip(g._i.astype(int), g.v, strict=True))
        n, values = int(g._n.iloc[0]), []
        for p in probabilities:
            pos = (n - 1) * float(p)
            lo, hi = at[math.floor(pos)], at[math.ceil(pos)]
            values.append(lo + (pos - math.floor(pos)) * (hi - lo))
        out.append((int(window), *values))
    return pd.DataFrame(out, columns=[W, *names])
