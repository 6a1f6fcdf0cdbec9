"""A synthetic drift stream for the remediation tests: daily JSONL prediction logs of a
three-feature binary model, with a covariate shift and a concept change from day ``k``.

Days before ``drift_day`` follow the reference distribution; from ``drift_day`` on, ``x1``
is shifted (drift) and the label depends on ``x2`` instead of ``x1`` (a concept change, so
a model fitted on recent labelled rows beats the reference-fitted champion).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

FEATURES = ("x1", "x2", "x3")
START = datetime(2026, 11, 1, tzinfo=timezone.utc)


def fit(frame: pd.DataFrame, y) -> Pipeline:
    """A scaled logistic regression on the named feature columns (any column order)."""
    pre = ColumnTransformer([("num", StandardScaler(), list(FEATURES))])
    return Pipeline([("pre", pre), ("clf", LogisticRegression(max_iter=500))]).fit(
        frame[list(FEATURES)], np.asarray(y, dtype=int))


def population(rng: np.random.Generator, n: int, *, drifted: bool) -> pd.DataFrame:
    """``n`` rows of features and labels (the drifted relation when ``drifted``)."""
    x = pd.DataFrame({"x1": rng.normal(1.5 if drifted else 0.0, 1.0, n),
                      "x2": rng.normal(0.0, 1.0, n), "x3": rng.normal(0.0, 1.0, n)})
    logit = 2.5 * (x["x2"] if drifted else x["x1"]) + 0.3 * x["x3"]
    x["label"] = (rng.random(n) < 1 / (1 + np.exp(-logit.to_numpy()))).astype(int)
    return x


def write_reference(root: Path, *, rows: int = 3000, seed: int = 0) -> tuple[Path, Pipeline]:
    """The reference log (a week before day 1) and the champion fitted on it."""
    rng = np.random.default_rng(seed)
    ref = population(rng, rows, drifted=False)
    model = fit(ref, ref["label"])
    ref["score"] = np.round(model.predict_proba(ref[list(FEATURES)])[:, 1], 6)
    ref["prediction"] = (ref["score"] >= 0.5).astype(int)
    ref["timestamp"] = [(START - timedelta(days=7) + timedelta(seconds=int(s))).isoformat()
                        for s in np.sort(rng.integers(0, 7 * 86400, rows))]
    ref["request_id"] = [f"ref-{i}" for i in range(rows)]
    path = root / "reference.jsonl"
    ref.to_json(path, orient="records", lines=True)
    return path, model


def write_day(logs: Path, model: Pipeline, day: int, *, drift_day: int, rows: int = 2000,
              seed: int = 0) -> Path:
    """Day ``day`` (1-based) of production logs, scored by ``model``, with labels."""
    rng = np.random.default_rng(seed * 1000 + day)
    frame = population(rng, rows, drifted=day >= drift_day)
    frame["score"] = np.round(model.predict_proba(frame[list(FEATURES)])[:, 1], 6)
    frame["prediction"] = (frame["score"] >= 0.5).astype(int)
    base = START + timedelta(days=day - 1)
    seconds = np.sort(rng.integers(0, 86400, rows))
    frame["timestamp"] = [(base + timedelta(seconds=int(s))).isoformat() for s in seconds]
    frame["request_id"] = [f"d{day}-{i}" for i in range(rows)]
    logs.mkdir(parents=True, exist_ok=True)
    path = logs / f"predictions-{base.date().isoformat()}.jsonl"
    frame.to_json(path, orient="records", lines=True)
    return path


def save_model(model: Pipeline, path: Path) -> Path:
    """``skops.io.dump`` of ``model`` at ``path``."""
    import skops.io as sio

    sio.dump(model, path)
    return path


def config_dict(root: Path, logs: Path, reference: Path, remediation: dict, **extra) -> dict:
    """A run config: the logs, one drift alert rule, the remediation section."""
    return {
        "title": "remediation test", "task": "binary",
        "sources": {"current": str(logs), "reference": str(reference)},
        "window": "1d", "multivariate": {"enabled": False}, "estimation": False,
        "alerts": [{"name": "drift_share_high", "metric": "drift_share", "op": ">",
                    "value": 0.2}],
        "out": str(root / "reports"), "remediation": remediation, **extra,
    }


def write_config(root: Path, raw: dict) -> Path:
    """``raw`` as ``config.yml`` in ``root`` (JSON is YAML)."""
    path = root / "config.yml"
    path.write_text(json.dumps(raw, indent=2))
    return path
