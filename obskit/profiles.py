"""Window profiles: the aggregates the engine computes, per window, for the findings.

Everything here is an Ibis expression executed in the engine; only aggregates (one row per
window, per window and category, per histogram bin) come back as small pandas frames.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

__all__ = [
    "clean_numeric",
    "window_overview",
    "wasserstein_by_window",
    "category_counts",
    "numeric_histogram",
    "error_flag",
    "health_by_window",
    "binary_counts",
    "binary_auc",
    "confusion_by_window",
    "regression_sums",
]

W = "window_index"


def clean_numeric(table: ir.Table, col: str) -> ir.Table:
    """Rows where ``col`` is a finite number."""
    c = table[col]
    return table.filter(c.notnull() & ~c.isnan() & ~c.isinf())


def window_overview(table: ir.Table) -> pd.DataFrame:
    """Rows, first and last timestamp, label coverage and mean score per window."""
    aggs = {"rows": table.count(), "first": table.timestamp.min(), "last": table.timestamp.max()}
    if "label" in table.columns:
        aggs["labelled"] = table.label.notnull().sum()
    if "score" in table.columns:
        aggs["mean_score"] = table.score.mean()
    return table.group_by(W).aggregate(**aggs).order_by(W).execute()


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


def error_flag(table: ir.Table) -> ir.BooleanValue:
    """True for a failed prediction: ``status`` ``error``/``failed`` or an HTTP code >= 500,
    or a non-empty ``error`` message."""
    flag = ibis.literal(False)
    if "status" in table.columns:
        s = table.status.lower().strip()
        code = s.try_cast("float64")
        flag = flag | s.isin(("error", "failed", "failure")).fill_null(False) \
            | (code >= 500).fill_null(False)
    if "error" in table.columns:
        flag = flag | table.error.notnull()
    return flag


def health_by_window(table: ir.Table, *, quantiles: tuple[float, ...] = (0.5, 0.95, 0.99)
                     ) -> pd.DataFrame:
    """Latency quantiles (linear interpolation, as numpy's default) and error rate per window."""
    aggs: dict[str, ir.Value] = {}
    if "latency_ms" in table.columns:
        lat = table.latency_ms
        for q in quantiles:
            aggs[f"latency_p{round(q * 100):d}_ms"] = lat.quantile(q)
    if "status" in table.columns or "error" in table.columns:
        aggs["errors"] = error_flag(table).cast("int64").sum()
    if not aggs:
        return pd.DataFrame({W: []})
    return table.group_by(W).aggregate(**aggs).order_by(W).execute()


def _binary_view(table: ir.Table, positive: str, threshold: float) -> ir.Table:
    """Labelled rows with a prediction: ``y`` and ``yhat`` as booleans, ``score``."""
    has_pred = "prediction" in table.columns
    t = table.filter(table.label.notnull())
    if has_pred:
        t = t.filter(t.prediction.notnull())
        yhat = t.prediction == positive
    else:
        t = t.filter(t.score.notnull())
        yhat = t.score >= threshold
    cols = {"y": t.label == positive, "yhat": yhat}
    if "score" in t.columns:
        cols["score"] = t.score
    return t.select(W, **cols)


def binary_counts(table: ir.Table, *, positive: str, threshold: float = 0.5) -> pd.DataFrame:
    """Confusion counts (tp, fp, tn, fn) per window over labelled rows with a prediction."""
    t = _binary_view(table, positive, threshold)
    i = lambda cond: cond.cast("int64").sum()  # noqa: E731
    return t.group_by(W).aggregate(
        tp=i(t.y & t.yhat), fp=i(~t.y & t.yhat), tn=i(~t.y & ~t.yhat), fn=i(t.y & ~t.yhat),
    ).order_by(W).execute()


def binary_auc(table: ir.Table, *, positive: str) -> pd.DataFrame:
    """ROC AUC per window, exact with ties (Mann–Whitney), computed in the engine.

    AUC = Σ_s pos_s · (neg_{<s} + ½ neg_s) / (P · N) over distinct scores s.
    """
    t = table.filter(table.label.notnull() & table.score.notnull())
    y = (t.label == positive).cast("int64")
    levels = t.group_by([W, "score"]).aggregate(pos=y.sum(), neg=(1 - y).sum())
    upto = ibis.cumulative_window(group_by=W, order_by="score")
    whole = ibis.window(group_by=W)
    levels = levels.mutate(
        neg_below=levels.neg.sum().over(upto) - levels.neg,
        P=levels.pos.sum().over(whole), N=levels.neg.sum().over(whole),
    )
    term = levels.pos * (levels.neg_below + 0.5 * levels.neg)
    result = levels.group_by(W).aggregate(
        pairs_won=term.sum(), P=levels.P.max(), N=levels.N.max(),
    ).order_by(W).execute()
    auc = result.pairs_won / (result.P * result.N)
    result["roc_auc"] = auc.where((result.P > 0) & (result.N > 0))
    return result[[W, "roc_auc", "P", "N"]]


def confusion_by_window(table: ir.Table) -> pd.DataFrame:
    """(window, label, prediction) → count over labelled rows with a prediction."""
    t = table.filter(table.label.notnull() & table.prediction.notnull())
    return t.group_by([W, "label", "prediction"]).aggregate(n=t.count()).execute()


def regression_sums(table: ir.Table) -> pd.DataFrame:
    """Per window: n and the sums from which MAE, RMSE, MAPE and R² follow exactly."""
    t = table.filter(table.label.notnull() & table.prediction.notnull())
    t = t.mutate(_mean_y=t.label.mean().over(ibis.window(group_by=W)))
    err = t.prediction - t.label
    eps = float(np.finfo(np.float64).eps)
    denom = ibis.greatest(t.label.abs(), ibis.literal(eps))
    return t.group_by(W).aggregate(
        n=t.count(), sum_abs=err.abs().sum(), sum_sq=(err * err).sum(),
        sum_ape=(err.abs() / denom).sum(), sum_err=err.sum(),
        ss_tot=((t.label - t._mean_y) ** 2).sum(),
    ).order_by(W).execute()
