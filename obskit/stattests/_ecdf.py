"""Exact Wasserstein-1 and Kolmogorov–Smirnov statistics of many windows against one
reference, with the reference prepared once.

:class:`ReferenceECDF` keeps the reference's distinct values ``u``, its cumulative shares
``R`` (``F_ref`` at each ``u``) and ``H``, the running integral of ``F_ref`` at each ``u``.
``H`` turns the integral of ``F_ref`` over any interval into two look-ups, so comparing a
window of ``k`` values costs ``O(k log m)`` for a reference of ``m`` distinct values, not
``O(m)``: the windows of a report (and of each segment) share one sorted reference.

With the window's distinct values ``c_1 < … < c_k`` and cumulative shares ``C_i``,
``F_window`` is ``C_i`` on ``[c_i, c_{i+1})``, so

    W1 = ∫ |F_ref − F_window| dx
       = H(c_1) + Σ_i ∫_{c_i}^{c_{i+1}} |F_ref − C_i| dx + ∫_{c_k}^{∞} (1 − F_ref) dx,

and on one interval, with ``x*`` the first reference value where ``F_ref ≥ C_i`` clamped
into it, ``∫_a^b |F_ref − C| = ∫_a^b (F_ref − C) + 2 ∫_a^{x*} (C − F_ref)``. KS is the
largest ``|F_ref − F_window|``, reached at a window value or just before the next one.
Both equal ``scipy.stats.wasserstein_distance`` and ``scipy.stats.ks_2samp(...).statistic``
(tested on samples with ties).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["ReferenceECDF", "distinct_counts", "wasserstein_ks"]


def distinct_counts(sorted_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of an ascending array and how often each occurs."""
    v = np.asarray(sorted_values, dtype=float)
    if v.size == 0:
        return v, np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate([[True], v[1:] != v[:-1]]))
    counts = np.diff(np.append(starts, v.size))
    return v[starts], counts


@dataclass(frozen=True)
class ReferenceECDF:
    """The reference's empirical CDF, prepared for :func:`wasserstein_ks`."""

    values: np.ndarray  #: distinct reference values, ascending
    shares: np.ndarray  #: F_ref at each value
    integral: np.ndarray  #: ∫_{-∞}^{value} F_ref
    rows: int

    @classmethod
    def from_sorted(cls, sorted_values: ArrayLike) -> ReferenceECDF:
        """From the ascending finite reference values (ties allowed)."""
        return cls.from_counts(*distinct_counts(np.asarray(sorted_values, dtype=float)))

    def counts(self) -> np.ndarray:
        """How often each distinct value occurs: with ``values``, all :meth:`from_counts`
        needs to rebuild this ECDF exactly (kept by a reference cache)."""
        return np.diff(np.rint(self.shares * self.rows).astype(np.int64), prepend=0)

    @classmethod
    def from_counts(cls, u: np.ndarray, counts: np.ndarray) -> ReferenceECDF:
        """From the distinct values, ascending, and how often each occurs."""
        rows = int(counts.sum())
        shares = np.cumsum(counts) / rows if rows else np.zeros(0)
        integral = np.concatenate([[0.0], np.cumsum(shares[:-1] * np.diff(u))]) if rows \
            else np.zeros(0)
        return cls(u, shares, integral, rows)


def wasserstein_ks(reference: ReferenceECDF, sorted_values: ArrayLike) -> tuple[float, float]:
    """Exact Wasserstein-1 distance (not normed) and KS statistic between the reference and
    one window's ascending finite values. NaN, NaN when either side is empty."""
    c, counts = distinct_counts(np.asarray(sorted_values, dtype=float))
    if c.size == 0 or reference.rows == 0:
        return float("nan"), float("nan")
    u, shares, integral = reference.values, reference.shares, reference.integral
    level = np.cumsum(counts) / counts.sum()  # F_window on [c_i, c_{i+1})
    j = np.searchsorted(u, c, side="right") - 1  # last reference value <= c
    jj = np.maximum(j, 0)
    f_c = np.where(j >= 0, shares[jj], 0.0)  # F_ref(c)
    h_c = np.where(j >= 0, integral[jj] + shares[jj] * (c - u[jj]), 0.0)  # ∫ F_ref to c
    on_value = (j >= 0) & (u[jj] == c)
    js = j - on_value  # last reference value < c
    f_below = np.where(js >= 0, shares[np.maximum(js, 0)], 0.0)  # F_ref just below c
    # inner intervals [a, b) = [c_i, c_{i+1}) at level C = C_i, i < k
    a, b, lv = c[:-1], c[1:], level[:-1]
    h_a, h_b = h_c[:-1], h_c[1:]
    first = np.minimum(np.searchsorted(shares, lv, side="left"), u.size - 1)
    x_star = u[first]  # first reference value where F_ref >= C
    below = np.where(  # ∫_a^{clamp(x*)} (C − F_ref) >= 0
        x_star <= a, 0.0,
        np.where(x_star >= b, lv * (b - a) - (h_b - h_a),
                 lv * (x_star - a) - (integral[first] - h_a)))
    inner = (h_b - h_a) - lv * (b - a) + 2.0 * below
    tail = (u[-1] - c[-1]) - (integral[-1] - h_c[-1]) if c[-1] < u[-1] else 0.0
    w1 = float(h_c[0] + inner.sum() + tail)
    ks = max(float(np.abs(f_c - level).max()), float(f_below[0]),
             float(np.abs(f_below[1:] - lv).max()) if lv.size else 0.0)
    return max(w1, 0.0), ks
