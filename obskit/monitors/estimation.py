"""Estimated performance per window, without labels: CBPE (binary and multiclass) and DLE
(regression).

CBPE fetches each scored row's window, score(s) and predicted class once (a few numbers
per row, up to :data:`~obskit.profiles.FETCH_VALUES` values) and calibrates, counts and
ranks them in numpy; above that bound the engine does it: calibration is a range join of
each row's (clipped) score against the small table of isotonic segments (one per class for
multiclass), and the expected confusion counts and expected-ROC levels are engine
aggregates. Both give the same numbers (the same arithmetic per row). Otherwise only
bounded samples come back to Python: at most ``MAX_REFERENCE_ROWS``
labelled reference rows (to fit the calibrators, the DLE models and the sampling error)
and, for DLE, at most ``MAX_WINDOW_ROWS`` rows per window (to predict the errors). Samples
are deterministic: rows are ranked by a hash of their position in a total order of the
columns used.

See :mod:`obskit.metrics.estimation` for the method and the sampling-error bands.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from obskit.exceptions import ConfigError, InputError
from obskit.io.casting import normalise_label
from obskit.io.engine import fetch_frame, materialize
from obskit.metrics import estimation as est
from obskit.metrics.performance import binary_scores
from obskit.monitors._base import check_fitted, with_window
from obskit.monitors._estimation_engine import (  # the engine side; tests use them
    _calibrate,
    _engine_expected_counts,
    _label_texts,
    _local_class_counts,
    _local_expected_counts,
    _multiclass_rows,
    _sample,
)
from obskit.profiles import W
from obskit.profiles.performance import most_probable_class
from obskit.schema import is_numeric_type

__all__ = ["EstimatedPerformanceMonitor", "MAX_REFERENCE_ROWS", "MAX_WINDOW_ROWS"]

MAX_REFERENCE_ROWS = 100_000
MAX_WINDOW_ROWS = 20_000
_TASKS = ("binary", "multiclass", "regression")
_METRICS = {"binary": ("accuracy", "precision", "recall", "f1", "roc_auc"),
            "multiclass": ("accuracy", "f1_macro", "roc_auc"),
            "regression": ("mae", "rmse")}


class EstimatedPerformanceMonitor:
    """Performance estimated per window from predictions alone (no labels needed).

    Parameters
    ----------
    task : {"binary", "multiclass", "regression"}
        ``binary`` uses CBPE (needs ``score``; ``prediction``, or ``score >= threshold``,
        gives the predicted label); ``multiclass`` uses CBPE one-vs-rest (needs
        ``class_scores``; ``prediction``, or the class of highest probability, gives the
        predicted class); ``regression`` uses DLE (needs ``prediction`` and ``features``).
    positive_label : label of the positive class (binary).
    features : mapping of feature name to type (``numeric``, ``categorical`` or
        ``boolean``), the model's inputs (regression).
    threshold : score threshold for the predicted label when there is no ``prediction``.
    band_width : half-width of the sampling-error band, in standard errors.
    class_scores : multiclass: class label → the column of its probability.

    Fitted attributes: ``calibrator_`` and ``segments_`` (binary), ``calibrators_`` and
    ``class_segments_`` (multiclass, per class), ``models_``,
    ``categories_`` (regression), ``sigma_`` (per metric: SE on n rows is σ/√n),
    ``reference_rows_``.
    """

    def __init__(self, task: str, *, positive_label: Any = 1,
                 features: Mapping[str, str] | None = None, threshold: float = 0.5,
                 band_width: float = est.SAMPLING_ERROR_RANGE,
                 class_scores: Mapping[str, str] | None = None) -> None:
        if task not in _TASKS:
            raise ConfigError(
                f"config key 'task': estimated performance supports {', '.join(_TASKS)}, "
                f"got {task!r}", key="task")
        self.class_scores = {normalise_label(k): v for k, v in (class_scores or {}).items()}
        if task == "multiclass" and len(self.class_scores) < 2:
            raise ConfigError(
                "config key 'columns.class_scores': multiclass CBPE needs one probability "
                "column per class (y_pred_proba_<class>, proba_<class>, or mapped in "
                "'columns.class_scores')", key="columns.class_scores")
        self.task = task
        self.positive = normalise_label(positive_label)
        self.features = dict(features or {})
        self.threshold = threshold
        self.band_width = band_width

    # ------------------------------------------------------------------ public API

    def fit(self, reference: ir.Table) -> EstimatedPerformanceMonitor:
        """Calibrate the scores or learn the errors (regression) on the labelled reference.

        Parameters
        ----------
        reference : ibis Table
            The typed reference log, with labels.

        Returns
        -------
        EstimatedPerformanceMonitor
            ``self``, fitted.
        """
        needed = {"binary": ["label", "score"], "regression": ["label", "prediction"],
                  "multiclass": ["label", *self.class_scores.values()]}[self.task]
        needed += list(self.features) if self.task == "regression" else []
        for col in needed:
            if col not in reference.columns:
                raise InputError(f"reference: column {col!r} is required to estimate "
                                 f"{self.task} performance", column=col)
        if self.task == "regression" and not self.features:
            raise ConfigError("config key 'features': DLE needs the model's features",
                              key="features")
        if self.task == "binary":
            self._fit_binary(with_window(reference))
        elif self.task == "multiclass":
            self._fit_multiclass(with_window(reference))
        else:
            self._fit_regression(with_window(reference))
        return self

    def calculate(self, current: ir.Table) -> pd.DataFrame:
        """Estimate each window's performance without its labels.

        Parameters
        ----------
        current : ibis Table
            The typed current log, with ``window_index``.

        Returns
        -------
        DataFrame
            One row per window: ``window_index``, the estimated metrics, ``<metric>_lo`` /
            ``<metric>_hi`` and ``n`` (the rows the estimate saw).

        Raises
        ------
        NotFittedError
            When :meth:`fit` has not been called.
        """
        check_fitted(self, "sigma_")
        t = with_window(current)
        rows = (self._binary(t) if self.task == "binary" else self._multiclass(t)
                if self.task == "multiclass" else self._regression(t))
        columns = [W, *_METRICS[self.task]]
        for metric in _METRICS[self.task]:
            columns += [f"{metric}_lo", f"{metric}_hi"]
        for row in rows:
            for metric in _METRICS[self.task]:
                row[f"{metric}_lo"], row[f"{metric}_hi"] = est.sampling_band(
                    metric, row.get(metric), sigma=self.sigma_.get(metric, np.nan),
                    n=int(row["n"]), width=self.band_width)
        return pd.DataFrame(rows, columns=[*columns, "n"])

    # ----------------------------------------------------------------------- binary

    def _predicted(self, t: ir.Table, *, label: bool = False) -> ir.Table:
        """Scored rows with the predicted class ``_yhat`` (and the true one ``_y`` with
        ``label``), the label texts of both columns from one engine query."""
        t = t.filter(t.score.notnull() & ~t.score.isnan())
        if "prediction" in t.columns:
            t = t.filter(t.prediction.notnull())
        texts = _label_texts(t, [c for c in ("prediction", "label" if label else "")
                                 if c in t.columns])
        yhat = (texts["prediction"] == self.positive if "prediction" in texts
                else t.score >= self.threshold)
        extra = {"_y": texts["label"] == self.positive} if label else {}
        return t.mutate(_yhat=yhat, **extra)

    def _fit_binary(self, reference: ir.Table) -> None:
        t = self._predicted(reference.filter(reference.label.notnull()), label=True)
        sample = fetch_frame(_sample(t.select(W, "score", "_yhat", "_y"), MAX_REFERENCE_ROWS))
        if sample.empty:
            raise InputError("reference: no rows with both 'label' and 'score'",
                             column="label")
        score = sample.score.to_numpy(dtype=float)
        y = sample._y.to_numpy(dtype=bool)
        yhat = sample._yhat.to_numpy(dtype=bool)
        self.calibrator_ = est.fit_calibrator(score, y)
        self.segments_ = est.calibration_segments(self.calibrator_)
        self.reference_rows_ = len(sample)
        self.sigma_ = est.sampling_sigma(
            lambda i: est.realized_binary_scores(y[i], yhat[i], score[i]), len(sample))

    def calibrated(self, table: ir.Table) -> ir.Table:
        """The scored rows of a table with the calibrated probability.

        Parameters
        ----------
        table : ibis Table
            A typed log with ``score``.

        Returns
        -------
        ibis Table
            ``table``'s scored rows with ``_yhat`` (the predicted class, 0/1) and ``_p`` (the
            calibrated probability of the positive class, in [0, 1]).
        """
        check_fitted(self, "segments_")
        return _calibrate(self._predicted(table), "score", self.segments_, "_p")

    def _binary(self, current: ir.Table) -> list[dict[str, Any]]:
        t = self._predicted(current)
        sums = (_local_expected_counts(t, self.segments_)
                or _engine_expected_counts(self.calibrated(current)))
        rows = []
        for w, r in sorted(sums.items()):
            row: dict[str, Any] = {W: w, "n": int(r["n"])}
            row.update(binary_scores(tp=r["tp"], fp=r["fp"], tn=r["tn"], fn=r["fn"]))
            row["roc_auc"] = r["roc_auc"]
            rows.append(row)
        return rows

    # ------------------------------------------------------------------- multiclass

    def _predicted_classes(self, t: ir.Table, *, label: bool = False) -> ir.Table:
        """Rows with every class probability, with the predicted class ``_yhat``: the
        ``prediction``, or the first class of highest probability without one (and the
        true class ``_y`` with ``label``; both label texts from one engine query)."""
        cols = list(self.class_scores.values())
        keep = ibis.literal(True)
        for c in cols:
            keep &= t[c].notnull() & ~t[c].isnan()
        t = t.filter(keep)
        if "prediction" in t.columns:
            t = t.filter(t.prediction.notnull())
        texts = _label_texts(t, [c for c in ("prediction", "label" if label else "")
                                 if c in t.columns])
        yhat = texts.get("prediction", None)
        extra = {"_y": texts["label"]} if label else {}
        return t.mutate(_yhat=most_probable_class(t, self.class_scores) if yhat is None
                        else yhat, **extra)

    def _fit_multiclass(self, reference: ir.Table) -> None:
        t = self._predicted_classes(reference.filter(reference.label.notnull()), label=True)
        cols = list(self.class_scores.values())
        sample = fetch_frame(_sample(t.select(W, "_yhat", "_y", *cols), MAX_REFERENCE_ROWS))
        if sample.empty:
            raise InputError("reference: no rows with both 'label' and every class "
                             "probability", column="label")
        probas = pd.DataFrame({cls: sample[c].to_numpy(dtype=float)
                               for cls, c in self.class_scores.items()})
        y = sample._y.to_numpy(dtype=object)
        yhat = sample._yhat.to_numpy(dtype=object)
        self.calibrators_ = est.fit_multiclass_calibrators(probas, y)
        self.class_segments_ = {cls: est.calibration_segments(cal)
                                for cls, cal in self.calibrators_.items()}
        self.reference_rows_ = len(sample)
        self.sigma_ = est.sampling_sigma(
            lambda i: est.realized_multiclass_scores(y[i], yhat[i], probas.iloc[i]),
            len(sample))

    def calibrated_classes(self, table: ir.Table) -> ir.Table:
        """A table's rows with the calibrated class probabilities.

        Parameters
        ----------
        table : ibis Table
            A typed multiclass log with every class-score column.

        Returns
        -------
        ibis Table
            ``table``'s rows with ``_yhat`` and the calibrated class probabilities ``_p0``,
            ``_p1``, … (in the order of ``class_scores``), renormalised to sum to one per row
            (uniform when all are 0).
        """
        check_fitted(self, "class_segments_")
        t = self._predicted_classes(table)
        for i, (cls, col) in enumerate(self.class_scores.items()):
            t = _calibrate(t, col, self.class_segments_[cls], f"_c{i}")
        k = len(self.class_scores)
        total = sum((t[f"_c{i}"] for i in range(1, k)), t["_c0"])
        t = t.mutate(**{f"_p{i}": ibis.ifelse(total > 0, t[f"_c{i}"] / total, 1.0 / k)
                        for i in range(k)})
        return t.drop(*[f"_c{i}" for i in range(k)])

    def _multiclass(self, current: ir.Table) -> list[dict[str, Any]]:
        per_class = _local_class_counts(self._predicted_classes(current), self.class_scores,
                                        self.class_segments_)
        if per_class is None:
            t = materialize(self.calibrated_classes(current))
            per_class = []
            for i, cls in enumerate(self.class_scores):
                view = t.select(W, score=t[f"_p{i}"], _p=t[f"_p{i}"], _yhat=t._yhat == cls)
                per_class.append(_engine_expected_counts(view))
            t.release()
        return _multiclass_rows(per_class)

    # ------------------------------------------------------------------- regression

    def _inputs(self, frame: pd.DataFrame) -> np.ndarray:
        cols = []
        for name, kind in self.features.items():
            if is_numeric_type(kind):
                cols.append(pd.to_numeric(frame[name], errors="coerce").to_numpy(float))
            else:
                codes = self.categories_[name]
                cols.append(frame[name].astype(str).where(frame[name].notna())
                            .map(codes).to_numpy(dtype=float))
        cols.append(frame.prediction.to_numpy(dtype=float))
        return np.column_stack(cols)

    def _fit_regression(self, reference: ir.Table) -> None:
        t = reference.filter(reference.label.notnull() & reference.prediction.notnull())
        t = t.select(W, *self.features, label=t.label.cast("float64"),
                     prediction=t.prediction.cast("float64"))
        sample = fetch_frame(_sample(t, MAX_REFERENCE_ROWS))
        if sample.empty:
            raise InputError("reference: no rows with both 'label' and 'prediction'",
                             column="label")
        self.categories_ = {
            name: {v: float(i) for i, v in enumerate(sorted(
                sample[name].dropna().astype(str).unique()))}
            for name, kind in self.features.items() if not is_numeric_type(kind)}
        x = self._inputs(sample)
        y = sample.label.to_numpy(dtype=float)
        pred = sample.prediction.to_numpy(dtype=float)
        categorical = [not is_numeric_type(kind) and len(self.categories_[name]) <= 250
                       for name, kind in self.features.items()] + [False]
        self.models_ = est.fit_loss_models(x, np.abs(pred - y), categorical=categorical)
        self.reference_rows_ = len(sample)
        self.sigma_ = est.sampling_sigma(
            lambda i: est.realized_regression_errors(y[i], pred[i]), len(sample))

    def _regression(self, current: ir.Table) -> list[dict[str, Any]]:
        t = current.filter(current.prediction.notnull())
        t = t.select(W, *self.features, prediction=t.prediction.cast("float64"))
        sizes = t.group_by(W).aggregate(n=t.count()).order_by(W).execute()
        sample = fetch_frame(_sample(t, MAX_WINDOW_ROWS))
        groups = dict(tuple(sample.groupby(W)))
        rows = []
        for r in sizes.itertuples():
            frame = groups.get(r.window_index, sample.iloc[:0])
            row: dict[str, Any] = {W: int(r.window_index), "n": int(r.n)}
            row.update(est.estimate_regression_errors(self.models_, self._inputs(frame)))
            rows.append(row)
        return rows
