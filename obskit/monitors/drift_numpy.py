"""The drift monitor's computing outside its engine queries: reference statistics (one
engine query, or the same numbers from sorted numpy values), histograms of sorted
values, per-window Wasserstein-1 and KS against reference ECDFs, and a thread pool for
running features side by side."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from obskit.io.casting import is_infinite
from obskit.profiles import W
from obskit.stattests import ReferenceECDF, wasserstein_ks

T = TypeVar("T")
R = TypeVar("R")

__all__ = ["engine_reference_stats", "sorted_reference_stats", "sorted_histogram", "threaded",
           "window_wasserstein_ks", "finite_sorted", "reference_ecdfs", "ecdf_arrays",
           "ecdfs_from_arrays", "fetch_batches"]


def engine_reference_stats(reference: ir.Table, numeric: list[str]) -> pd.Series:
    """Statistics of each numeric feature's finite reference values, in one engine query.

    Parameters
    ----------
    reference : ibis Table
        The typed reference log.
    numeric : list of str
        Numeric features.

    Returns
    -------
    Series
        For feature ``i``: ``s{i}`` (population standard deviation), ``lo{i}`` / ``hi{i}``
        (1% / 99% quantiles), ``min{i}``, ``max{i}``, ``n{i}`` (rows), ``u{i}`` (distinct
        values), in the feature's units.
    """
    aggs = {}
    for i, f in enumerate(numeric):
        t = reference[f]
        ok = t.notnull() & ~t.isnan() & ~is_infinite(t)
        aggs[f"s{i}"] = t.std(how="pop", where=ok)
        aggs[f"lo{i}"] = t.quantile(0.01, where=ok)
        aggs[f"hi{i}"] = t.quantile(0.99, where=ok)
        aggs[f"min{i}"] = t.min(where=ok)
        aggs[f"max{i}"] = t.max(where=ok)
        aggs[f"n{i}"] = ok.cast("int64").sum()
        aggs[f"u{i}"] = t.nunique(where=ok)
    return reference.aggregate(**aggs).execute().iloc[0]


def sorted_reference_stats(numeric: list[str], values: Mapping[str, np.ndarray]) -> pd.Series:
    """:func:`engine_reference_stats` from each feature's ascending finite values.

    The same quantile interpolation as the engines' exact quantiles.

    Parameters
    ----------
    numeric : list of str
        Numeric features.
    values : mapping of str to ndarray of shape (n,)
        Feature → its finite reference values, ascending.

    Returns
    -------
    Series
        The same keys as :func:`engine_reference_stats`.
    """
    out: dict[str, float] = {}
    for i, f in enumerate(numeric):
        v = values[f]
        empty = v.size == 0
        nan = float("nan")
        lo, hi = (nan, nan) if empty else np.quantile(v, [0.01, 0.99])
        out.update({f"s{i}": nan if empty else float(v.std()), f"lo{i}": lo, f"hi{i}": hi,
                    f"min{i}": nan if empty else float(v[0]),
                    f"max{i}": nan if empty else float(v[-1]), f"n{i}": v.size,
                    f"u{i}": 0 if empty else int(np.count_nonzero(np.diff(v)) + 1)})
    return pd.Series(out)


def sorted_histogram(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of ascending values in the bins of some edges, outer bins open-ended.

    As :func:`~obskit.profiles.numeric_histogram` counts them in the engine (a value equal to
    an inner edge goes to the bin on its right).

    Parameters
    ----------
    sorted_values : ndarray of shape (n,)
        Finite values, ascending.
    edges : ndarray of shape (n_bins + 1,)
        Bin edges.

    Returns
    -------
    ndarray of shape (n_bins,)
        The counts.
    """
    below = np.searchsorted(sorted_values, np.asarray(edges[1:-1], dtype=float), side="left")
    return np.diff(np.concatenate([[0], below, [sorted_values.size]])).astype(np.int64)


def fetch_batches(table: ir.Table, cols: list[str], fetch_values: int
                  ) -> tuple[int, list[list[str]]] | None:
    """Columns in groups of at most ``fetch_values`` values, or None when even one column
    of ``table`` has more rows than that (or there are no columns).

    Parameters
    ----------
    table : ibis Table
        The table the columns are fetched from (its rows are counted).
    cols : list of str
        Numeric features.
    fetch_values : int
        The most rows × columns of one fetch.

    Returns
    -------
    (int, list of list of str), or None
        The table's rows, and the columns of each fetch, in order.
    """
    rows = int(table.count().execute())
    if not cols or rows > fetch_values:
        return None
    per = max(1, fetch_values // max(rows, 1))
    return rows, [cols[i:i + per] for i in range(0, len(cols), per)]


def threaded(fn: Callable[[T], R], items: list[T]) -> list[R]:
    """A function over items on one thread per core.

    numpy's sorts and searches release the GIL, so features are compared side by side.

    Parameters
    ----------
    fn : callable
        ``fn(item) -> result``.
    items : list
        The inputs.

    Returns
    -------
    list
        ``[fn(item) for item in items]``, in order.
    """
    workers = min(len(items), os.cpu_count() or 1)
    if workers <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, items))


def window_wasserstein_ks(columns: Mapping[str, np.ndarray],
                          split: tuple[np.ndarray, np.ndarray],
                          ecdf: Mapping[str, ReferenceECDF], edges: Mapping[str, np.ndarray],
                          feature: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Wasserstein-1 and KS of each window's values of a feature against its reference ECDF,
    and the histogram of all its finite values (the windows' sorted values binned, as
    :func:`sorted_histogram`), so no query counts them again.

    Parameters
    ----------
    columns : mapping of str to ndarray of shape (n_rows,)
        Feature → every current value (missing as NaN), the rows in window order.
    split : tuple of two ndarrays
        The windows and their bounds in ``columns``, from
        :func:`~obskit.profiles.group_by_window`.
    ecdf : mapping of str to ReferenceECDF
        Feature → its reference ECDF.
    edges : mapping of str to ndarray
        Feature → the edges of its histogram.
    feature : str
        The feature compared.

    Returns
    -------
    frame : DataFrame
        One row per window with finite values: ``window_index, wasserstein, ks, n_ref,
        n_cur``.
    histogram : ndarray of shape (len(edges[feature]) - 1,)
        Counts of every window's finite values in the bins of ``edges[feature]``.
    """
    windows, bounds = split
    values, ref, rows = columns[feature], ecdf[feature], []
    total = np.zeros(len(edges[feature]) - 1, dtype=np.int64)
    for w, lo, hi in zip(windows, bounds[:-1], bounds[1:], strict=True):
        v = finite_sorted(values[lo:hi])
        if v.size:
            w1, ks = wasserstein_ks(ref, v)
            rows.append((int(w), w1, ks, ref.rows, v.size))
            total += sorted_histogram(v, edges[feature])
    return pd.DataFrame(rows, columns=[W, "wasserstein", "ks", "n_ref", "n_cur"]), total


def finite_sorted(values: np.ndarray) -> np.ndarray:
    """The finite values of an array, ascending.

    Parameters
    ----------
    values : ndarray of shape (n,)
        Any floats.

    Returns
    -------
    ndarray of shape (m,)
        The finite ones (no NaN, no ±inf), sorted, ``m <= n``.
    """
    finite = values[np.isfinite(values)]  # a copy, sorted in place: no second one
    finite.sort()
    return finite


def reference_ecdfs(sorted_values: Mapping[str, np.ndarray]) -> dict[str, ReferenceECDF]:
    """A :class:`~obskit.stattests.ReferenceECDF` per feature, built side by side.

    Parameters
    ----------
    sorted_values : mapping of str to ndarray of shape (n,)
        Feature → its finite reference values, ascending.

    Returns
    -------
    dict of str to ReferenceECDF
        Feature → its ECDF.
    """
    names = list(sorted_values)
    return dict(zip(names, threaded(lambda f: ReferenceECDF.from_sorted(sorted_values[f]),
                                    names), strict=True))


def ecdf_arrays(features: list[str], ecdf: Mapping[str, ReferenceECDF]) -> dict[str, np.ndarray]:
    """Reference ECDFs as plain arrays (``values{i}``, ``counts{i}`` for ``features[i]``).

    Parameters
    ----------
    features : list of str
        The monitor's features, in order.
    ecdf : mapping of str to ReferenceECDF
        Feature → its ECDF (some features may have none).

    Returns
    -------
    dict of str to ndarray
        What :func:`ecdfs_from_arrays` rebuilds the same ECDFs from.
    """
    out: dict[str, np.ndarray] = {}
    for i, f in enumerate(features):
        if f in ecdf:
            out[f"values{i}"], out[f"counts{i}"] = ecdf[f].values, ecdf[f].counts()
    return out


def ecdfs_from_arrays(features: list[str], arrays: Mapping[str, np.ndarray]
                      ) -> dict[str, ReferenceECDF]:
    """The ECDFs :func:`ecdf_arrays` turned into arrays, exactly as they were.

    Parameters
    ----------
    features : list of str
        The monitor's features, in the same order.
    arrays : mapping of str to ndarray
        :func:`ecdf_arrays`' output.

    Returns
    -------
    dict of str to ReferenceECDF
        Feature → its ECDF.
    """
    return {f: ReferenceECDF.from_counts(arrays[f"values{i}"], arrays[f"counts{i}"])
            for i, f in enumerate(features) if f"values{i}" in arrays}
