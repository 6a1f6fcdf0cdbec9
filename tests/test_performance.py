"""Windowed performance metrics computed through the engine equal scikit-learn's."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn import metrics

from obskit.exceptions import ConfigError
from obskit.metrics import _classification, _intervals, _regression, performance
from obskit.metrics.performance import (
    HIGHER_IS_BETTER,
    METRICS,
    binary_scores,
    metric_direction,
    multiclass_intervals,
    multiclass_scores,
    regression_errors,
)
from obskit.monitors import PerformanceMonitor
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


# --- new metrics against scikit-learn ---------------------------------------------------

def _ece(y, s, bins=10):
    """Reference ECE: Σ_b |b| / n · |mean score_b − positive rate_b| over equal-width bins."""
    b = np.clip(np.floor(s * bins), 0, bins - 1).astype(int)
    return sum(np.mean(b == k) * abs(s[b == k].mean() - y[b == k].mean())
               for k in range(bins) if np.any(b == k))


def _binary_frame(n=3000, seed=2):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    score = np.clip(y * 0.3 + rng.normal(0.35, 0.25, n), 0, 1).round(2)  # ties, exact 0 / 1
    pred = (score >= 0.5).astype(int)
    w = np.repeat([0, 1, 2], n // 3)
    labelled = np.ones(n, bool)
    labelled[::7] = False
    label = pd.Series(y.astype(str), dtype=object).where(labelled, None)
    frame = pd.DataFrame({"label": label, "prediction": pred.astype(str), "score": score,
                          "window_index": w})
    return frame, y, pred, score, w, labelled


def test_binary_new_metrics_equal_sklearn_with_ties_and_unlabelled_rows():
    frame, y, pred, score, w, labelled = _binary_frame()
    assert {0.0, 1.0} <= set(score)  # log loss clipping is exercised
    got = _by_window(PerformanceMonitor("binary").fit(None).calculate(engine_table(frame)))
    for win in (0, 1, 2):
        m = (w == win) & labelled
        yt, ys = y[m], score[m]
        assert got.n_labelled[win] == m.sum()
        assert got.pr_auc[win] == pytest.approx(metrics.average_precision_score(yt, ys),
                                                rel=1e-12)
        assert got.log_loss[win] == pytest.approx(metrics.log_loss(yt, ys), rel=1e-10)
        assert got.brier[win] == pytest.approx(metrics.brier_score_loss(yt, ys), rel=1e-12)
        assert got.ece[win] == pytest.approx(_ece(yt, ys), rel=1e-10)
        assert got.roc_auc[win] == pytest.approx(metrics.roc_auc_score(yt, ys), rel=1e-12)
    for metric in METRICS["binary"]:
        lo, hi, value = got[f"{metric}_lo"], got[f"{metric}_hi"], got[metric]
        assert ((lo <= value) & (value <= hi) & (hi - lo > 0)).all(), metric


def test_log_loss_clips_with_float64_eps_as_sklearn():
    frame = pd.DataFrame({"label": ["1", "0", "1", "0"], "score": [0.0, 1.0, 1.0, 0.0],
                          "window_index": 0})
    got = PerformanceMonitor("binary").fit(None).calculate(engine_table(frame)).iloc[0]
    want = metrics.log_loss([1, 0, 1, 0], [0.0, 1.0, 1.0, 0.0])
    assert got.log_loss == pytest.approx(want, rel=1e-12)
    assert want == pytest.approx(-np.log(np.finfo(np.float64).eps) / 2, rel=1e-12)


def test_output_columns_and_reference_is_metric_values_only():
    frame, *_ = _binary_frame(n=300)
    mon = PerformanceMonitor("binary").fit(engine_table(frame))
    got = mon.calculate(engine_table(frame))
    assert list(got.columns[:2]) == ["window_index", "n_labelled"]
    for metric in METRICS["binary"]:
        assert {metric, f"{metric}_lo", f"{metric}_hi"} <= set(got.columns)
    assert {"roc_auc_reason", "pr_auc_reason"} <= set(got.columns)
    assert set(mon.reference_) == set(METRICS["binary"])
    assert all(isinstance(v, float) for v in mon.reference_.values())


def test_single_class_window_has_null_aucs_with_a_reason_and_other_metrics():
    frame = pd.DataFrame({"label": ["1"] * 4 + ["1", "0", "1", "0"],
                          "prediction": ["1", "0", "1", "1"] * 2,
                          "score": [0.9, 0.2, 0.8, 0.6, 0.9, 0.1, 0.7, 0.3],
                          "window_index": [0] * 4 + [1] * 4})
    got = _by_window(PerformanceMonitor("binary").fit(None).calculate(engine_table(frame)))
    assert np.isnan(got.roc_auc[0]) and np.isnan(got.pr_auc[0])
    assert np.isnan(got.roc_auc_lo[0]) and np.isnan(got.pr_auc_hi[0])
    assert "one class" in got.roc_auc_reason[0] and "one class" in got.pr_auc_reason[0]
    assert got.accuracy[0] == 0.75 and got.log_loss[0] > 0 and got.n_labelled[0] == 4
    assert got.roc_auc[1] == 1.0 and got.roc_auc_reason[1] is None


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_all_null_labels_give_no_windows_and_empty_reference(task):
    dtype = "Float64" if task == "regression" else "string"
    frame = pd.DataFrame({"label": pd.Series([None] * 4, dtype=dtype),
                          "prediction": ["1", "0", "1", "0"] if task != "regression"
                          else [1.0, 2.0, 3.0, 4.0],
                          "score": [0.9, 0.1, 0.4, 0.2], "window_index": 0})
    table = engine_table(frame)
    mon = PerformanceMonitor(task).fit(table)
    assert mon.reference_ == {}
    got = mon.calculate(table)
    assert len(got) == 0
    assert {"window_index", "n_labelled", *METRICS[task]} <= set(got.columns)


def test_multiclass_weighted_f1_and_per_class_recall_equal_sklearn():
    n = 3000
    rng = np.random.default_rng(3)
    y = rng.choice(["cat", "dog", "eel"], n, p=[0.5, 0.3, 0.2])
    pred = np.where(rng.random(n) < 0.7, y, rng.choice(["cat", "dog", "eel", "fox"], n))
    w = np.repeat([0, 1, 2], n // 3)
    label = pd.Series(y, dtype=object).where(rng.random(n) > 0.1, None)
    frame = pd.DataFrame({"label": label, "prediction": pred, "window_index": w})
    got = _by_window(PerformanceMonitor("multiclass").fit(None).calculate(engine_table(frame)))
    for win in (0, 1, 2):
        m = (w == win) & label.notna().to_numpy()
        classes = sorted(set(y[m]) | set(pred[m]))
        assert got.n_labelled[win] == m.sum()
        assert got.f1_weighted[win] == pytest.approx(
            metrics.f1_score(y[m], pred[m], average="weighted"), rel=1e-12)
        recalls = metrics.recall_score(y[m], pred[m], average=None, labels=classes,
                                       zero_division=0)
        for cls, want in zip(classes, recalls, strict=True):
            assert got[f"recall[{cls}]"][win] == pytest.approx(want, rel=1e-12, abs=1e-15)
        assert np.isnan(got["recall[fox]_lo"][win])  # never a label: no interval
        assert got["recall[cat]_lo"][win] < got["recall[cat]"][win] < got["recall[cat]_hi"][win]


def test_regression_mean_error_is_the_bias():
    rng = np.random.default_rng(4)
    y = rng.normal(50, 5, 900)
    pred = y + rng.normal(1.5, 2, 900)
    w = np.repeat([0, 1, 2], 300)
    frame = pd.DataFrame({"label": y, "prediction": pred, "window_index": w})
    got = _by_window(PerformanceMonitor("regression").fit(None).calculate(engine_table(frame)))
    for win in (0, 1, 2):
        m = w == win
        assert got.mean_error[win] == pytest.approx(np.mean(pred[m] - y[m]), rel=1e-9)
        assert got.n_labelled[win] == 300
        assert got.mean_error_lo[win] < got.mean_error[win] < got.mean_error_hi[win]


def test_metric_direction_and_metric_lists():
    assert metric_direction("recall[cat]") == "higher"
    assert metric_direction("log_loss") == "lower" and metric_direction("ece") == "lower"
    assert metric_direction("mean_error") is None
    assert "mean_error" not in HIGHER_IS_BETTER and "mean_error" in METRICS["regression"]
    for names in METRICS.values():
        assert all(metric_direction(m) is not None or m == "mean_error" for m in names)


def test_unknown_task_is_a_config_error():
    with pytest.raises(ConfigError, match="task"):
        PerformanceMonitor("ranking")


def test_docstring_examples():
    for module in (_intervals, _classification, _regression, performance):
        assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0


def test_multiclass_delta_gradient_matches_finite_differences():
    counts = np.array([[50.0, 5, 3], [4, 30, 6], [2, 8, 20]])
    conf = pd.DataFrame([{"label": a, "prediction": b, "n": counts[i, j]}
                         for i, a in enumerate("abc") for j, b in enumerate("abc")])

    def se_numeric(metric):
        base, grad = multiclass_scores(conf)[metric], np.zeros_like(counts)
        for i in range(3):
            for j in range(3):
                bumped = conf.copy()
                bumped.loc[i * 3 + j, "n"] += 1e-6
                grad[i, j] = (multiclass_scores(bumped)[metric] - base) / 1e-6
        return np.sqrt(np.sum(counts * grad**2))

    for metric in ("f1_macro", "f1_weighted"):
        lo, hi = multiclass_intervals(conf)[metric]
        assert (hi - lo) / (2 * 1.959963984540054) == pytest.approx(se_numeric(metric),
                                                                     rel=1e-4)


# --- interval coverage by simulation ------------------------------------------------------

WINDOWS, PER_WINDOW = 200, 300


def _coverage(frame, metric, truth):
    inside = (frame[f"{metric}_lo"] <= truth) & (truth <= frame[f"{metric}_hi"])
    return inside.mean()


def _binary_sample(rng, n):
    x = rng.normal(0, 1.5, n)
    p = 1 / (1 + np.exp(-x))
    y = (rng.random(n) < p).astype(int)
    return y, p


def test_binary_interval_coverage():
    rng = np.random.default_rng(5)
    big_y, big_p = _binary_sample(rng, 400_000)  # the population's values, closely
    big_pred = (big_p >= 0.5).astype(int)
    truth = {"accuracy": metrics.accuracy_score(big_y, big_pred),
             "precision": metrics.precision_score(big_y, big_pred),
             "recall": metrics.recall_score(big_y, big_pred),
             "f1": metrics.f1_score(big_y, big_pred),
             "roc_auc": metrics.roc_auc_score(big_y, big_p),
             "pr_auc": metrics.average_precision_score(big_y, big_p),
             "log_loss": metrics.log_loss(big_y, big_p),
             "brier": metrics.brier_score_loss(big_y, big_p)}
    y, p = _binary_sample(rng, WINDOWS * PER_WINDOW)
    frame = pd.DataFrame({"label": y.astype(str), "score": p,
                          "window_index": np.repeat(np.arange(WINDOWS), PER_WINDOW)})
    got = PerformanceMonitor("binary").fit(None).calculate(engine_table(frame))
    assert len(got) == WINDOWS
    for metric, value in truth.items():
        assert 0.90 <= _coverage(got, metric, value) <= 0.99, metric


def test_multiclass_interval_coverage():
    rng = np.random.default_rng(6)
    classes = np.array(["a", "b", "c"])

    def sample(n):
        y = rng.choice(3, n, p=[0.5, 0.3, 0.2])
        pred = np.where(rng.random(n) < 0.75, y, rng.choice(3, n))
        return classes[y], classes[pred]

    big_y, big_pred = sample(400_000)
    truth = {"accuracy": metrics.accuracy_score(big_y, big_pred),
             "f1_macro": metrics.f1_score(big_y, big_pred, average="macro"),
             "f1_weighted": metrics.f1_score(big_y, big_pred, average="weighted"),
             "recall[c]": metrics.recall_score(big_y, big_pred, average=None)[2]}
    y, pred = sample(WINDOWS * PER_WINDOW)
    frame = pd.DataFrame({"label": y, "prediction": pred,
                          "window_index": np.repeat(np.arange(WINDOWS), PER_WINDOW)})
    got = PerformanceMonitor("multiclass").fit(None).calculate(engine_table(frame))
    for metric, value in truth.items():
        assert 0.90 <= _coverage(got, metric, value) <= 0.99, metric


def test_regression_interval_coverage():
    rng = np.random.default_rng(7)
    mu, sigma, sd_y = 0.5, 1.0, 2.0
    n = WINDOWS * PER_WINDOW
    y = rng.normal(10, sd_y, n)
    pred = y + rng.normal(mu, sigma, n)
    truth = {  # E|e| of a normal error, and the rest in closed form
        "mae": sigma * np.sqrt(2 / np.pi) * np.exp(-mu**2 / (2 * sigma**2))
        + mu * (1 - 2 * stats.norm.cdf(-mu / sigma)),
        "rmse": np.sqrt(mu**2 + sigma**2),
        "mean_error": mu,
        "r2": 1 - (mu**2 + sigma**2) / sd_y**2,
    }
    frame = pd.DataFrame({"label": y, "prediction": pred,
                          "window_index": np.repeat(np.arange(WINDOWS), PER_WINDOW)})
    got = PerformanceMonitor("regression").fit(None).calculate(engine_table(frame))
    for metric, value in truth.items():
        assert 0.90 <= _coverage(got, metric, value) <= 0.99, metric


def test_binary_auc_numpy_and_engine_paths_equal_sklearn_per_window():
    from obskit.metrics import _ranking
    from obskit.profiles import binary_auc
    from tests.helpers import engine_table

    assert doctest.testmod(_ranking).failed == 0
    rng = np.random.default_rng(11)
    n = 4000
    score = np.round(rng.random(n), 2)  # ties within and across classes
    frame = pd.DataFrame({"window_index": rng.integers(0, 3, n), "score": score,
                          "label": np.where(rng.random(n) < score, "yes", "no")})
    frame.loc[::97, "score"] = np.nan  # left out, as unscored rows
    frame.loc[frame.window_index == 2, "label"] = "no"  # one class only: undefined
    table = engine_table(frame)
    local = binary_auc(table, positive="yes")
    engine = binary_auc(table, positive="yes", fetch_values=0)
    pd.testing.assert_frame_equal(local, engine, check_exact=False, rtol=1e-12)
    for w in (0, 1):
        part = frame[(frame.window_index == w) & frame.score.notna()]
        y = (part.label == "yes").to_numpy()
        assert local.roc_auc[w] == pytest.approx(metrics.roc_auc_score(y, part.score), 1e-12)
        assert local.pr_auc[w] == pytest.approx(
            metrics.average_precision_score(y, part.score), 1e-12)
    assert np.isnan(local.roc_auc[2]) and np.isnan(local.pr_auc[2])


def _softmax_frame(n=3000, seed=5, windows=3):
    """Three classes with softmax probabilities, some unlabelled rows, a few ties."""
    rng = np.random.default_rng(seed)
    classes = np.array(["a", "b", "c"])
    y = rng.choice(classes, n, p=[0.5, 0.3, 0.2])
    logits = rng.normal(0, 1, (n, 3)) + 1.5 * (y[:, None] == classes[None, :])
    logits[: n // 10] = np.round(logits[: n // 10], 1)  # ties within a class's scores
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    frame = pd.DataFrame({"label": pd.Series(y, dtype=object).where(rng.random(n) > 0.1),
                          "prediction": classes[proba.argmax(axis=1)],
                          "window_index": np.repeat(np.arange(windows), n // windows)})
    for i, cls in enumerate(classes):
        frame[f"proba_{cls}"] = proba[:, i]
    return frame, proba


def test_multiclass_roc_auc_and_log_loss_equal_sklearn():
    """Issue 12 §3: one probability column per class gives the one-vs-rest macro ROC AUC
    and the log loss, equal to scikit-learn's, with intervals around them."""
    frame, proba = _softmax_frame()
    scores = {"a": "proba_a", "b": "proba_b", "c": "proba_c"}
    got = _by_window(PerformanceMonitor("multiclass", class_scores=scores).fit(None)
                     .calculate(engine_table(frame)))
    for win in range(3):
        m = ((frame.window_index == win) & frame.label.notna()).to_numpy()
        y = frame.label[m].to_numpy()
        assert got.roc_auc[win] == pytest.approx(metrics.roc_auc_score(
            y, proba[m], multi_class="ovr", average="macro", labels=["a", "b", "c"]),
            rel=1e-12)
        assert got.log_loss[win] == pytest.approx(
            metrics.log_loss(y, proba[m], labels=["a", "b", "c"]), rel=1e-12)
        for metric in ("roc_auc", "log_loss"):
            assert got[f"{metric}_lo"][win] < got[metric][win] < got[f"{metric}_hi"][win]


def test_multiclass_roc_auc_interval_covers_the_truth():
    """The macro AUC interval (Hanley–McNeil per class) covers the population value in
    about 95% of windows (checked loosely: at least 85% of 40)."""
    frame, proba = _softmax_frame(n=40 * 300, seed=8, windows=40)
    labelled = frame.label.notna().to_numpy()
    truth = metrics.roc_auc_score(frame.label[labelled], proba[labelled], multi_class="ovr")
    scores = {c: f"proba_{c}" for c in "abc"}
    got = PerformanceMonitor("multiclass", class_scores=scores).fit(None).calculate(
        engine_table(frame))
    covered = ((got.roc_auc_lo <= truth) & (truth <= got.roc_auc_hi)).mean()
    assert covered >= 0.85


def test_multiclass_without_prediction_predicts_the_most_probable_class():
    """New-user report: class probabilities and labels but no ``prediction`` column. The
    predicted class is the most probable one (ties to the first class in the order of the
    class columns, as numpy's argmax); accuracy, f1, recall[class], roc_auc and log_loss
    are realized and equal scikit-learn's."""
    frame, proba = _softmax_frame(seed=11)
    proba[:30] = [0.25, 0.375, 0.375]  # exact ties: b before c
    proba[30:60] = [0.4, 0.4, 0.2]  # a before b
    classes = np.array(["a", "b", "c"])
    for i, cls in enumerate(classes):
        frame[f"proba_{cls}"] = proba[:, i]
    frame = frame.drop(columns="prediction")
    scores = {c: f"proba_{c}" for c in classes}
    got = _by_window(PerformanceMonitor("multiclass", class_scores=scores).fit(None)
                     .calculate(engine_table(frame)))
    yhat = classes[proba.argmax(axis=1)]
    for win in range(3):
        m = ((frame.window_index == win) & frame.label.notna()).to_numpy()
        y = frame.label[m].to_numpy()
        assert got.n_labelled[win] == m.sum()
        assert got.accuracy[win] == pytest.approx(metrics.accuracy_score(y, yhat[m]), 1e-12)
        assert got.f1_macro[win] == pytest.approx(
            metrics.f1_score(y, yhat[m], average="macro"), 1e-12)
        recall = metrics.recall_score(y, yhat[m], average=None, labels=classes)
        for cls, value in zip(classes, recall, strict=True):
            assert got[f"recall[{cls}]"][win] == pytest.approx(value, 1e-12)
        assert got.roc_auc[win] == pytest.approx(metrics.roc_auc_score(
            y, proba[m], multi_class="ovr", average="macro", labels=classes), rel=1e-12)
        assert got.log_loss[win] == pytest.approx(
            metrics.log_loss(y, proba[m], labels=classes), rel=1e-12)


def test_summary_primary_metric_follows_the_task_and_the_logged_score():
    from obskit.metrics.performance import primary_metric, summary_primary_metric

    assert primary_metric("binary") == "roc_auc"
    assert primary_metric("binary", has_score=False) == "accuracy"
    assert primary_metric("multiclass") == "accuracy"
    assert primary_metric("regression") == "rmse"
    assert summary_primary_metric({"task": "binary", "roles": ["prediction", "score"]}) \
        == "roc_auc"
    assert summary_primary_metric({"task": "binary", "roles": ["prediction", "label"]}) \
        == "accuracy"
    assert summary_primary_metric({"task": "binary"}) == "roc_auc"  # no roles: assume a score
    assert summary_primary_metric({"task": "multiclass", "roles": []}) == "accuracy"
    assert summary_primary_metric({}) == "rmse"


@pytest.mark.parametrize("with_prediction", [True, False])
def test_binary_frames_from_one_fetch_equal_the_engine_aggregates(with_prediction):
    """The one-fetch path gives the engine's counts, areas, loss sums and bins."""
    from obskit.profiles.performance import (
        binary_auc,
        binary_counts,
        calibration_bins,
        probability_sums,
    )
    from obskit.profiles.performance_local import binary_frames

    rng = np.random.default_rng(12)
    n = 5000
    score = np.round(rng.random(n) * 1.1 - 0.05, 2)  # ties, a few outside [0, 1]
    frame = pd.DataFrame({"window_index": rng.integers(0, 4, n), "score": score,
                          "label": np.where(rng.random(n) < score, "yes", "no"),
                          "prediction": np.where(score >= 0.4, "yes", "no")})
    frame.loc[::97, "score"] = np.nan
    frame.loc[::89, "prediction"] = None
    frame.loc[::83, "label"] = None
    frame.loc[frame.window_index == 3, "label"] = "no"
    if not with_prediction:
        frame = frame.drop(columns="prediction")
    table = engine_table(frame)
    got = binary_frames(table, positive="yes", threshold=0.4)
    assert binary_frames(table, positive="yes", fetch_values=4 * n // 2) is None
    want = [binary_counts(table, positive="yes", threshold=0.4),
            binary_auc(table, positive="yes", fetch_values=0),
            probability_sums(table, positive="yes"), calibration_bins(table, positive="yes")]
    for have, engine in zip(got, want, strict=True):
        pd.testing.assert_frame_equal(have.reset_index(drop=True), engine.reset_index(drop=True),
                                      check_exact=False, rtol=1e-12, check_dtype=False)
