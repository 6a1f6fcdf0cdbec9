"""Per-feature drift of each window against the reference.

How each method is computed in the engine:

- ``wasserstein`` and ``ks``: exactly, from every value (the KS p-value from the statistic
  and both sizes as ``scipy.stats.ks_2samp``). When a side has at most ``fetch_values``
  values (rows × numeric features, default 20 million), one query brings its numeric
  columns back and numpy sorts them: the reference once (:class:`ReferenceECDF`, which
  also gives its standard deviation, quantiles and histograms), then each window against
  it. Larger data stays in the engine, which sorts both sides per feature
  (:func:`~obskit.profiles.wasserstein_by_window`). Both give the same values; numpy is
  the faster on one machine (``benchmarks/``).
- ``anderson`` and ``cramer_von_mises``: on random samples of at most ``sample_rows``
  (10,000) finite values per side, drawn in the engine (exact when a side is smaller).
- binned methods on a numeric feature with more than 20 unique reference values: on a
  histogram whose Sturges edges are fixed ONCE from the reference (min, max, rows) and
  reused for every window, outer bins open-ended. Evidently instead bins reference and
  current together per comparison, so values differ slightly; the pure functions in
  :mod:`obskit.stattests.drift_rules` reproduce Evidently exactly given Evidently's bins.
- everything else: on counts per category (numeric values as categories).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from obskit.config import DriftRule
from obskit.monitors._base import check_fitted, with_window
from obskit.monitors.drift_numpy import (
    ecdf_arrays,
    ecdfs_from_arrays,
    engine_reference_stats,
    fetch_batches,
    finite_sorted,
    reference_ecdfs,
    sorted_histogram,
    sorted_reference_stats,
    threaded,
    window_wasserstein_ks,
)
from obskit.profiles import (
    FETCH_VALUES,
    W,
    by_window,
    category_counts,
    group_by_window,
    numeric_histogram,
    wasserstein_by_window,
)
from obskit.profiles.drift import (
    category_counts_of,
    histogram_by_window,
    numeric_columns,
    reference_chunks,
    sample_by_window,
)
from obskit.schema import is_numeric_type
from obskit.stattests import STD_FLOOR, ReferenceECDF
from obskit.stattests.drift_rules import (
    BIN_UNIQUE_LIMIT,
    METHODS,
    DriftMethod,
    counts_from_samples,
    ks_pvalue_from_statistic,
    sturges_edges,
)
from obskit.thresholds import (
    DEFAULT_FDR,
    DEFAULT_PERSISTENCE,
    ConstantThreshold,
    ReferenceThreshold,
    benjamini_hochberg,
    persistent_runs,
)

__all__ = ["DriftMonitor", "HISTOGRAM_BINS", "SAMPLE_ROWS", "FETCH_VALUES", "COLUMNS"]

#: bins of the reference-vs-current figures (``distributions``)
HISTOGRAM_BINS = 20
#: rows per side sampled for the Anderson–Darling and Cramér–von Mises tests
SAMPLE_ROWS = 10_000
#: the columns of :meth:`DriftMonitor.calculate`
COLUMNS = [W, "feature", "method", "value", "threshold", "threshold_kind", "drifted",
           "p_value", "adjusted", "persistent"]


class DriftMonitor:
    """Per-feature drift of each window against the reference.

    Parameters
    ----------
    features : mapping
        Feature name → ``numeric`` / ``categorical`` / ``boolean``.
    rules : mapping
        Feature name → :class:`~obskit.config.DriftRule` (method and threshold).
    threshold : ConstantThreshold or ReferenceThreshold
        How thresholds are found for rules that do not say (default: constant).
    persistence : int
        Consecutive drifted windows before a feature is ``persistent`` (default 1).
    fdr : float or None
        Benjamini–Hochberg false discovery rate across the p-value features of each window
        (default 0.05); None judges raw p-values against each threshold.
    sample_rows : int
        Rows per side for the sample-based tests (default 10,000).
    fetch_values : int
        Largest rows × numeric features of a side brought back to be sorted in numpy for
        the exact statistics (default 20 million, 160 MB); larger sides are sorted in the
        engine. 0 keeps everything in the engine.
    """

    #: fitted state a cache does not pickle: the reference ECDFs (kept as arrays instead,
    #: :meth:`cache_arrays`), the last current table's counts (for :meth:`distributions`)
    transient_state = ("ecdf_", "totals_")

    def __init__(self, features: Mapping[str, str], rules: Mapping[str, DriftRule], *,
                 threshold: ConstantThreshold | ReferenceThreshold | None = None,
                 persistence: int = DEFAULT_PERSISTENCE, fdr: float | None = DEFAULT_FDR,
                 sample_rows: int = SAMPLE_ROWS, fetch_values: int = FETCH_VALUES) -> None:
        self.features = dict(features)
        self.rules = dict(rules)
        self.threshold = threshold or ConstantThreshold()
        self.persistence = persistence
        self.fdr = fdr
        self.sample_rows = sample_rows
        self.fetch_values = fetch_values

    def _method(self, feature: str) -> DriftMethod:
        return METHODS.get(self.rules[feature].method)

    def _threshold_rule(self, feature: str) -> ConstantThreshold | ReferenceThreshold:
        return self.rules[feature].threshold_rule or self.threshold

    def fit(self, reference: ir.Table) -> DriftMonitor:
        """Compute the reference statistics, bins, category counts, samples and thresholds, once.

        Parameters
        ----------
        reference : ibis Table
            The typed reference log holding the monitored features.

        Returns
        -------
        DriftMonitor
            ``self``, fitted.
        """
        self.reference_ = reference
        self.std_: dict[str, float] = {}
        self.categories_: dict[str, pd.Series] = {}
        self.edges_: dict[str, np.ndarray] = {}
        self.reference_hist_: dict[str, dict[str, Any]] = {}
        self.bins_: dict[str, np.ndarray] = {}
        self.reference_bins_: dict[str, np.ndarray] = {}
        self.reference_sample_: dict[str, np.ndarray] = {}
        self.thresholds_: dict[str, float] = {}
        self.ecdf_: dict[str, ReferenceECDF] = {}
        numeric = [f for f, kind in self.features.items() if is_numeric_type(kind)]
        if numeric:
            sorted_values = self._sorted_reference(numeric)
            if sorted_values is not None:
                stats = sorted_reference_stats(numeric, sorted_values)
                self.ecdf_ = reference_ecdfs({f: sorted_values[f] for f in self._exact_features()
                                     if f in sorted_values})
            else:
                stats = engine_reference_stats(reference, numeric)
            for i, f in enumerate(numeric):
                self.std_[f] = float(stats[f"s{i}"]) if pd.notna(stats[f"s{i}"]) else 0.0
                lo, hi = stats[f"lo{i}"], stats[f"hi{i}"]
                lo = float(lo) if pd.notna(lo) else 0.0
                hi = float(hi) if pd.notna(hi) and hi > lo else lo + 1.0
                edges = np.linspace(lo, hi, HISTOGRAM_BINS - 1)
                self.edges_[f] = np.concatenate([[-np.inf], edges, [np.inf]])
                self.reference_hist_[f] = {
                    "edges": self.edges_[f],
                    "counts": sorted_histogram(sorted_values[f], self.edges_[f])
                    if sorted_values is not None
                    else numeric_histogram(reference, f, self.edges_[f])}
                method = self._method(f)
                n = int(stats[f"n{i}"] or 0)
                if method.kind == "categorical" and int(stats[f"u{i}"] or 0) > BIN_UNIQUE_LIMIT:
                    bins = sturges_edges(float(stats[f"min{i}"]), float(stats[f"max{i}"]), n)
                    self.bins_[f] = bins
                    self.reference_bins_[f] = sorted_histogram(sorted_values[f], bins) \
                        if sorted_values is not None else numeric_histogram(reference, f, bins)
                if method.needs_sample:
                    ref = with_window(reference.drop(W) if W in reference.columns
                                      else reference)
                    self.reference_sample_[f] = sample_by_window(
                        ref, f, self.sample_rows)[f].to_numpy(dtype=float)
        counted = category_counts_of(reference, self._category_features(), by_window=False)
        for f, counts in counted.items():
            self.categories_[f] = counts.set_index("category").n.astype("int64")
        derived = {f for f in self.features
                   if isinstance(self._threshold_rule(f), ReferenceThreshold)}
        for chunks in sorted({self._threshold_rule(f).chunks for f in derived}):  # type: ignore[union-attr]
            same = [f for f in derived if self._threshold_rule(f).chunks == chunks]  # type: ignore[union-attr]
            values = self._values(reference_chunks(reference, chunks), same)
            for f in same:
                rule = self._threshold_rule(f)
                assert isinstance(rule, ReferenceThreshold)
                got = [v for (w, g), v in values.items() if g == f]
                self.thresholds_[f] = rule.derive(got, lower=self._method(f).is_pvalue)
        return self

    def cache_arrays(self) -> dict[str, np.ndarray]:
        """The reference ECDFs as arrays, for a reference cache to keep beside the state."""
        return ecdf_arrays(list(self.features), getattr(self, "ecdf_", {}))

    def restore_arrays(self, arrays: Mapping[str, np.ndarray]) -> None:
        """Rebuild the reference ECDFs, exactly, from :meth:`cache_arrays`."""
        self.ecdf_ = ecdfs_from_arrays(list(self.features), arrays)

    def _exact_features(self) -> list[str]:
        """Numeric features whose method needs every value (Wasserstein, KS)."""
        return [f for f, kind in self.features.items() if is_numeric_type(kind)
                and self._method(f).kind == "numeric" and not self._method(f).needs_sample]

    def _category_features(self) -> list[str]:
        """Features compared by counts per category (numeric values as categories)."""
        return [f for f, kind in self.features.items() if not is_numeric_type(kind)
                or self._method(f).kind == "categorical" and f not in self.bins_]

    def _sorted_reference(self, cols: list[str]) -> dict[str, np.ndarray] | None:
        """Each column's finite reference values, ascending, or None when too many."""
        planned = fetch_batches(self.reference_, cols, self.fetch_values)
        if planned is None:
            return None
        rows, batches = planned
        out: dict[str, np.ndarray] = {}
        for batch in batches:
            columns = numeric_columns(self.reference_, batch, rows=rows)
            out.update(zip(batch, threaded(finite_sorted, [columns[f] for f in batch]),
                           strict=True))
        return out

    def _exact_by_window(self, current: ir.Table, features: list[str],
                         totals: dict[str, Any]) -> dict[str, pd.DataFrame]:
        """Feature → Wasserstein-1 and KS statistic per window where it has values
        (columns ``window_index, wasserstein, ks, n_ref, n_cur``); the histograms of the
        features compared in numpy go into ``totals``."""
        ecdf = self.__dict__.setdefault("ecdf_", {})  # not restored by a reference cache
        missing = [f for f in features if f not in ecdf]
        if missing:  # restored from a cache, or fitted on a reference too big to fetch
            fetched = self._sorted_reference(missing)
            if fetched is not None:
                ecdf.update(reference_ecdfs(fetched))
        local = [f for f in features if f in ecdf]
        out = {f: wasserstein_by_window(self.reference_, current, f)
               for f in features if f not in ecdf}
        planned = fetch_batches(current, local, self.fetch_values) if local else (0, [])
        if planned is None:
            out.update({f: wasserstein_by_window(self.reference_, current, f) for f in local})
            return out
        rows, batches = planned
        for batch in batches:
            columns = numeric_columns(current, batch, by_window=True, rows=rows)
            split = partial(window_wasserstein_ks, columns, group_by_window(columns), ecdf,
                            self.edges_)
            for f, (frame, hist) in zip(batch, threaded(split, batch), strict=True):
                out[f], totals[f] = frame, hist
        return out

    def _values(self, current: ir.Table, features: list[str], totals: dict[str, Any] | None = None
                ) -> dict[tuple[int, str], float]:
        """(window, feature) → the method's value, for every window where the feature has
        data; the whole table's counts (histogram, or counts per category) of the features
        that had them on the way go into ``totals``."""
        out: dict[tuple[int, str], float] = {}
        totals = {} if totals is None else totals
        exact = self._exact_by_window(current, [f for f in features
                                                if f in self._exact_features()], totals)
        categories = category_counts_of(current, [f for f in features
                                                  if f in self._category_features()])
        for f, counted in categories.items():
            totals[f] = counted.groupby("category").n.sum()
        for f in features:
            method = self._method(f)
            if method.kind == "numeric" and not method.needs_sample:
                e = exact[f]
                for w, wasserstein, ks, n_ref, n_cur in zip(
                        e[W].to_numpy(), e["wasserstein"].to_numpy(), e["ks"].to_numpy(),
                        e["n_ref"].to_numpy(), e["n_cur"].to_numpy(), strict=True):
                    if method.name == "wasserstein":
                        value = wasserstein / max(self.std_[f], STD_FLOOR)
                    elif method.name == "ks":
                        value = ks_pvalue_from_statistic(ks, int(n_ref), int(n_cur))
                    else:  # a numeric method registered later: rebuild from the sample path
                        raise NotImplementedError(method.name)
                    out[int(w), f] = float(value)
            elif method.kind == "numeric":
                sample = sample_by_window(current, f, self.sample_rows)
                for w, grp in by_window(sample):
                    values, rc, cc = counts_from_samples(self.reference_sample_[f],
                                                         grp[f].to_numpy(dtype=float))
                    out[w, f] = float(method.function(values, rc, cc,
                                                           reference_std=self.std_[f]))
            elif f in self.bins_:
                for w, hist in histogram_by_window(current, f, self.bins_[f]).items():
                    out[w, f] = float(method.function(self.reference_bins_[f], hist))
            else:
                ref = self.categories_[f]
                for w, grp in by_window(categories[f]):
                    counts = grp.set_index("category").n
                    keys = sorted(set(ref.index) | set(counts.index))
                    out[w, f] = float(method.function(
                        ref.reindex(keys, fill_value=0).to_numpy(),
                        counts.reindex(keys, fill_value=0).to_numpy()))
        return out

    def calculate(self, current: ir.Table) -> pd.DataFrame:
        """Judge every feature in every window against the reference.

        Parameters
        ----------
        current : ibis Table
            The typed current log, with ``window_index`` (without it, one window 0).

        Returns
        -------
        DataFrame
            One row per (window, feature), columns :data:`COLUMNS`. ``value`` is the method's
            statistic; ``threshold`` and ``threshold_kind`` (``constant``, ``reference`` or
            ``fdr``) what it was judged against; ``drifted`` the verdict of this window (None:
            not judged); ``p_value`` the p-value (p-value methods, else None); ``adjusted`` the
            Benjamini–Hochberg adjusted p-value across this window's p-value features (None when
            ``fdr`` is off or not applicable); ``persistent``: drifted in this window and the
            ``persistence − 1`` before.

        Raises
        ------
        NotFittedError
            When :meth:`fit` has not been called.
        """
        check_fitted(self, "std_")
        totals: dict[str, Any] = {}
        values = self._values(with_window(current), list(self.features), totals)
        self.totals_ = (current, totals)
        rows: list[dict[str, Any]] = []
        for (w, f), value in sorted(values.items()):
            method, rule = self._method(f), self.rules[f]
            kind = self._threshold_rule(f).kind
            threshold = self.thresholds_[f] if kind == "reference" else rule.threshold
            rows.append({W: w, "feature": f, "method": method.name, "value": value,
                         "threshold": threshold, "threshold_kind": kind,
                         "p_value": value if method.is_pvalue else None, "adjusted": None})
        frame = pd.DataFrame(rows, columns=COLUMNS)
        if self.fdr is not None and len(frame):
            bh = (frame.p_value.notna()) & (frame.threshold_kind == "constant")
            for _, idx in frame[bh].groupby(W).groups.items():
                adjusted = benjamini_hochberg(frame.loc[idx, "p_value"].astype(float))
                frame.loc[idx, "adjusted"] = [None if np.isnan(a) else float(a)
                                              for a in adjusted]
                frame.loc[idx, "threshold"] = self.fdr
                frame.loc[idx, "threshold_kind"] = "fdr"
        frame["drifted"] = [self._verdict(r) for r in frame.itertuples()]
        frame["persistent"] = False
        for _, grp in frame.groupby("feature", sort=False):
            grp = grp.sort_values(W)
            frame.loc[grp.index, "persistent"] = persistent_runs(list(grp.drifted),
                                                                 self.persistence)
        frame["persistent"] = frame["persistent"].astype(bool)
        for col in ("p_value", "adjusted"):
            frame[col] = pd.Series([None if v is None or pd.isna(v) else float(v)
                                    for v in frame[col]], index=frame.index, dtype=object)
        return frame[COLUMNS]

    def _verdict(self, r: Any) -> bool | None:
        value = r.adjusted if r.threshold_kind == "fdr" else r.value
        if value is None or not np.isfinite(value) or not np.isfinite(r.threshold):
            return None
        if r.threshold_kind == "fdr":
            return bool(value <= r.threshold)
        return METHODS.get(r.method).drifted(float(value), float(r.threshold))

    def distributions(self, current: ir.Table) -> dict[str, dict[str, Any]]:
        """Reference and whole-current distributions per feature, for figures.

        Parameters
        ----------
        current : ibis Table
            The typed current log.

        Returns
        -------
        dict of str to dict
            Numeric features: ``{"kind": "numeric", "edges", "reference", "current"}`` (bin
            edges, open-ended outer bins as None; counts per bin); categorical ones:
            ``{"kind": "categorical", "categories", "reference", "current"}`` (counts per
            category, the reference's most frequent first).

        Raises
        ------
        NotFittedError
            When :meth:`fit` has not been called.
        """
        check_fitted(self, "std_")
        out: dict[str, dict[str, Any]] = {}
        seen: tuple[Any, dict[str, Any]] = getattr(self, "totals_", (None, {}))  # by calculate
        totals = seen[1] if seen[0] is current else {}
        for f in self.features:
            if f in self.edges_:
                cur = totals[f] if f in totals else numeric_histogram(current, f, self.edges_[f])
                ref = self.reference_hist_[f]["counts"]
                edges = [None if not np.isfinite(e) else float(e) for e in self.edges_[f]]
                out[f] = {"kind": "numeric", "edges": edges,  # open-ended outer bins: null
                          "reference": ref.tolist(), "current": cur.tolist()}
            elif f in self.categories_:
                counts = totals[f] if f in totals else category_counts(
                    current, f, by_window=False).set_index("category").n
                ref = self.categories_[f]
                keys = sorted(set(ref.index) | set(counts.index), key=lambda k: -ref.get(k, 0))
                out[f] = {"kind": "categorical", "categories": [str(k) for k in keys],
                          "reference": ref.reindex(keys, fill_value=0).tolist(),
                          "current": counts.reindex(keys, fill_value=0).tolist()}
        return out
