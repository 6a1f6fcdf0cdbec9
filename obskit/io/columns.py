"""Which log column plays which role: role and class-score columns, the task, the
feature columns and their types, and the errors that name a missing column."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import ibis
import ibis.expr.types as ir
import pandas as pd

from obskit.config import Config
from obskit.exceptions import ConfigError, InputError
from obskit.io.casting import ISO_DATE, UTC, as_number, normalise_label, strip_text
from obskit.io.raw import RawSource
from obskit.schema import CLASS_SCORE_PATTERNS, ROLES, infer_feature_type, visible_columns

__all__ = ["META_COLUMNS", "role_columns", "missing_column_error", "check_mapped",
           "shadowed_role_names", "Sourced", "where_of", "find_class_scores", "check_probabilities",
           "infer_task", "feature_candidates", "infer_feature_types",
           "check_named_features"]

#: bookkeeping columns every raw source carries: file and line of each row
META_COLUMNS = ("_file", "_line")


def role_columns(config: Config, raw: ir.Table) -> dict[str, str]:
    """The raw column of each role present in a source.

    Parameters
    ----------
    config : Config
        The validated config (its column mapping).
    raw : ibis Table
        The raw source's table.

    Returns
    -------
    dict of str to str
        Role → raw column name, for the roles whose mapped column ``raw`` has.
    """
    return {r: config.column(r) for r in ROLES if config.column(r) in raw.columns}


def missing_column_error(where: str, column: str, role: str, raw: ir.Table, how: str) -> InputError:
    """The error for a required column missing from a source.

    Parameters
    ----------
    where : str
        The source (file), named in the message.
    column : str
        The missing column.
    role : str
        Its role, as the message names it.
    raw : ibis Table
        The source's table (its columns are listed).
    how : str
        How to fix it, appended to the message.

    Returns
    -------
    InputError
        The error to raise (exit code 2).
    """
    found = ", ".join(visible_columns(raw.columns)) or "(none)"
    return InputError(
        f"{where}: required column {column!r} (role {role}) not found; columns found: {found}. "
        f"{how}",
        path=where, column=column,
    )


def check_mapped(config: Config, raw: RawSource) -> None:
    """Stop on a role mapped (``--column ROLE=NAME``) onto a column the logs lack.

    A label or timestamp mapped while a label source is configured may live there instead.

    Parameters
    ----------
    config : Config
        The validated config.
    raw : RawSource
        The source as read.

    Raises
    ------
    InputError
        Naming the role, the column and the columns found.
    """
    for role, name in config.columns.items():
        if (role in ROLES and name not in raw.table.columns
                and not (config.labels and role in ("label", "timestamp"))):
            raise missing_column_error(
                where_of(raw), name, f"{role}, mapped with --column {role}={name}", raw.table,
                f"Fix the mapping (--column {role}=NAME, 'columns.{role}').")


def shadowed_role_names(config: Config, raw: ir.Table) -> list[str]:
    """Columns named like a role that is mapped onto another column.

    They are ordinary columns, left out of the analysis (their name would collide with the
    role's).

    Parameters
    ----------
    config : Config
        The validated config (its column mapping).
    raw : ibis Table
        The raw source's table.

    Returns
    -------
    list of str
        The column names, in role order.
    """
    return [r for r in ROLES if config.column(r) != r and r in raw.columns]


class Sourced(Protocol):
    """Anything read from files: a :class:`~obskit.io.raw.RawSource` or a
    :class:`~obskit.io.log_table.LogTable`."""

    @property
    def files(self) -> tuple[str, ...]:
        """The files read, in order (at least one).

        Returns
        -------
        tuple of str
            The file paths.
        """
        ...


def where_of(raw: Sourced) -> str:
    """The source's file (or first file and how many more), for messages.

    Parameters
    ----------
    raw : Sourced
        A raw source or a typed log table (anything with ``files``).

    Returns
    -------
    str
        ``path`` for one file, ``first (and N more files)`` for several.
    """
    return raw.files[0] if len(raw.files) == 1 else f"{raw.files[0]} (and {len(raw.files) - 1} " \
        "more files)"


def find_class_scores(config: Config, raw: ir.Table, roles: dict[str, str],
                      where: str) -> dict[str, str]:
    """The probability column of each class of a multiclass log.

    From ``columns.class_scores`` (a mapping, or a name pattern with ``{class}``) or, without
    it, the first default pattern (:data:`~obskit.schema.CLASS_SCORE_PATTERNS`) that at least
    two columns match.

    Parameters
    ----------
    config : Config
        The validated config.
    raw : ibis Table
        The raw source's table.
    roles : dict of str to str
        Role → column (those columns are no class scores).
    where : str
        The source, named in error messages.

    Returns
    -------
    dict of str to str
        Class label (canonical text) → its probability column; empty when none is found.

    Raises
    ------
    InputError
        A mapped column is missing, or no two columns match a configured pattern.
    """
    spec = config.class_scores
    taken = set(roles.values()) | set(META_COLUMNS)
    if isinstance(spec, Mapping):
        for name in spec.values():
            if name not in raw.columns:
                raise missing_column_error(where, name, "class score", raw,
                                      "Fix 'columns.class_scores' in the config.")
        return {normalise_label(cls): name for cls, name in spec.items()}
    for pattern in ([spec] if spec else CLASS_SCORE_PATTERNS):
        prefix, suffix = pattern.split("{class}")
        found = {normalise_label(c[len(prefix):len(c) - len(suffix)]): c for c in raw.columns
                 if c not in taken and len(c) > len(prefix) + len(suffix)
                 and c.startswith(prefix) and c.endswith(suffix)}
        if len(found) >= 2:
            return dict(sorted(found.items()))
    if spec:
        columns_found = ", ".join(visible_columns(raw.columns)) or "(none)"
        raise InputError(
            f"{where}: no two columns match 'columns.class_scores' pattern {spec!r} (the "
            f"part '{{class}}' stands for the class label); columns found: {columns_found}",
            path=where)
    return {}


def check_probabilities(table: ir.Table, columns: list[str], where: str) -> None:
    """Stop on a class probability outside [0, 1].

    Parameters
    ----------
    table : ibis Table
        The typed source.
    columns : list of str
        The class-probability columns.
    where : str
        The source, named in the message.

    Raises
    ------
    InputError
        Naming the column and the range found.
    """
    if not columns:
        return
    stats = table.aggregate(**{f"lo{i}": table[c].min() for i, c in enumerate(columns)},
                            **{f"hi{i}": table[c].max() for i, c in enumerate(columns)}
                            ).execute().iloc[0]
    for i, c in enumerate(columns):
        lo, hi = stats[f"lo{i}"], stats[f"hi{i}"]
        if pd.notna(lo) and (lo < 0 or hi > 1):
            raise InputError(
                f"{where}: class probability column {c!r} holds values in [{lo:g}, {hi:g}], "
                "expected probabilities in [0, 1]; log the model's predicted probabilities "
                "(a softmax of its logits), or exclude the column with 'features.exclude' "
                "and map other ones with 'columns.class_scores'.",
                path=where, column=c)


def infer_task(raw: ir.Table, roles: dict[str, str]) -> str:
    """The task of a log whose config leaves it unset.

    Parameters
    ----------
    raw : ibis Table
        The raw source's table.
    roles : dict of str to str
        Role → column.

    Returns
    -------
    str
        ``"binary"`` with a score or at most two classes; ``"regression"`` for many numeric
        predictions; otherwise ``"multiclass"``.
    """
    if "score" in roles:
        return "binary"
    col = roles.get("prediction") or roles.get("label")
    if col is None:
        return "binary"
    values = raw[col]
    stats = raw.aggregate(
        distinct=values.nunique(), numeric=as_number(values)[0].notnull().sum(),
        non_null=values.notnull().sum(),
    ).execute().iloc[0]
    if stats.distinct <= 2:
        return "binary"
    if stats.non_null and stats.numeric >= 0.95 * stats.non_null and stats.distinct > 20:
        return "regression"
    return "multiclass"


def feature_candidates(config: Config, raw: ir.Table, roles: dict[str, str],
                        where: str) -> list[str]:
    """The feature columns of a source.

    Parameters
    ----------
    config : Config
        The validated config (``features.include`` / ``exclude``).
    raw : ibis Table
        The raw source's table.
    roles : dict of str to str
        Role → column.
    where : str
        The source, named in error messages.

    Returns
    -------
    list of str
        ``features.include`` when given, else every column that is not a role, bookkeeping,
        excluded, or shadowed by a mapped role.

    Raises
    ------
    InputError
        An included feature the source lacks.
    """
    role_cols = set(roles.values())
    if config.features:
        missing = [f for f in config.features if f not in raw.columns]
        if missing:
            raise missing_column_error(where, missing[0], "feature", raw,
                                  "Fix 'features.include' in the config.")
        shadowed = shadowed_role_names(config, raw)
        return [f for f in config.features if f not in role_cols and f not in shadowed]
    shadowed = shadowed_role_names(config, raw)
    return [c for c in raw.columns if c not in role_cols and c not in META_COLUMNS
            and c not in config.exclude and c not in shadowed]


def infer_feature_types(raw: ir.Table, names: list[str], overrides: dict[str, str],
                        declared_text: frozenset[str] | set[str] = frozenset()
                        ) -> dict[str, str]:
    """The type of each feature column (see :mod:`obskit.schema`).

    Parameters
    ----------
    raw : ibis Table
        The raw source's table.
    names : list of str
        The feature columns.
    overrides : dict of str to str
        Feature → type set in the config (taken as is).
    declared_text : set of str, optional
        Columns the file declares as text (Parquet strings), never read as numbers or
        booleans.

    Returns
    -------
    dict of str to str
        Feature name → ``numeric``, ``categorical``, ``boolean`` or ``datetime``.
    """
    aggs = {}
    for i, name in enumerate(names):
        col = raw[name]
        if col.type().is_string() and name not in overrides:  # one query counts them all
            aggs[f"n{i}"] = col.count()
            aggs[f"d{i}"] = iso_date_count(col)
            if name not in declared_text:  # declared text is never a number or a boolean
                text = strip_text(col)
                aggs[f"x{i}"] = as_number(col)[0].count()
                aggs[f"b{i}"] = text.lower().isin(("true", "false")).sum()
    counts = raw.aggregate(**aggs).execute().iloc[0] if aggs else {}
    types = {}
    for i, name in enumerate(names):
        if name in overrides:
            continue
        dtype = raw[name].type()
        kind = ("boolean" if dtype.is_boolean() else "numeric" if dtype.is_numeric()
                else "datetime" if dtype.is_timestamp() or dtype.is_date() else "string")
        types[name] = infer_feature_type(
            dtype=kind, non_null=int(counts.get(f"n{i}", 0) or 0),
            numeric=int(counts.get(f"x{i}", 0) or 0), boolean=int(counts.get(f"b{i}", 0) or 0),
            dates=int(counts.get(f"d{i}", 0) or 0), declared=name in declared_text,
        )
    return {name: overrides.get(name) or types[name] for name in names}


def iso_date_count(col: ir.StringValue) -> ir.IntegerValue:
    """How many values of a text column are ISO-8601 dates or datetimes that parse.

    The regular expression and the parse run only on values that start with a digit or
    white space (an ISO date, stripped, starts with four digits); the rest count as no
    date at once.

    Parameters
    ----------
    col : ibis string expression
        A raw text column.

    Returns
    -------
    ibis integer expression
        The count (an aggregate).
    """
    first = col.ascii_str()
    text = strip_text(col)
    date = ibis.ifelse(text.re_search(ISO_DATE), text.try_cast(UTC).notnull(), False)
    return ibis.cases(((first <= 32) | first.between(48, 57), date), else_=False).sum()


def check_named_features(config: Config, features: list[str]) -> None:
    """Check that the features the config names by key are features of the logs.

    A misspelt name under ``features.types`` or ``drift.features`` would otherwise be
    ignored: the feature meant keeps its inferred type or the default drift rule, and
    nothing says so.

    Parameters
    ----------
    config : Config
        The validated config.
    features : list of str
        The logs' feature columns.

    Raises
    ------
    ConfigError
        The first name that is not a feature (``key`` e.g. ``features.types.<name>``).
    """
    for key, named in (("features.types", config.feature_types),
                       ("drift.features", config.drift_features)):
        unknown = [n for n in named if n not in features]
        if unknown:
            raise ConfigError(
                f"config key '{key}': {unknown[0]!r} is not a feature of the logs; "
                f"features: {', '.join(features) or '(none)'}", key=f"{key}.{unknown[0]}")
