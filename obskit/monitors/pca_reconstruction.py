"""Multivariate drift by PCA reconstruction error, computed in the engine (NannyML's
method): see :class:`PCAReconstructionMonitor` and :mod:`obskit.monitors.multivariate`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from obskit.exceptions import ConfigError
from obskit.monitors._base import check_fitted, with_window
from obskit.monitors.multivariate import (
    TOP_CATEGORIES,
    check_feature_kinds,
    finite_or_null,
    require_feature_columns,
    sample_key,
)
from obskit.profiles import W, category_counts

__all__ = ["PCAReconstructionMonitor"]

_PCA_COLUMNS = [W, "method", "value", "threshold_lower", "threshold_upper", "drifted"]
#: Most reference rows whose errors set the thresholds: a larger reference is sampled by a
#: content hash (the same rows on every run), so the chunks hold up to a tenth of this each.
THRESHOLD_SAMPLE_ROWS = 200_000


class PCAReconstructionMonitor:
    """Mean PCA reconstruction error per window, computed in the engine (NannyML's method).

    Fit: each feature is encoded as a number (numeric as is, boolean 0/1, categorical as
    its share of the reference rows — frequency encoding, 0 for values outside the
    reference's ``TOP_CATEGORIES`` most frequent), missing values (null, NaN, ±inf) are
    imputed with the reference mean, the features are standardised (population standard
    deviation, as ``StandardScaler``) and a PCA keeps the fewest components explaining more
    than ``n_components`` of the variance (or exactly ``n_components`` when an int).

    A row's error is the Euclidean norm of ``z - V Vᵀ z`` (``z`` the scaled row, ``V`` the
    kept components); a window's value is the mean over its rows. The thresholds are the
    mean ± 3 standard deviations of the errors of ``chunks`` equal, timestamp-ordered
    chunks of the reference (lower limit clipped at 0); outside them, the window drifted.
    A reference of more than ``THRESHOLD_SAMPLE_ROWS`` rows is chunked on that many rows,
    chosen by a content hash (:func:`~obskit.monitors.multivariate.sample_key`): the same
    rows on every run; the encodings, means, scales and components use every row.

    Parameters
    ----------
    features : mapping
        Feature name → ``numeric`` / ``categorical`` / ``boolean``.
    n_components : float or int, default 0.65
        Share of explained variance to keep (0 < x < 1) or a number of components.
    chunks : int, default 10
        Reference chunks from which the thresholds are derived.
    """

    method = "pca_reconstruction"

    def __init__(self, features: Mapping[str, str], *, n_components: float | int = 0.65,
                 chunks: int = 10) -> None:
        self.features = check_feature_kinds(features)
        share = isinstance(n_components, float) and 0 < n_components < 1
        count = isinstance(n_components, int) and not isinstance(n_components, bool) \
            and n_components >= 1
        if not (share or count):
            raise ConfigError("n_components: expected a float in (0, 1) or an int >= 1, "
                              f"got {n_components!r}", key="n_components")
        if chunks < 2:
            raise ConfigError(f"chunks: expected at least 2, got {chunks}", key="chunks")
        self.n_components = n_components
        self.chunks = chunks

    def fit(self, reference: ir.Table) -> PCAReconstructionMonitor:
        """Learn the encodings, means, scales and components, then the thresholds.

        Parameters
        ----------
        reference : ibis Table
            The typed reference log holding the features.

        Returns
        -------
        PCAReconstructionMonitor
            ``self``, fitted.
        """
        require_feature_columns(reference, list(self.features), "reference")
        self.frequencies_: dict[str, dict[str, float]] = {}
        n_rows = int(reference.count().execute())
        for f, kind in self.features.items():
            if kind == "categorical" and n_rows:
                counts = category_counts(reference, f, by_window=False)
                counts = counts.sort_values(["n", "category"], ascending=[False, True],
                                            kind="stable").head(TOP_CATEGORIES)
                self.frequencies_[f] = {str(c): n / n_rows
                                        for c, n in zip(counts.category, counts.n, strict=True)}
        names = list(self.features)
        raw = self._encoded(reference, names) if names else {}
        means = reference.aggregate(**{f"m{i}": raw[f].mean() for i, f in enumerate(names)}
                                    ).execute().iloc[0] if names else pd.Series(dtype=float)
        self.features_ = [f for i, f in enumerate(names) if pd.notna(means[f"m{i}"])]
        self.mean_ = np.array([float(means[f"m{names.index(f)}"]) for f in self.features_])
        p = len(self.features_)
        self.scale_ = np.ones(p)
        self.components_ = np.zeros((p, 0))
        self.residual_components_ = np.eye(p)
        self.n_components_ = 0
        self.explained_variance_ratio_ = np.zeros(0)
        self.threshold_lower_: float | None = None
        self.threshold_upper_: float | None = None
        if p == 0:
            return self
        # second pass around the known means: the covariance of the imputed features
        d = {f: raw[f].fill_null(m) - m for f, m in zip(self.features_, self.mean_,
                                                         strict=True)}
        pairs = [(i, j) for i in range(p) for j in range(i, p)]
        cov_row = reference.aggregate(**{
            f"c{i}_{j}": (d[self.features_[i]] * d[self.features_[j]]).mean() for i, j in pairs
        }).execute().iloc[0]
        cov = np.zeros((p, p))
        for i, j in pairs:
            cov[i, j] = cov[j, i] = float(cov_row[f"c{i}_{j}"])
        std = np.sqrt(np.diag(cov))
        constant = std <= 10 * np.finfo(float).eps * np.maximum(1.0, np.abs(self.mean_))
        self.scale_ = np.where(constant, 1.0, std)
        corr = cov / np.outer(self.scale_, self.scale_)
        eigval, eigvec = np.linalg.eigh(corr)
        order = np.argsort(eigval)[::-1]
        eigval, eigvec = np.clip(eigval[order], 0.0, None), eigvec[:, order]
        total = eigval.sum()
        ratio = eigval / total if total > 0 else np.zeros(p)
        if isinstance(self.n_components, float):
            k = int(np.searchsorted(np.cumsum(ratio), self.n_components, side="right")) + 1
        else:
            k = self.n_components
        k = min(k, p)
        self.n_components_ = k
        self.components_ = eigvec[:, :k]
        # the discarded directions: the error is the norm of z's projection on them
        self.residual_components_ = eigvec[:, k:]
        self.explained_variance_ratio_ = ratio[:k]
        self._fit_thresholds(reference, n_rows)
        return self

    def calculate(self, current: ir.Table) -> pd.DataFrame:
        """Compare each window's mean reconstruction error with the reference's band.

        Parameters
        ----------
        current : ibis Table
            The typed current log, with ``window_index``.

        Returns
        -------
        DataFrame
            One row per window: ``window_index, method, value, threshold_lower,
            threshold_upper, drifted`` (``value``: the mean reconstruction error, in standardized
            units).

        Raises
        ------
        NotFittedError
            When :meth:`fit` has not been called.
        """
        check_fitted(self, "components_")
        current = with_window(current)
        require_feature_columns(current, self.features_, "current")
        if not self.features_:
            return pd.DataFrame(columns=_PCA_COLUMNS)
        errors = self.errors_by(current, current[W])
        lo, hi = self.threshold_lower_, self.threshold_upper_
        rows = [{W: int(r[W]), "method": self.method, "value": float(r.value),
                 "threshold_lower": lo, "threshold_upper": hi,
                 "drifted": bool(r.value < lo or r.value > hi)}
                for _, r in errors.iterrows()]
        return pd.DataFrame(rows, columns=_PCA_COLUMNS)

    def row_error(self, table: ir.Table) -> ir.Table:
        """Each row's reconstruction error, as an engine expression.

        Parameters
        ----------
        table : ibis Table
            A typed log holding the features.

        Returns
        -------
        ibis Table
            ``table`` with a ``_error`` column: each row's reconstruction error (standardized
            units).

        Raises
        ------
        NotFittedError
            When :meth:`fit` has not been called.
        """
        check_fitted(self, "components_")
        raw = self._encoded(table, self.features_)
        z = {f"_z{j}": (raw[f].fill_null(_f64(m)) - _f64(m)) / _f64(s) for j, (f, m, s) in
             enumerate(zip(self.features_, self.mean_, self.scale_, strict=True))}
        t = table.mutate(**z)
        # the error is |z − V Vᵀz| = |U Uᵀz| = |Uᵀz|, with U the discarded components (the
        # eigenvectors complete an orthonormal basis): p·min(k, p − k) products per row
        v = self.components_
        u = getattr(self, "residual_components_", v)  # a fit stored by an older obskit
        p = v.shape[0]
        basis = u if u.shape[1] <= v.shape[1] and u is not v else v

        def dot(c: int) -> ir.FloatingValue:
            return sum((_f64(basis[j, c]) * t[f"_z{j}"] for j in range(p)), _f64(0.0))

        t = t.mutate(**{f"_t{c}": dot(c) for c in range(basis.shape[1])})
        kept = sum((t[f"_t{c}"] * t[f"_t{c}"] for c in range(basis.shape[1])), _f64(0.0))
        if basis is v:  # |z|² − |Vᵀz|², clipped at 0 against rounding
            kept = ibis.greatest(sum((t[f"_z{j}"] * t[f"_z{j}"] for j in range(p)),
                                     _f64(0.0)) - kept, 0.0)
        return t.mutate(_error=kept.sqrt()).drop(*z, *(f"_t{c}" for c in
                                                        range(basis.shape[1])))

    def errors_by(self, table: ir.Table, key: ir.Value) -> pd.DataFrame:
        """Mean reconstruction error per value of a key.

        Parameters
        ----------
        table : ibis Table
            A typed log holding the features.
        key : ibis Value
            The grouping expression of ``table`` (a window, a segment).

        Returns
        -------
        DataFrame
            Columns ``key``, ``value`` (the mean error) and ``rows``, one row per key value.

        Raises
        ------
        NotFittedError
            When :meth:`fit` has not been called.
        """
        t = self.row_error(table.mutate(_key=key))
        out = t.group_by("_key").aggregate(value=t._error.mean(), rows=t.count())
        return out.order_by("_key").execute().rename(columns={"_key": key.get_name()})

    def _fit_thresholds(self, reference: ir.Table, n: int) -> None:
        key = sample_key(reference, self.features_, 0)
        if n > THRESHOLD_SAMPLE_ROWS:  # a top-N by hash: no sort of the whole reference
            reference = reference.mutate(_sample=key).order_by("_sample").limit(
                THRESHOLD_SAMPLE_ROWS)
            key, n = reference["_sample"], THRESHOLD_SAMPLE_ROWS
        order: list[Any] = ["timestamp"] if "timestamp" in reference.columns else []
        order.append(key)
        rn = ibis.row_number().over(order_by=order)
        chunk = (rn * self.chunks / n).floor().cast("int64")
        chunk_errors = self.errors_by(reference, chunk.name("chunk"))
        self.reference_chunk_errors_ = chunk_errors
        self.threshold_rows_ = n
        values = chunk_errors.value.to_numpy(dtype=float)
        mean, std = float(values.mean()), float(values.std())
        self.threshold_lower_ = max(mean - 3 * std, 0.0)
        self.threshold_upper_ = mean + 3 * std

    def _encoded(self, table: ir.Table, features: Sequence[str]) -> dict[str, ir.FloatingValue]:
        """Each feature as a float expression; missing (null, NaN, ±inf) stays null."""
        out = {}
        for f in features:
            col = table[f]
            if self.features[f] == "categorical":
                freq = col.cast("string").substitute(self.frequencies_.get(f, {}), else_=0.0)
                out[f] = ibis.ifelse(col.isnull(), ibis.null("float64"), freq.cast("float64"))
            else:
                out[f] = finite_or_null(col.cast("float64"))
        return out


def _f64(x: float) -> ir.FloatingValue:
    """A float64 literal (a bare Python float may reach the engine as a DECIMAL)."""
    return ibis.literal(float(x), type="float64")
