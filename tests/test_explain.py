"""Tests for obskit.explain: SHAP additivity, explainer choice, LIME, cohort views, figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    MaxAbsScaler,
    OneHotEncoder,
    PolynomialFeatures,
    StandardScaler,
)

from obskit.explain import (
    agreement,
    attribution_drift,
    choose_explainer,
    cohort_attribution,
    drift_importance_ranking,
    lime_explanations,
    shap_values,
)
from obskit.explain.explainers import _AgnosticExplainer
from obskit.io.model import prediction_function
from obskit.render.explanations import lime_figure, waterfall_figure

NUMERIC = ["age", "income", "debt_ratio", "utilization", "num_late"]
CATEGORICAL = ["employment", "home"]
FEATURES = NUMERIC + CATEGORICAL
TOL = 1e-6


def _table(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "age": rng.integers(18, 80, n),
        "income": rng.lognormal(10.8, 0.4, n),
        "debt_ratio": rng.gamma(2.0, 0.17, n),
        "utilization": rng.beta(2, 4, n),
        "num_late": rng.poisson(0.6, n),
        "employment": rng.choice(["salaried", "self_employed", "unemployed"], n),
        "home": rng.choice(["rent", "own", "mortgage"], n),
    })
    z = (3 * X["utilization"] + 0.8 * X["num_late"] - 0.9 * (np.log(X["income"]) - 10.8)
         + 1.0 * (X["employment"] == "unemployed") - 1.5)
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int).to_numpy()
    return X, y


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, np.ndarray]:
    return _table(1500, 0)


@pytest.fixture(scope="module")
def linear_pipeline(data) -> Pipeline:
    X, y = data
    pre = ColumnTransformer([("num", StandardScaler(), NUMERIC),
                             ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)])
    return Pipeline([("pre", pre), ("clf", LogisticRegression(max_iter=1000))]).fit(X, y)


def _check_additive(result, output: np.ndarray) -> None:
    assert np.abs(result.base_values + result.values.sum(axis=1).to_numpy() - output).max() < TOL


def test_shap_linear_pipeline_maps_back_exactly(data, linear_pipeline: Pipeline) -> None:
    X, _ = data
    rows = X.iloc[:15].copy()
    rows.loc[rows.index[0], "employment"] = "student"  # a category unseen in the background
    background = X.iloc[200:300]
    result = shap_values(linear_pipeline, rows, background, task="binary")
    assert (result.explainer, result.output) == ("Linear", "log-odds")
    assert list(result.values.columns) == FEATURES and result.n_rows == 15
    _check_additive(result, linear_pipeline.decision_function(rows))
    # the same values as exact Shapley values of the margin, computed model-agnostically
    agnostic = _AgnosticExplainer(linear_pipeline, background, "binary")
    agnostic.f = linear_pipeline.decision_function
    values, _ = agnostic(rows)
    assert np.abs(result.values.to_numpy() - values).max() < 1e-6
    assert result.mean_abs().idxmax() in ("utilization", "num_late", "income", "employment")


def test_shap_agnostic_pipeline_additive(data, linear_pipeline: Pipeline) -> None:
    X, y = data
    rows = X.iloc[:15].copy()
    rows.loc[rows.index[0], "employment"] = "student"  # a category unseen in the background
    knn = Pipeline([("pre", linear_pipeline.steps[0][1]),
                    ("clf", KNeighborsClassifier(15))]).fit(X, y)
    result = shap_values(knn, rows, X.iloc[200:], task="binary")
    assert result.explainer == "Exact" and result.output == "probability"
    assert list(result.values.columns) == FEATURES and result.n_rows == 15
    assert result.values.index.equals(rows.index)
    _check_additive(result, prediction_function(knn, "binary")(rows))
    assert set(result.to_dict()) >= {"explainer", "output", "n_rows", "mean_abs"}


def test_shap_tree_ensembles_additive(data) -> None:
    X, y = data
    Xn = X[NUMERIC]
    rf = RandomForestClassifier(n_estimators=30, max_depth=6, random_state=0).fit(Xn, y)
    result = shap_values(rf, Xn.iloc[:50], Xn.iloc[500:], task="binary")
    assert (result.explainer, result.output) == ("Tree", "probability")
    _check_additive(result, rf.predict_proba(Xn.iloc[:50])[:, 1])

    hgb = HistGradientBoostingRegressor(max_iter=40, random_state=0).fit(Xn, Xn["income"] * y)
    result = shap_values(hgb, Xn.iloc[:50], Xn.iloc[500:], task="regression")
    assert (result.explainer, result.output) == ("Tree", "prediction")
    _check_additive(result, hgb.predict(Xn.iloc[:50]))


def test_shap_tree_behind_column_transformer_maps_back(data) -> None:
    X, y = data
    pre = ColumnTransformer([("num", StandardScaler(), NUMERIC),
                             ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)])
    model = Pipeline([("pre", pre),
                      ("clf", HistGradientBoostingClassifier(max_iter=30, random_state=0))])
    model.fit(X, y)
    result = shap_values(model, X.iloc[:40], X.iloc[500:], task="binary")
    assert (result.explainer, result.output) == ("Tree", "log-odds")
    assert list(result.values.columns) == FEATURES  # one value per log column
    _check_additive(result, model.decision_function(X.iloc[:40]))


def test_choose_explainer_rules(data, linear_pipeline: Pipeline) -> None:
    X, y = data
    Xn = X[NUMERIC]
    logreg = LogisticRegression(max_iter=1000).fit(Xn, y)
    assert choose_explainer(logreg, Xn, task="binary")[1] == "Linear"
    result = shap_values(logreg, Xn.iloc[:20], Xn.iloc[500:], task="binary")
    assert result.output == "log-odds"
    _check_additive(result, logreg.decision_function(Xn.iloc[:20]))
    assert choose_explainer(linear_pipeline, X, task="binary")[1] == "Linear"
    rf = RandomForestClassifier(n_estimators=3, random_state=0).fit(Xn, y)
    assert choose_explainer(rf, Xn, task="binary")[1] == "Tree"
    # preprocessing whose outputs mix inputs cannot be mapped back: model-agnostic
    poly = Pipeline([("poly", PolynomialFeatures(2)),
                     ("rf", RandomForestClassifier(n_estimators=3, random_state=0))]).fit(Xn, y)
    assert choose_explainer(poly, Xn, task="binary")[1] == "Exact"
    # more than 12 features: permutation sampling, still additive
    wide = pd.DataFrame(np.random.default_rng(1).normal(size=(300, 13)),
                        columns=[f"x{i}" for i in range(13)])
    knn = Pipeline([("s", StandardScaler()),
                    ("k", KNeighborsRegressor(5))]).fit(wide, wide["x0"] ** 2)
    result = shap_values(knn, wide.iloc[:3], wide.iloc[100:130], task="regression")
    assert result.explainer == "Permutation"
    _check_additive(result, knn.predict(wide.iloc[:3]))


@pytest.mark.parametrize("prep", [
    [("s", StandardScaler())],
    [("i", SimpleImputer()), ("s", StandardScaler())],
    [("pre", ColumnTransformer([("num", StandardScaler(), NUMERIC)])), ("s", MaxAbsScaler())],
])
def test_shap_linear_behind_per_column_steps_equals_exact_shapley(data, prep) -> None:
    # a scaler (or an imputer and a scaler) in front of a linear model keeps each column
    # its own: Linear SHAP, mapped back, equals the exact Shapley values of the margin
    X, y = data
    Xn = X[NUMERIC].copy()
    if prep[0][0] == "i":  # the imputer has something to fill
        Xn.loc[Xn.index[::7], "income"] = np.nan
    model = Pipeline([*prep, ("clf", LogisticRegression(max_iter=1000))]).fit(Xn, y)
    rows, background = Xn.iloc[:12], Xn.iloc[200:300]
    result = shap_values(model, rows, background, task="binary")
    assert (result.explainer, result.output) == ("Linear", "log-odds")
    _check_additive(result, model.decision_function(rows))
    agnostic = _AgnosticExplainer(model, background, "binary")
    agnostic.f = model.decision_function
    values, _ = agnostic(rows)
    assert agnostic.name == "Exact"
    assert np.abs(result.values.to_numpy() - values).max() < 1e-6
    # a step that mixes columns cannot be mapped back
    mixed = Pipeline([("poly", PolynomialFeatures(2)), *prep[-1:],
                      ("clf", LogisticRegression(max_iter=1000))]).fit(Xn.fillna(0), y)
    assert choose_explainer(mixed, Xn.fillna(0), task="binary")[1] == "Exact"


def test_lime_feature_names_and_agreement(data, linear_pipeline: Pipeline) -> None:
    X, _ = data
    types = {c: "numeric" for c in NUMERIC} | {c: "categorical" for c in CATEGORICAL}
    lime = lime_explanations(linear_pipeline, X.iloc[:3], X.iloc[500:1000],
                             feature_types=types, task="binary", num_features=4)
    assert len(lime) == 3
    for row in lime:
        assert len(row) == 4 and all(f in FEATURES for f, _ in row)
        assert all(isinstance(w, float) for _, w in row)
    again = lime_explanations(linear_pipeline, X.iloc[:1], X.iloc[500:1000],
                              feature_types=types, task="binary", num_features=4)
    assert again[0] == lime[0]  # seeded
    shap_row = shap_values(linear_pipeline, X.iloc[:1], X.iloc[500:], task="binary").values
    result = agreement(shap_row.iloc[0], lime[0], k=3)
    assert set(result) == {"shap_top", "lime_top", "overlap", "jaccard", "agree"}
    assert len(result["shap_top"]) == 3 and len(result["lime_top"]) == 3


def test_lime_selection_in_numpy_picks_limes_features() -> None:
    from lime.lime_base import LimeBase

    from obskit.explain.lime_weights import forward_selection

    rng = np.random.default_rng(0)
    for t in range(30):
        x = (rng.random((2000, 12)) < rng.random(12)).astype(float)
        y = x @ rng.normal(size=12) + rng.normal(size=2000) * rng.random()
        y = 1 / (1 + np.exp(-y)) if t % 2 else y
        w = np.exp(-rng.random(2000) ** 2)
        picked = forward_selection(x, y, w, 5)
        expected = LimeBase(lambda d: d).forward_selection(x, y, w, 5)
        assert picked is None or list(picked) == list(expected)
    # a twin of the best feature ties with it: LIME's own picks between them
    assert forward_selection(np.column_stack([x, x[:, expected[:1]]]), y, w, 5) is None
    assert forward_selection(x, np.ones(len(x)), w, 5) is None  # labels do not vary


def test_lime_explanations_equal_limes_own(data, linear_pipeline: Pipeline,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from obskit.explain import lime_weights

    X, _ = data
    types = {c: "numeric" for c in NUMERIC} | {c: "categorical" for c in CATEGORICAL}
    ours = lime_explanations(linear_pipeline, X.iloc[:3], X.iloc[500:1000],
                             feature_types=types, task="binary")
    # the numpy selection declining everywhere: LIME's own fits
    monkeypatch.setattr(lime_weights, "forward_selection", lambda *args: None)
    theirs = lime_explanations(linear_pipeline, X.iloc[:3], X.iloc[500:1000],
                               feature_types=types, task="binary")
    assert ours == theirs


def test_agreement_rules() -> None:
    s = pd.Series({"a": 0.5, "b": -0.4, "c": 0.1, "d": 0.0})
    same_top = agreement(s, [("a", 0.3), ("x", 0.2), ("y", 0.1)])
    assert same_top["agree"] and same_top["overlap"] == 1 and same_top["jaccard"] == 0.2
    two = agreement(s, [("b", -0.3), ("c", 0.2), ("y", 0.1)])
    assert two["agree"] and two["overlap"] == 2
    none = agreement(s, [("d", 0.3), ("x", 0.2), ("y", 0.1)])
    assert not none["agree"] and none["overlap"] == 0


def test_cohort_attribution_finds_planted_broken_feature(data) -> None:
    X, y = data
    Xn = X[NUMERIC]
    model = LogisticRegression(max_iter=1000).fit(Xn, y)
    normal = Xn.iloc[:200]
    broken = Xn.iloc[200:300].copy()
    broken["debt_ratio"] = broken["debt_ratio"] * 100  # the upstream bug
    shap_of = {name: shap_values(model, df, Xn.iloc[500:], task="binary").values
               for name, df in {"normal": normal, "anomalous": broken,
                                "reference": Xn.iloc[300:500]}.items()}
    table = cohort_attribution(shap_of["anomalous"], shap_of["normal"], shap_of["reference"])
    assert list(table.columns) == ["feature", "anomalous", "normal", "reference", "ratio",
                                   "excess"]
    assert table["feature"].iloc[0] == "debt_ratio"
    assert table["ratio"].iloc[0] > 10


def test_attribution_drift() -> None:
    ref = pd.DataFrame({"a": [1.0, -1.0], "b": [0.5, -0.5], "c": [0.5, 0.5]})
    shifted = pd.DataFrame({"a": [0.0, 0.0], "b": [0.0, 0.0], "c": [1.0, -1.0]})
    out = attribution_drift({1: ref.copy(), 2: shifted}, ref)
    assert list(out.columns) == ["window", "feature", "share", "reference_share", "tv_distance"]
    tv = out.groupby("window")["tv_distance"].first()
    assert tv[1] == pytest.approx(0.0) and tv[2] == pytest.approx(0.75)
    assert out.groupby("window")["share"].sum().tolist() == pytest.approx([1.0, 1.0])


def test_drift_importance_ranking_ignored_feature_ranks_lower() -> None:
    importance = pd.Series({"used": 0.30, "ignored": 0.0, "minor": 0.05})
    summary = {
        "ignored": {"max_value": 5.0, "threshold": 0.1, "drifted_windows": 10},  # capped 10
        "used": {"max_value": 0.2, "threshold": 0.1, "drifted_windows": 3},
        "minor": {"max_value": 0.3, "threshold": 0.1, "drifted_windows": 4},
    }
    ranking = drift_importance_ranking(summary, importance)
    assert ranking["feature"].tolist() == ["used", "minor", "ignored"]
    assert ranking.loc[ranking["feature"] == "ignored", "drift_ratio"].item() == 10.0
    assert ranking["score"].iloc[0] == pytest.approx(2.0 * 0.30 / 0.35)


def test_figures_have_titles_and_escape_dollars() -> None:
    names = [f"f{i}" for i in range(11)]
    shap_row = pd.Series(np.linspace(-0.5, 0.5, 11), index=names)
    values = pd.Series({n: f"${i}" for i, n in enumerate(names)})
    fig = waterfall_figure(shap_row, 0.2, values, "Row $42 explained")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_title() == r"Row \$42 explained"
    assert ax.get_xlabel() and ax.get_ylabel()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == 9 and labels[0].startswith("other")  # top 8 + other
    assert all("$" not in t.replace(r"\$", "") for t in labels)
    fig.canvas.draw()  # renders without mathtext errors
    fig = lime_figure([("income", 0.2), ("cost $", -0.1)], "LIME")
    assert fig.axes[0].get_title() == "LIME" and fig.axes[0].get_xlabel()
    assert r"cost \$" in [t.get_text() for t in fig.axes[0].get_yticklabels()]
