"""Tests for obskit.io.model: safe model loading, feature checks, prediction functions."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from obskit.exceptions import InputError
from obskit.io.model import check_features, load_model, prediction_function


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300),
                      "c": rng.choice(["x", "y", "z"], 300)})
    y = ((X["a"] + (X["c"] == "x")) > 0.5).astype(int).to_numpy()
    return X, y


@pytest.fixture(scope="module")
def pipeline(data: tuple[pd.DataFrame, np.ndarray]) -> Pipeline:
    X, y = data
    pre = ColumnTransformer([("num", StandardScaler(), ["a", "b"]),
                             ("cat", OneHotEncoder(handle_unknown="ignore"), ["c"])])
    return Pipeline([("pre", pre), ("clf", LogisticRegression())]).fit(X, y)


def test_skops_pipeline_loads(tmp_path: Path, pipeline: Pipeline, data) -> None:
    path = tmp_path / "model.skops"
    sio.dump(pipeline, path)
    model = load_model(path)
    X, _ = data
    assert np.array_equal(model.predict_proba(X), pipeline.predict_proba(X))


@pytest.mark.parametrize(
    ("estimator", "untrusted"),
    [
        (RandomForestClassifier(n_estimators=3, random_state=0), "sklearn.tree._tree.Tree"),
        (HistGradientBoostingClassifier(max_iter=3), "TreePredictor"),
    ],
)
def test_skops_tree_refused_then_trusted(tmp_path: Path, data, estimator, untrusted) -> None:
    X, y = data
    path = tmp_path / "tree.skops"
    sio.dump(estimator.fit(X[["a", "b"]], y), path)
    with pytest.raises(InputError, match="not trusted") as info:
        load_model(path)
    msg = str(info.value)
    assert untrusted in msg and "--trust-type" in msg and "trusted_types" in msg
    assert info.value.path == str(path)
    model = load_model(path, trusted_types=sio.get_untrusted_types(file=path))
    assert np.array_equal(model.predict(X[["a", "b"]]), estimator.predict(X[["a", "b"]]))


@pytest.mark.parametrize("suffix", [".pkl", ".pickle", ".joblib"])
def test_pickle_needs_trust(tmp_path: Path, pipeline: Pipeline, suffix: str) -> None:
    path = tmp_path / f"model{suffix}"
    joblib.dump(pipeline, path)
    with pytest.raises(InputError, match="runs code") as info:
        load_model(path)
    assert "--trust-model" in str(info.value) and "trust: true" in str(info.value)
    assert hasattr(load_model(path, trust=True), "predict_proba")


def test_bad_paths_and_objects(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist") as info:
        load_model(tmp_path / "nope.skops")
    assert info.value.path.endswith("nope.skops")
    (tmp_path / "model.onnx").write_bytes(b"x")
    with pytest.raises(InputError, match="unknown file type '.onnx'"):
        load_model(tmp_path / "model.onnx")
    (tmp_path / "broken.skops").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a readable skops file"):
        load_model(tmp_path / "broken.skops")
    sio.dump({"weights": [1, 2]}, tmp_path / "dict.skops")
    with pytest.raises(InputError, match="no predict method"):
        load_model(tmp_path / "dict.skops")


def test_check_features(pipeline: Pipeline) -> None:
    check_features(pipeline, ["c", "b", "a"])  # order does not matter
    with pytest.raises(InputError) as info:
        check_features(pipeline, ["a", "c", "d"])
    msg = str(info.value)
    assert "missing from the logs: b" in msg and "unknown to the model: d" in msg
    assert info.value.column == "b"
    check_features(LinearRegression().fit(np.eye(3), [1, 2, 3]), ["anything"])  # no names


def test_prediction_function(pipeline: Pipeline, data) -> None:
    X, _ = data
    proba = prediction_function(pipeline, "binary")(X)
    assert proba.shape == (len(X),)
    assert np.allclose(proba, pipeline.predict_proba(X)[:, 1])
    reg = LinearRegression().fit(X[["a", "b"]], X["a"] * 2)
    assert np.allclose(prediction_function(reg, "regression")(X[["a", "b"]]), X["a"] * 2)
    with pytest.raises(ValueError, match="task"):
        prediction_function(pipeline, "multiclass")
    with pytest.raises(InputError, match="predict_proba"):
        prediction_function(reg, "binary")
