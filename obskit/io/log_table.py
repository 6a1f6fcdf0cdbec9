"""One raw source typed for the task and features: the typed table, its quarantine (file,
line, reason) and its row accounting."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis.backends import BaseBackend

from obskit.config import Config
from obskit.io.casting import (
    as_boolean,
    as_label_text,
    as_number,
    as_text,
    never,
    normalise_label,
)
from obskit.io.columns import missing_column_error, role_columns, where_of
from obskit.io.engine import materialize
from obskit.io.paths import SkippedFile
from obskit.io.raw import RawSource
from obskit.io.timestamps import TimestampInfo, as_days, in_period, parse_timestamps
from obskit.schema import REQUIRED_ROLES, is_numeric_type, wrong_type_reason
from obskit.windows import PeriodWindow, anchor_window

__all__ = ["LogTable", "Windowed", "load_log_table", "QUARANTINE_EXAMPLES"]

QUARANTINE_EXAMPLES = 20


class Windowed(NamedTuple):
    """The rows used with the ``window_index`` of a period window, computed in the pass that
    typed them (so the analysed rows need no copy of their own)."""

    #: the window spec, anchored at the first row in the config's period (or its start)
    spec: PeriodWindow
    #: the rows of ``of`` with ``window_index`` as their last column (every row, whatever
    #: the period: the caller filters)
    table: ir.Table
    #: the table of rows used that ``table`` windows (:attr:`LogTable.table` when loaded)
    of: ir.Table


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
    #: unfinished log files (``.part``) the source spec matched but did not read
    unfinished: tuple[SkippedFile, ...] = ()
    #: the rows with their windows (``load_log_table(windows=True)``, period windows only)
    windowed: Windowed | None = None
    #: the classes of ``label`` and ``prediction`` and the table they were read from
    #: (:func:`obskit.io.checks.class_values`)
    classes: tuple[ir.Table, dict[str, list[str]]] | None = field(
        default=None, repr=False, compare=False)

    def quarantine_summary(self, limit: int = QUARANTINE_EXAMPLES) -> dict[str, Any]:
        """Counts by reason and the first examples of this source's quarantine.

        Parameters
        ----------
        limit : int, default QUARANTINE_EXAMPLES
            The most examples returned.

        Returns
        -------
        dict
            ``{"by_reason": {reason: rows}, "examples": [{file, line, reason, detail}, ...]}``
            (reasons most frequent first; at most ``limit`` examples, in file and line order).
        """
        q = self.quarantine
        by_reason = q.group_by("reason").aggregate(rows=q.count()).order_by(
            [ibis.desc("rows"), "reason"])
        examples = q.order_by(["_file", "_line"]).limit(limit).execute()
        return {
            "by_reason": {r.reason: int(r.rows) for r in by_reason.execute().itertuples()},
            "examples": [
                {"file": e["_file"], "line": int(e["_line"]), "reason": e["reason"],
                 "detail": None if pd.isna(e["detail"]) else str(e["detail"])}
                for e in examples.to_dict("records")
            ],
        }


def load_log_table(con: BaseBackend, raw: RawSource, *, config: Config, task: str,
                   features: dict[str, str], required: tuple[str, ...] = REQUIRED_ROLES,
                   hint: str = "", class_scores: Mapping[str, str] | None = None,
                   windows: bool = False) -> LogTable:
    """Type one raw source for the task and features; quarantine what does not fit.

    Parameters
    ----------
    con : ibis backend
        The engine connection.
    raw : RawSource
        The untyped source.
    config : Config
        The validated config (column mapping, positive label, segments).
    task : {"binary", "multiclass", "regression"}
        The task the roles are typed for.
    features : dict of str to str
        Feature name → type; a feature the source lacks becomes a null column.
    required : tuple of str, default REQUIRED_ROLES
        The roles the source must have.
    hint : str, optional
        How to fix a missing required column, appended to the error.
    class_scores : mapping of str to str, optional
        Multiclass class label → its probability column.
    windows : bool, default False
        Also give each row its window (``config.window``, a period window anchored as
        :func:`obskit.profiles.period.analysed_rows` anchors it) in the same pass:
        :attr:`LogTable.windowed`.

    Returns
    -------
    LogTable
        The typed table (rows used), its quarantine (file, line, reason, detail) and the
        row accounting (``rows_read = rows_used + rows_quarantined``).

    Raises
    ------
    InputError
        A required column is missing, or the timestamp column cannot be read.
    """
    t = raw.table
    where = where_of(raw)
    roles = role_columns(config, t)
    for role in required:
        if role not in roles:
            raise missing_column_error(
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
    scores = class_scores or {}
    if task == "binary" and "score" not in roles and positive in scores:
        # a binary model that logs both classes' probabilities: the positive one is the score
        col = t[scores[positive]]
        typed["score"], bad = as_number(col)
        checks.append((bad, "score is not a number", col.cast("string")))
    for name in scores.values() if task == "multiclass" else ():
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
        wrong = wrong_type_reason(name, kind)
        if wrong is None:  # categorical: any value is a category
            typed[name] = as_text(col)
            continue
        cast = {"numeric": as_number, "datetime": as_days, "boolean": as_boolean}[kind]
        typed[name], bad = cast(col)
        checks.append((bad, wrong, col.cast("string")))

    checks = [(c, r, d) for c, r, d in checks if not never(c)]  # native columns: no check
    reason = ibis.cases(*[(c, r) for c, r, _ in checks], else_=ibis.null("string")) \
        if checks else ibis.null("string")
    detail = ibis.cases(*[(c, d.left(200) if d is not None else ibis.null("string"))
                          for c, _, d in checks], else_=ibis.null("string")) \
        if checks else ibis.null("string")
    staged = t.select(**typed, _reason=reason, _detail=detail)
    spec = _window(config, staged) if windows and "timestamp" in typed else None
    # one pass types every column, gives each row its reason (null: the row is used) and
    # its window
    staged = materialize(spec.assign(staged) if spec is not None else staged)
    counts = staged.aggregate(rows=staged.count(), bad=staged._reason.count()).execute()
    rows, bad = int(counts["rows"].iloc[0]), int(counts["bad"].iloc[0])
    # the rows used: the staged table itself when every row passed (no second copy)
    used_rows = (staged.drop("_reason", "_detail") if not bad else
                 materialize(staged.filter(staged._reason.isnull()).drop("_reason", "_detail")))
    clean = used_rows.drop("window_index") if spec is not None else used_rows
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
    rejects = rejects.cast(bad_rows.schema())
    quarantine = materialize(ibis.union(bad_rows, rejects) if bad else rejects)
    used, quarantined = rows - bad, int(quarantine.count().execute())
    if bad:
        staged.release()  # both tables above are computed now
    return LogTable(clean, quarantine, used + quarantined, used, quarantined, raw.files, ts_info,
                    raw.unfinished,
                    Windowed(spec, used_rows, clean) if spec is not None else None)


def _window(config: Config, typed: ir.Table) -> PeriodWindow | None:
    """The config's period window anchored for the typed rows in its period (None: row
    windows), before quarantine: the anchor the rows used get in nearly every log (the
    caller checks that it is, :class:`Windowed`). One engine query without a period start."""
    spec = config.window_spec
    if not isinstance(spec, PeriodWindow):
        return None
    rows = in_period(typed.select("timestamp"), config.period_start, config.period_end)
    anchored = anchor_window(spec, rows, start=config.period_start)
    return anchored if isinstance(anchored, PeriodWindow) else None
