"""The demo's scoring model: fitted on the undrifted population, saved reproducibly."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from obskit.demo.population import CATEGORICAL_FEATURES, FEATURES, NUMERIC_FEATURES


def fit_model(X: pd.DataFrame, y: np.ndarray) -> Pipeline:
    """A scaled / one-hot logistic regression of ``y`` on the :data:`FEATURES` of ``X``."""
    pre = ColumnTransformer(
        [
            ("num", StandardScaler(), list(NUMERIC_FEATURES)),
            ("cat", OneHotEncoder(handle_unknown="ignore"), list(CATEGORICAL_FEATURES)),
        ]
    )
    model = Pipeline([("pre", pre), ("clf", LogisticRegression(max_iter=1_000))])
    model.fit(X[list(FEATURES)], y)
    return model


def probability(model: Pipeline, X: pd.DataFrame) -> np.ndarray:
    """Probability of default per row of ``X``, unrounded (what a service answers)."""
    with np.errstate(over="ignore", under="ignore"):
        return np.asarray(model.predict_proba(X[list(FEATURES)])[:, 1], dtype=np.float64)


def score_rows(model: Pipeline, X: pd.DataFrame) -> np.ndarray:
    """Probability of default per row of ``X``, rounded to 6 decimals (the logged score)."""
    return np.round(probability(model, X), 6)


def dump_model(model: Pipeline, path: Path) -> None:
    """``skops.io.dump`` with reproducible bytes.

    skops names the archive members and the ``__id__`` fields after ``id()`` of the
    objects and stamps members with the current time; those are renumbered in order of
    appearance and the time fixed, which skops' loader does not care about.
    """
    import skops.io as sio

    src = zipfile.ZipFile(io.BytesIO(sio.dumps(model)))
    members = [i.filename for i in src.infolist() if i.filename != "schema.json"]
    files = {name: f"{k:04d}.npy" for k, name in enumerate(members)}
    ids: dict[int, int] = {}

    def renumber(node: object) -> object:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "__id__" and isinstance(value, int):
                    value = ids.setdefault(value, len(ids))
                elif key == "file" and isinstance(value, str) and value in files:
                    value = files[value]
                else:
                    value = renumber(value)
                out[key] = value
            return out
        if isinstance(node, list):
            return [renumber(v) for v in node]
        return node

    schema = renumber(json.loads(src.read("schema.json")))
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as dst:
        for name in members:
            dst.writestr(zipfile.ZipInfo(files[name], date_time=(1980, 1, 1, 0, 0, 0)),
                         src.read(name))
        dst.writestr(zipfile.ZipInfo("schema.json", date_time=(1980, 1, 1, 0, 0, 0)),
                     json.dumps(schema, indent=2))
