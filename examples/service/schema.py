"""The ``POST /predict`` body and its checks against the model's features."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["PredictRequest", "check_features", "LARGEST_NUMBER"]

#: the largest magnitude a number may have: float32's, which scikit-learn's tree models
#: compute in (a larger one makes them fail, not answer)
LARGEST_NUMBER = 3.4028234663852886e38


class PredictRequest(BaseModel):
    """``{"features": {name: value, …}}``; the values are checked by
    :func:`check_features` against the model's features."""

    model_config = ConfigDict(extra="forbid")

    features: dict[str, Any]


def check_features(features: Mapping[str, Any], names: Sequence[str],
                   kinds: Mapping[str, str]) -> list[dict[str, Any]]:
    """Pydantic-style errors for missing features and values of the wrong kind.

    Parameters
    ----------
    features : mapping
        The request's features (extra names are ignored).
    names : sequence of str
        The model's features (``feature_names_in_``).
    kinds : mapping
        ``"number"`` or ``"category"`` per feature; others take any non-null scalar.
        Every number must be finite and at most :data:`LARGEST_NUMBER` in magnitude
        (NaN and infinities are not values: send the feature's value).

    Returns
    -------
    list of dict
        Errors with ``type``, ``loc`` (``("body", "features", name)``), ``msg`` and
        ``input``, as FastAPI reports them in a 422; empty when the input is usable.
    """
    errors: list[dict[str, Any]] = []
    for name in names:
        loc = ("body", "features", name)
        if name not in features:
            errors.append({"type": "missing", "loc": loc, "input": None,
                           "msg": f"Field required: the model needs feature {name!r}"})
            continue
        value, kind = features[name], kinds.get(name)
        if isinstance(value, (dict, list)):
            errors.append({"type": "scalar_type", "loc": loc, "input": value,
                           "msg": "Input should be a number, a string, a boolean or null "
                                  f"(feature {name!r})"})
        elif kind == "number" and (isinstance(value, bool)
                                 or not isinstance(value, (int, float))):
            errors.append({"type": "float_type", "loc": loc, "input": value,
                           "msg": f"Input should be a valid number (feature {name!r})"})
        elif (isinstance(value, (int, float)) and not isinstance(value, bool)
              and not abs(value) <= LARGEST_NUMBER):  # NaN compares False
            errors.append({"type": "finite_number", "loc": loc, "input": str(value),
                           "msg": f"Input should be a finite number of magnitude at most "
                                  f"{LARGEST_NUMBER:.4g} (feature {name!r})"})
        elif kind == "category" and not isinstance(value, str):
            errors.append({"type": "string_type", "loc": loc, "input": value,
                           "msg": f"Input should be a valid string (feature {name!r})"})
        elif value is None:
            errors.append({"type": "missing", "loc": loc, "input": value,
                           "msg": f"Input should not be null (feature {name!r})"})
    return errors
