"""Engine aggregates for drift: ordered value counts, category counts, histograms."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from obskit.profiles._common import W, clean_numeric


def wasserstein_by_window(reference: ir.Table, current: ir.Table, col: str) -> pd.DataFrame:
    """Exact Wasserstein-1 distance (not normed) between the reference and each window.

    The integral of |F_ref − F_window| over the merged sorted values, computed in the engine
    from ordered cumulative counts; equals ``scipy.stats.wasserstein_distance``.
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
    )
    return result.order_by(W).execute()


def category_counts(table: ir.Table, col: str, *, by_window: bool = True) -> pd.DataFrame:
    """Counts per (window,) category value; missing values are left out."""
    t = table.filter(table[col].notnull())
    keys = ([W] if by_window else []) + [t[col].cast("string").name("category")]
    return t.group_by(keys).aggregate(n=t.count()).execute()


def numeric_histogram(table: ir.Table, col: str, edges: np.ndarray) -> np.ndarray:
    """Counts of ``col`` in the bins given by ``edges`` (values outside go to the end bins)."""
    t = clean_numeric(table, col)
    inner = [float(e) for e in edges[1:-1]]
    # bin index = number of inner edges <= value
    idx = sum(((t[col] >= e).cast("int64") for e in inner), ibis.literal(0, "int64"))
    counts = t.group_by(b=idx).aggregate(n=t.count()).execute()
    out = np.zeros(len(edges) - 1, dtype=np.int64)
    out[counts.b.to_numpy(dtype=int)] = counts.n.to_numpy()
    return out
