"""SHAP values of logged rows, in the space of the log's feature columns (additive)."""

from __future__ import annotations

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
    rows = rows.iloc[:max_rows]
    explainer, name = choose_explainer(model, background[list(rows.columns)], task=task)
    values, base = explainer(rows)
    return ShapResult(
        values=pd.DataFrame(values, index=rows.index, columns=list(rows.columns)),
        base_values=np.asarray(base, dtype=float),
        explainer=name,
        output=explainer.output,
        n_rows=len(rows),
    )
