"""The served model: loaded with obskit's safe loader, called one request at a time."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from obskit.io.model import load_model

__all__ = ["ServedModel", "feature_kinds", "file_version", "check_golden"]


def file_version(path: Path) -> str:
    """``sha256-`` and the first 12 hex digits of the file's SHA-256."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return "sha256-" + digest.hexdigest()[:12]


def _type_names(transformer: Any) -> list[str]:
    names = [type(transformer).__name__]
    for _, step in getattr(transformer, "steps", []):
        names += _type_names(step)
    return names


def feature_kinds(model: Any, names: list[str]) -> dict[str, str]:
    """``"number"`` or ``"category"`` per feature, as the fitted model takes it.

    A column a fitted ``ColumnTransformer`` sends to an encoder (``OneHotEncoder``,
    ``OrdinalEncoder``, …) is a category, any other column it transforms a number. A
    model with neither a ``ColumnTransformer`` nor an encoder anywhere (a bare scikit-learn
    estimator, or a pipeline of scalers) takes numbers only: every feature is a number.
    Otherwise a feature not found is absent (any non-null scalar passes).
    """
    kinds: dict[str, str] = {}
    found = False
    for _, step in getattr(model, "steps", [("model", model)]):
        for _, transformer, columns in getattr(step, "transformers_", []):
            found = True
            if isinstance(transformer, str):  # "drop" / "passthrough"
                continue
            kind = ("category" if any("Encoder" in n for n in _type_names(transformer))
                    else "number")
            for column in [columns] if isinstance(columns, str) else list(columns):
                if isinstance(column, str):
                    kinds[column] = kind
    if not found and not any("Encoder" in n for n in _type_names(model)):
        return dict.fromkeys(names, "number")
    return kinds


def _check_loadable(path: Path, trust_types: tuple[str, ...], origin: str) -> None:
    """The service's own words for a model it cannot load (its settings, not the CLI's
    flags): a missing file, a pickle, or skops types not trusted by OBSKIT_TRUST_TYPES."""
    if not path.is_file():
        raise ValueError(f"model file {str(path)!r} ({origin}) does not exist")
    if path.suffix.lower() != ".skops":
        raise ValueError(f"model file {str(path)!r} ({origin}): the service loads .skops "
                         "files only (a pickle runs code when loaded); save the model with "
                         "skops.io.dump")
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # a corrupt zip or schema: skops raises many kinds
        raise ValueError(f"model file {str(path)!r} ({origin}) is not a readable skops "
                         f"file: {exc}") from exc
    missing = [t for t in untrusted if t not in trust_types]
    if missing:
        raise ValueError(f"model file {str(path)!r} holds types that are not trusted: "
                         f"{', '.join(missing)}. If you trust this file, set "
                         f"OBSKIT_TRUST_TYPES={','.join(missing)}")


class ServedModel:
    """A loaded model with its feature names and the kind of each feature.

    Parameters
    ----------
    path : Path
        The model file (``.skops``).
    trust_types : tuple of str
        skops types to trust.
    origin : str, default ``"OBSKIT_MODEL"``
        Where the file came from, named in errors (e.g. an alias's version).
    """

    def __init__(self, path: Path, trust_types: tuple[str, ...] = (), *,
                 origin: str = "OBSKIT_MODEL") -> None:
        self.path = path
        _check_loadable(path, trust_types, origin)
        self.model = load_model(path, trusted_types=trust_types)
        names = getattr(self.model, "feature_names_in_", None)
        if names is None:
            raise ValueError(f"model {str(path)!r} has no feature_names_in_: fit it on a "
                             "DataFrame so the service knows the feature names")
        self.features: list[str] = [str(n) for n in names]
        self.kinds = feature_kinds(self.model, self.features)

    def frame(self, features: Mapping[str, Any]) -> pd.DataFrame:
        """Preprocess: one input as a one-row DataFrame in the model's column order."""
        return pd.DataFrame([{name: features[name] for name in self.features}])

    def infer(self, frame: pd.DataFrame) -> np.ndarray:
        """Inference: the class probabilities (``predict_proba``), or the prediction of a
        model without them, for the one row of ``frame``."""
        if callable(getattr(self.model, "predict_proba", None)):
            return np.asarray(self.model.predict_proba(frame)[0])
        return np.asarray(self.model.predict(frame))

    def decide(self, output: np.ndarray) -> tuple[Any, float | None]:
        """Postprocess: the prediction and the score. A binary model's score is the
        probability of its second class (the positive one, as scikit-learn orders
        ``classes_``) and its prediction that class from a score of 0.5 on, as the demo
        logs; a multiclass model predicts its most probable class and has no single
        score (obskit's log schema wants one probability column per class for that)."""
        if not callable(getattr(self.model, "predict_proba", None)):
            return output[0], None
        if len(output) == 2:
            score = float(output[1])
            return self.model.classes_[int(score >= 0.5)], score
        return self.model.classes_[int(output.argmax())], None

    def predict(self, features: Mapping[str, Any]) -> tuple[Any, float | None]:
        """The prediction and score for one input: :meth:`frame`, :meth:`infer`,
        :meth:`decide`."""
        return self.decide(self.infer(self.frame(features)))


def check_golden(model: ServedModel, path: Path, *, tolerance: float = 1e-6) -> str | None:
    """Compare the model with a golden JSONL (``{"features", "prediction", "score"?}``).

    Returns
    -------
    str or None
        None when every line matches; else what differs, naming the file and line.
    """
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    if not lines:
        return f"{path}: no golden requests"
    for number, line in enumerate(lines, start=1):
        try:
            case = json.loads(line)
            prediction, score = model.predict(case["features"])
        except (ValueError, KeyError, TypeError) as exc:
            return f"{path} line {number}: cannot be checked: {exc!r}"
        want = case["prediction"]
        got = prediction.item() if hasattr(prediction, "item") else prediction
        if str(got) != str(want):
            return f"{path} line {number}: prediction {prediction!r}, expected {want!r}"
        if case.get("score") is not None and (
                score is None or not math.isclose(score, float(case["score"]),
                                                  rel_tol=0.0, abs_tol=tolerance)):
            return f"{path} line {number}: score {score!r}, expected {case['score']!r}"
    return None
