"""Univariate drift methods: pure functions over aggregates, and a registry by name.

Defaults follow Evidently 0.7 for large references: Wasserstein distance normed by the
reference standard deviation for numeric features, Jensen–Shannon distance for categorical
ones, both with threshold 0.1 and "drifted" meaning ``value >= threshold``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.spatial import distance

from obskit._registry import Registry

__all__ = [
    "DriftMethod",
    "METHODS",
    "method_label",
    "wasserstein_distance_norm",
    "jensenshannon_distance",
    "category_shares",
    "STD_FLOOR",
    "ZERO_SHARE",
]

#: Evidently's floor for the reference standard deviation in the normed Wasserstein distance.
STD_FLOOR = 0.001
#: Evidently's replacement for a zero share before comparing categorical distributions.
ZERO_SHARE = 0.0001


@dataclass(frozen=True)
class DriftMethod:
    """A drift statistic: which feature kinds it applies to and its default threshold.

    ``kind`` is ``"numeric"`` (computed from ordered value counts) or ``"categorical"``
    (computed from category counts). Higher values mean more drift.
    """

    name: str
    kind: str
    default_threshold: float
    label: str
    description: str
    function: Callable[..., float]


METHODS: Registry[DriftMethod] = Registry("drift method")


def method_label(name: object) -> str:
    """A method's name for readers ("Wasserstein (normed)"); unknown names as given."""
    return METHODS.get(name).label if name in METHODS.names() else str(name)


def wasserstein_distance_norm(
    values: ArrayLike, reference_counts: ArrayLike, current_counts: ArrayLike, *,
    reference_std: float,
) -> float:
    """Wasserstein-1 distance between two empirical distributions, divided by the reference
    standard deviation (floored at ``STD_FLOOR``), from counts over shared sorted values.

    Parameters
    ----------
    values : array of float, sorted ascending, unique
        Every value seen in either sample.
    reference_counts, current_counts : arrays of int
        How often each value occurs in each sample.
    reference_std : float
        Population standard deviation of the reference sample.

    Examples
    --------
    >>> wasserstein_distance_norm([0.0, 1.0], [1, 1], [0, 2], reference_std=0.5)
    1.0
    """
    v = np.asarray(values, dtype=float)
    r = np.asarray(reference_counts, dtype=float)
    c = np.asarray(current_counts, dtype=float)
    if r.sum() == 0 or c.sum() == 0:
        return float("nan")
    gap = np.abs(np.cumsum(r) / r.sum() - np.cumsum(c) / c.sum())[:-1]
    return float(np.sum(gap * np.diff(v)) / max(reference_std, STD_FLOOR))


def category_shares(reference_counts: ArrayLike, current_counts: ArrayLike
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Shares of each category in each sample, zeros replaced by ``ZERO_SHARE`` (Evidently)."""
    r = np.asarray(reference_counts, dtype=float)
    c = np.asarray(current_counts, dtype=float)
    r, c = r / r.sum(), c / c.sum()
    return np.where(r == 0, ZERO_SHARE, r), np.where(c == 0, ZERO_SHARE, c)


def jensenshannon_distance(reference_counts: ArrayLike, current_counts: ArrayLike) -> float:
    """Jensen–Shannon distance (natural log) between category distributions, as Evidently.

    Counts are aligned per category; a category absent on one side counts zero.

    Examples
    --------
    >>> round(jensenshannon_distance([50, 50], [50, 50]), 6)
    0.0
    """
    if np.sum(reference_counts) == 0 or np.sum(current_counts) == 0:
        return float("nan")
    r, c = category_shares(reference_counts, current_counts)
    return float(distance.jensenshannon(r, c))


METHODS.register("wasserstein", DriftMethod(
    "wasserstein", "numeric", 0.1, "Wasserstein (normed)",
    "Wasserstein distance normed by the reference standard deviation",
    wasserstein_distance_norm,
))
METHODS.register("jensenshannon", DriftMethod(
    "jensenshannon", "categorical", 0.1, "Jensen–Shannon",
    "Jensen–Shannon distance between category shares",
    jensenshannon_distance,
))
