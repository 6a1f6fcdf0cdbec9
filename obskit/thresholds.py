"""Drift thresholds and false-alarm control: constant or reference-derived thresholds,
Benjamini–Hochberg across features, and persistence over consecutive windows.

Defaults (config ``drift``):

- ``threshold: {kind: constant}`` — each method's own threshold (Evidently's defaults).
  ``{kind: reference, k: 3, chunks: 10}`` derives it from the reference instead: the
  reference is cut into ``chunks`` equal row chunks (in timestamp order when logged), each
  chunk is compared with the whole reference, and the threshold is ``mean + k·σ`` of
  those values for distances (``mean − k·σ`` for p-values; σ is the population standard
  deviation), as NannyML's standard-deviation thresholds.
- ``fdr: 0.05`` — within each window the p-values of the features judged by a p-value
  method with a constant threshold are adjusted by Benjamini–Hochberg; such a feature is
  drifted when its adjusted p-value is ``<= fdr`` (the false discovery rate). ``false``
  judges raw p-values against each feature's threshold.
- ``persistence: 1`` — a feature is ``persistent`` (alert-worthy) when it drifted in this
  window and the ``k − 1`` windows before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "ConstantThreshold",
    "ReferenceThreshold",
    "Threshold",
    "benjamini_hochberg",
    "persistent_runs",
    "DEFAULT_FDR",
    "DEFAULT_PERSISTENCE",
]

DEFAULT_FDR = 0.05
DEFAULT_PERSISTENCE = 1


@dataclass(frozen=True)
class ConstantThreshold:
    """The rule's threshold as given (or the method's default)."""

    kind: str = "constant"


@dataclass(frozen=True)
class ReferenceThreshold:
    """A threshold derived from the reference: ``mean ± k·σ`` of the statistic of
    ``chunks`` reference chunks against the whole reference."""

    k: float = 3.0
    chunks: int = 10
    kind: str = "reference"

    def derive(self, chunk_values: ArrayLike, *, lower: bool) -> float:
        """``mean − k·σ`` (``lower``, for p-values) or ``mean + k·σ`` of the finite values.

        Parameters
        ----------
        chunk_values : array-like of shape (n_chunks,)
            The statistic on each reference chunk (non-finite values are left out).
        lower : bool
            Derive a lower limit (p-values: smaller means more drift).

        Returns
        -------
        float
            The threshold, in the statistic's units (NaN without a finite value).

        Examples
        --------
        >>> ReferenceThreshold(k=2).derive([1.0, 3.0], lower=False)
        4.0
        """
        v = np.asarray(chunk_values, dtype=float)
        v = v[np.isfinite(v)]
        if not len(v):
            return float("nan")
        spread = self.k * float(np.std(v))
        return float(np.mean(v) - spread if lower else np.mean(v) + spread)


Threshold = ConstantThreshold | ReferenceThreshold


def benjamini_hochberg(p_values: ArrayLike) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (NaN entries stay NaN and are not counted).

    Equals ``scipy.stats.false_discovery_control(p, method="bh")`` on the finite entries.

    Parameters
    ----------
    p_values : array-like of shape (n,)
        p-values in [0, 1]; NaN where there is none.

    Returns
    -------
    ndarray of shape (n,)
        The adjusted p-values, NaN where the input was.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = len(ok)
    if not m:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    scaled = p[order] * m / np.arange(1, m + 1)
    out[order] = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    return out


def persistent_runs(drifted: Sequence[bool | None], k: int) -> list[bool]:
    """For verdicts in window order: drifted in this window and the ``k − 1`` before it.
    A window not judged (``None``) breaks the run.

    Parameters
    ----------
    drifted : sequence of bool or None
        One verdict per window, in window order.
    k : int
        The run length (``persistence``), at least 1.

    Returns
    -------
    list of bool
        One per window.

    Examples
    --------
    >>> persistent_runs([True, True, False, True, True, True], 2)
    [False, True, False, False, True, True]
    """
    out, run = [], 0
    for d in drifted:
        run = run + 1 if d is not None and bool(d) else 0
        out.append(run >= k)
    return out
