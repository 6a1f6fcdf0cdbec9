"""Anomalous predictions: single rows that failed, were slow, saw odd inputs or were
confidently wrong, ranked by severity, the top few per window kept for explanation.

Reasons and their severities are defined in :mod:`obskit.profiles.row_anomaly_reasons`; all but
``input_outlier`` are computed in the engine. ``input_outlier`` comes from an isolation
forest fitted on a bounded, deterministic reference sample; per window it scores a
bounded deterministic sample (``isolation_sample_rows``) plus the rows the engine
already ranked highest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from obskit.config import AnomalyConfig
from obskit.exceptions import ConfigError, InputError
from obskit.io.engine import fetch_frame
from obskit.monitors._base import check_fitted, with_window
from obskit.monitors.window_anomalies import reason_rarity
from obskit.profiles import W
from obskit.profiles.row_anomaly_reasons import (
    TOP_CATEGORIES,
    Reason,
    RowRules,
    known_categories,
    reason_counts,
    reference_limits,
    row_hash,
    row_reasons,
    select_rows,
    singleton_counts,
)
from obskit.schema import is_numeric_type, visible_columns

__all__ = ["RowAnomalyMonitor", "META_COLUMNS", "ENGINE_CANDIDATES", "MIN_ISOLATION_ROWS"]

#: log columns returned beside each anomalous row (those the table has)
META_COLUMNS = ("request_id", "trace_id", "model_version", "timestamp", "score",
                "prediction", "label", "latency_ms", "status", "error")
#: the engine keeps this many × ``top_n`` rows per window before the Python re-ranking
ENGINE_CANDIDATES = 5
#: fewest reference rows an isolation forest is fitted on (fewer: no ``input_outlier``)
MIN_ISOLATION_ROWS = 50
_KINDS = ("numeric", "categorical", "boolean", "datetime")
_SEED = "obskit-anomaly"
_COUNT_COLUMNS = [W, "reason", "rows", "rows_checked"]


def _check_columns(table: ir.Table, names: Sequence[str], what: str) -> None:
    missing = [f for f in names if f not in table.columns]
    if missing:
        raise InputError(f"{what} table has no column {missing[0]!r} (a configured feature); "
                         f"its columns are {visible_columns(table.columns)}", column=missing[0])


class RowAnomalyMonitor:
    """The most severe anomalous predictions of each window, with their reasons.

    Parameters
    ----------
    features : mapping
        Feature name → ``numeric`` / ``categorical`` / ``boolean``.
    config : AnomalyConfig
        ``top_n``, the latency limit, score quantiles, confident-mistake cut-off and
        isolation-forest options.
    positive_label : str, default "1"
        The positive class (as canonical text); used to tell a mistake from the score when
        the log has no ``prediction`` column.

    Notes
    -----
    Reasons (see :mod:`obskit.profiles.row_anomaly_reasons` for their severities):
    ``failed`` (status error/failed/≥ 500 or an error message), ``latency_outlier`` (above
    ``latency_slo_ms``, else above the reference p99), ``out_of_range:<f>`` (a numeric
    value outside the reference [min, max]), ``unseen_category:<f>`` (a value the
    reference never had; only for features with at most ``TOP_CATEGORIES`` reference
    values), ``score_outlier`` (outside the reference ``score_quantiles``),
    ``confident_mistake`` (labelled, wrong, ``max(score, 1 − score) >=``
    ``confident_mistake_score``) and ``input_outlier`` (the isolation forest's verdict).
    A row's severity is the sum over its reasons, each weighted in its window by how much
    more often it fires there than on the reference
    (:func:`obskit.monitors.window_anomalies.reason_rarity`); a row whose every reason is
    at its usual rate is ``routine``, and each window keeps at most ``routine_rows`` of
    those.
    """

    def __init__(self, features: Mapping[str, str], config: AnomalyConfig | None = None, *,
                 positive_label: str = "1") -> None:
        for name, kind in features.items():
            if kind not in _KINDS:
                raise ConfigError(f"config key 'features.{name}': expected one of "
                                  f"{', '.join(_KINDS)}, got {kind!r}", key=f"features.{name}")
        self.features = dict(features)
        self.config = config or AnomalyConfig()
        self.positive_label = str(positive_label)

    # ----------------------------------------------------------------------- fit

    def fit(self, reference: ir.Table) -> RowAnomalyMonitor:
        """Learn the reference limits, category sets and the isolation forest, once.

        Parameters
        ----------
        reference : ibis Table
            The typed reference log holding the features.

        Returns
        -------
        RowAnomalyMonitor
            ``self``, fitted (with each reason's reference rate).
        """
        _check_columns(reference, list(self.features), "reference")
        cfg = self.config
        numeric = [f for f, k in self.features.items() if is_numeric_type(k)]
        limits = reference_limits(
            reference, numeric=numeric,
            latency_quantile=0.99 if cfg.latency_slo_ms is None else None,
            score_quantiles=cfg.score_quantiles)
        self.latency_limit_: float | None = (
            float(cfg.latency_slo_ms) if cfg.latency_slo_ms is not None
            and "latency_ms" in reference.columns else limits["latency"])
        self.score_range_: tuple[float, float] | None = limits["score"]
        self.ranges_: dict[str, tuple[float, float]] = limits["ranges"]
        self.categories_: dict[str, list[str]] = {}
        self.complete_categories_: dict[str, bool] = {}
        for f, kind in self.features.items():
            if not is_numeric_type(kind):
                self.categories_[f], self.complete_categories_[f] = known_categories(
                    reference, f, limit=TOP_CATEGORIES)
        self.rules_ = RowRules(
            latency_limit=self.latency_limit_, score_range=self.score_range_,
            ranges=self.ranges_,
            categories={f: tuple(v) for f, v in self.categories_.items()
                        if v and self.complete_categories_[f]},
            confident=cfg.confident_mistake_score, positive_label=self.positive_label)
        sample = self._fit_isolation(reference)
        self._fit_rates(reference, sample)
        return self

    def _fit_rates(self, reference: ir.Table, sample: pd.DataFrame | None) -> None:
        """``reference_rates_``: reason → (rows flagged, rows checked) on the reference
        (every reason the rules allow, 0 rows where none fired). An unseen category never
        fires on the reference by construction; its rate there is the Good–Turing
        estimate instead (values seen once over reference rows), so new ids of an id-like
        column are routine and a new value of a column with a few settled ones is not."""
        ref = with_window(reference.drop(W) if W in reference.columns else reference)
        reasons = row_reasons(ref, self.rules_)
        total = int(ref.count().execute())
        counts = reason_counts(ref, reasons)
        self.reference_rates_: dict[str, tuple[int, int]] = {
            r.code: (0, total) for r in reasons}
        for r in counts.to_dict("records"):
            self.reference_rates_[str(r["reason"])] = (int(r["rows"]), int(r["rows_checked"]))
        for f, once in singleton_counts(ref, list(self.rules_.categories)).items():
            self.reference_rates_[f"unseen_category:{f}"] = (once, total)
        if self.isolation_ is not None and sample is not None:
            # the forest's own training sample (the same rows, drawn once in the fit)
            out, _ = self._isolation(sample)
            self.reference_rates_["input_outlier"] = (int(out.sum()), len(out))

    def _rarity(self, counts: pd.DataFrame) -> dict[tuple[int, str], tuple[float, bool]]:
        """(window, reason) → (weight factor, elevated) from the window's counts."""
        rates = getattr(self, "reference_rates_", None)  # absent from older cached fits
        out = {}
        for r in counts.to_dict("records"):
            if rates is None or r["reason"] not in rates:
                continue
            out[int(r[W]), str(r["reason"])] = reason_rarity(
                int(r["rows"]), int(r["rows_checked"]), *rates[r["reason"]])
        return out

    def _fit_isolation(self, reference: ir.Table) -> pd.DataFrame | None:
        """Fit the forest on the reference sample; return that sample (None: no features)."""
        self.isolation_: Any = None
        self.medians_ = np.zeros(len(self.features))
        if not self.features:
            return None
        key = row_hash(reference, list(self.features), _SEED)
        t = reference.select(*self.features, _key=key)
        sample = fetch_frame(t.order_by("_key").limit(self.config.isolation_sample_rows))
        x = self._encode(sample, impute=False)
        # a feature the sample never has is imputed with 0
        self.medians_ = np.array([float(np.median(c[~np.isnan(c)])) if (~np.isnan(c)).any()
                                  else 0.0 for c in x.T])
        if len(x) < MIN_ISOLATION_ROWS:
            return sample
        from sklearn.ensemble import IsolationForest

        forest = IsolationForest(n_estimators=100, contamination=self.config
                                 .isolation_contamination, random_state=0)
        self.isolation_ = forest.fit(self._impute(x))
        return sample

    def _encode(self, frame: pd.DataFrame, *, impute: bool = True) -> np.ndarray:
        """Floats for the forest: categories → codes by reference frequency, booleans 0/1,
        missing (null, NaN, ±inf) → the reference median. A value the reference never had
        is imputed like a missing one: ``unseen_category`` already flags it where the
        reference's values are known, and one shared code for every new value would make
        each new id of an id-like column an outlier."""
        cols = []
        for f, kind in self.features.items():
            values = frame[f]
            if is_numeric_type(kind):
                x = pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()
                x[~np.isfinite(x)] = np.nan
            else:
                known = self.categories_[f]
                text = values.astype("string") if kind == "categorical" else values.map(
                    lambda v: None if v is None or pd.isna(v) else str(v).lower())
                codes = pd.Categorical(text.astype(object), categories=known).codes
                x = codes.astype("float64")
                x[x < 0] = np.nan
                x[pd.isna(values).to_numpy()] = np.nan
            cols.append(x)
        x = np.column_stack(cols) if cols else np.zeros((len(frame), 0))
        return self._impute(x) if impute else x

    def _impute(self, x: np.ndarray) -> np.ndarray:
        x = x.copy()
        missing = np.isnan(x)
        x[missing] = np.broadcast_to(self.medians_, x.shape)[missing]
        return x

    def _isolation(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(is an input outlier, anomaly score in 0..1) per row of ``frame``."""
        if self.isolation_ is None or not len(frame):
            return np.zeros(len(frame), bool), np.zeros(len(frame))
        raw = self.isolation_.score_samples(self._encode(frame))
        return raw < self.isolation_.offset_, -raw

    # ----------------------------------------------------------------------- calculate

    def calculate(self, current: ir.Table, *, counts: pd.DataFrame | None = None
                  ) -> pd.DataFrame:
        """The ``top_n`` most severe anomalous rows of each window.

        Routine rows (every reason at its usual rate there) come last, at most
        ``routine_rows`` of them.

        Parameters
        ----------
        current : ibis Table
            The typed current log, with ``window_index``.
        counts : DataFrame, optional
            :meth:`counts_by_window` of ``current`` when the caller has it already.

        Returns
        -------
        DataFrame
            Columns ``window_index``, the log columns of :data:`META_COLUMNS` the table has,
            ``reasons`` (list of reason codes), ``severity`` (float, the sum of the reasons'
            severities, each times its rarity factor in the window), ``routine`` (bool) and the
            feature values. Sorted by window, then routine last, then severity (highest
            first).

        Raises
        ------
        NotFittedError
            When :meth:`fit` has not been called.
        """
        return self.scan(current, counts=counts)[0]

    def scan(self, current: ir.Table, *, counts: pd.DataFrame | None = None
             ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """:meth:`calculate` and :meth:`counts_by_window` together: two engine queries
        (the counts, and one row selection holding both the candidates and each window's
        isolation sample) and one pass of the forest.

        Parameters
        ----------
        current : ibis Table
            The typed current log, with ``window_index``.
        counts : DataFrame, optional
            :meth:`counts_by_window` of ``current`` when the caller has it already.

        Returns
        -------
        rows : DataFrame
            As :meth:`calculate`.
        counts : DataFrame
            As :meth:`counts_by_window`.

        Raises
        ------
        NotFittedError
            When :meth:`fit` has not been called.
        """
        check_fitted(self, "rules_")
        current = with_window(current)
        _check_columns(current, list(self.features), "current")
        cfg = self.config
        meta = [c for c in META_COLUMNS if c in current.columns]
        reasons = row_reasons(current, self.rules_)
        fresh = counts is None
        if counts is None:
            counts = reason_counts(current, reasons)
        rows = select_rows(current, reasons, [*meta, *self.features],
                           top=ENGINE_CANDIDATES * cfg.top_n, sample=cfg.isolation_sample_rows,
                           key=row_hash(current, list(self.features), _SEED))
        outlier, score = self._isolation(rows)
        if fresh:
            # the window samples are the rows flagged _sampled: counts_by_window's sample
            sampled = rows["_sampled"].to_numpy(dtype=bool)
            counts = self._with_isolation(counts, rows[W].to_numpy()[sampled],
                                          outlier[sampled])
        return self._ranked(rows, reasons, outlier, score, self._rarity(counts), meta), counts

    def _ranked(self, rows: pd.DataFrame, reasons: Sequence[Reason], outlier: np.ndarray,
                score: np.ndarray, rarity: Mapping[tuple[int, str], tuple[float, bool]],
                meta: Sequence[str]) -> pd.DataFrame:
        """The selected rows weighted by rarity, ranked and cut to ``top_n`` per window."""
        cfg = self.config
        codes = [r.code for r in reasons] + ["input_outlier"]
        flags = np.column_stack([rows[[f"_a{i}" for i in range(len(reasons))]]
                                 .to_numpy(dtype=bool).reshape(len(rows), len(reasons)), outlier])
        weights = np.column_stack([rows[[f"_s{i}" for i in range(len(reasons))]]
                                   .to_numpy(dtype=float).reshape(len(rows), len(reasons)),
                                   np.where(outlier, 1.0 + score, 0.0)])
        windows = rows[W].to_numpy(dtype=int)
        factor = np.ones(flags.shape)
        elevated = np.zeros(flags.shape, dtype=bool)
        for j, code in enumerate(codes):
            for i in np.flatnonzero(flags[:, j]):
                factor[i, j], elevated[i, j] = rarity.get((int(windows[i]), code), (1.0, False))
        severity = (weights * factor).sum(axis=1)
        routine = np.logical_not(elevated.any(axis=1))
        # ranked on the keys of the rows with a reason only; the reasons are listed for
        # the rows kept (most selected rows are the isolation sample, with none)
        hit = np.flatnonzero(severity > 0)
        order = pd.DataFrame({W: windows[hit], "routine": routine[hit],
                              "severity": severity[hit], "_key": rows["_key"].to_numpy()[hit],
                              "_i": hit}).sort_values([W, "routine", "severity", "_key"],
                                                      ascending=[True, True, False, True],
                                                      kind="stable")
        order = order.groupby(W, sort=True).head(cfg.top_n)
        order = order[~order.routine
                      | (order.groupby([W, "routine"]).cumcount() < cfg.routine_rows)]
        kept = order["_i"].to_numpy()
        rows = rows.iloc[kept].copy()
        rows["reasons"] = [[c for c, on in zip(codes, flags[i], strict=True) if on]
                           for i in kept]
        rows["severity"] = severity[kept]
        rows["routine"] = routine[kept]
        columns = [W, *meta, "reasons", "severity", "routine", *self.features]
        return rows[columns].astype({W: "int64"}).reset_index(drop=True)

    @staticmethod
    def _with_isolation(counts: pd.DataFrame, windows: np.ndarray, outlier: np.ndarray
                        ) -> pd.DataFrame:
        """``counts`` with each window's ``input_outlier`` count over its sample."""
        sample = pd.DataFrame({W: windows, "_out": outlier})
        iso = sample.groupby(W).agg(rows=("_out", "sum"), rows_checked=("_out", "size"))
        iso = iso[iso.rows > 0].reset_index().assign(reason="input_outlier")
        if not len(iso):
            return counts
        out = pd.concat([counts, iso[_COUNT_COLUMNS]], ignore_index=True)
        out = out.astype({W: "int64", "rows": "int64", "rows_checked": "int64"})
        order = out.reason == "input_outlier"
        return out.assign(_o=order).sort_values([W, "_o"], kind="stable").drop(
            columns="_o").reset_index(drop=True)

    def counts_by_window(self, current: ir.Table) -> pd.DataFrame:
        """Rows flagged per reason in each whole window.

        Engine reasons are counted in the engine over every row (``rows_checked`` = the
        window's rows); ``input_outlier`` over the window's deterministic sample of at most
        ``isolation_sample_rows`` rows (``rows_checked`` = the sample size), which is the whole
        window when it is no larger.

        Parameters
        ----------
        current : ibis Table
            The typed current log, with ``window_index``.

        Returns
        -------
        DataFrame
            Columns ``window_index, reason, rows, rows_checked``; reasons with no rows are left
            out.

        Raises
        ------
        NotFittedError
            When :meth:`fit` has not been called.
        """
        check_fitted(self, "rules_")
        current = with_window(current)
        _check_columns(current, list(self.features), "current")
        counts = reason_counts(current, row_reasons(current, self.rules_))
        if self.isolation_ is None:
            return counts
        sample = select_rows(current, [], list(self.features), top=0,
                             sample=self.config.isolation_sample_rows,
                             key=row_hash(current, list(self.features), _SEED))
        outlier, _ = self._isolation(sample)
        return self._with_isolation(counts, sample[W].to_numpy(), outlier)
