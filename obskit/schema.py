"""Column roles of a prediction log and the rule that types its features.

Roles: a log column plays at most one role; every other column is a feature unless the
config excludes it. Feature typing rule (documented in the README):

* a boolean column (or one whose values are all ``true``/``false``) is ``boolean``;
* a column of numbers, or of strings of which at least 95% parse as numbers, is
  ``numeric`` (the values that do not parse are quarantined);
* anything else is ``categorical``.

The config's ``features.types`` overrides the inferred type of any feature.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["ROLES", "REQUIRED_ROLES", "FEATURE_TYPES", "NUMERIC_SHARE", "infer_feature_type",
           "measures_performance", "visible_columns"]

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
FEATURE_TYPES = ("numeric", "categorical", "boolean")
#: Columns obskit adds to a log table (source file and line, the window): never shown to a
#: user as "columns of the logs". Every name starting with ``_`` is internal too.
INTERNAL_COLUMNS = frozenset({"window_index"})
#: Share of non-null values that must parse as numbers for a text column to be numeric.
NUMERIC_SHARE = 0.95


def infer_feature_type(*, dtype: str, non_null: int, numeric: int, boolean: int) -> str:
    """Type a feature from its engine dtype and counts of values that parse.

    Parameters
    ----------
    dtype : str
        ``"boolean"``, ``"numeric"`` or ``"string"``: the column's type in the engine.
    non_null, numeric, boolean : int
        How many values are not null, how many parse as numbers, and as booleans.

    Examples
    --------
    >>> infer_feature_type(dtype="string", non_null=100, numeric=97, boolean=0)
    'numeric'
    >>> infer_feature_type(dtype="string", non_null=100, numeric=3, boolean=0)
    'categorical'
    """
    if dtype in ("boolean", "numeric"):
        return dtype
    if non_null and boolean == non_null:
        return "boolean"
    if non_null and numeric >= NUMERIC_SHARE * non_null:
        return "numeric"
    return "categorical"


def measures_performance(task: str, roles: Iterable[str]) -> bool:
    """Whether realized performance can be measured from these roles (or columns): labels
    and something to compare them with (a prediction, or for a binary task a score).

    >>> measures_performance("binary", ("label", "score")), measures_performance(
    ...     "regression", ("label", "score"))
    (True, False)
    """
    return "label" in roles and ("prediction" in roles
                                 or (task == "binary" and "score" in roles))


def visible_columns(columns: Iterable[str]) -> list[str]:
    """The columns of a log table a user can name: without obskit's own (``_file``,
    ``_line``, ``window_index``, any ``_``-prefixed helper), in their order.

    >>> visible_columns(["timestamp", "_file", "_line", "x", "window_index"])
    ['timestamp', 'x']
    """
    return [c for c in columns if not c.startswith("_") and c not in INTERNAL_COLUMNS]
