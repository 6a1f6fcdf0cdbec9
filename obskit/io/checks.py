"""Input a run cannot monitor, found while loading: empty sources, sources whose every row
was quarantined, scores that are not probabilities, a task without its prediction.

Each check is one small engine query and raises :class:`~obskit.exceptions.InputError`
naming the source key (``sources.current``), the file and the column, with what was
expected; the CLI turns it into exit code 2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from obskit._text import plural
from obskit.config import Config
from obskit.exceptions import InputError
from obskit.io.casting import is_infinite
from obskit.io.raw import RawSource
from obskit.schema import measures_performance, visible_columns

if TYPE_CHECKING:
    from obskit.io.log_table import LogTable
    from obskit.io.logs import LoadedLogs

__all__ = ["require_rows", "require_used_rows", "check_scores", "check_predictions",
           "PREDICTION_TEXT"]


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
    infinite = ~missing & is_infinite(s)
    finite = ~missing & ~infinite
    got = log.table.aggregate(
        missing=missing.sum(), infinite=infinite.sum(),
        lo=s.min(where=finite), hi=s.max(where=finite),
        outside=(finite & ((s < 0) | (s > 1))).sum(),
    ).execute().iloc[0]
    outside, infinite = int(got.outside or 0), int(got.infinite or 0)
    if outside or infinite:
        found = (f"values from {float(got.lo):.6g} to {float(got.hi):.6g}"
                 if pd.notna(got.lo) else "no finite values")
        inf = f" and {plural(infinite, 'infinite value')}" if infinite else ""
        raise InputError(
            f"sources.{source}: column {column!r} (role score) holds {found}{inf}; "
            f"{outside + infinite:,} of {log.rows_used:,} rows lie outside [0, 1]. The score "
            "must be the probability of the positive class. If it holds logits or margins, "
            "apply a sigmoid (1 / (1 + exp(-x))) when logging; if it is not a probability, "
            "map the score role to the probability column (--column score=NAME, "
            "'columns.score' in the config); a column named 'score' is then left out.",
            path=log.files[0] if log.files else None, column=column,
        )
    return int(got.missing or 0)


PREDICTION_TEXT = {"binary": "prediction or score", "multiclass": "prediction",
                    "regression": "prediction"}


def check_predictions(config: Config, logs: LoadedLogs) -> None:
    """A task set explicitly in the config needs the prediction it is about: stop naming
    the missing role when the logs have labels and nothing to compare them with (with the
    task inferred, the run goes on without performance and says why)."""
    task, present = logs.task, tuple(logs.roles)
    if (config.task is None or "label" not in present
            or measures_performance(task, present, class_scores=bool(logs.class_scores))):
        return
    where = _files_text(logs.current.files)
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
