"""Column roles of a prediction log and the rule that types its features.

Roles: a log column plays at most one role; every other column is a feature unless the
config excludes it. Feature typing rule (documented in the README):

* a boolean column (or one whose values are all ``true``/``false``) is ``boolean``;
* a native date or timestamp column, or a text column of which at least 95% of the
  values are ISO-8601 dates or datetimes (``2024-03-01``, ``2024-03-01T12:00:00Z``), is
  ``datetime``; the engine turns its values into days since 1970-01-01 (UTC), and from
  then on it is judged as a number (the values that do not parse are quarantined);
* a column of numbers, or of strings of which at least 95% parse as numbers, is
  ``numeric`` (the values that do not parse are quarantined) — except a column the file
  declares as text or categories (a Parquet string or dictionary column): a declared type
  is kept, so digit strings stored as text, or a pandas ``category`` of numbers, stay
  ``categorical``;
* anything else is ``categorical``.

The config's ``features.types`` overrides the inferred type of any feature.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["ROLES", "REQUIRED_ROLES", "FEATURE_TYPES", "NUMERIC_TYPES", "NUMERIC_SHARE",
           "CLASS_SCORE_PATTERNS", "infer_feature_type", "is_numeric_type",
           "measures_performance", "visible_columns", "wrong_type_reason"]

ROLES = (
    "timestamp",
    "request_id",
    "model_version",
    "prediction",
    "score",
    "label",
    "latency_ms",
    "status",
    "error",
    "trace_id",
)
#: A log cannot be monitored without these.
REQUIRED_ROLES = ("timestamp",)
FEATURE_TYPES = ("numeric", "categorical", "boolean", "datetime")
#: Feature types whose values the engine holds as numbers (datetime: days since the epoch).
NUMERIC_TYPES = frozenset({"numeric", "datetime"})
#: Default names of the per-class probability columns of a multiclass model (the part in
#: braces is the class label); ``columns.class_scores`` in the config overrides them.
CLASS_SCORE_PATTERNS = ("y_pred_proba_{class}", "proba_{class}")
#: Columns obskit adds to a log table (source file and line, the window): never shown to a
#: user as "columns of the logs". Every name starting with ``_`` is internal too.
INTERNAL_COLUMNS = frozenset({"window_index"})
#: Share of non-null values that must parse as numbers for a text column to be numeric.
NUMERIC_SHARE = 0.95


def is_numeric_type(kind: str | None) -> bool:
    """Whether a feature of type ``kind`` is held, and judged, as a number.

    Parameters
    ----------
    kind : str or None
        A feature type (:data:`FEATURE_TYPES`).

    Returns
    -------
    bool
        True for ``numeric`` and ``datetime`` (days since the epoch).

    Examples
    --------
    >>> is_numeric_type("datetime"), is_numeric_type("categorical")
    (True, False)
    """
    return kind in NUMERIC_TYPES


def infer_feature_type(*, dtype: str, non_null: int, numeric: int, boolean: int,
                       dates: int = 0, declared: bool = False) -> str:
    """Type a feature from its engine dtype and counts of values that parse.

    Parameters
    ----------
    dtype : str
        ``"boolean"``, ``"numeric"``, ``"datetime"`` (a native date or timestamp) or
        ``"string"``: the column's type in the engine.
    non_null, numeric, boolean, dates : int
        How many values are not null, how many parse as numbers, as booleans, and as
        ISO-8601 dates or datetimes.
    declared : bool
        The file declares the column as text or as categories (a Parquet string column, or
        a dictionary column such as a pandas ``category``, whatever its values): it is
        ``categorical`` (``datetime`` when its text values are ISO dates).

    Returns
    -------
    str
        One of :data:`FEATURE_TYPES`.

    Examples
    --------
    >>> infer_feature_type(dtype="string", non_null=100, numeric=97, boolean=0)
    'numeric'
    >>> infer_feature_type(dtype="string", non_null=100, numeric=3, boolean=0)
    'categorical'
    >>> infer_feature_type(dtype="string", non_null=100, numeric=0, boolean=0, dates=100)
    'datetime'
    >>> infer_feature_type(dtype="string", non_null=100, numeric=100, boolean=0,
    ...                    declared=True)
    'categorical'
    """
    if dtype in ("boolean", "datetime"):
        return dtype
    if dtype == "string" and non_null and dates >= NUMERIC_SHARE * non_null:
        return "datetime"
    if declared:
        return "categorical"
    if dtype == "numeric":
        return dtype
    if non_null and boolean == non_null:
        return "boolean"
    if non_null and numeric >= NUMERIC_SHARE * non_null:
        return "numeric"
    return "categorical"


def measures_performance(task: str, roles: Iterable[str], *,
                         class_scores: bool = False) -> bool:
    """Whether realized performance can be measured from these roles (or columns): labels
    and something to compare them with (a prediction, for a binary task a score, for a
    multiclass task the class probabilities when ``class_scores`` says the log has them —
    the most probable class is then the prediction).

    Parameters
    ----------
    task : {"binary", "multiclass", "regression"}
        The task.
    roles : iterable of str
        The roles (or columns) present.
    class_scores : bool, default False
        The log has class probabilities (multiclass).

    Returns
    -------
    bool
        Whether realized performance can be measured.

    Examples
    --------
    >>> measures_performance("binary", ("label", "score")), measures_performance(
    ...     "regression", ("label", "score")), measures_performance(
    ...     "multiclass", ("label",), class_scores=True)
    (True, False, True)
    """
    roles = tuple(roles)
    return "label" in roles and ("prediction" in roles
                                 or (task == "binary" and "score" in roles)
                                 or (task == "multiclass" and class_scores))


def visible_columns(columns: Iterable[str]) -> list[str]:
    """The columns of a log table a user can name: without obskit's own (``_file``,
    ``_line``, ``window_index``, any ``_``-prefixed helper), in their order.

    Parameters
    ----------
    columns : iterable of str
        A log table's columns.

    Returns
    -------
    list of str
        The visible ones, in order.

    Examples
    --------
    >>> visible_columns(["timestamp", "_file", "_line", "x", "window_index"])
    ['timestamp', 'x']
    """
    return [c for c in columns if not c.startswith("_") and c not in INTERNAL_COLUMNS]


#: what a feature's value must be read as, by feature type (quarantine reasons)
_READ_AS = {"numeric": "a number", "datetime": "a date", "boolean": "a boolean"}


def wrong_type_reason(name: str, kind: str) -> str | None:
    """The quarantine reason of a value of feature ``name`` that cannot be read as its type
    ``kind`` (``None`` for categorical features: any value is a category).

    Parameters
    ----------
    name : str
        The feature.
    kind : str
        Its type (:data:`FEATURE_TYPES`).

    Returns
    -------
    str or None
        ``feature NAME is not a number`` (a date, a boolean); None for categorical features.

    Examples
    --------
    >>> wrong_type_reason("age", "numeric"), wrong_type_reason("region", "categorical")
    ('feature age is not a number', None)
    """
    return f"feature {name} is not {_READ_AS[kind]}" if kind in _READ_AS else None
