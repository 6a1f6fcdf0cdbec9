"""Load prediction logs: read, assign roles, type, quarantine, join late labels.

Every row read ends up in exactly one place: the typed log table (``used``) or the
quarantine table (with file, line and reason). Nothing is pulled into pandas except
counts and a bounded number of quarantine examples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis.backends import BaseBackend

from obskit.config import Config
from obskit.exceptions import InputError
from obskit.io.casting import as_boolean, as_label_text, as_number, as_text, strip_text
from obskit.io.engine import connect, materialize
from obskit.io.sources import RawSource, read_source
from obskit.io.timestamps import TimestampInfo, parse_timestamps
from obskit.schema import (
    REQUIRED_ROLES,
    ROLES,
    infer_feature_type,
    measures_performance,
    visible_columns,
)

__all__ = ["LogTable", "LabelStats", "LoadedLogs", "load_logs", "load_log_table", "infer_task",
           "require_rows", "require_used_rows", "check_scores"]

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


def _files_text(files: tuple[str, ...]) -> str:
    if len(files) == 1:
        return files[0]
    shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
    return f"every one of its {len(files)} files ({shown})"


def require_rows(raw: RawSource, source: str) -> None:
    """Stop on a source without a single row: an empty file (a CSV header alone, an empty
    JSON-lines or Parquet file), or a glob or directory whose files are all empty.

    ``source`` names the config key (``reference``, ``current`` or ``labels``). One engine
    query that stops at the first row.
    """
    if int(raw.table.limit(1).count().execute()) or int(raw.rejects.limit(1).count().execute()):
        return
    what = _files_text(raw.files)
    verb = "holds" if len(raw.files) == 1 else "hold"
    raise InputError(
        f"sources.{source}: {what} {verb} no rows (an empty file, or a header and no data); "
        f"there is nothing to monitor. Point sources.{source} (--{source}) at logs with rows.",
        path=raw.files[0],
    )


def require_used_rows(logs: LoadedLogs) -> None:
    """Stop when every row of a source (current, reference or labels) was quarantined:
    nothing of it could be read, and a run over it would judge nothing. :func:`load_logs`
    itself keeps such sources, so their quarantine can be inspected."""
    sources = (("current", logs.current), ("reference", logs.reference),
               ("labels", logs.label_quarantine))
    for source, log in sources:
        if log is None or log.rows_used or not log.rows_read:
            continue
        q = log.quarantine_summary(limit=1)
        reason = max(q["by_reason"], key=q["by_reason"].get) if q["by_reason"] else "?"
        ex = q["examples"][0] if q["examples"] else None
        example = (f"; e.g. {ex['file']} line {ex['line']}: {ex['reason']}"
                   + (f" ({ex['detail']!r})" if ex["detail"] else "")) if ex else ""
        raise InputError(
            f"sources.{source}: none of the {log.rows_read:,} rows read from "
            f"{_files_text(log.files)} could be used (all quarantined, most often: {reason})"
            f"{example}. Check the column mapping (--column ROLE=NAME) and the file format.",
            path=log.files[0] if log.files else None,
        )


def check_scores(log: LogTable, *, source: str, column: str) -> int:
    """Stop on a classification ``score`` that is not a probability; return how many
    rows have no score (null or NaN).

    A score outside [0, 1] or infinite (logits, margins, percentages) would make log loss,
    Brier, ECE and confident mistakes meaningless, so it is an error naming the column and
    the range found. One engine query.
    """
    s = log.table.score
    missing = s.isnull() | s.isnan()
    finite = ~missing & ~s.isinf()
    got = log.table.aggregate(
        missing=missing.sum(), infinite=(~missing & s.isinf()).sum(),
        lo=s.min(where=finite), hi=s.max(where=finite),
        outside=(finite & ((s < 0) | (s > 1))).sum(),
    ).execute().iloc[0]
    outside, infinite = int(got.outside or 0), int(got.infinite or 0)
    if outside or infinite:
        found = (f"values from {float(got.lo):.6g} to {float(got.hi):.6g}"
                 if pd.notna(got.lo) else "no finite values")
        inf = f" and {infinite:,} infinite values" if infinite else ""
        raise InputError(
            f"sources.{source}: column {column!r} (role score) holds {found}{inf}; "
            f"{outside + infinite:,} of {log.rows_used:,} rows lie outside [0, 1]. The score "
            "must be the probability of the positive class. If it holds logits or margins, "
            "apply a sigmoid (1 / (1 + exp(-x))) when logging; if it is not a probability, "
            "map the score role to the probability column (--column score=NAME, "
            "'columns.score' in the config) and it is then analysed as a feature.",
            path=log.files[0] if log.files else None, column=column,
        )
    return int(got.missing or 0)


def _where(raw: RawSource) -> str:
    return raw.files[0] if len(raw.files) == 1 else f"{raw.files[0]} (and {len(raw.files) - 1} " \
        "more files)"


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
        return [f for f in config.features if f not in role_cols]
    return [c for c in raw.columns
            if c not in role_cols and c not in _META and c not in config.exclude]


def infer_feature_types(raw: ir.Table, names: list[str],
                        overrides: dict[str, str]) -> dict[str, str]:
    """Feature name → numeric / categorical / boolean (see :mod:`obskit.schema`)."""
    aggs = {}
    for i, name in enumerate(names):
        col = raw[name]
        if col.type().is_string():
            aggs[f"n{i}"] = col.notnull().sum()
            aggs[f"x{i}"] = as_number(col)[0].notnull().sum()
            aggs[f"b{i}"] = strip_text(col).lower().isin(("true", "false")).sum()
    counts = raw.aggregate(**aggs).execute().iloc[0] if aggs else {}
    types = {}
    for i, name in enumerate(names):
        dtype = raw[name].type()
        kind = ("boolean" if dtype.is_boolean() else "numeric" if dtype.is_numeric()
                else "string")
        types[name] = infer_feature_type(
            dtype=kind, non_null=int(counts.get(f"n{i}", 0) or 0),
            numeric=int(counts.get(f"x{i}", 0) or 0), boolean=int(counts.get(f"b{i}", 0) or 0),
        )
    types.update({k: v for k, v in overrides.items() if k in types})
    return types


def load_log_table(con: BaseBackend, raw: RawSource, *, config: Config, task: str,
                   features: dict[str, str], required: tuple[str, ...] = REQUIRED_ROLES,
                   hint: str = "") -> LogTable:
    """Type one raw source for ``task`` and ``features``; quarantine what does not fit."""
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
    for role in required:
        if role != "timestamp":
            checks.append((typed[role].isnull(), f"missing {role}", ibis.null("string")))
    for name in config.segments or ():
        if name in t.columns and name not in typed and name not in features:
            typed[name] = as_text(t[name])  # a role's own column, segmented by its name
    for name, kind in features.items():
        if name not in t.columns:
            typed[name] = ibis.null("float64" if kind == "numeric" else
                                    "boolean" if kind == "boolean" else "string")
            continue
        col = t[name]
        if kind == "numeric":
            typed[name], bad = as_number(col)
            checks.append((bad, f"feature {name} is not a number", col.cast("string")))
        elif kind == "boolean":
            typed[name], bad = as_boolean(col)
            checks.append((bad, f"feature {name} is not a boolean", col.cast("string")))
        else:
            typed[name] = as_text(col)

    reason = ibis.cases(*[(c, r) for c, r, _ in checks], else_=ibis.null("string")) \
        if checks else ibis.null("string")
    detail = ibis.cases(*[(c, d.left(200) if d is not None else ibis.null("string"))
                          for c, _, d in checks], else_=ibis.null("string")) \
        if checks else ibis.null("string")
    staged = materialize(t.select(**typed, _reason=reason, _detail=detail))
    clean = materialize(staged.filter(staged._reason.isnull()).drop("_reason", "_detail"))
    bad_rows = staged.filter(staged._reason.notnull()).select(
        "_file", "_line", reason=staged._reason, detail=staged._detail
    )
    quarantine = materialize(ibis.union(bad_rows, raw.rejects.cast(bad_rows.schema())))
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
    roles = _role_columns(config, basis.table)
    task = config.task or infer_task(basis.table, roles)
    names = _feature_candidates(config, basis.table, roles, _where(basis))
    features = infer_feature_types(basis.table, names, dict(config.feature_types))
    required = REQUIRED_ROLES + (("request_id",) if config.labels else ())
    current = load_log_table(con, current_raw, config=config, task=task, features=features,
                             required=required)
    reference = (load_log_table(con, reference_raw, config=config, task=task, features=features)
                 if reference_raw else None)
    present = tuple(r for r in ROLES if r in current.table.columns
                    or (reference and r in reference.table.columns))
    _check_predictions(config, task, present, basis)
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
    logs.missing_features = [f for f in features if f not in current_raw.table.columns]
    if current.timestamp.naive or (reference and reference.timestamp.naive):
        logs.notes.append("Timestamps without a time zone were taken as UTC.")
    for log in (current, reference):
        if log is not None and log.timestamp.note and log.timestamp.note not in logs.notes:
            logs.notes.append(log.timestamp.note)
    if config.labels:
        _join_labels(logs, config)
    if "label" in logs.roles and not measures_performance(task, logs.roles):
        logs.notes.append(
            f"Performance is not measured: the logs have labels (column "
            f"{config.column('label')!r}) but no {_PREDICTION_TEXT[task]} column to compare "
            f"them with. Map one with --column prediction=NAME"
            + (" or --column score=NAME" if task == "binary" else "") + " to measure it.")
    return logs


_PREDICTION_TEXT = {"binary": "prediction or score", "multiclass": "prediction",
                    "regression": "prediction"}


def _check_predictions(config: Config, task: str, present: tuple[str, ...],
                       basis: RawSource) -> None:
    """A task set explicitly in the config needs the prediction it is about: stop naming
    the missing role when the logs have labels and nothing to compare them with."""
    has_labels = "label" in present or bool(config.labels)
    if config.task is None or not has_labels or measures_performance(task, present + ("label",)):
        return
    role = "prediction" if task != "binary" else "prediction or score"
    found = ", ".join(visible_columns(basis.table.columns)) or "(none)"
    hint = ("--column prediction=NAME or --column score=NAME" if task == "binary"
            else "--column prediction=NAME")
    raise InputError(
        f"{_where(basis)}: task {task!r} needs a {role} column to measure performance "
        f"against the labels, and the logs have none (looked for "
        + (f"{config.column('prediction')!r} and {config.column('score')!r}"
           if task == "binary" else repr(config.column("prediction")))
        + f"); columns found: {found}. Map it with {hint}, or leave 'task' unset to "
        "monitor without performance.",
        path=_where(basis), column=config.column("prediction"),
    )


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
