"""Load a user's model safely and call it the way the monitoring needs.

Two file kinds are accepted:

``.skops``
    Loaded with :func:`skops.io.load`, which never runs code from the file. Types that
    skops does not trust by default (e.g. ``sklearn.tree._tree.Tree`` inside every tree
    model) must be trusted by name: ``--trust-type TYPE`` or ``model: {trusted_types: [...]}``.
``.pkl`` / ``.pickle`` / ``.joblib``
    Unpickling runs code chosen by whoever wrote the file, so these load only with an
    explicit ``trust=True`` (``--trust-model`` or ``model: {trust: true}``).

Examples
--------
>>> model = load_model("model.skops")  # doctest: +SKIP
>>> check_features(model, ["age", "income"])  # doctest: +SKIP
>>> scores = prediction_function(model, "binary")(rows)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from obskit.exceptions import InputError

__all__ = ["load_model", "check_model_file", "check_features", "prediction_function",
           "SKOPS_SUFFIXES", "PICKLE_SUFFIXES"]

SKOPS_SUFFIXES: tuple[str, ...] = (".skops",)
PICKLE_SUFFIXES: tuple[str, ...] = (".pkl", ".pickle", ".joblib")
TASKS: tuple[str, ...] = ("binary", "regression")


def load_model(
    path: str | Path, *, trusted_types: Sequence[str] = (), trust: bool = False
) -> Any:
    """Load a fitted model from a ``.skops`` file, or from a pickle when ``trust`` is set.

    Parameters
    ----------
    path : str or Path
        The model file. The suffix decides the loader (``.skops``; ``.pkl``, ``.pickle``
        or ``.joblib``).
    trusted_types : sequence of str, default ()
        Fully qualified type names to trust in a ``.skops`` file, on top of the types
        skops trusts by default.
    trust : bool, default False
        Allow pickle-based files. Unpickling runs code from the file: only set this for
        files you produced yourself or otherwise trust.

    Returns
    -------
    object
        The model; it has a ``predict`` method.

    Raises
    ------
    InputError
        If the file is missing, has an unknown suffix, holds untrusted types (the message
        lists them), is a pickle without ``trust``, cannot be read, or holds an object
        without ``predict``. ``path`` is set on the error.
    """
    p = check_model_file(path, trust=trust)
    if p.suffix.lower() in SKOPS_SUFFIXES:
        model = _load_skops(p, tuple(trusted_types))
    else:
        model = _load_pickle(p)
    if not callable(getattr(model, "predict", None)):
        raise InputError(
            f"model file {str(p)!r} holds a {type(model).__module__}.{type(model).__name__}, "
            "which has no predict method; expected a fitted model",
            path=str(p),
        )
    return model


def check_model_file(path: str | Path, *, trust: bool = False, key: str | None = None
                     ) -> Path:
    """Check, without reading it, that ``path`` is a model file obskit may load: a known
    suffix, an existing file, and a pickle only with ``trust``. A run checks this before
    its analysis, so a model it would refuse stops it at once.

    Parameters
    ----------
    path : str or Path
        The model file.
    trust : bool, default False
        Pickle-based files are allowed (see :func:`load_model`).
    key : str, optional
        The config key that named the file; the errors name it too.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    InputError
        An unknown suffix, a missing file, or a pickle without ``trust`` (``path`` set).
    """
    p = Path(path)
    suffix = p.suffix.lower()
    named = f" (config key {key!r})" if key else ""
    if suffix not in SKOPS_SUFFIXES + PICKLE_SUFFIXES:
        raise InputError(
            f"model file {str(p)!r}: unknown file type {suffix or '(no suffix)'!r}; expected "
            f"a .skops file (recommended) or, with --trust-model, .pkl, .pickle or .joblib{named}",
            path=str(p),
        )
    if not p.is_file():
        raise InputError(f"model file {str(p)!r} does not exist{named}", path=str(p))
    if suffix in PICKLE_SUFFIXES and not trust:
        raise InputError(
            f"model file {str(p)!r} is a pickle: unpickling runs code from the file, so obskit "
            "loads it only when told to. If you trust this file, pass --trust-model or set "
            "model: {trust: true} in the config; better, save the model with skops.io.dump "
            f"as a .skops file{named}",
            path=str(p),
        )
    return p


def _load_skops(p: Path, trusted_types: tuple[str, ...]) -> Any:
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(file=p)
    except Exception as exc:  # a corrupt zip or schema: skops raises many kinds
        raise InputError(f"model file {str(p)!r} is not a readable skops file: {exc}",
                         path=str(p)) from exc
    missing = [t for t in untrusted if t not in trusted_types]
    if missing:
        flags = " ".join(f"--trust-type {t}" for t in missing)
        listed = ", ".join(missing)
        raise InputError(
            f"model file {str(p)!r} holds types that are not trusted: {listed}. Loading "
            "them could run code; if you trust this file, trust them by name with "
            f"{flags} (repeatable) or in the config: model: {{trusted_types: [{listed}]}}",
            path=str(p),
        )
    # ``trusted`` extends skops' default trusted types; only the listed names are added
    return sio.load(p, trusted=list(trusted_types))


def _load_pickle(p: Path) -> Any:
    import joblib

    try:
        return joblib.load(p)
    except Exception as exc:  # unpickling can raise anything
        raise InputError(f"model file {str(p)!r} could not be unpickled: {exc}",
                         path=str(p)) from exc


def check_features(model: Any, features: Sequence[str]) -> None:
    """Check that the model was fitted on the log's feature columns.

    Only models exposing ``feature_names_in_`` (fitted on a DataFrame) can be checked;
    others pass silently. Column order does not matter: the model is always called with a
    DataFrame of named columns.

    Parameters
    ----------
    model : object
        A fitted model.
    features : sequence of str
        The log's feature columns.

    Raises
    ------
    InputError
        Naming the columns the model expects but the log lacks, and the log's feature
        columns the model was not fitted on.
    """
    expected = getattr(model, "feature_names_in_", None)
    if expected is None:
        return
    expected_list = [str(c) for c in expected]
    missing = [c for c in expected_list if c not in set(features)]
    extra = [c for c in features if c not in set(expected_list)]
    if missing or extra:
        parts = []
        if missing:
            parts.append("missing from the logs: " + ", ".join(missing))
        if extra:
            parts.append("in the logs but unknown to the model: " + ", ".join(extra))
        raise InputError(
            "the model's features do not match the logged features (" + "; ".join(parts)
            + "); set features.include in the config to the model's features",
            column=(missing or extra)[0],
        )


def prediction_function(model: Any, task: str) -> Callable[[pd.DataFrame], np.ndarray]:
    """The model output that obskit explains, as a function of a feature DataFrame.

    Parameters
    ----------
    model : object
        A fitted model.
    task : {"binary", "regression"}
        ``"binary"``: the probability of the positive class, ``predict_proba(X)[:, 1]``;
        ``"regression"``: ``predict(X)``.

    Returns
    -------
    callable
        ``f(X: DataFrame) -> ndarray`` of shape ``(len(X),)``, float.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> X = pd.DataFrame({"x": [0.0, 1.0, 2.0]})
    >>> f = prediction_function(LinearRegression().fit(X, [1.0, 3.0, 5.0]), "regression")
    >>> f(X).round(6).tolist()
    [1.0, 3.0, 5.0]
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    if task == "binary":
        if not callable(getattr(model, "predict_proba", None)):
            raise InputError(f"a binary task needs a model with predict_proba; "
                             f"{type(model).__name__} has none")

        def proba(X: pd.DataFrame) -> np.ndarray:
            with np.errstate(over="ignore", under="ignore"):
                return np.asarray(model.predict_proba(X)[:, 1], dtype=float)

        return proba

    def predict(X: pd.DataFrame) -> np.ndarray:
        return np.asarray(model.predict(X), dtype=float).reshape(len(X))

    return predict
