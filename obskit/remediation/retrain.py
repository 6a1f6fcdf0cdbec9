"""The ``retrain`` action: a user's entry point makes a challenger; a gate decides.

1. The last ``gate.windows`` labelled windows of the run are the **gate windows**; they
   are held out. The labelled rows before them (at most ``gate.max_rows``, the latest
   first) are the training data handed to the entry point in a :class:`RetrainContext`.
2. The entry point (``module:function``, imported at ``load_config`` from the config's
   folder, the working directory or the installed packages: :mod:`obskit.config.entry_points`)
   returns a fitted model, or the path of a model file; a model object is saved with
   ``skops.io.dump``.
3. The candidate is registered in the alias store and the ``challenger`` alias set on it.
4. Champion and challenger are scored with the scikit-learn scorer ``gate.metric`` (higher
   is better: ``roc_auc``, ``accuracy``, ``neg_log_loss``, ``r2`` ...) on the labelled rows
   of the gate windows; the serving alias moves to the challenger only if
   ``score(challenger) >= score(champion) + gate.min_improvement`` — KServe's and MLflow's
   champion/challenger practice: promote on evidence, never by default.

Rows are pulled from the engine with a filter and a limit; a log is never read whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from obskit.config import Config
from obskit.results import Run, Window

__all__ = ["RetrainContext", "gate_windows", "labelled_rows",
           "gate_score", "CHALLENGER"]

#: the alias a retrained candidate gets (MLflow's champion/challenger naming)
CHALLENGER = "challenger"


@dataclass(frozen=True)
class RetrainContext:
    """What a retrain entry point gets.

    ``data`` holds the labelled rows before the gate windows (features, ``label`` and
    ``timestamp``, at most ``gate.max_rows``, newest first); ``reference`` a bounded
    sample of the reference log (None without one); ``champion`` the serving version
    (:class:`obskit.instrument.aliases.ModelVersion`, None when the alias is unset) and
    ``champion_path`` its model file; ``holdout_start`` the start of the first gate window.
    """

    data: pd.DataFrame
    features: tuple[str, ...]
    task: str
    reference: pd.DataFrame | None
    champion: Any
    champion_path: Path | None
    holdout_start: str
    run: Run
    run_dir: Path
    config: Config
    label: str = "label"


def gate_windows(run: Run, count: int) -> list[Window]:
    """The last ``count`` windows of the run with labelled rows (fewer when the run has
    fewer)."""
    labelled = [w for w in run.windows if w.status == "ok" and w.start and w.end
                and (w.labelled_rows or 0) > 0]
    return labelled[-count:]


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def labelled_rows(logs: Any, *, start: str | None = None, end: str | None = None,
                  max_rows: int) -> pd.DataFrame:
    """Labelled current rows with ``start <= timestamp < end``, newest first, bounded.

    Parameters
    ----------
    logs : LoadedLogs
        :func:`obskit.io.load_logs` of the run's config (labels joined).
    start, end : str or None
        ISO-8601 bounds (None: open).
    max_rows : int
        At most this many rows come back to pandas.

    Returns
    -------
    DataFrame
        The feature columns, ``label`` and ``timestamp``.
    """
    table = logs.current.table
    cols = [*logs.features, "label", "timestamp"]
    if "label" not in table.columns:
        return pd.DataFrame(columns=cols)
    ts = table.timestamp
    cond = [table.label.notnull()]
    tz = getattr(ts.type(), "timezone", None)

    def literal(text: str) -> Any:
        moment = _moment(text)
        return moment if tz else moment.replace(tzinfo=None)

    if start is not None:
        cond.append(ts >= literal(start))
    if end is not None:
        cond.append(ts < literal(end))
    picked = table.filter(*cond).order_by(ts.desc()).limit(max_rows).select(*cols)
    return picked.execute()


def _targets(model: Any, y: pd.Series, task: str, positive: Any) -> Any:
    """The labels in the model's class space: numbers when its ``classes_`` are numbers
    (labels are read as text), else the text; a binary task's positive class as given."""
    if task == "regression":
        return pd.to_numeric(y).to_numpy(dtype=float)
    classes = getattr(model, "classes_", None)
    if classes is not None and np.issubdtype(np.asarray(classes).dtype, np.number):
        return pd.to_numeric(y).to_numpy()
    if task == "binary" and classes is not None and len(classes) == 2 \
            and str(positive) not in {str(c) for c in classes}:
        return y.to_numpy()
    return y.astype(str).to_numpy()


def gate_score(model: Any, rows: pd.DataFrame, *, metric: str, features: tuple[str, ...],
               task: str, positive: Any = 1) -> float:
    """``metric`` (a scikit-learn scorer name) of ``model`` on ``rows``.

    Parameters
    ----------
    model : object
        A fitted estimator (``predict_proba`` for probability metrics).
    rows : DataFrame
        Feature columns and ``label``.
    metric : str
        A name of :func:`sklearn.metrics.get_scorer_names` (higher is better).
    features : tuple of str
        The columns the model is called with (as a DataFrame).
    task : str
        ``binary``, ``multiclass`` or ``regression``.
    positive : Any
        The positive class of a binary task.

    Returns
    -------
    float
    """
    from sklearn.metrics import get_scorer

    scorer = get_scorer(metric)
    y = _targets(model, rows["label"], task, positive)
    return float(scorer(model, rows[list(features)], y))
