"""Load prediction logs: read, assign roles, type, quarantine, join late labels.

Every row read ends up in exactly one place: the typed log table (``used``) or the
quarantine table (with file, line and reason). Nothing is pulled into pandas except
counts and a bounded number of quarantine examples.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis.backends import BaseBackend

from obskit.config import Config
from obskit.exceptions import InputError
from obskit.io.casting import (
    ISO_DATE,
    UTC,
    as_boolean,
    as_days,
    as_label_text,
    as_number,
    as_text,
    normalise_label,
    strip_text,
)
from obskit.io.checks import PREDICTION_TEXT, check_scores, require_rows
from obskit.io.engine import connect, materialize
from obskit.io.raw import RawSource
from obskit.io.sources import read_source
from obskit.io.timestamps import TimestampInfo, parse_timestamps
from obskit.schema import (
    CLASS_SCORE_PATTERNS,
    REQUIRED_ROLES,
    ROLES,
    infer_feature_type,
    is_numeric_type,
    measures_performance,
    visible_columns,
    wrong_type_reason,
)

__all__ = ["LogTable", "LabelStats", "LoadedLogs", "load_logs", "load_log_table", "infer_task"]

_META = ("_file", "_line")
QUARANTINE_EXAMPLES = 20


@dataclass
class LogTable:
    """One typed source in the engine, with its quarantine and its row accounting."""

    table: ir.Table
    quarantine: ir.Table
    rows_read: int
    rows_used: int
    rows_quarantined: int
    files: tuple[str, ...]
    timestamp: TimestampInfo

    def quarantine_summary(self, limit: int = QUARANTINE_EXAMPLES) -> dict[str, Any]:
        """Counts by reason and the first ``limit`` examples (file, line, reason, detail)."""
        q = self.quarantine
        by_reason = q.group_by("reason").aggregate(rows=q.count()).order_by(ibis.desc("rows"))
        examples = q.order_by(["_file", "_line"]).limit(limit).execute()
        return {
            "by_reason": {r.reason: int(r.rows) for r in by_reason.execute().itertuples()},
            "examples": [
                {"file": e["_file"], "line": int(e["_line"]), "reason": e["reason"],
                 "detail": None if pd.isna(e["detail"]) else str(e["detail"])}
                for e in examples.to_dict("records")
            ],
        }


@dataclass
class LabelStats:
    """How the separate label source matched the logs."""

    read: int = 0
    used: int = 0
    quarantined: int = 0
    duplicates: int = 0
    matched: int = 0
    unmatched: int = 0


@dataclass
class LoadedLogs:
    """Reference and current logs, typed alike, with feature types and label accounting."""

    con: BaseBackend
    current: LogTable
    reference: LogTable | None
    features: dict[str, str]
    task: str
    roles: tuple[str, ...]
    labels: LabelStats | None = None
    label_quarantine: LogTable | None = None
    notes: list[str] = field(default_factory=list)
    #: features of the reference that the current logs do not have at all
    missing_features: list[str] = field(default_factory=list)
    #: multiclass: class label (canonical text) → its probability column (kept by name)
    class_scores: dict[str, str] = field(default_factory=dict)


def _role_columns(config: Config, raw: ir.Table) -> dict[str, str]:
    """role → raw column name, for the roles present in ``raw``."""
    return {r: config.column(r) for r in ROLES if config.column(r) in raw.columns}


def _missing_column(where: str, column: str, role: str, raw: ir.Table, how: str) -> InputError:
    found = ", ".join(visible_columns(raw.columns)) or "(none)"
    return InputError(
        f"{where}: required column {column!r} (role {role}) not found; columns found: {found}. "
        f"{how}",
        path=where, column=column,
    )


def _check_mapped(config: Config, raw: RawSource) -> None:
    """A role mapped onto a column (``--column ROLE=NAME``) that the logs lack is an error
    naming the role, the column and the columns found (a label mapped with a label source
    may live there instead)."""
    for role, name in config.columns.items():
        if (role in ROLES and name not in raw.table.columns
                and not (config.labels and role in ("label", "timestamp"))):
            raise _missing_column(
                _where(raw), name, f"{role}, mapped with --column {role}={name}", raw.table,
                f"Fix the mapping (--column {role}=NAME, 'columns.{role}').")


def _shadowed_role_names(config: Config, raw: ir.Table) -> list[str]:
    """Columns named like a role that is mapped onto another column: ordinary columns,
    left out of the analysis (their name would collide with the role's)."""
    return [r for r in ROLES if config.column(r) != r and r in raw.columns]


def _check_positive_label(logs: LoadedLogs, config: Config) -> None:
    """Stop when the positive class of a binary task is not among the label/prediction
    values, unless they are the conventional 0/1 (or false/true) and so is the class."""
    cols = [c for c in ("label", "prediction") if c in logs.roles]
    if logs.task != "binary" or not cols:
        return
    positive = normalise_label(config.positive_label)
    found: dict[str, set[str]] = {}
    for log in (logs.current, logs.reference):
        if log is None:
            continue
        for c in cols:
            if c in log.table.columns:
                v = log.table[c]
                got = log.table.filter(v.notnull()).select(v=v).distinct().limit(21)
                found.setdefault(c, set()).update(got.execute()["v"].astype(str))
    values = set().union(*found.values()) if found else set()
    if not values or positive in values or (values <= {"0", "1"} and positive in {"0", "1"}):
        return
    col = next(c for c in cols if found.get(c))
    shown = ", ".join(repr(v) for v in sorted(values)[:20])
    pick = sorted(values - {"0"})[-1] if len(values) == 2 else "CLASS"
    given = ("no positive_label is configured (default 1)"
             if config.positive_label == 1 and not isinstance(config.positive_label, bool)
             else f"positive_label {config.positive_label!r} is configured")
    if isinstance(config.positive_label, bool):  # YAML reads unquoted yes/no/on/off as bools
        given += " (YAML reads an unquoted yes/no/on/off as true/false: quote the class)"
    raise InputError(
        f"column {config.column(col)!r} (role {col}) holds the classes {shown}, but {given}, "
        "which is not among them, so every metric of the positive class would be wrong. "
        f"Name the positive class, e.g. 'positive_label: \"{pick}\"' in the config or "
        f"--positive-label {pick}.", column=config.column(col))


def _where(raw: RawSource | LogTable) -> str:
    return raw.files[0] if len(raw.files) == 1 else f"{raw.files[0]} (and {len(raw.files) - 1} " \
        "more files)"


def find_class_scores(config: Config, raw: ir.Table, roles: dict[str, str],
                      where: str) -> dict[str, str]:
    """Class label (canonical text) → its probability column, from ``columns.class_scores``
    (a mapping, or a name pattern with ``{class}``) or, without it, the first default
    pattern (:data:`~obskit.schema.CLASS_SCORE_PATTERNS`) that at least two columns match."""
    spec = config.class_scores
    taken = set(roles.values()) | set(_META)
    if isinstance(spec, Mapping):
        for name in spec.values():
            if name not in raw.columns:
                raise _missing_column(where, name, "class score", raw,
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
        found = ", ".join(visible_columns(raw.columns)) or "(none)"
        raise InputError(
            f"{where}: no two columns match 'columns.class_scores' pattern {spec!r} (the "
            f"part '{{class}}' stands for the class label); columns found: {found}",
            path=where)
    return {}


def _check_probabilities(table: ir.Table, columns: list[str], where: str) -> None:
    """Every class probability in [0, 1], or an error naming the column and the range."""
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
    """binary if there is a score or at most two classes; regression for many numeric
    predictions; otherwise multiclass."""
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


def _feature_candidates(config: Config, raw: ir.Table, roles: dict[str, str],
                        where: str) -> list[str]:
    role_cols = set(roles.values())
    if config.features:
        missing = [f for f in config.features if f not in raw.columns]
        if missing:
            raise _missing_column(where, missing[0], "feature", raw,
                                  "Fix 'features.include' in the config.")
        shadowed = _shadowed_role_names(config, raw)
        return [f for f in config.features if f not in role_cols and f not in shadowed]
    shadowed = _shadowed_role_names(config, raw)
    return [c for c in raw.columns if c not in role_cols and c not in _META
            and c not in config.exclude and c not in shadowed]


def infer_feature_types(raw: ir.Table, names: list[str], overrides: dict[str, str],
                        declared_text: frozenset[str] | set[str] = frozenset()
                        ) -> dict[str, str]:
    """Feature name → numeric / categorical / boolean / datetime (see
    :mod:`obskit.schema`). ``declared_text``: columns the file declares as text (Parquet
    strings), never read as numbers or booleans."""
    aggs = {}
    for i, name in enumerate(names):
        col = raw[name]
        if col.type().is_string():
            text = strip_text(col)
            aggs[f"n{i}"] = col.notnull().sum()
            aggs[f"x{i}"] = as_number(col)[0].notnull().sum()
            aggs[f"b{i}"] = text.lower().isin(("true", "false")).sum()
            aggs[f"d{i}"] = (text.re_search(ISO_DATE) & text.try_cast(UTC).notnull()).sum()
    counts = raw.aggregate(**aggs).execute().iloc[0] if aggs else {}
    types = {}
    for i, name in enumerate(names):
        dtype = raw[name].type()
        kind = ("boolean" if dtype.is_boolean() else "numeric" if dtype.is_numeric()
                else "datetime" if dtype.is_timestamp() or dtype.is_date() else "string")
        types[name] = infer_feature_type(
            dtype=kind, non_null=int(counts.get(f"n{i}", 0) or 0),
            numeric=int(counts.get(f"x{i}", 0) or 0), boolean=int(counts.get(f"b{i}", 0) or 0),
            dates=int(counts.get(f"d{i}", 0) or 0), declared=name in declared_text,
        )
    types.update({k: v for k, v in overrides.items() if k in types})
    return types


def load_log_table(con: BaseBackend, raw: RawSource, *, config: Config, task: str,
                   features: dict[str, str], required: tuple[str, ...] = REQUIRED_ROLES,
                   hint: str = "", class_scores: Mapping[str, str] | None = None
                   ) -> LogTable:
    """Type one raw source for ``task`` and ``features`` (and the multiclass
    ``class_scores`` columns); quarantine what does not fit."""
    t = raw.table
    where = _where(raw)
    roles = _role_columns(config, t)
    for role in required:
        if role not in roles:
            raise _missing_column(
                where, config.column(role), role, t,
                hint or f"Map it with --column {role}=NAME or 'columns.{role}' in the config.",
            )
    typed: dict[str, ir.Value] = {"_file": t["_file"], "_line": t["_line"]}
    checks: list[tuple[ir.BooleanValue, str, ir.Value]] = []

    ts_info = TimestampInfo("empty", False)
    if "timestamp" in roles:
        ts, ts_info = parse_timestamps(t, roles["timestamp"], where=where)
        typed["timestamp"] = ts
        src = t[roles["timestamp"]]
        checks.append((src.isnull(), "missing timestamp", ibis.null("string")))
        checks.append((ts.isnull(), "timestamp is not a timestamp", src.cast("string")))
    for role in ("request_id", "model_version", "trace_id", "error", "status"):
        if role in roles:
            col = t[roles[role]]
            typed[role] = as_label_text(col) if role == "status" else as_text(col)
    for role in ("latency_ms", "score"):
        if role in roles:
            typed[role], bad = as_number(t[roles[role]])
            checks.append((bad, f"{role} is not a number", t[roles[role]].cast("string")))
    for role in ("prediction", "label"):
        if role in roles:
            col = t[roles[role]]
            if task == "regression":
                typed[role], bad = as_number(col)
                checks.append((bad, f"{role} is not a number", col.cast("string")))
            else:
                typed[role] = as_label_text(col)
    positive = normalise_label(config.positive_label)
    if task == "binary" and "score" not in roles and positive in (class_scores or {}):
        # a binary model that logs both classes' probabilities: the positive one is the score
        col = t[class_scores[positive]]
        typed["score"], bad = as_number(col)
        checks.append((bad, "score is not a number", col.cast("string")))
    for name in (class_scores or {}).values() if task == "multiclass" else ():
        if name in t.columns:
            typed[name], bad = as_number(t[name])
            checks.append((bad, f"class score {name} is not a number", t[name].cast("string")))
    for role in required:
        if role != "timestamp":
            checks.append((typed[role].isnull(), f"missing {role}", ibis.null("string")))
    for name in config.segments or ():
        if name in t.columns and name not in typed and name not in features:
            typed[name] = as_text(t[name])  # a role's own column, segmented by its name
    for name, kind in features.items():
        if name not in t.columns:
            typed[name] = ibis.null("float64" if is_numeric_type(kind) else
                                    "boolean" if kind == "boolean" else "string")
            continue
        col = t[name]
        if kind == "numeric":
            typed[name], bad = as_number(col)
            checks.append((bad, wrong_type_reason(name, "numeric"), col.cast("string")))
        elif kind == "datetime":
            typed[name], bad = as_days(col)
            checks.append((bad, wrong_type_reason(name, "datetime"), col.cast("string")))
        elif kind == "boolean":
            typed[name], bad = as_boolean(col)
            checks.append((bad, wrong_type_reason(name, "boolean"), col.cast("string")))
        else:
            typed[name] = as_text(col)

    reason = ibis.cases(*[(c, r) for c, r, _ in checks], else_=ibis.null("string")) \
        if checks else ibis.null("string")
    detail = ibis.cases(*[(c, d.left(200) if d is not None else ibis.null("string"))
                          for c, _, d in checks], else_=ibis.null("string")) \
        if checks else ibis.null("string")
    staged = materialize(t.select(**typed, _reason=reason, _detail=detail))
    clean = materialize(staged.filter(staged._reason.isnull()).drop("_reason", "_detail"))
    # the timestamp and segment columns place a quarantined row in its window and segment
    # (data quality counts wrong-type values there)
    when = (staged.timestamp if "timestamp" in typed
            else ibis.null("timestamp('UTC')")).name("timestamp")
    segments = {c: staged[c].cast("string") for c in config.segments or ("model_version",)
                if c in typed and c not in ("timestamp", "_file", "_line")}
    bad_rows = staged.filter(staged._reason.notnull()).select(
        "_file", "_line", reason=staged._reason, detail=staged._detail, timestamp=when,
        **segments)
    rejects = raw.rejects.select("_file", "_line", "reason", "detail").mutate(
        timestamp=ibis.null(bad_rows.schema()["timestamp"]),
        **{c: ibis.null("string") for c in segments})
    quarantine = materialize(ibis.union(bad_rows, rejects.cast(bad_rows.schema())))
    used, quarantined = int(clean.count().execute()), int(quarantine.count().execute())
    staged.release()  # both tables above are computed now
    return LogTable(clean, quarantine, used + quarantined, used, quarantined, raw.files, ts_info)


def _read(con: BaseBackend, spec: str, source: str) -> RawSource:
    """Read one source; an error names its config key, and an empty source stops."""
    try:
        raw = read_source(con, spec)
    except InputError as exc:
        raise InputError(f"sources.{source}: {exc}", path=exc.path, column=exc.column,
                         line=exc.line) from exc
    require_rows(raw, source)
    return raw


def load_logs(config: Config, *, con: BaseBackend | None = None) -> LoadedLogs:
    """Read the reference, current and label sources of ``config`` into the engine."""
    con = con or connect(config.engine, config.engine_settings())
    current_raw = _read(con, config.current, "current")
    reference_raw = _read(con, config.reference, "reference") if config.reference else None
    basis = reference_raw or current_raw
    _check_mapped(config, basis)
    roles = _role_columns(config, basis.table)
    class_scores = find_class_scores(config, basis.table, roles, _where(basis))
    two_class = (len(class_scores) == 2
                 and normalise_label(config.positive_label) in class_scores)
    task = config.task or ("binary" if "score" in roles or two_class
                           else "multiclass" if class_scores
                           else infer_task(basis.table, roles))
    # class probability columns are never features, whatever the task
    names = _feature_candidates(config, basis.table,
                                {**roles, **{f"class:{k}": v for k, v in class_scores.items()}},
                                _where(basis))
    # a pandas index written with the data is not a feature (unless asked for by name)
    if not config.features:
        names = [n for n in names if n not in basis.index_columns]
    features = infer_feature_types(basis.table, names, dict(config.feature_types),
                                   basis.declared_text)
    scores = class_scores if task == "multiclass" else {}
    required = REQUIRED_ROLES + (("request_id",) if config.labels else ())
    current = load_log_table(con, current_raw, config=config, task=task, features=features,
                             required=required, class_scores=class_scores)
    reference = (load_log_table(con, reference_raw, config=config, task=task, features=features,
                                class_scores=class_scores)
                 if reference_raw else None)
    for loaded in (current, reference):
        if loaded is not None:
            _check_probabilities(loaded.table, [c for c in scores.values()
                                                if c in loaded.table.columns],
                                 _where(loaded))
    present = tuple(r for r in ROLES if r in current.table.columns
                    or (reference and r in reference.table.columns))
    logs = LoadedLogs(con, current, reference, features, task, present)
    if "score" in present and task != "regression":
        for name, log in (("current", current), ("reference", reference)):
            if log is None or "score" not in log.table.columns:
                continue
            nulls = check_scores(log, source=name, column=config.column("score"))
            if nulls:
                logs.notes.append(
                    f"{nulls:,} of {log.rows_used:,} {name} rows ({nulls / log.rows_used:.1%}) "
                    f"have no score (column {config.column('score')!r}); they are left out "
                    "of ROC AUC, PR AUC, log loss, Brier, ECE, CBPE and confident mistakes.")
    logs.class_scores = {k: v for k, v in scores.items() if v in current.table.columns}
    if class_scores:
        use = ("the multiclass scores" if scores else
               f"not features; the probability of class {normalise_label(config.positive_label)!r}"
               " is the score" if task == "binary" and "score" in current.table.columns
               and "score" not in roles else f"not features (unused for a {task} task)")
        logs.notes.append(f"Columns {', '.join(class_scores.values())} are per-class "
                          f"probabilities: {use}.")
    if logs.class_scores and any("prediction" not in log.table.columns
                                 for log in (current, reference) if log is not None):
        logs.notes.append(
            "No prediction column: the predicted class is the most probable one (the largest "
            f"of {', '.join(logs.class_scores.values())}; a tie goes to the first of them in "
            "this order).")
    logs.missing_features = [f for f in features if f not in current_raw.table.columns]
    if current.timestamp.naive or (reference and reference.timestamp.naive):
        logs.notes.append("Timestamps without a time zone were taken as UTC.")
    for log in (current, reference):
        if log is not None and log.timestamp.note and log.timestamp.note not in logs.notes:
            logs.notes.append(log.timestamp.note)
    if config.labels:
        _join_labels(logs, config)
    _check_positive_label(logs, config)
    for name in _shadowed_role_names(config, basis.table):
        logs.notes.append(f"Column {name!r} is not analysed: the {name} role is mapped to "
                          f"column {config.column(name)!r}, so {name!r} is an ordinary "
                          "column and is left out (rename it to analyse it as a feature).")
    if "label" in logs.roles and not measures_performance(task, logs.roles,
                                                          class_scores=bool(logs.class_scores)):
        logs.notes.append(
            f"Performance is not measured: the logs have labels (column "
            f"{config.column('label')!r}) but no {PREDICTION_TEXT[task]} column to compare "
            f"them with. Map one with --column prediction=NAME"
            + (" or --column score=NAME" if task == "binary" else "") + " to measure it.")
    return logs


def _join_labels(logs: LoadedLogs, config: Config) -> None:
    """Join the late-arriving label source onto the current log by ``request_id``."""
    con = logs.con
    raw = _read(con, config.labels, "labels")
    hint = "The label source needs request ids and labels; map them with --column ROLE=NAME."
    labels = load_log_table(con, raw, config=config, task=logs.task, features={},
                            required=("request_id", "label"), hint=hint)
    lt = labels.table
    # latest timestamp wins; without one (or on a tie) the last line written wins
    last = [ibis.desc(lt._file), ibis.desc(lt._line)]
    order = ([ibis.desc(lt.timestamp)] if "timestamp" in lt.columns else []) + last
    ranked = lt.mutate(_rank=ibis.row_number().over(group_by=lt.request_id, order_by=order))
    latest = ranked.filter(ranked._rank == 0).select(_lbl_id=ranked.request_id,
                                                     _lbl=ranked.label)
    cur = logs.current.table
    joined = cur.left_join(latest, cur.request_id == latest._lbl_id)
    label = (ibis.coalesce(joined.label, joined._lbl) if "label" in cur.columns
             else joined._lbl)
    joined = joined.mutate(label=label, _label_joined=joined._lbl.notnull())
    joined = joined.drop("_lbl_id", "_lbl")
    table = materialize(joined)
    distinct = int(latest.count().execute())
    matched = int(table._label_joined.sum().execute() or 0)
    logs.current.table = table.drop("_label_joined")
    logs.labels = LabelStats(
        read=labels.rows_read, used=labels.rows_used, quarantined=labels.rows_quarantined,
        duplicates=labels.rows_used - distinct, matched=matched,
        unmatched=int(latest.anti_join(cur, latest._lbl_id == cur.request_id).count().execute()),
    )
    logs.label_quarantine = labels
    if "label" not in logs.roles:
        logs.roles = tuple(r for r in ROLES if r in logs.roles or r == "label")
