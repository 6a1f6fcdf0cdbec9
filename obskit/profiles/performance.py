"""Engine aggregates for realized performance: confusion counts, ranked scores, sums.

Every function runs in the engine and returns one row per window (or per window and
score bin, or per window, label and prediction); no column of rows comes back.
"""

from __future__ import annotations

from collections.abc import Mapping

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from obskit.metrics import ranking_auc
from obskit.profiles._common import FETCH_VALUES, W, fetch_by_window

_EPS = float(np.finfo(np.float64).eps)


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


def _scored(table: ir.Table, positive: str) -> ir.Table:
    """Labelled rows with a (non-NaN) score: ``y`` as 0/1 and ``score``."""
    t = table.filter(table.label.notnull() & table.score.notnull() & ~table.score.isnan())
    return t.select(W, "score", y=(t.label == positive).cast("int64"))


def binary_counts(table: ir.Table, *, positive: str, threshold: float = 0.5) -> pd.DataFrame:
    """Confusion counts per window over labelled rows with a prediction.

    Parameters
    ----------
    table : ibis Table
        A typed binary log with ``window_index``, ``label`` and ``prediction`` or ``score``.
    positive : str
        The positive class (canonical label text).
    threshold : float, default 0.5
        Scores at or above it predict the positive class (without a ``prediction``).

    Returns
    -------
    DataFrame
        One row per window: ``window_index, tp, fp, tn, fn``.
    """
    t = _binary_view(table, positive, threshold)
    i = lambda cond: cond.cast("int64").sum()  # noqa: E731
    return t.group_by(W).aggregate(
        tp=i(t.y & t.yhat), fp=i(~t.y & t.yhat), tn=i(~t.y & ~t.yhat), fn=i(t.y & ~t.yhat),
    ).order_by(W).execute()


def ranking_by_window(table: ir.Table, score: ir.Value, pos: ir.Value, neg: ir.Value, *,
                      fetch_values: int = FETCH_VALUES) -> pd.DataFrame | None:
    """ROC AUC and average precision per window, ranked in numpy.

    From every row's score and positive and negative weights
    (:func:`~obskit.metrics.ranking_auc`).

    Parameters
    ----------
    table : ibis Table
        Rows with ``window_index``.
    score, pos, neg : ibis expressions
        Each row's score and its weights as a positive and as a negative.
    fetch_values : int, default FETCH_VALUES
        The most values fetched (rows × 4).

    Returns
    -------
    DataFrame or None
        Columns ``window_index, roc_auc, pr_auc, P, N``; None when the rows are more than
        ``fetch_values / 4`` (the engine then ranks them itself).
    """
    windows = fetch_by_window(table, {"s": score, "p": pos, "n": neg},
                              fetch_values=fetch_values)
    if windows is None:
        return None
    out = [(w, *ranking_auc(c["s"], c["p"], c["n"])) for w, c in windows]
    return pd.DataFrame(out, columns=[W, "roc_auc", "pr_auc", "P", "N"])


def binary_auc(table: ir.Table, *, positive: str, fetch_values: int = FETCH_VALUES
               ) -> pd.DataFrame:
    """ROC AUC and PR AUC (average precision) per window, exact with ties.

    Over the distinct scores ``s`` of a window, with ``pos_s`` / ``neg_s`` rows at ``s``:

    - ROC AUC (Mann–Whitney) ``= Σ_s pos_s · (neg_{<s} + ½ neg_s) / (P · N)``;
    - PR AUC, scikit-learn's ``average_precision_score`` (step-wise, one step per distinct
      score): ``= Σ_s (pos_s / P) · pos_{≥s} / (pos_{≥s} + neg_{≥s})``.

    Up to :data:`FETCH_VALUES` values, the rows are ranked in numpy
    (:func:`ranking_by_window`), else by the engine's window functions.

    Parameters
    ----------
    table : ibis Table
        A typed binary log with ``window_index``, ``label`` and ``score``.
    positive : str
        The positive class (canonical label text).
    fetch_values : int, default FETCH_VALUES
        The most values ranked in numpy.

    Returns
    -------
    DataFrame
        Columns ``window_index, roc_auc, pr_auc, P, N`` (both AUCs ``NaN`` for a window with
        one class only).
    """
    t = _scored(table, positive)
    local = ranking_by_window(t, t.score, t.y, 1 - t.y, fetch_values=fetch_values)
    if local is not None:
        return local.astype({"P": "int64", "N": "int64"})
    levels = t.group_by([W, "score"]).aggregate(pos=t.y.sum(), neg=(1 - t.y).sum())
    upto = ibis.cumulative_window(group_by=W, order_by="score")
    down = ibis.cumulative_window(group_by=W, order_by=ibis.desc("score"))
    whole = ibis.window(group_by=W)
    levels = levels.mutate(
        neg_below=levels.neg.sum().over(upto) - levels.neg,
        pos_above=levels.pos.sum().over(down), neg_above=levels.neg.sum().over(down),
        P=levels.pos.sum().over(whole), N=levels.neg.sum().over(whole),
    )
    won = levels.pos * (levels.neg_below + 0.5 * levels.neg)
    precise = levels.pos * levels.pos_above / (levels.pos_above + levels.neg_above)
    result = levels.group_by(W).aggregate(
        pairs_won=won.sum(), precise=precise.sum(), P=levels.P.max(), N=levels.N.max(),
    ).order_by(W).execute()
    both = (result.P > 0) & (result.N > 0)
    result["roc_auc"] = (result.pairs_won / (result.P * result.N)).where(both)
    result["pr_auc"] = (result.precise / result.P).where(both)
    return result[[W, "roc_auc", "pr_auc", "P", "N"]]


def probability_sums(table: ir.Table, *, positive: str) -> pd.DataFrame:
    """Per-window sums of the per-row log loss and Brier loss.

    The log loss clips both class probabilities to ``[ε, 1 − ε]`` (ε = float64 machine
    epsilon), as scikit-learn's ``log_loss`` does since 1.5.

    Parameters
    ----------
    table : ibis Table
        A typed binary log with ``window_index``, ``label`` and ``score``.
    positive : str
        The class whose probability the score is.

    Returns
    -------
    DataFrame
        One row per window: ``n`` scored rows, ``sum_log_loss``, ``sum_log_loss_sq``,
        ``sum_brier`` and ``sum_brier_sq``.
    """
    t = _scored(table, positive)
    clip = lambda p: ibis.greatest(ibis.least(p, 1 - _EPS), _EPS)  # noqa: E731
    loss = ibis.ifelse(t.y == 1, -clip(t.score).ln(), -clip(1 - t.score).ln())
    brier = (t.score - t.y) ** 2
    return t.group_by(W).aggregate(
        n=t.count(), sum_log_loss=loss.sum(), sum_log_loss_sq=(loss * loss).sum(),
        sum_brier=brier.sum(), sum_brier_sq=(brier * brier).sum(),
    ).order_by(W).execute()


def calibration_bins(table: ir.Table, *, positive: str, bins: int = 10) -> pd.DataFrame:
    """Scores and labels per window and equal-width score bin.

    Bins are ``[0, 1/bins)``, …, ``[1 − 1/bins, 1]``; scores outside [0, 1] fall in the end
    bins.

    Parameters
    ----------
    table : ibis Table
        A typed binary log with ``window_index``, ``label`` and ``score``.
    positive : str
        The class whose probability the score is.
    bins : int, default 10
        The number of bins.

    Returns
    -------
    DataFrame
        Columns ``window_index, bin, n, sum_score, sum_label, sum_sq_gap``
        (``Σ (score − y)²``).
    """
    t = _scored(table, positive)
    b = ibis.least(ibis.greatest((t.score * bins).floor(), 0), bins - 1).cast("int64")
    t = t.mutate(bin=b)
    return t.group_by([W, "bin"]).aggregate(
        n=t.count(), sum_score=t.score.sum(), sum_label=t.y.sum(),
        sum_sq_gap=((t.score - t.y) ** 2).sum(),
    ).order_by([W, "bin"]).execute()


def most_probable_class(table: ir.Table, class_scores: Mapping[str, str]) -> ir.Value:
    """The class of highest probability per row, as an engine expression.

    The predicted class of a multiclass log without a ``prediction``. A tie goes to the
    first class in the order of ``class_scores`` (as numpy's ``argmax``).

    Parameters
    ----------
    table : ibis Table
        A typed multiclass log.
    class_scores : mapping of str to str
        Class label → its probability column.

    Returns
    -------
    ibis string expression
        The class label; null for a row with a null or NaN probability.
    """
    cols = [table[c].cast("float64") for c in class_scores.values()]
    top = ibis.greatest(*cols)
    known = ibis.literal(True)
    for col in cols:
        known &= col.notnull() & ~col.isnan()
    best = ibis.cases(*[(col == top, cls) for cls, col in zip(class_scores, cols,
                                                              strict=True)])
    return ibis.ifelse(known, best, ibis.null("string"))


def class_scored(table: ir.Table, class_scores: dict[str, str]) -> ir.Table:
    """The rows the multiclass ROC AUC and log loss use.

    Parameters
    ----------
    table : ibis Table
        A typed multiclass log.
    class_scores : dict of str to str
        Class label → its probability column.

    Returns
    -------
    ibis Table
        Labelled rows whose label is one of the classes and that have every class's
        probability (none null or NaN).
    """
    keep = table.label.notnull() & table.label.isin(list(class_scores))
    for col in class_scores.values():
        keep &= table[col].notnull() & ~table[col].isnan()
    return table.filter(keep)


def class_auc(table: ir.Table, class_scores: dict[str, str], *,
              fetch_values: int = FETCH_VALUES) -> pd.DataFrame:
    """One-vs-rest ROC AUC per window and class over :func:`class_scored` rows.

    :func:`binary_auc` of ``label == class`` ranked by that class's probability.

    Parameters
    ----------
    table : ibis Table
        A typed multiclass log with ``window_index``.
    class_scores : dict of str to str
        Class label → its probability column.
    fetch_values : int, default FETCH_VALUES
        The most values ranked in numpy.

    Returns
    -------
    DataFrame
        Columns ``window_index, class, roc_auc, P, N``.
    """
    t = class_scored(table, class_scores)
    frames = []
    for cls, col in class_scores.items():
        auc = binary_auc(t.mutate(score=t[col].cast("float64")), positive=cls,
                         fetch_values=fetch_values)
        frames.append(auc.assign(**{"class": cls})[[W, "class", "roc_auc", "P", "N"]])
    return pd.concat(frames, ignore_index=True)


def class_log_loss_sums(table: ir.Table, class_scores: dict[str, str]) -> pd.DataFrame:
    """Per-window sums of the multiclass log loss over :func:`class_scored` rows.

    The per-row loss is ``−ln p(true class)``, the probability clipped to ``[ε, 1 − ε]`` as
    scikit-learn's ``log_loss`` does.

    Parameters
    ----------
    table : ibis Table
        A typed multiclass log with ``window_index``.
    class_scores : dict of str to str
        Class label → its probability column.

    Returns
    -------
    DataFrame
        One row per window: ``n``, ``sum_log_loss`` and ``sum_log_loss_sq``.
    """
    t = class_scored(table, class_scores)
    p_true = ibis.cases(*[(t.label == cls, t[col].cast("float64"))
                          for cls, col in class_scores.items()])
    loss = -ibis.greatest(ibis.least(p_true, 1 - _EPS), _EPS).ln()
    return t.group_by(W).aggregate(n=t.count(), sum_log_loss=loss.sum(),
                                   sum_log_loss_sq=(loss * loss).sum()).order_by(W).execute()


def confusion_by_window(table: ir.Table) -> pd.DataFrame:
    """Rows per (window, label, prediction) over labelled rows with a prediction.

    Parameters
    ----------
    table : ibis Table
        A typed classification log with ``window_index``.

    Returns
    -------
    DataFrame
        Columns ``window_index, label, prediction, n``.
    """
    t = table.filter(table.label.notnull() & table.prediction.notnull())
    return t.group_by([W, "label", "prediction"]).aggregate(n=t.count()).execute()


def regression_sums(table: ir.Table) -> pd.DataFrame:
    """Per-window sums giving the regression errors and their intervals exactly.

    With ``e = prediction − label`` and ``d = label − window mean label``.

    Parameters
    ----------
    table : ibis Table
        A typed regression log with ``window_index``, ``label`` and ``prediction``.

    Returns
    -------
    DataFrame
        One row per window: ``n``, ``sum_abs``, ``sum_sq`` (Σe²), ``sum_ape``,
        ``sum_ape_sq``, ``sum_err``, ``sum_sq_sq`` (Σe⁴), ``ss_tot`` (Σd²), ``sum_dev4`` (Σd⁴)
        and ``sum_sq_dev2`` (Σe²d²).
    """
    t = table.filter(table.label.notnull() & table.prediction.notnull())
    t = t.mutate(_mean_y=t.label.mean().over(ibis.window(group_by=W)))
    err = t.prediction - t.label
    sq = err * err
    dev2 = (t.label - t._mean_y) ** 2
    ape = err.abs() / ibis.greatest(t.label.abs(), ibis.literal(_EPS))
    return t.group_by(W).aggregate(
        n=t.count(), sum_abs=err.abs().sum(), sum_sq=sq.sum(), sum_ape=ape.sum(),
        sum_ape_sq=(ape * ape).sum(), sum_err=err.sum(), sum_sq_sq=(sq * sq).sum(),
        ss_tot=dev2.sum(), sum_dev4=(dev2 * dev2).sum(), sum_sq_dev2=(sq * dev2).sum(),
    ).order_by(W).execute()
