"""Engine aggregates for drift: ordered value counts, category counts, histograms, samples."""

from __future__ import annotations

from collections.abc import Mapping

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from obskit.profiles._common import W, clean_numeric

__all__ = [
    "wasserstein_by_window",
    "category_counts",
    "numeric_histogram",
    "histogram_by_window",
    "feature_stats",
    "sample_by_window",
    "reference_chunks",
]


def wasserstein_by_window(reference: ir.Table, current: ir.Table, col: str) -> pd.DataFrame:
    """Exact Wasserstein-1 distance (not normed) and KS statistic between the reference and
    each window, with the rows used on each side (``n_ref``, ``n_cur``).

    The integral of |F_ref − F_window| over the merged sorted values, computed in the engine
    from ordered cumulative counts; equals ``scipy.stats.wasserstein_distance``, and ``ks``
    equals ``scipy.stats.ks_2samp(...).statistic``.
    """
    ref = clean_numeric(reference, col)
    ref = ref.group_by(v=ref[col]).aggregate(n_ref=ref.count())
    cur = clean_numeric(current, col)
    cur = cur.group_by([W, cur[col].name("v")]).aggregate(n_cur=cur.count())
    windows = cur.select(W).distinct()
    points = ibis.union(
        windows.cross_join(ref).select(W, "v", "n_ref", n_cur=ibis.literal(0, "int64")),
        cur.select(W, "v", n_ref=ibis.literal(0, "int64"), n_cur="n_cur"),
    )
    points = points.group_by([W, "v"]).aggregate(n_ref=points.n_ref.sum(),
                                                 n_cur=points.n_cur.sum())
    cum = ibis.cumulative_window(group_by=W, order_by="v")
    whole = ibis.window(group_by=W)
    ordered = ibis.window(group_by=W, order_by="v")
    points = points.mutate(
        f_ref=points.n_ref.sum().over(cum) / points.n_ref.sum().over(whole),
        f_cur=points.n_cur.sum().over(cum) / points.n_cur.sum().over(whole),
        step=points.v.lead().over(ordered) - points.v,
    )
    gap = (points.f_ref - points.f_cur).abs()
    result = points.group_by(W).aggregate(
        wasserstein=(gap * points.step.fill_null(0)).sum(), ks=gap.max(),
        n_ref=points.n_ref.sum(), n_cur=points.n_cur.sum(),
    )
    return result.order_by(W).execute()


def category_counts(table: ir.Table, col: str, *, by_window: bool = True) -> pd.DataFrame:
    """Counts per (window,) category value (as text); missing values are left out."""
    t = table.filter(table[col].notnull())
    keys = ([W] if by_window else []) + [t[col].cast("string").name("category")]
    return t.group_by(keys).aggregate(n=t.count()).execute()


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


def feature_stats(reference: ir.Table, current: ir.Table | None,
                  features: Mapping[str, str]) -> pd.DataFrame:
    """Per feature, in one engine query: ``reference_rows`` (non-missing, finite reference
    rows) and ``n_unique`` (distinct non-missing values in reference and current together,
    as Evidently counts them to choose a default method). Indexed by feature."""
    names = list(features)
    if not names:
        return pd.DataFrame(columns=["reference_rows", "n_unique"])

    def cols(t: ir.Table, side: int) -> ir.Table:
        exprs = {}
        for i, f in enumerate(names):
            c = t[f]
            if features[f] == "numeric":
                c = c.cast("float64")
                exprs[f"c{i}"] = ibis.ifelse(c.isnan() | c.isinf(), ibis.null("float64"),
                                             c).cast("string")
            else:
                exprs[f"c{i}"] = c.cast("string")
        return t.select(_side=ibis.literal(side, "int64"), **exprs)

    both = cols(reference, 1)
    if current is not None:
        both = ibis.union(both, cols(current, 0), distinct=False)
    aggs = {}
    for i in range(len(names)):
        c = both[f"c{i}"]
        aggs[f"u{i}"] = c.nunique()
        aggs[f"r{i}"] = (c.notnull() & (both._side == 1)).cast("int64").sum()
    row = both.aggregate(**aggs).execute().iloc[0]
    return pd.DataFrame({"reference_rows": [int(row[f"r{i}"] or 0) for i in range(len(names))],
                         "n_unique": [int(row[f"u{i}"] or 0) for i in range(len(names))]},
                        index=pd.Index(names, name="feature"))


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
    if "timestamp" in t.columns:
        return t.mutate(**{W: ibis.ntile(chunks).over(order_by=t.timestamp)})
    t = t.mutate(_row=ibis.row_number())
    return t.mutate(**{W: ibis.ntile(chunks).over(order_by=t._row)}).drop("_row")
