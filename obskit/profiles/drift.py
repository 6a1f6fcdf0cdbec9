"""Engine aggregates for drift: ordered value counts, category counts, histograms, samples."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from obskit.io.engine import fetch_frame
from obskit.profiles._common import W, clean_numeric, fetch_columns, is_infinite
from obskit.profiles.row_anomaly_reasons import row_hash
from obskit.schema import is_numeric_type

__all__ = [
    "wasserstein_by_window",
    "category_counts",
    "numeric_histogram",
    "histogram_by_window",
    "feature_stats",
    "category_cardinality",
    "median_window_rows",
    "sample_by_window",
    "reference_chunks",
    "numeric_columns",
    "category_counts_of",
]


def wasserstein_by_window(reference: ir.Table, current: ir.Table, col: str) -> pd.DataFrame:
    """Exact Wasserstein-1 distance (not normed) and KS statistic, reference vs each window.

    Each side is counted per distinct value; the reference counts weigh ``+k/n_ref`` and a
    window's ``-k/n_cur``. In one pass ordered by value (a RANGE frame, so equal values of
    both sides are summed before they are compared) the running sum is
    ``F_ref - F_window``: KS is its largest absolute value and Wasserstein-1 the sum of
    ``|F_ref - F_window|`` times the gap to the next value. Equals
    ``scipy.stats.wasserstein_distance`` and ``scipy.stats.ks_2samp(...).statistic``.

    Parameters
    ----------
    reference : ibis Table
        The typed reference log.
    current : ibis Table
        The typed current log with ``window_index``.
    col : str
        A numeric feature of both (non-finite values are left out).

    Returns
    -------
    DataFrame
        One row per window with values: ``window_index, wasserstein, ks, n_ref, n_cur``
        (``wasserstein`` in the feature's units, ``ks`` in [0, 1]).
    """
    ref = clean_numeric(reference, col)
    cur = clean_numeric(current, col)
    ref_counts = ref.group_by(v=ref[col]).aggregate(k=ref.count())
    cur_counts = cur.group_by([W, cur[col].name("v")]).aggregate(k=cur.count())
    windows = cur.group_by(W).aggregate(n_cur=cur.count())
    windows = windows.mutate(n_ref=ref.count().as_scalar())
    points = ibis.union(
        windows.cross_join(ref_counts).select(
            W, "v", w=ref_counts.k.cast("float64") / windows.n_ref),
        cur_counts.join(windows, W).select(
            W, "v", w=-cur_counts.k.cast("float64") / windows.n_cur),
    )
    upto = ibis.window(group_by=W, order_by="v", range=(None, 0))
    ordered = ibis.window(group_by=W, order_by="v")
    points = points.mutate(gap=points.w.sum().over(upto).abs(),
                           step=points.v.lead().over(ordered) - points.v)
    result = points.group_by(W).aggregate(
        wasserstein=(points.gap * points.step.fill_null(0)).sum(), ks=points.gap.max())
    result = result.join(windows, W).select(W, "wasserstein", "ks", "n_ref", "n_cur")
    return result.order_by(W).execute()


def _category_counts(table: ir.Table, col: str, by_window: bool) -> ir.Table:
    t = table.filter(table[col].notnull())
    keys = ([W] if by_window else []) + [t[col].cast("string").name("category")]
    return t.group_by(keys).aggregate(n=t.count())


def category_counts(table: ir.Table, col: str, *, by_window: bool = True) -> pd.DataFrame:
    """Counts per category value (as text), per window or overall; missing values left out.

    Parameters
    ----------
    table : ibis Table
        A typed log (with ``window_index`` when ``by_window``).
    col : str
        A categorical or boolean feature.
    by_window : bool, default True
        Count per window, or over the whole table.

    Returns
    -------
    DataFrame
        Columns ``[window_index,] category, n``.
    """
    return _category_counts(table, col, by_window).execute()


def category_counts_of(table: ir.Table, cols: list[str], *, by_window: bool = True
                       ) -> dict[str, pd.DataFrame]:
    """:func:`category_counts` of several columns in one query.

    Parameters
    ----------
    table : ibis Table
        A typed log (with ``window_index`` when ``by_window``).
    cols : list of str
        Categorical or boolean features.
    by_window : bool, default True
        Count per window, or over the whole table.

    Returns
    -------
    dict of str to DataFrame
        Column → its counts (columns ``[window_index,] category, n``).
    """
    if not cols:
        return {}
    parts = [_category_counts(table, col, by_window).mutate(_column=ibis.literal(i, "int64"))
             for i, col in enumerate(cols)]
    counts = ibis.union(*parts, distinct=False).execute() if len(parts) > 1 \
        else parts[0].execute()
    return {col: counts[counts._column == i].drop(columns="_column").reset_index(drop=True)
            for i, col in enumerate(cols)}


def _bin_index(t: ir.Table, col: str, edges: np.ndarray) -> ir.IntegerValue:
    # bin index = number of inner edges <= value (values outside go to the end bins)
    inner = [float(e) for e in edges[1:-1]]
    return sum(((t[col] >= e).cast("int64") for e in inner), ibis.literal(0, "int64"))


def numeric_histogram(table: ir.Table, col: str, edges: np.ndarray) -> np.ndarray:
    """Counts of a numeric column in the bins of some edges, over the whole table.

    Parameters
    ----------
    table : ibis Table
        A typed log.
    col : str
        A numeric feature (non-finite values are left out).
    edges : ndarray of shape (n_bins + 1,)
        Bin edges; values outside them go to the end bins.

    Returns
    -------
    ndarray of shape (n_bins,)
        The counts (int).
    """
    t = clean_numeric(table, col)
    counts = t.group_by(b=_bin_index(t, col, edges)).aggregate(n=t.count()).execute()
    out = np.zeros(len(edges) - 1, dtype=np.int64)
    out[counts.b.to_numpy(dtype=int)] = counts.n.to_numpy()
    return out


def histogram_by_window(table: ir.Table, col: str, edges: np.ndarray) -> dict[int, np.ndarray]:
    """Counts of a numeric column in the bins of some edges, per window.

    Parameters
    ----------
    table : ibis Table
        A typed log with ``window_index``.
    col : str
        A numeric feature (non-finite values are left out).
    edges : ndarray of shape (n_bins + 1,)
        Bin edges; the outer bins are open-ended.

    Returns
    -------
    dict of int to ndarray of shape (n_bins,)
        Window index → its counts.
    """
    t = clean_numeric(table, col)
    counts = t.group_by([W, _bin_index(t, col, edges).name("b")]).aggregate(n=t.count())
    out: dict[int, np.ndarray] = {}
    for w, grp in counts.execute().groupby(W):
        hist = np.zeros(len(edges) - 1, dtype=np.int64)
        hist[grp.b.to_numpy(dtype=int)] = grp.n.to_numpy()
        out[int(w)] = hist
    return out


#: the default rule only asks whether a feature has more than 5 distinct values
UNIQUE_CAP = 6


def feature_stats(reference: ir.Table, current: ir.Table | None,
                  features: Mapping[str, str], *, probe_rows: int = 10_000,
                  reference_unique: Sequence[str] = ()) -> pd.DataFrame:
    """Reference rows and distinct values per feature, as the default method choice needs.

    A first query counts distinct values in ``probe_rows`` reference rows: a feature with
    :data:`UNIQUE_CAP` of them there has at least as many in all. Only the others are
    counted over both logs, in the second query with the reference rows.

    Parameters
    ----------
    reference : ibis Table
        The typed reference log.
    current : ibis Table or None
        The typed current log (None: the reference alone).
    features : mapping of str to str
        Feature name → type.
    probe_rows : int, default 10000
        Reference rows of the first query.
    reference_unique : sequence of str, default ()
        Features whose distinct reference values are also counted, uncapped, in the
        second query (as :func:`category_cardinality`, without a query of its own).

    Returns
    -------
    DataFrame
        Indexed by feature: ``reference_rows`` (non-missing, finite reference rows) and
        ``n_unique`` (distinct non-missing values in reference and current together, as
        Evidently counts them), counted up to :data:`UNIQUE_CAP`; with
        ``reference_unique``, also ``reference_unique`` (distinct reference values of
        those features, NA for the others).
    """
    names = list(features)
    if not names:
        return pd.DataFrame(columns=["reference_rows", "n_unique"])

    def cols(t: ir.Table, side: int, skip: set[int] | frozenset[int] = frozenset()
             ) -> ir.Table:
        exprs = {}
        for i, f in enumerate(names):
            c = t[f]
            numeric = is_numeric_type(features[f])
            if i in skip:  # not read: only the reference's rows of it are counted
                exprs[f"c{i}"] = ibis.null("float64" if numeric else "string")
            elif numeric:
                c = c.cast("float64")
                # distinct doubles counted as doubles: no text conversion of every value
                exprs[f"c{i}"] = ibis.ifelse(c.isnan() | is_infinite(c), ibis.null("float64"), c)
            else:
                exprs[f"c{i}"] = c.cast("string")
        return t.select(_side=ibis.literal(side, "int64"), **exprs)

    probe = cols(reference.limit(probe_rows), 1)
    seen = probe.aggregate(**{f"u{i}": probe[f"c{i}"].nunique()
                              for i in range(len(names))}).execute().iloc[0]
    many = {i for i in range(len(names)) if int(seen[f"u{i}"] or 0) >= UNIQUE_CAP}
    both = cols(reference, 1)
    if current is not None and len(many) < len(names):
        both = ibis.union(both, cols(current, 0, skip=many), distinct=False)
    aggs = {}
    counted = [i for i, f in enumerate(names) if f in set(reference_unique)]
    for i in range(len(names)):
        c = both[f"c{i}"]
        if i not in many:
            aggs[f"u{i}"] = c.nunique()
        aggs[f"r{i}"] = (c.notnull() & (both._side == 1)).cast("int64").sum()
        if i in counted:
            aggs[f"ru{i}"] = c.nunique(where=both._side == 1)
    row = both.aggregate(**aggs).execute().iloc[0]
    unique = [UNIQUE_CAP if i in many else min(int(row[f"u{i}"] or 0), UNIQUE_CAP)
              for i in range(len(names))]
    out = pd.DataFrame({"reference_rows": [int(row[f"r{i}"] or 0) for i in range(len(names))],
                        "n_unique": unique}, index=pd.Index(names, name="feature"))
    if reference_unique:
        out["reference_unique"] = pd.array([int(row[f"ru{i}"] or 0) if i in counted else None
                                            for i in range(len(names))], dtype="Int64")
    return out


def category_cardinality(reference: ir.Table, current: ir.Table | None,
                         names: list[str]) -> tuple[pd.DataFrame, float]:
    """Reference rows and distinct values of categorical columns; median current window size.

    Parameters
    ----------
    reference : ibis Table
        The typed reference log.
    current : ibis Table or None
        The typed current log (with ``window_index``, else counted as one window).
    names : list of str
        Categorical columns.

    Returns
    -------
    cardinality : DataFrame
        Indexed by feature: ``reference_rows`` (non-missing) and ``reference_unique``
        (distinct reference values), from one engine query.
    median_rows : float
        The median rows of the current windows (0 without ``current``).
    """
    if not names:
        frame = pd.DataFrame(columns=["reference_rows", "reference_unique"])
    else:
        aggs = {}
        for i, f in enumerate(names):
            c = reference[f].cast("string")
            aggs[f"r{i}"] = c.notnull().cast("int64").sum()
            aggs[f"u{i}"] = c.nunique()
        row = reference.aggregate(**aggs).execute().iloc[0]
        frame = pd.DataFrame({"reference_rows": [int(row[f"r{i}"] or 0)
                                                 for i in range(len(names))],
                              "reference_unique": [int(row[f"u{i}"] or 0)
                                                   for i in range(len(names))]},
                             index=pd.Index(names, name="feature"))
    return frame, median_window_rows(current)


def median_window_rows(current: ir.Table | None) -> float:
    """The median rows of the current windows.

    Parameters
    ----------
    current : ibis Table or None
        The typed current log (with ``window_index``, else counted as one window).

    Returns
    -------
    float
        The median rows per window (0 without ``current`` or without rows).
    """
    if current is None:
        return 0.0
    if W in current.columns:
        sizes = current.group_by(W).aggregate(n=current.count()).execute().n
        return float(sizes.median()) if len(sizes) else 0.0
    return float(current.count().execute())


def numeric_columns(table: ir.Table, cols: list[str], *, by_window: bool = False,
                    rows: int | None = None) -> dict[str, np.ndarray]:
    """Every value of numeric columns as float64 arrays, in one query.

    Parameters
    ----------
    table : ibis Table
        A typed log (with ``window_index`` when ``by_window``).
    cols : list of str
        Numeric features.
    by_window : bool, default False
        Also fetch the window index, under ``W``.
    rows : int, optional
        The table's rows, when counted already: each array is then filled in place.

    Returns
    -------
    dict of str to ndarray of shape (n_rows,)
        Column → its values (missing as NaN), see :func:`fetch_columns`.
    """
    exprs = {c: table[c].cast("float64") for c in cols}
    if by_window:
        exprs[W] = table[W].cast("int64")
    return fetch_columns(table, exprs, rows=rows)


def sample_by_window(table: ir.Table, col: str, rows: int) -> pd.DataFrame:
    """At most ``rows`` finite values of a column per window, a pseudo-random sample that
    every run draws alike.

    The rows are ordered by a hash of their ``request_id`` (else of the value and the
    ``timestamp``; :func:`~obskit.profiles.row_anomaly_reasons.row_hash`), so the same log
    gives the same sample, the same statistic and the same verdict on every run and engine.

    Parameters
    ----------
    table : ibis Table
        A typed log with ``window_index``.
    col : str
        A numeric feature.
    rows : int
        The most values per window (every value when the window has no more).

    Returns
    -------
    DataFrame
        Columns ``window_index`` and ``col``.
    """
    t = clean_numeric(table, col)
    t = t.mutate(_r=ibis.row_number().over(group_by=W, order_by=row_hash(t, [col], "drift")))
    return fetch_frame(t.filter(t._r < rows).select(W, col))


def reference_chunks(reference: ir.Table, chunks: int) -> ir.Table:
    """The reference cut into equal row chunks, as windows.

    Parameters
    ----------
    reference : ibis Table
        The typed reference log.
    chunks : int
        The number of chunks.

    Returns
    -------
    ibis Table
        The reference with ``window_index``: the row's chunk (``ibis.ntile(chunks)``), in
        timestamp order when it has a ``timestamp`` column, else in row order.
    """
    t = reference.drop(W) if W in reference.columns else reference
    # rows of equal timestamps go in the order they were logged: the same on every engine
    ties = [t[c] for c in ("_file", "_line") if c in t.columns]
    if "timestamp" in t.columns:
        return t.mutate(**{W: ibis.ntile(chunks).over(order_by=[t.timestamp, *ties])})
    t = t.mutate(_row=ibis.row_number())
    return t.mutate(**{W: ibis.ntile(chunks).over(order_by=t._row)}).drop("_row")
