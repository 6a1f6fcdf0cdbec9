"""Engine aggregates for realized performance: confusion counts, ranked scores, sums."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from obskit.profiles._common import W


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
