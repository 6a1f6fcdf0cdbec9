"""Engine aggregates for drift: ordered value counts, category counts, histograms, samples."""

from __future__ import annotations

from collections.abc import Mapping

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from obskit.profiles._common import W, clean_numeric, fetch_columns, is_infinite
from obskit.schema import is_numeric_type

__all__ = [
    "wasserstein_by_window",
    "category_counts",
    "numeric_histogram",
    "histogram_by_window",
    "feature_stats",
    "category_cardinality",
    "sample_by_window",
    "reference_chunks",
    "numeric_columns",
    "category_counts_of",
]


def wasserstein_by_window(reference: ir.Table, current: ir.Table, col: str) -> pd.DataFrame:
    """Exact Wasserstein-1 distance (not normed) and KS statistic between the reference and
    each window, with the rows used on each side (``n_ref``, ``n_cur``).

    Each side is counted per distinct value; the reference counts weigh ``+k/n_ref`` and a
    window's ``-k/n_cur``. In one pass ordered by value (a RANGE frame, so equal values of
    both sides are summed before they are compared) the running sum is
    ``F_ref - F_window``: KS is its largest absolute value and Wasserstein-1 the sum of
    ``|F_ref - F_window|`` times the gap to the next value. Equals
    ``scipy.stats.wasserstein_distance`` and ``scipy.stats.ks_2samp(...).statistic``.
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
    """Counts per (window,) category value (as text); missing values are left out."""
    return _category_counts(table, col, by_window).execute()


def category_counts_of(table: ir.Table, cols: list[str], *, by_window: bool = True
                       ) -> dict[str, pd.DataFrame]:
    """:func:`category_counts` of several columns in one query: column → its counts."""
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
    """Counts of ``col`` in the bins given by ``edges`` (values outside go to the end bins)."""
    t = clean_numeric(table, col)
    counts = t.group_by(b=_bin_index(t, col, edges)).aggregate(n=t.count()).execute()
    out = np.zeros(len(edges) - 1, dtype=np.int64)
    out[counts.b.to_numpy(dtype=int)] = counts.n.to_numpy()
    return out


def histogram_by_window(table: ir.Table, col: str, edges: np.ndarray) -> dict[int, np.ndarray]:
    """Window index → counts of ``col`` in the bins of ``edges`` (outer bins open-ended)."""
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
                  features: Mapping[str, str], *, probe_rows: int = 10_000) -> pd.DataFrame:
    """Per feature: ``reference_rows`` (non-missing, finite reference rows) and
    ``n_unique`` (distinct non-missing values in reference and current together, as
    Evidently counts them to choose a default method), counted up to :data:`UNIQUE_CAP`:
    all the choice needs. Indexed by feature.

    A first query counts distinct values in ``probe_rows`` reference rows: a feature with
    :data:`UNIQUE_CAP` of them there has at least as many in all. Only the others are
    counted over both logs, in the second query with the reference rows."""
    names = list(features)
    if not names:
        return pd.DataFrame(columns=["reference_rows", "n_unique"])

    def cols(t: ir.Table, side: int) -> ir.Table:
        exprs = {}
        for i, f in enumerate(names):
            c = t[f]
            if is_numeric_type(features[f]):
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
        both = ibis.union(both, cols(current, 0), distinct=False)
    aggs = {}
    for i in range(len(names)):
        c = both[f"c{i}"]
        if i not in many:
            aggs[f"u{i}"] = c.nunique()
        aggs[f"r{i}"] = (c.notnull() & (both._side == 1)).cast("int64").sum()
    row = both.aggregate(**aggs).execute().iloc[0]
    unique = [UNIQUE_CAP if i in many else min(int(row[f"u{i}"] or 0), UNIQUE_CAP)
              for i in range(len(names))]
    return pd.DataFrame({"reference_rows": [int(row[f"r{i}"] or 0) for i in range(len(names))],
                         "n_unique": unique}, index=pd.Index(names, name="feature"))


def category_cardinality(reference: ir.Table, current: ir.Table | None,
                         names: list[str]) -> tuple[pd.DataFrame, float]:
    """Per column of ``names``: non-missing reference rows (``reference_rows``) and
    distinct reference values (``reference_unique``), indexed by feature, in one engine
    query; and the median rows of the current windows (``current`` needs ``W``; its total
    rows when it has no windows, 0 without ``current``)."""
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
    if current is None:
        return frame, 0.0
    if W in current.columns:
        sizes = current.group_by(W).aggregate(n=current.count()).execute().n
        return frame, float(sizes.median()) if len(sizes) else 0.0
    return frame, float(current.count().execute())


def numeric_columns(table: ir.Table, cols: list[str], *, by_window: bool = False
                    ) -> dict[str, np.ndarray]:
    """Every value of the numeric ``cols`` as float64 arrays (missing as NaN), with the
    window index under ``W`` when ``by_window``, in one query (:func:`fetch_columns`)."""
    exprs = {c: table[c].cast("float64") for c in cols}
    if by_window:
        exprs[W] = table[W].cast("int64")
    return fetch_columns(table, exprs)


def sample_by_window(table: ir.Table, col: str, rows: int) -> pd.DataFrame:
    """At most ``rows`` finite values of ``col`` per window, drawn at random in the engine
    (every value when the window has no more)."""
    t = clean_numeric(table, col)
    t = t.mutate(_r=ibis.row_number().over(group_by=W, order_by=ibis.random()))
    return t.filter(t._r < rows).select(W, col).execute()


def reference_chunks(reference: ir.Table, chunks: int) -> ir.Table:
    """The reference with ``window_index`` = one of ``chunks`` equal row chunks, in
    timestamp order when the reference has a ``timestamp`` column."""
    t = reference.drop(W) if W in reference.columns else reference
    # rows of equal timestamps go in the order they were logged: the same on every engine
    ties = [t[c] for c in ("_file", "_line") if c in t.columns]
    if "timestamp" in t.columns:
        return t.mutate(**{W: ibis.ntile(chunks).over(order_by=[t.timestamp, *ties])})
    t = t.mutate(_row=ibis.row_number())
    return t.mutate(**{W: ibis.ntile(chunks).over(order_by=t._row)}).drop("_row")
