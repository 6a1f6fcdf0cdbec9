"""Windowed performance metrics computed through the engine equal scikit-learn's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics

from obskit.monitors import PerformanceMonitor
from obskit.performance import binary_scores, regression_errors
from tests.helpers import engine_table

RNG = np.random.default_rng(1)


def _by_window(frame):
    return frame.set_index("window_index")


def test_binary_metrics_equal_sklearn_per_window():
    n = 3000
    y = RNG.integers(0, 2, n)
    score = np.clip(y * 0.3 + RNG.normal(0.35, 0.25, n), 0, 1).round(2)  # ties on purpose
    pred = (score >= 0.5).astype(int)
    w = np.repeat([0, 1, 2], n // 3)
    label = y.astype(object)
    label[::11] = None  # unlabelled rows are left out
    frame = pd.DataFrame({"label": pd.Series(label).map(lambda v: None if v is None
                                                        else str(v)),
                          "prediction": pred.astype(str), "score": score, "window_index": w})
    got = _by_window(PerformanceMonitor("binary").fit(None).calculate(engine_table(frame)))
    for win in (0, 1, 2):
        m = (w == win) & pd.notna(pd.Series(label)).to_numpy()
        yt, yp, ys = y[m], pred[m], score[m]
        assert got.accuracy[win] == pytest.approx(metrics.accuracy_score(yt, yp), rel=1e-12)
        assert got.precision[win] == pytest.approx(metrics.precision_score(yt, yp), rel=1e-12)
        assert got.recall[win] == pytest.approx(metrics.recall_score(yt, yp), rel=1e-12)
        assert got.f1[win] == pytest.approx(metrics.f1_score(yt, yp), rel=1e-12)
        assert got.roc_auc[win] == pytest.approx(metrics.roc_auc_score(yt, ys), rel=1e-12)


def test_binary_without_prediction_uses_score_threshold_and_auc_undefined_for_one_class():
    frame = pd.DataFrame({"label": ["1", "1", "1"], "score": [0.2, 0.7, 0.9],
                          "window_index": [0, 0, 0]})
    got = PerformanceMonitor("binary").fit(None).calculate(engine_table(frame)).iloc[0]
    assert got.accuracy == pytest.approx(2 / 3)
    assert got.roc_auc is None or np.isnan(got.roc_auc)


def test_zero_division_follows_sklearn():
    assert binary_scores(tp=0, fp=0, tn=5, fn=0) == {"accuracy": 1.0, "precision": 0.0,
                                                     "recall": 0.0, "f1": 0.0}


def test_multiclass_equal_sklearn():
    n = 2000
    y = RNG.choice(["cat", "dog", "eel"], n)
    pred = np.where(RNG.random(n) < 0.7, y, RNG.choice(["cat", "dog", "eel", "fox"], n))
    w = np.repeat([0, 1], n // 2)
    frame = pd.DataFrame({"label": y, "prediction": pred, "window_index": w})
    got = _by_window(PerformanceMonitor("multiclass").fit(None).calculate(engine_table(frame)))
    for win in (0, 1):
        m = w == win
        assert got.accuracy[win] == pytest.approx(metrics.accuracy_score(y[m], pred[m]))
        assert got.f1_macro[win] == pytest.approx(
            metrics.f1_score(y[m], pred[m], average="macro"), rel=1e-12)


def test_regression_equal_sklearn():
    n = 2000
    y = RNG.normal(100, 20, n)
    y[5] = 0.0  # MAPE's epsilon guard
    pred = y + RNG.normal(2, 10, n)
    w = np.repeat([0, 1], n // 2)
    frame = pd.DataFrame({"label": y, "prediction": pred, "window_index": w})
    got = _by_window(PerformanceMonitor("regression").fit(None).calculate(engine_table(frame)))
    for win in (0, 1):
        m = w == win
        assert got.mae[win] == pytest.approx(metrics.mean_absolute_error(y[m], pred[m]),
                                             rel=1e-9)
        assert got.rmse[win] == pytest.approx(
            np.sqrt(metrics.mean_squared_error(y[m], pred[m])), rel=1e-9)
        assert got.mape[win] == pytest.approx(
            metrics.mean_absolute_percentage_error(y[m], pred[m]), rel=1e-9)
        assert got.r2[win] == pytest.approx(metrics.r2_score(y[m], pred[m]), rel=1e-9)


def test_r2_constant_truth_follows_sklearn_force_finite():
    assert regression_errors(n=2, sum_abs=0, sum_sq=0, sum_ape=0, ss_tot=0)["r2"] == 1.0
    assert regression_errors(n=2, sum_abs=1, sum_sq=1, sum_ape=0, ss_tot=0)["r2"] == 0.0
    assert metrics.r2_score([1, 1], [1, 2]) == 0.0


def test_reference_performance_is_the_baseline():
    frame = pd.DataFrame({"label": ["1", "0", "1", "0"], "prediction": ["1", "0", "0", "0"],
                          "score": [0.9, 0.1, 0.4, 0.2]})
    mon = PerformanceMonitor("binary").fit(engine_table(frame))
    assert mon.reference_["accuracy"] == 0.75
    assert mon.reference_["roc_auc"] == pytest.approx(1.0)
