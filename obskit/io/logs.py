"""Load prediction logs: read the sources, find roles and features (:mod:`obskit.io.columns`),
type and quarantine each source (:mod:`obskit.io.log_table`), join late labels; and the
checks on the loaded logs that stop a run (:func:`require_used_rows`,
:func:`check_predictions`).

Every row read ends up in exactly one place: the typed log table (``used``) or the
quarantine table (with file, line and reason). Nothing is pulled into pandas except
counts and a bounded number of quarantine examples.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis
from ibis.backends import BaseBackend

from obskit.config import Config
from obskit.exceptions import InputError
from obskit.io.casting import normalise_label
from obskit.io.checks import (
    PREDICTION_TEXT,
    check_binary_classes,
    check_scores,
    class_values,
    classes_apart,
    empty_files_note,
    files_text,
    require_rows,
)
from obskit.io.columns import (
    check_mapped,
    check_named_features,
    check_probabilities,
    feature_candidates,
    find_class_scores,
    infer_feature_types,
    infer_task,
    role_columns,
    shadowed_role_names,
    where_of,
)
from obskit.io.engine import connect, materialize
from obskit.io.log_table import LogTable, Windowed, load_log_table
from obskit.io.paths import unfinished_note
from obskit.io.raw import RawSource
from obskit.io.sources import read_source
from obskit.schema import REQUIRED_ROLES, ROLES, measures_performance, visible_columns

__all__ = ["LabelStats", "LoadedLogs", "load_logs",
           "require_used_rows", "check_predictions"]


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
    #: the current logs held labels of their own before a label source was joined
    own_labels: bool = False


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
        classes = class_values(log)  # one query per table, read again by check_predictions
        for c in cols:
            if c in classes:
                found.setdefault(c, set()).update(classes[c])
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
    """Read the reference, current and label sources of a config into the engine.

    Parameters
    ----------
    config : Config
        The validated config (its ``sources``, ``columns``, ``task``, ``features``).
    con : ibis backend, optional
        An open engine connection; by default one is opened from ``config.engine``.

    Returns
    -------
    LoadedLogs
        The typed current and reference tables (one row per prediction used), their
        quarantines, the task, roles, features (name → type) and label accounting.

    Raises
    ------
    InputError
        A source that cannot be read, is empty, or lacks a required column (exit code 2).
    ConfigError
        An engine that cannot be started.
    """
    con = con or connect(config.engine, config.engine_settings())
    current_raw = _read(con, config.current, "current")
    reference_raw = _read(con, config.reference, "reference") if config.reference else None
    basis = reference_raw or current_raw
    check_mapped(config, basis)
    roles = role_columns(config, basis.table)
    class_scores = find_class_scores(config, basis.table, roles, where_of(basis))
    two_class = (len(class_scores) == 2
                 and normalise_label(config.positive_label) in class_scores)
    task = config.task or ("binary" if "score" in roles or two_class
                           else "multiclass" if class_scores
                           else infer_task(basis.table, roles))
    # class probability columns are never features, whatever the task
    names = feature_candidates(config, basis.table,
                                {**roles, **{f"class:{k}": v for k, v in class_scores.items()}},
                                where_of(basis))
    # a pandas index written with the data is not a feature (unless asked for by name)
    if not config.features:
        names = [n for n in names if n not in basis.index_columns]
    features = infer_feature_types(basis.table, names, dict(config.feature_types),
                                   basis.declared_text)
    check_named_features(config, list(features))
    scores = class_scores if task == "multiclass" else {}
    required = REQUIRED_ROLES + (("request_id",) if config.labels else ())
    current = load_log_table(con, current_raw, config=config, task=task, features=features,
                             required=required, class_scores=class_scores, windows=True)
    reference = (load_log_table(con, reference_raw, config=config, task=task, features=features,
                                class_scores=class_scores)
                 if reference_raw else None)
    for loaded in (current, reference):
        if loaded is not None:
            check_probabilities(loaded.table, [c for c in scores.values()
                                                if c in loaded.table.columns],
                                 where_of(loaded))
    present = tuple(r for r in ROLES if r in current.table.columns
                    or (reference and r in reference.table.columns))
    logs = LoadedLogs(con, current, reference, features, task, present)
    for name, raw in (("current", current_raw), ("reference", reference_raw)):
        note = empty_files_note(raw, name) if raw is not None else None
        if note:  # broken input is never silent
            logs.notes.append(note)
    for name, log in (("current", current), ("reference", reference)):
        if log is not None and log.unfinished:  # skipped, never silently
            logs.notes.append(unfinished_note(name, log.unfinished))
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
        _join_labels(logs, config, config.labels)
    _check_positive_label(logs, config)
    for name in shadowed_role_names(config, basis.table):
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


def require_used_rows(logs: LoadedLogs) -> None:
    """Stop when every row of a source (current, reference, labels) was quarantined.

    Nothing of such a source could be read, and a run over it would judge nothing.
    :func:`load_logs` itself keeps such sources, so their quarantine can be inspected.

    Parameters
    ----------
    logs : LoadedLogs
        The loaded logs.

    Raises
    ------
    InputError
        Naming the source, its rows read, the most frequent reason and an example.
    """
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
            f"{files_text(log.files)} could be used (all quarantined, most often: {reason})"
            f"{example}. Check the column mapping (--column ROLE=NAME) and the file format.",
            path=log.files[0] if log.files else None,
        )


def check_predictions(config: Config, logs: LoadedLogs) -> None:
    """Stop when a configured task has labels but not the prediction it is about, or a
    binary task's labels or predictions hold more than two classes.

    With the task inferred, the run goes on without performance and says why.

    Parameters
    ----------
    config : Config
        The validated config (``task`` None: nothing to check).
    logs : LoadedLogs
        The loaded logs.

    Raises
    ------
    InputError
        Naming the missing role, the columns looked for and the columns found; or the
        column holding a third class, and its classes.
    """
    task, present = logs.task, tuple(logs.roles)
    # (role, source) → its classes; the current labels joined from a label source are that
    # source's (so a message names the file that holds them)
    sources = [("current", logs.current), ("reference", logs.reference)]
    if logs.label_quarantine is not None:
        sources.append(("labels", logs.label_quarantine))
    classes: dict[tuple[str, str], tuple[set[str], tuple[str, ...]]] = {}
    for role in ("label", "prediction") if task == "binary" else ():
        for name, log in sources:
            if (log is None or role not in log.table.columns
                    or (name == "current" and role == "label" and logs.label_quarantine
                        and not logs.own_labels)):
                continue
            found_in = set(check_binary_classes(log, source=name, role=role,
                                                column=config.column(role)))
            classes[(role, name)] = (found_in, log.files)
    if len(set().union(*(v for v, _ in classes.values()))) > 2:  # labels yes/no, preds 0/1
        raise classes_apart(config.column, classes)
    if (config.task is None or "label" not in present
            or measures_performance(task, present, class_scores=bool(logs.class_scores))):
        return
    where = files_text(logs.current.files)
    role = "prediction" if task != "binary" else "prediction or score"
    found = ", ".join(visible_columns(logs.current.table.columns)) or "(none)"
    hint = ("--column prediction=NAME or --column score=NAME" if task == "binary"
            else "--column prediction=NAME")
    raise InputError(
        f"{where}: task {task!r} needs a {role} column to measure performance "
        f"against the labels, and the logs have none (looked for "
        + (f"{config.column('prediction')!r} and {config.column('score')!r}"
           if task == "binary" else repr(config.column("prediction")))
        + f"); columns found: {found}. Map it with {hint}, or leave 'task' unset to "
        "monitor without performance.",
        path=logs.current.files[0] if logs.current.files else None,
        column=config.column("prediction"),
    )


def _nth_of_request_id(table: ibis.Table) -> ibis.Table:
    """``table`` with ``_nth``: each row's place among the rows of its ``request_id``
    (0: the first, by timestamp, then file and line)."""
    order = [table[c] for c in ("timestamp", "_file", "_line") if c in table.columns]
    return table.mutate(_nth=ibis.row_number().over(group_by=table.request_id,
                                                    order_by=order))


def _reused_request_ids(logs: LoadedLogs, table: ibis.Table) -> int:
    """The prediction rows that reuse the ``request_id`` of an earlier one (a retry, a
    producer that recycles ids): a label is joined onto the first of them only, the others
    stay unlabelled, and a note says so with an example. One query without duplicates."""
    counts = table.aggregate(rows=table.count(), ids=table.request_id.nunique()).execute()
    reused = int(counts["rows"].iloc[0]) - int(counts["ids"].iloc[0])
    if not reused or "_file" not in table.columns:
        return reused
    nth = _nth_of_request_id(table)
    ex = nth.filter(nth._nth > 0).order_by(["_file", "_line"]).select(
        "_file", "_line", "request_id").limit(1).execute().iloc[0]
    logs.notes.append(
        f"{reused:,} prediction rows reuse the request_id of an earlier prediction (e.g. "
        f"{ex['request_id']!r} at {ex['_file']} line {int(ex['_line']):,}); a label is "
        "joined onto the first prediction of its request_id only, the later ones stay "
        "unlabelled. Give each prediction its own request_id.")
    return reused


def _join_labels(logs: LoadedLogs, config: Config, spec: str) -> None:
    """Join the late-arriving label source (``spec``: ``sources.labels``) onto the current
    log by ``request_id``."""
    con = logs.con
    raw = _read(con, spec, "labels")
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
    cur, windowed = logs.current.table, logs.current.windowed
    logs.own_labels = "label" in cur.columns
    if windowed is not None and not windowed.of.equals(cur):
        windowed = None
    # the windows computed at load come along (one copy of the joined rows, not two)
    base = windowed.table if windowed is not None else cur
    on = base.request_id == latest._lbl_id
    reused = _reused_request_ids(logs, base)
    if reused:  # a label belongs to one prediction: the first with its request id
        base = _nth_of_request_id(base)
        on = (base.request_id == latest._lbl_id) & (base._nth == 0)
    joined = base.left_join(latest, on)
    if reused:
        joined = joined.drop("_nth")
    label = (ibis.coalesce(joined.label, joined._lbl) if "label" in cur.columns
             else joined._lbl)
    joined = joined.mutate(label=label, _label_joined=joined._lbl.notnull())
    joined = joined.drop("_lbl_id", "_lbl")
    table = materialize(joined)
    distinct = int(latest.count().execute())
    matched = int(table._label_joined.sum().execute() or 0)
    logs.current.table = table.drop("_label_joined", *(["window_index"] if windowed else []))
    if windowed is not None:  # window_index last, as the analysed rows have it
        logs.current.windowed = Windowed(
            windowed.spec, table.select(*logs.current.table.columns, "window_index"),
            logs.current.table)
    logs.labels = LabelStats(
        read=labels.rows_read, used=labels.rows_used, quarantined=labels.rows_quarantined,
        duplicates=labels.rows_used - distinct, matched=matched,
        unmatched=int(latest.anti_join(cur, latest._lbl_id == cur.request_id).count().execute()),
    )
    logs.label_quarantine = labels
    if labels.unfinished:
        logs.notes.append(unfinished_note("labels", labels.unfinished))
    if "label" not in logs.roles:
        logs.roles = tuple(r for r in ROLES if r in logs.roles or r == "label")
