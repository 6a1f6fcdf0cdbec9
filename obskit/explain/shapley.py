"""SHAP values of logged rows, in the space of the log's feature columns (additive)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from obskit.explain.explainers import choose_explainer


@dataclass(frozen=True)
class ShapResult:
    """SHAP values of explained rows, in the space of the log's feature columns.

    Attributes
    ----------
    values : DataFrame
        One row per explained row (the rows' index), one column per feature.
    base_values : ndarray
        Per row; ``base_values + values.sum(axis=1)`` is the explained output.
    explainer : str
        ``"Tree"``, ``"Linear"``, ``"Exact"`` or ``"Permutation"``.
    output : str
        The function explained: ``"probability"``, ``"log-odds"`` or ``"prediction"``.
    n_rows : int
        Rows explained (at most ``max_rows``).
    """

    values: pd.DataFrame
    base_values: np.ndarray
    explainer: str
    output: str
    n_rows: int

    def mean_abs(self) -> pd.Series:
        """Mean |SHAP| per feature: the global importance over the explained rows.

        Returns
        -------
        Series
            Indexed by feature, in the units of the explained output.
        """
        return self.values.abs().mean()

    def to_df(self) -> pd.DataFrame:
        """The values with a ``base_value`` column.

        Returns
        -------
        DataFrame of shape (n_rows, n_features + 1)
            One row per explained row.
        """
        return self.values.assign(base_value=self.base_values)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly summary (for ``summary.json``).

        Returns
        -------
        dict
            ``explainer``, ``output``, ``n_rows`` and ``mean_abs`` (feature → float).
        """
        return {"explainer": self.explainer, "output": self.output, "n_rows": self.n_rows,
                "mean_abs": {k: float(v) for k, v in self.mean_abs().items()}}


def shap_values(
    model: Any,
    rows: pd.DataFrame,
    background: pd.DataFrame,
    *,
    task: str,
    max_rows: int = 200,
) -> ShapResult:
    """SHAP values of ``model`` on ``rows`` (the first ``max_rows`` of them).

    Parameters
    ----------
    model : object
        Fitted model taking a DataFrame of the feature columns.
    rows : DataFrame
        Rows to explain, exactly the feature columns.
    background : DataFrame
        Reference rows, same columns; a sample of at most 100 is used (seed 0).
    task : {"binary", "regression"}
    max_rows : int, default 200
        Explain at most this many rows (the first ones: order ``rows`` by priority).

    Returns
    -------
    ShapResult
        Additive: per row, base value + sum of the values equals the explained output
        within 1e-6.
    """
    return shap_values_of(model, [rows], background, task=task, max_rows=[max_rows])[0]


def shap_values_of(
    model: Any,
    frames: Sequence[pd.DataFrame],
    background: pd.DataFrame,
    *,
    task: str,
    max_rows: Sequence[int],
) -> list[ShapResult]:
    """:func:`shap_values` of several frames of rows, with one explainer built once.

    Each result equals ``shap_values(model, frame, background, task=task,
    max_rows=n)``: every frame is explained by its own call of the same explainer.

    Parameters
    ----------
    model : object
        Fitted model taking a DataFrame of the feature columns.
    frames : sequence of DataFrame
        Rows to explain, each with exactly the feature columns (the same in every frame).
    background : DataFrame
        Reference rows, same columns; a sample of at most 100 is used (seed 0).
    task : {"binary", "regression"}
    max_rows : sequence of int
        Per frame, explain at most this many of its first rows.

    Returns
    -------
    list of ShapResult
        One per frame, in order.
    """
    if not frames:
        return []
    columns = list(frames[0].columns)
    explainer, name = choose_explainer(model, background[columns], task=task)
    out = []
    for frame, n in zip(frames, max_rows, strict=True):
        rows = frame.iloc[:n]
        values, base = explainer(rows)
        out.append(ShapResult(
            values=pd.DataFrame(values, index=rows.index, columns=list(rows.columns)),
            base_values=np.asarray(base, dtype=float),
            explainer=name,
            output=explainer.output,
            n_rows=len(rows),
        ))
    return out
