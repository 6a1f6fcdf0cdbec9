"""How the model's reliance on features moves: attribution drift between windows, and
drifted features ranked by how much the model relies on them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from obskit.stattests.drift_rules import threshold_ratio

_DRIFT_RATIO_CAP = 10.0


def _shares(shap_df: pd.DataFrame) -> pd.Series:
    imp = shap_df.abs().mean()
    total = imp.sum()
    return imp / total if total > 0 else imp * np.nan


def attribution_drift(
    shap_by_window: Mapping[Any, pd.DataFrame], shap_reference: pd.DataFrame
) -> pd.DataFrame:
    """How the model's reliance on each feature moves between windows.

    Parameters
    ----------
    shap_by_window : mapping of window to DataFrame of shape (n_rows, n_features)
        Each window's SHAP values.
    shap_reference : DataFrame of shape (n_reference, n_features)
        The reference rows' SHAP values.

    Returns
    -------
    DataFrame
        One row per window and feature: ``window``, ``feature``, ``share`` (the feature's
        share of the summed mean |SHAP| in the window), ``reference_share`` and
        ``tv_distance``: the total-variation distance ``0.5 * sum |share - reference|``
        between the two importance profiles of that window (0 same reliance, 1 disjoint).
    """
    ref = _shares(shap_reference)
    frames = []
    for window, df in shap_by_window.items():
        share = _shares(df).reindex(ref.index)
        frames.append(pd.DataFrame({
            "window": window, "feature": ref.index, "share": share.to_numpy(),
            "reference_share": ref.to_numpy(),
            "tv_distance": 0.5 * float((share - ref).abs().sum(min_count=1)),
        }))
    columns = ["window", "feature", "share", "reference_share", "tv_distance"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def drift_importance_ranking(
    drift_summary: Mapping[str, Mapping[str, Any]], importance: pd.Series
) -> pd.DataFrame:
    """Rank drifted features by how much the model depends on them.

    ``score = min(ratio, 10) * importance share``, ``ratio`` how far the worst value lies
    past the threshold (:func:`obskit.stattests.drift_rules.threshold_ratio`:
    ``worst / threshold``, or
    ``threshold / worst`` for p-values): a feature drifting
    hard that the model ignores ranks below a milder drift in a feature it relies on.

    Parameters
    ----------
    drift_summary : mapping
        ``feature -> {"max_value", "threshold", "drifted_windows"}`` and optionally
        ``"worst_value"`` and ``"method"`` (the drift statistic's largest and most drifted
        values over the windows, its threshold, the drifted windows, the method).
    importance : Series
        Mean |SHAP| per feature on the reference.

    Returns
    -------
    DataFrame
        ``feature``, ``max_value``, ``threshold``, ``drift_ratio`` (capped at 10),
        ``drifted_windows``, ``importance_share``, ``score``; by decreasing ``score``.
    """
    total = float(importance.abs().sum())
    rows = []
    for feature, d in drift_summary.items():
        max_value, threshold = float(d["max_value"]), float(d["threshold"])
        worst = float(d.get("worst_value", max_value))
        ratio = threshold_ratio(worst, threshold, d.get("method"), cap=_DRIFT_RATIO_CAP)
        share = abs(float(importance.get(feature, 0.0))) / total if total > 0 else 0.0
        rows.append({"feature": feature, "max_value": max_value, "threshold": threshold,
                     "drift_ratio": ratio, "drifted_windows": d.get("drifted_windows"),
                     "importance_share": share, "score": ratio * share})
    columns = ["feature", "max_value", "threshold", "drift_ratio", "drifted_windows",
               "importance_share", "score"]
    out = pd.DataFrame(rows, columns=columns)
    return out.sort_values("score", ascending=False, kind="stable", ignore_index=True)
