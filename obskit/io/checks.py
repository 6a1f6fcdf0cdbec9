"""Input a run cannot monitor, found while loading: empty sources and scores that are not
probabilities (the checks on the loaded logs as a whole, sources whose every row was
quarantined and a task without its prediction, live beside
:class:`~obskit.io.logs.LoadedLogs` in :mod:`obskit.io.logs`).

Each check is one small engine query and raises :class:`~obskit.exceptions.InputError`
naming the source key (``sources.current``), the file and the column, with what was
expected; the CLI turns it into exit code 2.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import ibis
import pandas as pd

from obskit._text import plural
from obskit.exceptions import InputError
from obskit.io.casting import is_infinite
from obskit.io.paths import unfinished_text
from obskit.io.raw import RawSource

if TYPE_CHECKING:
    from obskit.io.log_table import LogTable

__all__ = ["EMPTY_FILES_NOTE", "require_rows", "check_scores", "check_binary_classes",
           "class_values", "classes_apart", "empty_files_note", "files_text", "CLASS_VALUES",
           "PREDICTION_TEXT"]


def files_text(files: tuple[str, ...]) -> str:
    """The files of a source for a message that says none of them could be used.

    Parameters
    ----------
    files : tuple of str
        The files read (at least one).

    Returns
    -------
    str
        The one file's path, or ``every one of its N files (a, b, c and M more)``.
    """
    if len(files) == 1:
        return files[0]
    shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
    return f"every one of its {len(files)} files ({shown})"


def require_rows(raw: RawSource, source: str) -> None:
    """Stop on a source without a single row.

    An empty file (a CSV header alone, an empty JSON-lines or Parquet file), or a glob or
    directory whose files are all empty (the message names the unfinished log files it
    skipped, if any). One engine query that stops at the first row.

    Parameters
    ----------
    raw : RawSource
        The source as read.
    source : str
        Its config key (``reference``, ``current`` or ``labels``).

    Raises
    ------
    InputError
        Naming the config key, the files and the unfinished files skipped.
    """
    if int(raw.table.limit(1).count().execute()) or int(raw.rejects.limit(1).count().execute()):
        return
    what = files_text(raw.files)
    verb = "holds" if len(raw.files) == 1 else "hold"
    one = len(raw.unfinished) == 1
    skipped = (f" Besides, {unfinished_text(raw.unfinished)}: wait until "
               f"{'it is' if one else 'they are'} finished, or rename a file whose writer has "
               "stopped without its .part or .broken suffix." if raw.unfinished else "")
    raise InputError(
        f"sources.{source}: {what} {verb} no rows (an empty file, or a header and no data); "
        f"there is nothing to monitor. Point sources.{source} (--{source}) at logs with rows."
        + skipped,
        path=raw.files[0],
    )


def check_scores(log: LogTable, *, source: str, column: str) -> int:
    """Stop on a classification ``score`` that is not a probability.

    A score outside [0, 1] or infinite (logits, margins, percentages) would make log loss,
    Brier, ECE and confident mistakes meaningless. One engine query.

    Parameters
    ----------
    log : LogTable
        The typed source, with ``score``.
    source : str
        Its config key (``reference`` or ``current``).
    column : str
        The score's column name in the logs.

    Returns
    -------
    int
        The rows without a score (null or NaN).

    Raises
    ------
    InputError
        Naming the column and the range found.
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


def check_binary_classes(log: LogTable, *, source: str, role: str, column: str) -> list[str]:
    """Stop when a binary task's labels or predictions hold more than two classes.

    A third class (``"inf"``, ``"2"``, ``"0.5"``, a typo) would be scored as a wrong
    answer: accuracy, ROC AUC and the alerts on them would be quietly wrong. A missing
    label (null, blank, NaN) is no class. One engine query (the distinct values, at most
    a dozen fetched).

    Parameters
    ----------
    log : LogTable
        The typed source, with ``role`` (canonical label text).
    source : str
        Its config key (``reference``, ``current`` or ``labels``).
    role : {"label", "prediction"}
    column : str
        The role's column name in the logs.

    Returns
    -------
    list of str
        The classes found (at most two), sorted.

    Raises
    ------
    InputError
        Naming the column and the classes found.
    """
    found = class_values(log)[role]
    if len(found) <= 2:
        return found
    shown = ", ".join(repr(x) for x in found[:11]) + (", ..." if len(found) > 11 else "")
    raise InputError(
        f"sources.{source}: column {column!r} (role {role}) of a binary task holds "
        f"{'more than 11' if len(found) > 11 else len(found)} classes: {shown}; a binary "
        "task has two. Fix the values that are no class, map the right column "
        f"(--column {role}=NAME), or set 'task: multiclass'.",
        path=log.files[0] if log.files else None, column=column,
    )


#: the most distinct classes fetched per column by :func:`class_values`
CLASS_VALUES = 21


def class_values(log: LogTable) -> dict[str, list[str]]:
    """The distinct classes (at most ``CLASS_VALUES``, sorted) of the ``label`` and
    ``prediction`` columns of a typed source, from one engine query, kept with the log
    while its table is the same (the positive-class check and the binary-class check
    both read them).

    Parameters
    ----------
    log : LogTable
        The typed source.

    Returns
    -------
    dict of str to list of str
        Role → its classes (nulls are no class), for the roles the table has.
    """
    table = log.table
    if log.classes is not None and log.classes[0] is table:
        return log.classes[1]
    roles = [r for r in ("label", "prediction") if r in table.columns]
    parts = [table.select(r=ibis.literal(r), v=table[r].cast("string"))
             .filter(lambda t: t.v.notnull()).distinct().limit(CLASS_VALUES) for r in roles]
    got = (ibis.union(*parts) if len(parts) > 1 else parts[0]).execute() if parts else None
    found = {r: sorted(str(v) for v in got.v[got.r == r]) if got is not None else []
             for r in roles}
    log.classes = (table, found)
    return found


PREDICTION_TEXT = {"binary": "prediction or score", "multiclass": "prediction",
                    "regression": "prediction"}


#: the words of a note on files without rows (a finding repeats such a note as a warning)
EMPTY_FILES_NOTE = "(an empty file, or a header and no data): a logger that stopped"


def empty_files_note(raw: RawSource, source: str) -> str | None:
    """The note on the files of a source that hold no rows while others do.

    An empty file, or a header alone, among files with rows: a logger that died. Never an
    error (the other files are read), never silent. Two small queries, with several files
    only.

    Parameters
    ----------
    raw : RawSource
        The source as read.
    source : str
        Its config key (``current``, ``reference``).

    Returns
    -------
    str or None
        The note naming the files (with :data:`EMPTY_FILES_NOTE`), or None.
    """
    if len(raw.files) < 2:
        return None
    seen = set(raw.table.select("_file").distinct().execute()["_file"])
    seen |= set(raw.rejects.select("_file").distinct().execute()["_file"])
    empty = [f for f in raw.files if f not in seen]
    if not empty:
        return None
    shown = ", ".join(empty[:5]) + (f" and {len(empty) - 5} more" if len(empty) > 5 else "")
    verb = "holds" if len(empty) == 1 else "hold"
    return (f"sources.{source}: {shown} {verb} no rows {EMPTY_FILES_NOTE}, or a file cut "
            "short? The windows it should cover have none of its rows.")


def classes_apart(column: Callable[[str], str],
                  classes: dict[tuple[str, str], tuple[set[str], tuple[str, ...]]]
                  ) -> InputError:
    """The error of a binary task whose labels and predictions name different classes.

    Parameters
    ----------
    column : callable
        Role → its column name (``Config.column``).
    classes : dict
        ``(role, source)`` → (the classes found, the files of that source).

    Returns
    -------
    InputError
        Naming the files that hold the label classes the predictions do not have (else the
        prediction classes the labels do not have), and every source's classes.
    """
    def held(role: str) -> set[str]:
        return set().union(*(v for (r, _), (v, _) in classes.items() if r == role))

    found = "; ".join(
        f"column {column(r)!r} (role {r}) holds "
        + ", ".join(repr(c) for c in sorted(v)) + f" in sources.{name}"
        for (r, name), (v, _) in classes.items())
    odd = [files for (r, _), (v, files) in classes.items()
           if r == "label" and not v <= held("prediction")]
    odd = odd or [files for (r, _), (v, files) in classes.items() if not v <= held("label")]
    files = tuple(dict.fromkeys(f for group in odd for f in group)) or next(
        files for _, files in classes.values())
    return InputError(
        f"{files_text(files)}: the labels and predictions of a binary task must name the "
        f"same two classes: {found}. Log both in the same classes, or map the right columns "
        "(--column label=NAME, --column prediction=NAME).",
        path=files[0] if files else None, column=column("label"))
