"""The demo's golden requests: reference rows with the model's own answers, for probes.

``golden.jsonl`` holds one JSON object per line, ``{"features": {…}, "prediction": 0|1,
"score": float}`` (README, "Golden files"): what a service serving ``model.skops``
must answer to ``POST /predict {"features": …}``. ``obskit probe`` sends them and a
service's ``/readyz`` checks one of them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from obskit.demo.population import FEATURES

__all__ = ["GOLDEN_COUNT", "THRESHOLD", "MARGIN", "golden_rows", "write_golden"]

#: golden requests written by ``obskit demo``
GOLDEN_COUNT = 20
#: the demo's decision rule: ``prediction = int(score >= THRESHOLD)``
THRESHOLD = 0.5
#: rows whose probability lies within this of the threshold are never golden, so the
#: prediction is the same whether a service applies the rule to the unrounded
#: probability or to the score rounded to 6 decimals, as the demo logs are
MARGIN = 0.01


def golden_rows(proba: np.ndarray, *, count: int = GOLDEN_COUNT) -> np.ndarray:
    """Indices of the golden rows: evenly spaced, half of each predicted class if possible.

    Parameters
    ----------
    proba : numpy.ndarray
        Unrounded probability of the positive class per candidate row.
    count : int, default GOLDEN_COUNT
        How many rows to pick (fewer when fewer rows are eligible).

    Returns
    -------
    numpy.ndarray
        Sorted row indices; no randomness, so the pick is deterministic per input.

    Examples
    --------
    >>> golden_rows(np.array([0.1, 0.9, 0.2, 0.505, 0.8]), count=4).tolist()
    [0, 1, 2, 4]
    """
    eligible = np.abs(proba - THRESHOLD) > MARGIN
    pos = np.flatnonzero(eligible & (proba >= THRESHOLD))
    neg = np.flatnonzero(eligible & (proba < THRESHOLD))
    n_pos = min(len(pos), max(count // 2, count - len(neg)))
    n_neg = min(len(neg), count - n_pos)

    def spaced(idx: np.ndarray, n: int) -> np.ndarray:
        return idx[np.linspace(0, len(idx) - 1, n).round().astype(np.int64)] if n else idx[:0]

    return np.sort(np.concatenate([spaced(pos, n_pos), spaced(neg, n_neg)]))


def write_golden(path: Path, X: pd.DataFrame, proba: np.ndarray, *,
                 count: int = GOLDEN_COUNT) -> None:
    """Write ``count`` golden requests picked from the rows of ``X`` to ``path``.

    Parameters
    ----------
    path : Path
        The JSONL file to write.
    X : pandas.DataFrame
        Candidate rows with the :data:`~obskit.demo.population.FEATURES` columns.
    proba : numpy.ndarray
        The model's unrounded probability of the positive class for each row of ``X``
        (``score``; JSON keeps every bit of a float, so a service scoring the decoded
        features with the same model answers exactly this value).
    count : int, default GOLDEN_COUNT
        Number of golden requests.
    """
    rows = golden_rows(proba, count=count)
    columns = {name: X[name].to_numpy()[rows].tolist() for name in FEATURES}
    lines = []
    for k, i in enumerate(rows):
        score = float(proba[i])
        features = {name: columns[name][k] for name in FEATURES}
        lines.append(json.dumps({"features": features,
                                 "prediction": int(score >= THRESHOLD), "score": score}))
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8", newline="\n")
