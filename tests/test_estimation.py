"""Estimated performance (CBPE, DLE) follows the realized metric when the method's
assumption holds (no concept drift), and does not under concept drift."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics

from obskit.exceptions import ConfigError, InputError, NotFittedError
from obskit.metrics import estimation as est
from obskit.monitors.estimation import EstimatedPerformanceMonitor, _sample
from tests.helpers import engine_table

WINDOW = 2000


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _binary(rng, x, *, concept=2.0):
    """Labels from the true P(y|x) = sigmoid(concept·x); a mildly miscalibrated model
    score rounded to 3 decimals (ties), predicted label at 0.5."""
    y = (rng.random(len(x)) < _sigmoid(concept * x)).astype(int)
    score = np.round(_sigmoid(1.6 * x + 0.1), 3)
    return pd.DataFrame({"label": y.astype(str), "score": score,
                         "prediction": (score >= 0.5).astype(int).astype(str)})


@pytest.fixture(scope="module")
def binary_monitor():
    rng = np.random.default_rng(7)
    ref = _binary(rng, rng.normal(0, 1, 20_000))
    return EstimatedPerformanceMonitor("binary").fit(engine_table(ref))


def _realized(frame):
    y = frame.label.astype(int).to_numpy()
    yhat = frame.prediction.astype(int).to_numpy()
    return {"accuracy": metrics.accuracy_score(y, yhat), "f1": metrics.f1_score(y, yhat),
            "roc_auc": metrics.roc_auc_score(y, frame.score)}


def _windows(frames):
    return pd.concat([f.assign(window_index=i) for i, f in enumerate(frames)],
                     ignore_index=True)


def _within(got, frame, metric):
    return got[f"{metric}_lo"] <= _realized(frame)[metric] <= got[f"{metric}_hi"]


def test_cbpe_within_band_of_realized_without_concept_drift(binary_monitor):
    rng = np.random.default_rng(11)
    frames = [_binary(rng, rng.normal(0, 1, WINDOW)) for _ in range(20)]
    current = _windows(frames).drop(columns="label")  # no labels needed
    got = binary_monitor.calculate(engine_table(current)).set_index("window_index")
    assert list(got.columns[:5]) == ["accuracy", "precision", "recall", "f1", "roc_auc"]
    for metric in ("accuracy", "f1", "roc_auc"):
        hits = [_within(got.loc[i], f, metric) for i, f in enumerate(frames)]
        assert np.mean(hits) >= 0.9, metric
        # the band is a real band, not the whole metric range
        assert (got[f"{metric}_hi"] - got[f"{metric}_lo"]).max() < 0.1


def test_cbpe_follows_covariate_shift(binary_monitor):
    rng = np.random.default_rng(12)
    base = _binary(rng, rng.normal(0, 1, WINDOW))
    shifted = _binary(rng, rng.normal(0, 0.3, WINDOW))  # ambiguous scores, same P(y|x)
    got = binary_monitor.calculate(engine_table(_windows([base, shifted])))
    before, after = _realized(base), _realized(shifted)
    for metric in ("accuracy", "roc_auc"):
        assert after[metric] < before[metric] - 0.1  # the realized metric drops
        assert got[metric][1] < got[metric][0] - 0.1  # and so does the estimate
        assert _within(got.iloc[1], shifted, metric)


def test_cbpe_does_not_follow_concept_drift(binary_monitor):
    """The method's known limit: labels change, scores don't, the estimate stays put."""
    rng = np.random.default_rng(13)
    x = rng.normal(0, 1, WINDOW)
    base, drifted = _binary(rng, x), _binary(rng, x, concept=0.4)
    got = binary_monitor.calculate(engine_table(_windows([base, drifted])))
    assert got.accuracy[1] == pytest.approx(got.accuracy[0])  # same scores, same estimate
    assert _realized(drifted)["accuracy"] < got.accuracy_lo[1]


def test_engine_calibration_equals_sklearn_isotonic(binary_monitor):
    rng = np.random.default_rng(14)
    thresholds = binary_monitor.calibrator_.X_thresholds_
    scores = np.r_[rng.random(3000) * 1.4 - 0.2, thresholds, np.round(rng.random(500), 3)]
    frame = pd.DataFrame({"score": scores, "prediction": "1", "window_index": 0,
                          "row": np.arange(len(scores))})
    got = (binary_monitor.calibrated(engine_table(frame)).select("row", "_p").execute()
           .sort_values("row"))
    want = binary_monitor.calibrator_.predict(scores)
    np.testing.assert_allclose(got._p.to_numpy(), want, rtol=0, atol=1e-12)


def test_engine_estimates_equal_numpy_estimates(binary_monitor):
    rng = np.random.default_rng(15)
    frame = _binary(rng, rng.normal(0, 1, WINDOW)).assign(window_index=0)
    got = binary_monitor.calculate(engine_table(frame)).iloc[0]
    p = binary_monitor.calibrator_.predict(frame.score.to_numpy())
    yhat = frame.prediction.astype(int).to_numpy()
    want = est.estimate_binary_scores(p, yhat)
    for metric in ("accuracy", "precision", "recall", "f1"):
        assert got[metric] == pytest.approx(want[metric], rel=1e-12)
    assert got.roc_auc == pytest.approx(est.estimate_roc_auc(frame.score, p), rel=1e-12)
    assert got.n == WINDOW


def test_expected_counts_numpy_and_engine_paths_agree(binary_monitor):
    from obskit.monitors.estimation import _engine_expected_counts, _local_expected_counts

    rng = np.random.default_rng(17)
    frame = pd.concat([_binary(rng, rng.normal(shift, 1, WINDOW)).assign(window_index=w)
                       for w, shift in enumerate([0.0, 0.8])], ignore_index=True)
    frame["score"] = frame.score.round(2)  # ties
    scored, segments = binary_monitor._predicted(engine_table(frame)), binary_monitor.segments_
    local = _local_expected_counts(scored, segments)
    engine = _engine_expected_counts(binary_monitor.calibrated(engine_table(frame)))
    assert _local_expected_counts(scored, segments,
                                  fetch_values=3 * 2 * WINDOW - 3) is None  # too many
    assert sorted(local) == sorted(engine) == [0, 1]
    for w in (0, 1):
        assert local[w]["n"] == engine[w]["n"] == WINDOW
        for key in ("tp", "fp", "tn", "fn", "roc_auc"):
            assert local[w][key] == pytest.approx(engine[w][key], rel=1e-12)


def test_expected_auc_with_certain_labels_is_sklearn_auc():
    rng = np.random.default_rng(16)
    y = rng.integers(0, 2, 500)
    score = np.round(rng.random(500) + 0.3 * y, 2)
    assert est.estimate_roc_auc(score, y.astype(float)) == pytest.approx(
        metrics.roc_auc_score(y, score), rel=1e-12)


def test_multiclass_cbpe_equals_direct_numpy():
    rng = np.random.default_rng(17)
    classes = ["cat", "dog", "eel"]
    raw = rng.dirichlet([2, 2, 2], 3000)
    probas = pd.DataFrame(raw, columns=classes)
    labels = np.array([rng.choice(classes, p=r) for r in raw])
    calibrated = est.calibrate_multiclass(probas, est.fit_multiclass_calibrators(probas,
                                                                                 labels))
    np.testing.assert_allclose(calibrated.sum(axis=1), 1.0)
    pred = np.array(classes)[raw.argmax(axis=1)]
    got = est.estimate_multiclass_scores(calibrated, pred)

    p = calibrated.to_numpy()
    onehot = pred[:, None] == np.array(classes)[None, :]
    tp = (p * onehot).sum(axis=0)
    fp = ((1 - p) * onehot).sum(axis=0)
    fn = (p * ~onehot).sum(axis=0)
    assert got["accuracy"] == pytest.approx(tp.sum() / len(p), rel=1e-12)
    assert got["f1_macro"] == pytest.approx(np.mean(2 * tp / (2 * tp + fp + fn)), rel=1e-12)
    # and close to the realized values (labels drawn from the calibrated-ish probas)
    assert got["accuracy"] == pytest.approx(metrics.accuracy_score(labels, pred), abs=0.03)


# --------------------------------------------------------------- multiclass CBPE (engine)

CLASSES = ["cat", "dog", "eel"]
SCORES = {c: f"proba_{c}" for c in CLASSES}
_DIRECTIONS = np.array([[1.0, 0.0], [-0.5, 0.9], [-0.5, -0.9]])


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _multiclass(rng, x, *, concept=1.5):
    """Labels from the true P(y|x) = softmax(concept · D x); the model's probabilities are
    a miscalibrated softmax(1.1 · D x + bias), rounded to 3 decimals (ties); the predicted
    class is the most probable one."""
    truth = _softmax(concept * x @ _DIRECTIONS.T)
    y = np.array(CLASSES)[(rng.random((len(x), 1)) > truth.cumsum(axis=1)).sum(axis=1)]
    model = np.round(_softmax(1.1 * x @ _DIRECTIONS.T + np.array([0.2, 0.0, -0.2])), 3)
    frame = pd.DataFrame({"label": y, "prediction": np.array(CLASSES)[model.argmax(axis=1)]})
    for i, c in enumerate(CLASSES):
        frame[SCORES[c]] = model[:, i]
    return frame


def _realized_multiclass(frame):
    proba = frame[[SCORES[c] for c in CLASSES]].to_numpy()
    proba = proba / proba.sum(axis=1, keepdims=True)  # sklearn wants rows summing to one
    return {"accuracy": metrics.accuracy_score(frame.label, frame.prediction),
            "f1_macro": metrics.f1_score(frame.label, frame.prediction, average="macro",
                                         labels=CLASSES),
            "roc_auc": metrics.roc_auc_score(frame.label, proba, multi_class="ovr",
                                             average="macro", labels=CLASSES)}


@pytest.fixture(scope="module")
def multiclass_monitor():
    rng = np.random.default_rng(31)
    ref = _multiclass(rng, rng.normal(0, 1, (20_000, 2)))
    return EstimatedPerformanceMonitor("multiclass", class_scores=SCORES).fit(
        engine_table(ref))


def test_multiclass_cbpe_within_band_of_realized_without_concept_drift(multiclass_monitor):
    """Issue 12 §3: CBPE for multiclass; with no concept drift the realized accuracy, macro
    f1 and macro ROC AUC of labelled windows lie in the estimate's band."""
    rng = np.random.default_rng(32)
    frames = [_multiclass(rng, rng.normal(0, 1, (WINDOW, 2))) for _ in range(20)]
    current = _windows(frames).drop(columns="label")
    got = multiclass_monitor.calculate(engine_table(current)).set_index("window_index")
    assert list(got.columns[:3]) == ["accuracy", "f1_macro", "roc_auc"]
    for metric in ("accuracy", "f1_macro", "roc_auc"):
        realized = [_realized_multiclass(f)[metric] for f in frames]
        hits = [got[f"{metric}_lo"][i] <= r <= got[f"{metric}_hi"][i]
                for i, r in enumerate(realized)]
        assert np.mean(hits) >= 0.9, metric
        assert (got[f"{metric}_hi"] - got[f"{metric}_lo"]).max() < 0.1
        assert abs(np.mean(got[metric]) - np.mean(realized)) < 0.01, metric


def test_multiclass_cbpe_follows_covariate_shift(multiclass_monitor):
    rng = np.random.default_rng(33)
    base = _multiclass(rng, rng.normal(0, 1, (WINDOW, 2)))
    shifted = _multiclass(rng, rng.normal(0, 0.3, (WINDOW, 2)))  # ambiguous rows
    got = multiclass_monitor.calculate(engine_table(_windows([base, shifted])))
    before, after = _realized_multiclass(base), _realized_multiclass(shifted)
    for metric in ("accuracy", "f1_macro"):
        assert after[metric] < before[metric] - 0.1
        assert got[metric][1] < got[metric][0] - 0.1
        assert got[f"{metric}_lo"][1] <= after[metric] <= got[f"{metric}_hi"][1]


def test_multiclass_engine_estimates_equal_numpy_estimates(multiclass_monitor):
    """The engine's calibration, renormalisation and expected counts equal the pure
    functions' (isotonic calibrators of scikit-learn, NannyML's formulas)."""
    rng = np.random.default_rng(34)
    frame = _multiclass(rng, rng.normal(0.3, 1, (WINDOW, 2))).assign(window_index=0)
    got = multiclass_monitor.calculate(engine_table(frame)).iloc[0]
    probas = pd.DataFrame({c: frame[SCORES[c]] for c in CLASSES})
    calibrated = est.calibrate_multiclass(probas, multiclass_monitor.calibrators_)
    want = est.estimate_multiclass_scores(calibrated, frame.prediction)
    for metric in ("accuracy", "f1_macro", "roc_auc"):
        assert got[metric] == pytest.approx(want[metric], rel=1e-9), metric
    assert got.n == WINDOW


def test_multiclass_counts_numpy_and_engine_paths_agree(multiclass_monitor):
    """Above the fetch bound the engine calibrates and counts; the numbers are the same."""
    from obskit.monitors.estimation import _engine_expected_counts, _local_class_counts

    rng = np.random.default_rng(37)
    frame = pd.concat([_multiclass(rng, rng.normal(shift, 1, (WINDOW, 2))).assign(
        window_index=w) for w, shift in enumerate([0.0, 0.7])], ignore_index=True)
    m = multiclass_monitor
    scored = m._predicted_classes(engine_table(frame))
    local = _local_class_counts(scored, m.class_scores, m.class_segments_)
    assert _local_class_counts(scored, m.class_scores, m.class_segments_,
                               fetch_values=7 * 2 * WINDOW - 7) is None  # too many
    t = m.calibrated_classes(engine_table(frame))
    for i, cls in enumerate(m.class_scores):
        view = t.select("window_index", score=t[f"_p{i}"], _p=t[f"_p{i}"],
                        _yhat=t._yhat == cls)
        engine = _engine_expected_counts(view)
        assert sorted(local[i]) == sorted(engine) == [0, 1]
        for w in (0, 1):
            assert local[i][w]["n"] == engine[w]["n"] == WINDOW
            for key in ("tp", "fp", "tn", "fn", "roc_auc"):
                assert local[i][w][key] == pytest.approx(engine[w][key], rel=1e-12)


def test_multiclass_cbpe_without_prediction_takes_the_most_probable_class(
        multiclass_monitor):
    rng = np.random.default_rng(35)
    frame = _multiclass(rng, rng.normal(0, 1, (500, 2))).assign(window_index=0)
    with_pred = multiclass_monitor.calculate(engine_table(frame))
    without = multiclass_monitor.calculate(engine_table(frame.drop(columns="prediction")))
    assert without.accuracy[0] == pytest.approx(with_pred.accuracy[0], rel=1e-12)


def _nannyml_roc_auc(p, *, close_at_one=True):
    """NannyML's ``estimate_roc_auc`` (its published formula): expected TP, FP, FN, TN at
    each distinct calibrated probability, area under (FPR, TPR) by the trapezoid rule.
    NannyML 0.13 closes the curve with a point at threshold 1 (``close_at_one``); closed at
    (0, 0) instead it is the exact area (ties counted half)."""
    t = np.append(np.sort(p), 1) if close_at_one else np.sort(p)
    tp, fp = np.cumsum(t[::-1])[::-1], np.cumsum((1 - t)[::-1])[::-1]
    fn, tn = np.cumsum(np.r_[0, t[:-1]]), np.cumsum(np.r_[0, 1 - t[:-1]])
    first = np.diff(np.r_[-1, t]).astype(bool)
    tpr, fpr = (tp / (tp + fn))[first], (fp / (fp + tn))[first]
    if not close_at_one:
        tpr, fpr = np.r_[tpr, 0], np.r_[fpr, 0]
    return metrics.auc(fpr, tpr)


def test_multiclass_estimates_follow_nannyml_formulas():
    rng = np.random.default_rng(36)
    frame = _multiclass(rng, rng.normal(0, 1, (3000, 2)))
    probas = pd.DataFrame({c: frame[SCORES[c]] for c in CLASSES})
    cal = est.calibrate_multiclass(probas, est.fit_multiclass_calibrators(probas, frame.label))
    got = est.estimate_multiclass_scores(cal, frame.prediction)
    onehot = (frame.prediction.to_numpy()[:, None] == np.array(CLASSES)[None, :])
    p = cal.to_numpy()
    # accuracy: mean over rows of the probability of the predicted class
    assert got["accuracy"] == pytest.approx(np.mean(np.max(onehot * p, axis=1)), rel=1e-12)
    # f1: per class TP / (TP + (FP + FN) / 2), macro mean
    tp, fp, fn = (onehot * p).sum(0), (onehot * (1 - p)).sum(0), (~onehot * p).sum(0)
    assert got["f1_macro"] == pytest.approx(np.mean(tp / (tp + (fp + fn) / 2)), rel=1e-12)
    assert got["roc_auc"] == pytest.approx(
        np.mean([_nannyml_roc_auc(p[:, i], close_at_one=False) for i in range(3)]), rel=1e-9)
    # NannyML 0.13's closing point moves the area by O(1/n) only
    assert got["roc_auc"] == pytest.approx(
        np.mean([_nannyml_roc_auc(p[:, i]) for i in range(3)]), abs=1e-3)


# ------------------------------------------------------------------------ regression

FEATURES = {"x": "numeric", "kind": "categorical"}


def _regression(rng, n, *, low=0.0, high=10.0):
    """Errors grow with x and are larger for kind 'c'; the model is the true mean."""
    x = rng.uniform(low, high, n)
    kind = rng.choice(["a", "b", "c"], n)
    mean = 3.0 * x + np.where(kind == "b", 5.0, 0.0)
    noise = (0.5 + 0.4 * x) * np.where(kind == "c", 2.0, 1.0)
    y = mean + rng.normal(0, 1, n) * noise
    return pd.DataFrame({"x": x, "kind": kind, "label": y, "prediction": mean + 0.2})


@pytest.fixture(scope="module")
def regression_monitor():
    rng = np.random.default_rng(21)
    ref = _regression(rng, 20_000)
    return EstimatedPerformanceMonitor("regression", features=FEATURES).fit(engine_table(ref))


def _errors(frame):
    return {"mae": metrics.mean_absolute_error(frame.label, frame.prediction),
            "rmse": metrics.root_mean_squared_error(frame.label, frame.prediction)}


def test_dle_within_band_without_concept_drift_and_follows_covariate_shift(
        regression_monitor):
    rng = np.random.default_rng(22)
    frames = [_regression(rng, WINDOW) for _ in range(10)]
    frames.append(_regression(rng, WINDOW, low=7.0, high=10.0))  # region of larger errors
    current = _windows(frames).drop(columns="label")
    got = regression_monitor.calculate(engine_table(current)).set_index("window_index")
    assert list(got.columns[:2]) == ["mae", "rmse"]
    for metric in ("mae", "rmse"):
        hits = [got[f"{metric}_lo"][i] <= _errors(f)[metric] <= got[f"{metric}_hi"][i]
                for i, f in enumerate(frames)]
        assert np.mean(hits[:10]) >= 0.9, metric
        assert hits[10], metric
        assert _errors(frames[10])[metric] > 1.4 * _errors(frames[0])[metric]
        assert got[metric][10] > 1.4 * got[metric][0]


# ------------------------------------------------------------------------- contracts


def test_unfitted_and_unlabelled_reference_raise():
    frame = pd.DataFrame({"score": [0.2, 0.8], "prediction": ["0", "1"], "window_index": 0})
    with pytest.raises(NotFittedError):
        EstimatedPerformanceMonitor("binary").calculate(engine_table(frame))
    with pytest.raises(InputError, match="'label'") as err:
        EstimatedPerformanceMonitor("binary").fit(engine_table(frame))
    assert err.value.column == "label"
    with pytest.raises(ConfigError, match="multiclass"):
        EstimatedPerformanceMonitor("multiclass")


def test_sample_is_bounded_and_deterministic():
    rng = np.random.default_rng(23)
    frame = pd.DataFrame({"v": rng.integers(0, 5, 3000), "window_index": np.repeat([0, 1],
                                                                                   1500)})
    t = engine_table(frame)
    a = _sample(t, 400).execute().sort_values(["window_index", "v"]).reset_index(drop=True)
    b = _sample(t, 400).execute().sort_values(["window_index", "v"]).reset_index(drop=True)
    assert a.groupby("window_index").size().tolist() == [400, 400]
    pd.testing.assert_frame_equal(a, b)


def test_sample_does_not_depend_on_row_order():
    """The sample key numbers rows in the order of their values: a shuffled table gives
    the same rows in the same order (the bootstrap of the sampling error reads that order)."""
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"v": rng.integers(0, 50, 3000), "s": rng.random(3000).round(2),
                          "window_index": np.repeat([0, 1, 2], 1000)})
    shuffled = frame.sample(frac=1.0, random_state=1).reset_index(drop=True)
    a = _sample(engine_table(frame), 300).execute()
    b = _sample(engine_table(shuffled), 300).execute()
    pd.testing.assert_frame_equal(a, b)
    assert a.groupby("window_index").size().tolist() == [300, 300, 300]
    whole = _sample(engine_table(frame), 5000).execute()  # under the cap: every row
    assert len(whole) == 3000


def test_label_texts_equal_the_row_wise_text_in_one_query(monkeypatch):
    import ibis.expr.types as ir

    from obskit.io.casting import as_label_text
    from obskit.monitors._estimation_engine import _label_texts

    frame = pd.DataFrame({"prediction": [1.0, 0.0, 1.0, np.nan],
                          "label": [" yes", "no", "true", None], "window_index": 0})
    t = engine_table(frame)
    calls = []
    real = ir.Table.execute
    monkeypatch.setattr(ir.Table, "execute",
                        lambda self, *a, **k: calls.append(1) or real(self, *a, **k))
    texts = _label_texts(t, ["prediction", "label"])
    assert len(calls) == 1
    monkeypatch.undo()
    got = t.select(p=texts["prediction"], y=texts["label"]).execute()
    want = t.select(p=as_label_text(t.prediction), y=as_label_text(t.label)).execute()
    pd.testing.assert_frame_equal(got, want)


def test_sampling_band_shrinks_with_window_size():
    lo1, hi1 = est.sampling_band("mae", 2.0, sigma=1.0, n=100)
    lo2, hi2 = est.sampling_band("mae", 2.0, sigma=1.0, n=10_000)
    assert hi1 - lo1 == pytest.approx(0.6) and hi2 - lo2 == pytest.approx(0.06)


def test_row_count_of_an_estimate_is_not_a_metric(regression_monitor, binary_monitor):
    """DLE and CBPE return ``n`` (rows estimated) beside the metrics; a window's
    ``estimated_performance`` holds the metrics only (no "n (score)" panel)."""
    from obskit.analysis.assemble import WindowFrames, assemble_windows
    from obskit.metrics.performance import METRICS
    from obskit.windows import parse_window

    rng = np.random.default_rng(23)
    cases = [("regression", regression_monitor, _regression(rng, 500).drop(columns="label")),
             ("binary", binary_monitor, _binary(rng, rng.normal(0, 1, 500)))]
    for task, monitor, frame in cases:
        estimated = monitor.calculate(engine_table(frame.assign(window_index=0)))
        assert "n" in estimated.columns
        overview = pd.DataFrame({"window_index": [0], "rows": [500], "first": [None],
                                 "last": [None]})
        windows = assemble_windows(parse_window("500 rows"),
                                   WindowFrames(overview=overview, drift=pd.DataFrame(),
                                                estimated=estimated),
                                   features=[], metrics=METRICS[task], min_rows=10,
                                   has_labels=False)
        assert "n" not in windows[0].estimated_performance
        assert "n" not in windows[0].estimated_performance_ci
        assert set(windows[0].estimated_performance) <= set(METRICS[task])
