"""Numeric codes for categorical feature columns, so SHAP maskers and LIME can sample them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd


class FeatureEncoder:
    """Numeric codes for categorical columns, so maskers and LIME can sample them.

    Categories are the non-missing values seen in ``frames`` (sorted by their text) plus
    a last slot for missing values. Numeric columns pass through as float and are cast
    back to their dtype (when integral and complete) on decoding.
    """

    def __init__(self, frames: Sequence[pd.DataFrame], categorical: Sequence[str]) -> None:
        first = frames[0]
        self.features = [str(c) for c in first.columns]
        self.dtypes = first.dtypes
        self.categories: dict[str, np.ndarray] = {}
        for c in self.features:
            if c in categorical or not pd.api.types.is_numeric_dtype(first[c]):
                values = pd.unique(pd.concat([f[c] for f in frames]).dropna())
                ordered = sorted(values, key=str)
                self.categories[c] = np.array([*ordered, None], dtype=object)

    def encode(self, df: pd.DataFrame) -> np.ndarray:
        """Rows as numeric codes.

        Parameters
        ----------
        df : DataFrame of shape (n_rows, n_features)
            Rows with the encoder's feature columns.

        Returns
        -------
        ndarray of shape (n_rows, n_features)
            Floats: numeric values as they are (non-numbers NaN), categories as their index
            (the last slot for missing or unseen values).
        """
        out = np.empty((len(df), len(self.features)))
        for j, c in enumerate(self.features):
            if c in self.categories:
                cats = self.categories[c]
                codes = pd.Categorical(df[c], categories=cats[:-1]).codes.astype(float)
                codes[codes < 0] = len(cats) - 1
                out[:, j] = codes
            else:
                out[:, j] = pd.to_numeric(df[c], errors="coerce").astype(float)
        return out

    def decode(self, arr: np.ndarray) -> pd.DataFrame:
        """Numeric codes back into rows (the inverse of :meth:`encode`).

        Parameters
        ----------
        arr : ndarray of shape (n_rows, n_features)
            Codes, possibly sampled between categories (rounded to the nearest).

        Returns
        -------
        DataFrame of shape (n_rows, n_features)
            The feature columns; integral columns cast back to their dtype when complete.
        """
        cols: dict[str, Any] = {}
        for j, c in enumerate(self.features):
            col = arr[:, j]
            if c in self.categories:
                cols[c] = self.categories[c][np.rint(col).astype(int)]
            elif self.dtypes[c].kind in "iub" and np.isfinite(col).all():
                cols[c] = col.astype(self.dtypes[c])
            else:
                cols[c] = col
        return pd.DataFrame(cols)
