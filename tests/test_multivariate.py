"""Multivariate drift: domain classifier AUC and PCA reconstruction error per window."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import wasserstein_distance
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from obskit.exceptions import ConfigError, InputError, NotFittedError
from obskit.monitors.multivariate import DomainClassifierMonitor
from obskit.monitors.pca_reconstruction import PCAReconstructionMonitor
from tests.helpers import engine_table

FEATURES = {"x1": "numeric", "x2": "numeric", "x3": "numeric", "flag": "boolean",
            "cat": "categorical"}
NUMERIC = ["x1", "x2", "x3"]
DC_OPTIONS = {"sample_rows": 600, "cv": 3}
SAME, FLIPPED, TINY = 0, 1, 2


def _frame(n: int, *, sign: float, seed: int) -> pd.DataFrame:
    """x2 = sign · x1 + noise: flipping the sign keeps every marginal distribution."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    frame = pd.DataFrame({
        "timestamp": pd.date_range("2024-01-01", periods=n, freq="min", tz="UTC"),
        "x1": x1,
        "x2": sign * x1 + 0.3 * rng.normal(size=n),
        "x3": rng.normal(2.0, 0.5, size=n),
        "flag": rng.random(n) < 0.3,
        "cat": rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2]).astype(object),
    })
    frame.loc[rng.random(n) < 0.05, "x3"] = np.nan
    frame.loc[rng.random(n) < 0.03, "cat"] = None
    return frame


@pytest.fixture(scope="module")
def frames():
    reference = _frame(3000, sign=1, seed=0)
    current = pd.concat([
        _frame(1000, sign=1, seed=1).assign(window_index=SAME),
        _frame(1000, sign=-1, seed=2).assign(window_index=FLIPPED),
        _frame(30, sign=1, seed=3).assign(window_index=TINY),
    ], ignore_index=True)
    return reference, current


@pytest.fixture(scope="module")
def tables(frames):
    reference, current = frames
    return engine_table(reference), engine_table(current)


@pytest.fixture(scope="module")
def domain(tables):
    reference, current = tables
    monitor = DomainClassifierMonitor(FEATURES, **DC_OPTIONS).fit(reference)
    return monitor, monitor.calculate(current).set_index("window_index")


@pytest.fixture(scope="module")
def pca(tables):
    reference, current = tables
    monitor = PCAReconstructionMonitor(FEATURES).fit(reference)
    return monitor, monitor.calculate(current).set_index("window_index")


def test_marginals_do_not_move(frames):
    # the flipped window is invisible to univariate drift
    reference, current = frames
    flipped = current[current.window_index == FLIPPED]
    for f in NUMERIC:
        ref, cur = reference[f].dropna(), flipped[f].dropna()
        assert wasserstein_distance(ref, cur) / ref.std() < 0.1, f


def test_domain_classifier_no_drift(domain):
    _, result = domain
    row = result.loc[SAME]
    assert row.method == "domain_classifier"
    assert abs(row.value - 0.5) < 0.05
    assert row.value < row.threshold and not row.drifted
    assert row.rows_used == 600


def test_domain_classifier_flags_correlation_change(domain):
    _, result = domain
    row = result.loc[FLIPPED]
    assert row.value > 0.8 and row.drifted


def test_domain_classifier_output_columns(domain):
    _, result = domain
    assert list(result.reset_index().columns) == [
        "window_index", "method", "value", "threshold", "drifted", "rows_used"]


def test_domain_classifier_reference_sample_is_bounded(domain):
    monitor, _ = domain
    assert len(monitor.reference_sample_) == DC_OPTIONS["sample_rows"]


def test_domain_classifier_tiny_window_has_no_score(domain):
    _, result = domain
    row = result.loc[TINY]
    assert pd.isna(row.value) and row.drifted is None
    assert row.rows_used == 30


def test_domain_classifier_is_deterministic(tables, frames, domain):
    reference, _ = tables
    _, result = domain
    # same data, in another table and another row order
    shuffled = frames[1].sample(frac=1.0, random_state=7)
    again = DomainClassifierMonitor(FEATURES, **DC_OPTIONS).fit(engine_table(
        frames[0].sample(frac=1.0, random_state=3)))
    second = again.calculate(engine_table(shuffled[shuffled.window_index == FLIPPED]))
    assert second.value.iloc[0] == result.loc[FLIPPED].value


def test_pca_no_drift_and_flags_correlation_change(pca):
    monitor, result = pca
    same, flipped = result.loc[SAME], result.loc[FLIPPED]
    assert same.method == "pca_reconstruction"
    assert same.threshold_lower <= same.value <= same.threshold_upper
    assert not same.drifted
    assert flipped.value > flipped.threshold_upper and flipped.drifted
    assert list(result.reset_index().columns) == [
        "window_index", "method", "value", "threshold_lower", "threshold_upper", "drifted"]
    assert len(monitor.reference_chunk_errors_) == 10


def _sklearn_errors(monitor, reference: pd.DataFrame, current: pd.DataFrame) -> pd.Series:
    """The same method with scikit-learn on the same rows (categories frequency-encoded)."""
    def encode(frame):
        out = frame[list(FEATURES)].copy()
        out["flag"] = out.flag.astype(float)
        out["cat"] = out.cat.map(reference.cat.value_counts() / len(reference))
        out.loc[frame.cat.notna() & out.cat.isna(), "cat"] = 0.0
        return out.astype(float)

    model = make_pipeline(SimpleImputer(strategy="mean"), StandardScaler(),
                          PCA(n_components=0.65, svd_solver="full"))
    model.fit(encode(reference))
    assert model[-1].n_components_ == monitor.n_components_
    x = encode(current)
    z = model[:2].transform(x)
    errors = np.linalg.norm(z - model[-1].inverse_transform(model[-1].transform(z)), axis=1)
    return pd.Series(errors).groupby(current.window_index.to_numpy()).mean()


def test_pca_engine_error_equals_sklearn(pca, frames):
    monitor, result = pca
    reference, current = frames
    expected = _sklearn_errors(monitor, reference, current)
    np.testing.assert_allclose(result.value.to_numpy(), expected.to_numpy(), rtol=1e-9)


@pytest.mark.parametrize("make", [
    lambda: DomainClassifierMonitor(FEATURES),
    lambda: PCAReconstructionMonitor(FEATURES),
])
def test_unfitted_raises(make, tables):
    with pytest.raises(NotFittedError, match="not fitted"):
        make().calculate(tables[1])


@pytest.mark.parametrize("make, columns", [
    (lambda f: DomainClassifierMonitor(f), ["threshold", "rows_used"]),
    (lambda f: PCAReconstructionMonitor(f), ["threshold_lower", "threshold_upper"]),
])
def test_no_usable_features_gives_empty_frame(make, columns, frames):
    reference, current = frames
    reference = reference.assign(empty=np.nan)
    current = current.assign(empty=np.nan)
    for features in ({}, {"empty": "numeric"}):
        result = make(features).fit(engine_table(reference)).calculate(engine_table(current))
        assert result.empty
        assert set(["window_index", "method", "value", "drifted", *columns]) <= set(
            result.columns)


def test_bad_feature_kind_and_missing_column(tables):
    with pytest.raises(ConfigError, match="features.x1"):
        PCAReconstructionMonitor({"x1": "text"})
    with pytest.raises(InputError, match="'nope'") as info:
        DomainClassifierMonitor({"nope": "numeric"}).fit(tables[0])
    assert info.value.column == "nope"


def test_pca_error_below_the_lower_bound_is_worded_as_such(pca, frames):
    """A window too tidy for the reference (x2 = x1 exactly, x3 and the categoricals
    constant) falls BELOW the lower bound: the finding and the window view say which bound
    was crossed and which way, never "up to X vs threshold" with the upper bound."""
    from obskit.findings import build_findings
    from obskit.render.views import window_html
    from obskit.results import load

    monitor, _ = pca
    reference, _ = frames
    tidy = _frame(1000, sign=1, seed=4)
    tidy["x2"], tidy["x3"], tidy["flag"], tidy["cat"] = tidy.x1, 2.0, False, "a"
    got = monitor.calculate(engine_table(tidy.assign(window_index=0))).iloc[0]
    assert got.drifted and got.value < got.threshold_lower
    entry = {k: float(got[k]) for k in ("value", "threshold_lower", "threshold_upper")}
    window = {"index": 0, "start": "2026-11-01T00:00:00Z", "end": "2026-11-02T00:00:00Z",
              "status": "ok", "rows": 1000,
              "multivariate_drift": {"pca_reconstruction": {**entry, "drifted": True}}}
    summary = {"windows": [window], "rows": {"quarantined": 0, "read": 1000}, "alerts": []}
    text = next(f.text for f in build_findings(load(summary))
                if f.kind == "multivariate_drift")
    assert (f"down to {entry['value']:.3g}, below the lower bound "
            f"{entry['threshold_lower']:.3g}") in text
    assert "up to" not in text and f"{entry['threshold_upper']:.3g}" not in text
    run = load(summary)
    page = window_html(run, run.windows[0])
    assert f"(below the lower bound {entry['threshold_lower']:.3g})" in page


def test_pca_large_reference_sets_thresholds_on_a_bounded_sample(tables, monkeypatch):
    """Above ``THRESHOLD_SAMPLE_ROWS`` the chunks are cut from a hash sample of that many
    rows: the same rows on every fit, thresholds close to the full reference's."""
    from obskit.monitors import pca_reconstruction

    reference = tables[0]
    full = PCAReconstructionMonitor(FEATURES).fit(reference)
    assert full.threshold_rows_ == 3000
    monkeypatch.setattr(pca_reconstruction, "THRESHOLD_SAMPLE_ROWS", 1500)
    sampled = PCAReconstructionMonitor(FEATURES).fit(reference)
    again = PCAReconstructionMonitor(FEATURES).fit(reference)
    assert sampled.threshold_rows_ == 1500
    assert sampled.reference_chunk_errors_.rows.sum() == 1500
    assert len(sampled.reference_chunk_errors_) == 10
    assert (sampled.threshold_lower_, sampled.threshold_upper_) == (
        again.threshold_lower_, again.threshold_upper_)
    np.testing.assert_array_equal(sampled.components_, full.components_)
    np.testing.assert_allclose([sampled.threshold_lower_, sampled.threshold_upper_],
                               [full.threshold_lower_, full.threshold_upper_], rtol=0.1)


def _plain_auc(monitor: DomainClassifierMonitor, reference: pd.DataFrame,
               window: pd.DataFrame) -> float:
    """scikit-learn's cross-validated AUC with one fit of 100 trees per fold."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    x = np.vstack([reference.to_numpy(dtype="float64"), window.to_numpy(dtype="float64")])
    y = np.r_[np.zeros(len(reference)), np.ones(len(window))]
    mask = np.array([f in monitor.categories_ for f in monitor.features_])
    scores = np.empty(len(y))
    for train, test in StratifiedKFold(monitor.cv, shuffle=True,
                                       random_state=monitor.random_state).split(x, y):
        model = HistGradientBoostingClassifier(
            categorical_features=mask, max_leaf_nodes=15, max_iter=100, early_stopping=True,
            validation_fraction=0.1, n_iter_no_change=5, random_state=monitor.random_state)
        scores[test] = model.fit(x[train], y[train]).predict_proba(x[test])[:, 1]
    return float(roc_auc_score(y, scores))


@pytest.mark.parametrize("scale", [1.0, 1.1, 1.3, 3.0])
def test_domain_classifier_staged_boosting_keeps_verdicts(scale):
    # x3's spread grows with ``scale``: from no drift to a clear one. Below the sure margin
    # the value is exactly scikit-learn's 100-tree fit; above it the verdict is the same
    reference = _frame(2000, sign=1, seed=10)
    window = _frame(2000, sign=1, seed=11)
    window["x3"] = 2.0 + (window.x3 - 2.0) * scale
    monitor = DomainClassifierMonitor(FEATURES, sample_rows=2000).fit(engine_table(reference))
    encoded = monitor._encode(window)
    staged = monitor._auc(monitor.reference_sample_, encoded)
    plain = _plain_auc(monitor, monitor.reference_sample_, encoded)
    if plain < monitor.threshold + 0.05:
        assert staged == plain
    else:
        assert staged == pytest.approx(plain, abs=0.01)
    assert (staged >= monitor.threshold) == (plain >= monitor.threshold)
