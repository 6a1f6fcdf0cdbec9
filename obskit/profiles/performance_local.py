"""Realized binary performance per window from one fetch of every labelled row.

The same four frames as :func:`~obskit.profiles.performance.binary_counts`,
:func:`~obskit.profiles.performance.binary_auc`,
:func:`~obskit.profiles.performance.probability_sums` and
:func:`~obskit.profiles.performance.calibration_bins` (the same rows, the same formulas),
computed in numpy from each labelled row's window, outcome, predicted class and score,
fetched in one query instead of four. Up to :data:`~obskit.profiles.FETCH_VALUES` values;
above that the engine's aggregates are used.
"""

from __future__ import annotations

from typing import NamedTuple

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from obskit.metrics import ranking_auc
from obskit.profiles._common import FETCH_VALUES, W, fetch_by_window

__all__ = ["BinaryFrames", "binary_frames"]

_EPS = float(np.finfo(np.float64).eps)


class BinaryFrames(NamedTuple):
    """The per-window aggregates of realized binary performance."""

    counts: pd.DataFrame
    auc: pd.DataFrame | None
    probability: pd.DataFrame | None
    calibration: pd.DataFrame | None


def binary_frames(table: ir.Table, *, positive: str, threshold: float = 0.5,
                  bins: int = 10, fetch_values: int = FETCH_VALUES) -> BinaryFrames | None:
    """Confusion counts, ranking areas, probability-loss sums and calibration bins per
    window, from one query.

    Parameters
    ----------
    table : ibis Table
        A typed binary log with ``window_index``, ``label`` and ``prediction`` or ``score``.
    positive : str
        The positive class (canonical label text).
    threshold : float, default 0.5
        Scores at or above it predict the positive class (without a ``prediction``).
    bins : int, default 10
        Equal-width score bins of the calibration error.
    fetch_values : int, default FETCH_VALUES
        The most values fetched.

    Returns
    -------
    BinaryFrames or None
        The frames of ``binary_counts``, ``binary_auc``, ``probability_sums`` and
        ``calibration_bins`` (the last three None without a score); None above
        ``fetch_values`` values.
    """
    has_pred, has_score = "prediction" in table.columns, "score" in table.columns
    counted = table.prediction.notnull() if has_pred else table.score.notnull()
    yhat = table.prediction == positive if has_pred else table.score >= threshold
    keep = counted
    cols: dict[str, ir.Value] = {"y": table.label == positive,
                                 "yhat": ibis.ifelse(counted, yhat, ibis.null("boolean"))}
    if has_score:
        scored = table.score.notnull() & ~table.score.isnan()
        keep = counted | scored
        cols["s"] = ibis.ifelse(scored, table.score, ibis.null("float64"))
    t = table.filter(table.label.notnull() & keep)
    windows = fetch_by_window(t, {k: v.name(k) for k, v in cols.items()},
                              fetch_values=fetch_values)
    if windows is None:
        return None
    counts, auc, prob, calib = [], [], [], []
    for w, c in windows:
        m = ~np.isnan(c["yhat"])
        if m.any():
            y, yh = c["y"][m] == 1, c["yhat"][m] == 1
            counts.append((w, int((y & yh).sum()), int((~y & yh).sum()),
                           int((~y & ~yh).sum()), int((y & ~yh).sum())))
        if not has_score:
            continue
        m = ~np.isnan(c["s"])
        if not m.any():
            continue
        s, y = c["s"][m], c["y"][m]
        auc.append((w, *ranking_auc(s, y, 1 - y)))
        clip = lambda p: np.maximum(np.minimum(p, 1 - _EPS), _EPS)  # noqa: E731
        loss = np.where(y == 1, -np.log(clip(s)), -np.log(clip(1 - s)))
        brier = (s - y) ** 2
        prob.append((w, s.size, loss.sum(), (loss * loss).sum(), brier.sum(),
                     (brier * brier).sum()))
        b = np.minimum(np.maximum(np.floor(s * bins), 0), bins - 1).astype(np.int64)
        gap = (s - y) ** 2
        for k in np.unique(b):
            i = b == k
            calib.append((w, int(k), int(i.sum()), s[i].sum(), int(y[i].sum()), gap[i].sum()))
    return BinaryFrames(
        counts=pd.DataFrame(counts, columns=[W, "tp", "fp", "tn", "fn"]),
        auc=pd.DataFrame(auc, columns=[W, "roc_auc", "pr_auc", "P", "N"]).astype(
            {"P": "int64", "N": "int64"}) if has_score else None,
        probability=pd.DataFrame(prob, columns=[W, "n", "sum_log_loss", "sum_log_loss_sq",
                                                "sum_brier", "sum_brier_sq"])
        if has_score else None,
        calibration=pd.DataFrame(calib, columns=[W, "bin", "n", "sum_score", "sum_label",
                                                 "sum_sq_gap"]) if has_score else None)
