"""Helpers shared by the window profiles."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import cast

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from obskit.io.casting import is_infinite

W = "window_index"

#: At most this many values (rows × columns) come back to Python for one computation that
#: needs every value (sorting for exact Wasserstein/KS, ranking for AUC): 160 MB of
#: float64. Larger inputs are computed by the engine's own window functions (same values;
#: numpy is the faster on one machine, ``benchmarks/``).
FETCH_VALUES = 20_000_000
#: rows per batch of a streamed fetch
FETCH_BATCH_ROWS = 1_000_000


def fetch_columns(table: ir.Table, columns: Mapping[str, ir.Value], *,
                  limit: int | None = None, rows: int | None = None) -> dict[str, np.ndarray]:
    """The named expressions of ``table`` as numpy arrays, in one query.

    The result is streamed in batches of :data:`FETCH_BATCH_ROWS`, each converted as it
    comes, so neither the engine's whole result nor an Arrow copy of it is held beside the
    arrays (the 10M-row benchmark report's peak, in this fetch: 2.72 → 2.18 GiB with the
    grouping below; ``benchmarks/README.md``, Memory). Callers bound the rows × columns
    they fetch (:data:`FETCH_VALUES`).

    Parameters
    ----------
    table : ibis Table
        The rows.
    columns : mapping of str to ibis value expression
        Name → expression over ``table``.
    limit : int, optional
        At most this many rows.
    rows : int, optional
        How many rows the query returns, when known (counted already): the float arrays
        are allocated once and filled. Otherwise (and for other types) each column's
        batches are joined at the end, one column at a time.

    Returns
    -------
    dict of str to ndarray of shape (n_rows,)
        Name → values, in the rows' order; missing floats as NaN.
    """
    selected = table.select(**columns)
    if limit is not None:
        selected = selected.limit(limit)
    schema = selected.schema()
    size = -1 if rows is None else rows
    # float columns are filled in place (a batch's nulls come as NaN, the array's own type)
    filled = {name: np.empty(size, dtype=schema[name].to_numpy()) for name in columns
              if size >= 0 and schema[name].is_floating()}
    chunks: dict[str, list[np.ndarray]] = {name: [] for name in columns}
    at = done = 0  # rows read; rows filled in place (up to the first that did not fit)
    for batch in selected.to_pyarrow_batches(chunk_size=FETCH_BATCH_ROWS):
        n = batch.num_rows
        fits = at == done and at + n <= size
        for name in columns:
            values = batch.column(name).to_numpy(zero_copy_only=False)
            if name in filled and fits:
                filled[name][at:at + n] = values
            else:  # kept: a copy of its own, not a view of the engine's exported batch
                chunks[name].append(values if values.flags.owndata else values.copy())
        at += n
        done += n if fits else 0
    out: dict[str, np.ndarray] = {}
    for name in columns:  # one column at a time: its parts are let go before the next
        head = filled.pop(name, None)
        if head is not None and done == at == size:
            out[name] = head
            continue
        # not counted (or the rows changed since): what was filled, then the batches kept
        parts = ([head[:done]] if head is not None else []) + chunks.pop(name)
        out[name] = _concatenated(parts, schema[name])
    return out


def _concatenated(parts: list[np.ndarray], dtype: dt.DataType) -> np.ndarray:
    parts = [p for p in parts if p.size]
    if len(parts) == 1:
        return parts[0]
    if parts:
        return np.concatenate(parts)
    return np.zeros(0, dtype=dtype.to_numpy())


def fetch_by_window(table: ir.Table, columns: Mapping[str, ir.Value], *,
                    fetch_values: int = FETCH_VALUES
                    ) -> list[tuple[int, dict[str, np.ndarray]]] | None:
    """Every row's ``columns`` (as float64), per window in ascending order, from one query;
    None when the rows × columns are more than ``fetch_values`` (the caller then asks the
    engine). No count first: the table may be a join that would run twice."""
    most = fetch_values // (len(columns) + 1)  # the window index is a column too
    if most == 0:
        return None
    exprs = {W: table[W].cast("int64"), **{k: v.cast("float64") for k, v in columns.items()}}
    got = fetch_columns(table, exprs, limit=most + 1)
    if got[W].size > most:
        return None
    windows, bounds = group_by_window(got)
    return [(int(w), {k: got[k][lo:hi] for k in columns})
            for w, lo, hi in zip(windows, bounds[:-1], bounds[1:], strict=True)]


def quantile_list(column: ir.NumericColumn, probabilities: Sequence[float], *,
                  where: ir.BooleanValue | None = None) -> ir.ArrayValue:
    """Exact quantiles of ``column`` at several probabilities, as one aggregate.

    One holistic aggregate holds the group's values once, where one aggregate per
    probability would hold them once each: on 100M rows, three latency quantiles peaked at
    1.55 GB as three aggregates and 0.63 GB as one list (``benchmarks/``).

    Parameters
    ----------
    column : ibis numeric column
        The values (nulls ignored).
    probabilities : sequence of float
        Probabilities in [0, 1].
    where : ibis boolean expression, optional
        Only rows where this is true.

    Returns
    -------
    ibis array expression
        An aggregate: the quantiles in the order of ``probabilities`` (linear interpolation,
        numpy's default; DuckDB's ``quantile_cont``, Spark's ``percentile``), or null for a
        group without values. :func:`unpack_quantiles` spreads it into columns.
    """
    return column.quantile(list(probabilities), where=where)


def unpack_quantiles(frame: pd.DataFrame, column: str, names: Sequence[str]) -> pd.DataFrame:
    """Spread a :func:`quantile_list` column of ``frame`` into one float column per name.

    Parameters
    ----------
    frame : DataFrame
        A fetched aggregate with the list column ``column``.
    column : str
        The list column; it is dropped.
    names : sequence of str
        The new columns' names, in the order of the probabilities; NaN where a row's list
        is null (a group without values).

    Returns
    -------
    DataFrame
        ``frame`` with the new columns where ``column`` was.
    """
    at = list(frame.columns).index(column)
    lists = frame[column].tolist()
    values = np.full((len(lists), len(names)), np.nan)
    for i, got in enumerate(lists):
        if got is not None and len(got) == len(names):
            values[i] = np.asarray(got, dtype="float64")
    out = frame.drop(columns=[column])
    for j, name in enumerate(names):
        out.insert(at + j, name, values[:, j])
    return out


def by_window(frame: pd.DataFrame) -> Iterator[tuple[int, pd.DataFrame]]:
    """Each window's rows of a profile frame, in ascending window order.

    Parameters
    ----------
    frame : DataFrame
        Rows with an integer column ``window_index`` (:data:`W`).

    Returns
    -------
    iterator of (int, DataFrame)
        ``(window_index, rows of that window)`` for each window present.
    """
    for window, rows in frame.groupby(W, sort=True):
        # pandas-stubs types a group key as any scalar; ``window_index`` holds integers
        yield int(cast(int, window)), rows


def window_groups(window_index: np.ndarray) -> tuple[np.ndarray | slice, np.ndarray, np.ndarray]:
    """The order that groups rows by window, the windows (ascending), and each window's
    ``[bounds[i], bounds[i + 1])`` slice of that order.

    Parameters
    ----------
    window_index : ndarray of shape (n_rows,)
        Each row's window.

    Returns
    -------
    order : ndarray of shape (n_rows,) or slice
        Indexes that sort the rows by window, stably; ``slice(None)`` when they already
        are (a time-ordered log), so that indexing with it is a view, not a copy.
    windows : ndarray of shape (n_windows,)
        The windows present, ascending.
    bounds : ndarray of shape (n_windows + 1,)
        Where each window's rows start in that order, then ``n_rows``.
    """
    n = window_index.size
    if n == 0:
        return slice(None), window_index[:0], np.zeros(1, dtype=np.int64)
    ordered = bool(np.all(window_index[1:] >= window_index[:-1]))
    order: np.ndarray | slice = slice(None) if ordered else np.argsort(window_index,
                                                                       kind="stable")
    low = int(window_index.min())
    if int(window_index.max()) - low <= n:  # counted, not sorted again: no copy of the rows
        counts = np.bincount(window_index - low if low else window_index)
        present = np.flatnonzero(counts)
        return order, present + low, np.append(0, np.cumsum(counts[present]))
    grouped = window_index[order]
    starts = np.append(0, np.flatnonzero(grouped[1:] != grouped[:-1]) + 1)
    return order, grouped[starts], np.append(starts, n)


def group_by_window(columns: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Put fetched rows in window order, in place, one column at a time.

    A column is replaced by its reordered copy before the next is copied, so grouping
    holds one extra column at most (not a second copy of them all), and nothing when the
    rows already come in window order.

    Parameters
    ----------
    columns : dict of str to ndarray of shape (n_rows,)
        Fetched columns, the window index under :data:`W` among them; it is removed.

    Returns
    -------
    windows : ndarray of shape (n_windows,)
        The windows present, ascending.
    bounds : ndarray of shape (n_windows + 1,)
        Window ``windows[i]``'s rows are ``[bounds[i], bounds[i + 1])`` of every column.
    """
    order, windows, bounds = window_groups(columns.pop(W))
    if not isinstance(order, slice):
        for name in columns:
            columns[name] = columns[name][order]
    return windows, bounds


def clean_numeric(table: ir.Table, col: str) -> ir.Table:
    """Rows where ``col`` is a finite number."""
    c = table[col]
    return table.filter(c.notnull() & ~c.isnan() & ~is_infinite(c))


def window_overview(table: ir.Table) -> pd.DataFrame:
    """Rows, time span, labels and scores per window.

    Parameters
    ----------
    table : ibis Table
        A typed log with ``window_index`` and ``timestamp``.

    Returns
    -------
    DataFrame
        One row per window: ``window_index, rows, first, last`` (UTC timestamps), and
        ``labelled`` (rows with a label), ``mean_score`` and ``null_scores`` (rows without a
        score: null or NaN) when the log has those columns.
    """
    aggs = {"rows": table.count(), "first": table.timestamp.min(), "last": table.timestamp.max()}
    if "label" in table.columns:
        aggs["labelled"] = table.label.notnull().sum()
    if "score" in table.columns:
        missing = table.score.isnull() | table.score.isnan()
        aggs["mean_score"] = table.score.mean(where=~missing)
        aggs["null_scores"] = missing.sum()
    return table.group_by(W).aggregate(**aggs).order_by(W).execute()


def model_versions_by_window(table: ir.Table) -> pd.DataFrame:
    """Rows per window and ``model_version`` (the model versions that served each window).

    Parameters
    ----------
    table : ibis Table
        A typed log with ``window_index`` and ``model_version``.

    Returns
    -------
    DataFrame
        ``window_index, model_version, rows``, one row per window and version (a null
        version counts the rows that name none), most rows first within a window, ties by
        version.
    """
    return (table.group_by([W, "model_version"]).aggregate(rows=table.count())
            .order_by([W, ibis.desc("rows"), "model_version"]).execute())
