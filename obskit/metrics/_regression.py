"""Regression errors and their intervals from per-window sums.

The values equal scikit-learn's (``mean_absolute_error``, ``root_mean_squared_error``,
``mean_absolute_percentage_error`` as a fraction, ``r2_score``); ``mean_error`` is the
bias, the mean of ``prediction − label``.
"""

from __future__ import annotations

import math

from obskit.metrics._intervals import NO_INTERVAL, Interval, mean_interval, normal_interval

__all__ = ["regression_errors", "regression_intervals"]


def regression_errors(*, n: int, sum_abs: float, sum_sq: float, sum_ape: float,
                      ss_tot: float, sum_err: float | None = None
                      ) -> dict[str, float | None]:
    """MAE, RMSE, MAPE (a fraction, as scikit-learn), R² and the mean error from sums over
    ``n`` rows (``mean_error`` is ``None`` when ``sum_err`` is not given).

    Examples
    --------
    >>> regression_errors(n=2, sum_abs=2.0, sum_sq=2.0, sum_ape=0.5, ss_tot=2.0)["r2"]
    0.0
    """
    if n == 0:
        return {"mae": None, "rmse": None, "mape": None, "r2": None, "mean_error": None}
    if ss_tot > 0:
        r2 = 1.0 - sum_sq / ss_tot
    else:  # scikit-learn's force_finite convention
        r2 = 1.0 if sum_sq == 0 else 0.0
    return {"mae": sum_abs / n, "rmse": math.sqrt(sum_sq / n), "mape": sum_ape / n, "r2": r2,
            "mean_error": None if sum_err is None else sum_err / n}


def regression_intervals(*, n: int, sum_abs: float, sum_sq: float, sum_ape: float,
                         sum_ape_sq: float, sum_err: float, sum_sq_sq: float, ss_tot: float,
                         sum_dev4: float, sum_sq_dev2: float, confidence: float = 0.95
                         ) -> dict[str, Interval]:
    """Normal intervals for the regression errors, from sums over ``n`` rows.

    With ``e = prediction − label`` and ``d = label − mean label``:

    - ``mae``, ``mape``, ``mean_error``: means of per-row values, ``SE = sd / √n`` (from
      ``Σ|e|`` and ``Σe²``, ``Σape`` and ``Σape²``, ``Σe`` and ``Σe²``).
    - ``rmse``: the interval of the MSE (a mean of ``e²``, SE from ``Σe⁴``) with the square
      root taken of its ends — the delta method to first order, kept non-negative.
    - ``r2``: delta method with the influence function of ``1 − A/B`` (``A`` = mean of
      ``e²``, ``B`` = mean of ``d²``): ``IF = −(e² − A)/B + A (d² − B)/B²``, so
      ``Var ≈ [Var(e²)/B² − 2A·Cov(e², d²)/B³ + A²·Var(d²)/B⁴] / n`` from ``Σe⁴``,
      ``Σd⁴`` and ``Σe²d²``. Undefined for a constant label.

    Examples
    --------
    >>> iv = regression_intervals(n=1, sum_abs=1, sum_sq=1, sum_ape=1, sum_ape_sq=1,
    ...                           sum_err=1, sum_sq_sq=1, ss_tot=0, sum_dev4=0, sum_sq_dev2=0)
    >>> iv["mae"]
    (None, None)
    """
    kw = {"confidence": confidence}
    mse = mean_interval(n, sum_sq, sum_sq_sq, lower=0.0, **kw)
    out = {
        "mae": mean_interval(n, sum_abs, sum_sq, lower=0.0, **kw),
        "mape": mean_interval(n, sum_ape, sum_ape_sq, lower=0.0, **kw),
        "mean_error": mean_interval(n, sum_err, sum_sq, **kw),
        "rmse": (NO_INTERVAL if mse[0] is None or mse[1] is None
                 else (math.sqrt(mse[0]), math.sqrt(mse[1]))),
        "r2": NO_INTERVAL,
    }
    if n >= 2 and ss_tot > 0:
        a, b = sum_sq / n, ss_tot / n
        var_u, var_v = sum_sq_sq / n - a * a, sum_dev4 / n - b * b
        cov = sum_sq_dev2 / n - a * b
        var = (var_u / b**2 - 2 * a * cov / b**3 + a * a * var_v / b**4) / n
        out["r2"] = normal_interval(1.0 - a / b, math.sqrt(max(var, 0.0)), upper=1.0, **kw)
    return out
