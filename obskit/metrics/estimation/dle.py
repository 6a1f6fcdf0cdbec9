"""DLE: regression errors estimated by models of the loss (see :mod:`obskit.metrics.estimation`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["fit_loss_models", "estimate_regression_errors"]


# ------------------------------------------------------------------------------- DLE


def fit_loss_models(features: np.ndarray, abs_error: np.ndarray, *,
                    categorical: Sequence[bool] | None = None, seed: int = 0) -> tuple[Any, Any]:
    """Gradient-boosting models of the absolute and the squared error (DLE).

    ``features`` holds the model's inputs (categoricals ordinal-encoded, missing as NaN)
    and its prediction, one row per labelled reference row.

    Parameters
    ----------
    features : ndarray of shape (n, n_features + 1)
        The inputs and the prediction.
    abs_error : ndarray of shape (n,)
        ``|prediction − label|`` of each row.
    categorical : sequence of bool, optional
        Which columns of ``features`` are categorical.
    seed : int, default 0
        Seed of the models.

    Returns
    -------
    (model, model)
        The absolute-error and squared-error regressors.
    """
    from sklearn.ensemble import HistGradientBoostingRegressor

    def model() -> Any:
        return HistGradientBoostingRegressor(
            categorical_features=None if categorical is None else list(categorical),
            early_stopping=True, validation_fraction=0.2, random_state=seed)

    err = np.asarray(abs_error, dtype=float)
    return model().fit(features, err), model().fit(features, err * err)


def estimate_regression_errors(models: tuple[Any, Any],
                               features: np.ndarray) -> dict[str, float | None]:
    """Estimated MAE and RMSE of rows from their predicted errors.

    MAE is the mean predicted absolute error, RMSE the root of the mean predicted squared
    error; predicted errors are clipped at zero.

    Parameters
    ----------
    models : (model, model)
        From :func:`fit_loss_models`.
    features : ndarray of shape (n, n_features + 1)
        The rows' inputs and prediction, encoded as at fitting.

    Returns
    -------
    dict of str to float or None
        ``mae`` and ``rmse`` in the label's units (None without rows).
    """
    if len(features) == 0:
        return {"mae": None, "rmse": None}
    abs_model, sq_model = models
    mae = np.clip(abs_model.predict(features), 0.0, None).mean()
    mse = np.clip(sq_model.predict(features), 0.0, None).mean()
    return {"mae": float(mae), "rmse": float(math.sqrt(mse))}
