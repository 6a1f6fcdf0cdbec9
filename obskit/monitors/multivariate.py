"""Multivariate drift of each window against the reference: what per-feature tests miss.

Two fitted monitors, both taking ``features`` (name → ``numeric`` / ``categorical`` /
``boolean``):

- :class:`DomainClassifierMonitor` trains a gradient-boosting classifier to tell reference
  rows from window rows; its cross-validated ROC AUC is the drift score (0.5: the two are
  indistinguishable). It reads **bounded, deterministic samples** pulled from the engine.
- :class:`PCAReconstructionMonitor` fits a standard scaler and a PCA on the reference and
  reports each window's mean reconstruction error, computed **in the engine** (scaling,
  projection and reconstruction are linear, so the error is an Ibis expression).

Samples are chosen by a hash of each row's content (``request_id`` when the table has one,
else the feature values and ``timestamp``), salted with ``random_state``: the same inputs
give the same rows, on every run of the same engine version.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits

from obskit.exceptions import ConfigError, InputError
from obskit.io.casting import is_infinite
from obskit.monitors._base import check_fitted, with_window
from obskit.profiles import W, category_counts
from obskit.profiles.row_anomaly_reasons import row_hash
from obskit.schema import visible_columns

__all__ = ["DomainClassifierMonitor", "PCAReconstructionMonitor", "MIN_WINDOW_ROWS"]

#: Windows with fewer usable rows than this get no domain-classifier score.
MIN_WINDOW_ROWS = 50
#: Categories kept per feature (the most frequent in the reference); the rest are "other".
TOP_CATEGORIES = 250
_KINDS = ("numeric", "categorical", "boolean", "datetime")
_DC_COLUMNS = [W, "method", "value", "threshold", "drifted", "rows_used"]
_PCA_COLUMNS = [W, "method", "value", "threshold_lower", "threshold_upper", "drifted"]


# --------------------------------------------------------------------------- helpers


def _check_features(features: Mapping[str, str]) -> dict[str, str]:
    out = dict(features)
    for name, kind in out.items():
        if kind not in _KINDS:
            raise ConfigError(
                f"config key 'features.{name}': expected one of {', '.join(_KINDS)}, "
                f"got {kind!r}", key=f"features.{name}")
    return out


def _check_columns(table: ir.Table, features: Sequence[str], what: str) -> None:
    missing = [f for f in features if f not in table.columns]
    if missing:
        raise InputError(f"{what} table has no column {missing[0]!r} (a configured feature); "
                         f"its columns are {visible_columns(table.columns)}", column=missing[0])


def _finite(value: ir.FloatingValue) -> ir.FloatingValue:
    """``value`` with NaN and ±inf turned into missing."""
    return ibis.ifelse(value.isnan() | is_infinite(value), ibis.null("float64"), value)


def _row_hash(table: ir.Table, features: Sequence[str], seed: int) -> ir.StringValue:
    """A deterministic pseudo-random key per row: a hash of its content and ``seed``."""
    return row_hash(table, features, str(seed))


def _top_categories(reference: ir.Table, feature: str) -> list[str]:
    counts = category_counts(reference, feature, by_window=False)
    counts = counts.sort_values(["n", "category"], ascending=[False, True], kind="stable")
    return counts.category.head(TOP_CATEGORIES).tolist()


# --------------------------------------------------------------------------- domain classifier


class DomainClassifierMonitor:
    """Cross-validated ROC AUC of a classifier that separates reference rows from a window's.

    Per window, up to ``sample_rows`` rows are sampled in the engine (a window function over
    a content hash), the same number of rows is taken from the reference sample drawn once
    in :meth:`fit`, and a ``HistGradientBoostingClassifier`` (native categorical support,
    native missing values; early stopping on a tenth of each training fold, so a window like
    the reference costs a few trees) is cross-validated on the balanced set with ``cv``
    stratified folds. The window drifted when the pooled out-of-fold AUC is
    ``>= threshold``.

    Parameters
    ----------
    features : mapping
        Feature name → ``numeric`` / ``categorical`` / ``boolean``.
    sample_rows : int, default 5000
        Most rows read per side (reference and each window).
    threshold : float, default 0.55
        AUC at or above which a window is flagged.
    cv : int, default 5
        Stratified cross-validation folds.
    random_state : int, default 0
        Salts the sampling hash and seeds the folds and the classifier.

    Notes
    -----
    Categories are fixed from the reference (its ``TOP_CATEGORIES`` most frequent values);
    any other value, including ones never seen in the reference, is one "other" code.
    Booleans are 0/1; NaN and ±inf are missing values. Windows whose sample has fewer than
    ``MIN_WINDOW_ROWS`` rows get no score: ``value`` missing (NaN in the float column) and
    ``drifted`` ``None``. ``rows_used`` is the number of window rows used (as many reference
    rows are used beside them). One query fetches every window's sample, so at most
    ``sample_rows`` × windows rows come back to Python.
    """

    method = "domain_classifier"

    def __init__(self, features: Mapping[str, str], *, sample_rows: int = 5000,
                 threshold: float = 0.55, cv: int = 5, random_state: int = 0) -> None:
        self.features = _check_features(features)
        if sample_rows < MIN_WINDOW_ROWS:
            raise ConfigError(f"sample_rows: expected at least {MIN_WINDOW_ROWS}, "
                              f"got {sample_rows}", key="sample_rows")
        if not 2 <= cv <= MIN_WINDOW_ROWS:
            raise ConfigError(f"cv: expected 2..{MIN_WINDOW_ROWS} folds, got {cv}", key="cv")
        self.sample_rows = sample_rows
        self.threshold = threshold
        self.cv = cv
        self.random_state = random_state

    def fit(self, reference: ir.Table) -> DomainClassifierMonitor:
        """Fix the categories and draw the reference sample (≤ ``sample_rows`` rows), once."""
        _check_columns(reference, list(self.features), "reference")
        present = reference.aggregate(
            **{f"n{i}": reference[f].count() for i, f in enumerate(self.features)}
        ).execute().iloc[0] if self.features else pd.Series(dtype="int64")
        self.features_ = [f for i, f in enumerate(self.features) if present[f"n{i}"] > 0]
        self.categories_ = {f: _top_categories(reference, f) for f in self.features_
                            if self.features[f] == "categorical"}
        sample = self._select(reference).order_by("_h").limit(self.sample_rows).execute()
        self.reference_sample_ = self._encode(sample.sort_values("_h", kind="stable"))
        return self

    def calculate(self, current: ir.Table) -> pd.DataFrame:
        """One row per window: ``window_index, method, value, threshold, drifted, rows_used``."""
        check_fitted(self, "reference_sample_")
        current = with_window(current)
        _check_columns(current, self.features_, "current")
        n_ref = len(self.reference_sample_)
        if not self.features_ or n_ref < MIN_WINDOW_ROWS:
            return pd.DataFrame(columns=_DC_COLUMNS)
        t = self._select(current, window=True)
        rank = ibis.row_number().over(group_by=W, order_by=[t._h])
        t = t.filter(rank < min(self.sample_rows, n_ref))
        sample = t.execute().sort_values([W, "_h"], kind="stable")
        groups = [(int(w), self._encode(grp)) for w, grp in sample.groupby(W, sort=True)]
        # windows are independent fits, one process per core (the trees' Python loop holds
        # the GIL: threads would take turns); each fit single-threaded (joblib limits the
        # workers' OpenMP threads, and the limit below covers an in-process run): on small
        # samples OpenMP threads cost more than they give
        with threadpool_limits(limits=1, user_api="openmp"):
            values = Parallel(n_jobs=max(1, min(len(groups), os.cpu_count() or 1)),
                              prefer="processes")(
                delayed(self._window_auc)(x) for _, x in groups)
        rows = [{W: w, "method": self.method, "value": value, "threshold": self.threshold,
                 "drifted": None if value is None else bool(value >= self.threshold),
                 "rows_used": len(x)} for (w, x), value in zip(groups, values, strict=True)]
        return pd.DataFrame(rows, columns=_DC_COLUMNS)

    def _select(self, table: ir.Table, *, window: bool = False) -> ir.Table:
        cols: dict[str, ir.Value] = {"_h": _row_hash(table, self.features_, self.random_state)}
        for f in self.features_:
            col = table[f]
            cols[f] = col.cast("string") if self.features[f] == "categorical" \
                else _finite(col.cast("float64"))
        return table.select(*([W] if window else []), **cols)

    def _encode(self, sample: pd.DataFrame) -> pd.DataFrame:
        """Floats for the classifier: categories → codes (other = last code), missing → NaN."""
        out = {}
        for f in self.features_:
            values = sample[f]
            if f in self.categories_:
                known = self.categories_[f]
                codes = pd.Categorical(values, categories=known).codes.astype("float64")
                codes[codes < 0] = len(known)
                codes[values.isna().to_numpy()] = np.nan
                out[f] = codes
            else:
                out[f] = pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()
        return pd.DataFrame(out, columns=self.features_)

    def _window_auc(self, window: pd.DataFrame) -> float | None:
        """The AUC against as many reference rows as the window has (None: too few)."""
        if len(window) < MIN_WINDOW_ROWS:
            return None
        return self._auc(self.reference_sample_.iloc[:len(window)], window)

    def _auc(self, reference: pd.DataFrame, window: pd.DataFrame) -> float:
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.metrics import roc_auc_score
        from sklearn.model_selection import StratifiedKFold

        x = pd.concat([reference, window], ignore_index=True).to_numpy()
        y = np.r_[np.zeros(len(reference)), np.ones(len(window))]
        mask = np.array([f in self.categories_ for f in self.features_])
        folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state)
        scores = np.empty(len(y))
        for train, test in folds.split(x, y):
            # early stopping on a held-out tenth: a window like the reference stops
            # after a few trees instead of a hundred; the AUC is scored on the fold
            model = HistGradientBoostingClassifier(
                categorical_features=mask if mask.any() else None,
                early_stopping=True, validation_fraction=0.1, n_iter_no_change=5,
                random_state=self.random_state)
            model.fit(x[train], y[train])
            scores[test] = model.predict_proba(x[test])[:, 1]
        return float(roc_auc_score(y, scores))


# --------------------------------------------------------------------------- PCA reconstruction


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
        self.features = _check_features(features)
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
        """Encodings, means, scales and components from the reference; then its thresholds."""
        _check_columns(reference, list(self.features), "reference")
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
        self.explained_variance_ratio_ = ratio[:k]
        self._fit_thresholds(reference)
        return self

    def calculate(self, current: ir.Table) -> pd.DataFrame:
        """One row per window: ``window_index, method, value, threshold_lower,
        threshold_upper, drifted``."""
        check_fitted(self, "components_")
        current = with_window(current)
        _check_columns(current, self.features_, "current")
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
        """``table`` with a ``_error`` column: each row's reconstruction error."""
        check_fitted(self, "components_")
        raw = self._encoded(table, self.features_)
        z = {f"_z{j}": (raw[f].fill_null(m) - m) / s for j, (f, m, s) in
             enumerate(zip(self.features_, self.mean_, self.scale_, strict=True))}
        t = table.mutate(**z)
        v = self.components_
        p, k = v.shape
        t = t.mutate(**{f"_t{c}": sum((float(v[j, c]) * t[f"_z{j}"] for j in range(p)),
                                      ibis.literal(0.0)) for c in range(k)})
        # V has orthonormal columns: |z − V Vᵀz|² = |z|² − |Vᵀz|² (clipped at 0 against
        # rounding), p + k squares per row instead of p·k more products
        squares = sum((t[f"_z{j}"] * t[f"_z{j}"] for j in range(p)), ibis.literal(0.0)) - sum(
            (t[f"_t{c}"] * t[f"_t{c}"] for c in range(k)), ibis.literal(0.0))
        error = ibis.greatest(squares, 0.0).sqrt()
        return t.mutate(_error=error).drop(*z, *(f"_t{c}" for c in range(k)))

    def errors_by(self, table: ir.Table, key: ir.Value) -> pd.DataFrame:
        """Mean reconstruction error and rows per value of ``key`` (``key``, value, rows)."""
        t = self.row_error(table.mutate(_key=key))
        out = t.group_by("_key").aggregate(value=t._error.mean(), rows=t.count())
        return out.order_by("_key").execute().rename(columns={"_key": key.get_name()})

    def _fit_thresholds(self, reference: ir.Table) -> None:
        order: list[Any] = ["timestamp"] if "timestamp" in reference.columns else []
        order.append(_row_hash(reference, self.features_, 0))
        rn = ibis.row_number().over(order_by=order)
        n = reference.count().execute()
        chunk = (rn * self.chunks / n).floor().cast("int64")
        chunk_errors = self.errors_by(reference, chunk.name("chunk"))
        self.reference_chunk_errors_ = chunk_errors
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
                out[f] = _finite(col.cast("float64"))
        return out
