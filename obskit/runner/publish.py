"""Publishing run folders atomically.

A run is written to a hidden temporary folder ``<root>/.tmp-<id>/`` beside its final place
and renamed into place when complete, so a reader never sees half a report and a failed
run never replaces the last good one. ``latest`` points at the good run of the newest period
(:func:`moves_latest`); retention removes the oldest runs; the history page lists them all.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from obskit.results import Run, load
from obskit.runner.cron import parse_iso
from obskit.runner.history import collect_runs, history_html

__all__ = ["OWNER_FILE", "UNOWNED_TMP_GRACE_S", "apply_retention", "check_run_id",
           "clean_stale_tmp", "moves_latest", "new_run_id", "owner", "point_latest",
           "process_alive", "publish", "write_history", "write_json"]

#: the file inside ``.tmp-<id>/`` naming the process that writes it
OWNER_FILE = ".owner.json"
#: a ``.tmp-*`` folder without an owner file is left alone this long (it may be starting)
UNOWNED_TMP_GRACE_S = 3600.0
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:+-]*$")


def check_run_id(run_id: str) -> bool:
    """Whether ``run_id`` is a valid run folder name (letters, digits and ``_.:+-``)."""
    return bool(_RUN_ID.match(run_id))


def new_run_id(root: Path, prefix: str = "") -> str:
    """A run id not used in ``root``: ``<prefix><UTC time>``, with ``-2``, ``-3``... added
    when a run, failed run or temporary folder of that name exists."""
    stamp = prefix + datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    run_id, n = stamp, 1
    while any((root / name).exists() for name in (run_id, f"{run_id}-failed",
                                                   f".tmp-{run_id}")):
        n += 1
        run_id = f"{stamp}-{n}"
    return run_id


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON (no NaN; unknown objects as text)."""
    path.write_text(json.dumps(data, indent=2, allow_nan=False, default=str) + "\n")


def owner() -> dict[str, Any]:
    """This process, as recorded in a temporary folder's :data:`OWNER_FILE`."""
    return {"pid": os.getpid(), "host": socket.gethostname(),
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def process_alive(pid: Any, host: Any = None) -> bool:
    """Whether process ``pid`` runs (on ``host``; another host's process counts as alive,
    since it cannot be checked from here)."""
    if host not in (None, socket.gethostname()):
        return True
    try:
        pid = int(pid)
    except (TypeError, ValueError):
        return False
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_tmp(root: Path) -> list[Path]:
    """Remove the ``.tmp-*`` / ``.old-*`` folders of runs whose process is gone.

    A run killed mid-way leaves only its ``.tmp-<id>`` folder (with the owner's pid in
    ``.owner.json``); the next run removes it. A folder without an owner file is removed
    once it is older than :data:`UNOWNED_TMP_GRACE_S`.

    Returns
    -------
    list[Path]
        The folders removed.
    """
    removed = []
    for child in root.iterdir() if root.is_dir() else ():
        if not child.is_dir() or child.is_symlink():
            continue
        if child.name.startswith(".tmp-"):
            try:
                holder = json.loads((child / OWNER_FILE).read_text())
                stale = not process_alive(holder.get("pid"), holder.get("host"))
            except (OSError, ValueError, AttributeError):
                stale = time.time() - child.stat().st_mtime > UNOWNED_TMP_GRACE_S
        elif m := re.match(r"^\.old-(\d+)-", child.name):
            stale = not process_alive(m.group(1))
        else:
            continue
        if stale:
            shutil.rmtree(child, ignore_errors=True)
            removed.append(child)
    return removed


def publish(tmp: Path, final: Path) -> None:
    """Rename the finished ``tmp`` folder to ``final``, replacing a previous run of the same
    id (a forced rerun)."""
    (tmp / OWNER_FILE).unlink(missing_ok=True)
    if final.exists():
        old = final.parent / f".old-{os.getpid()}-{final.name}"
        os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, final)


def point_latest(root: Path, run_id: str) -> None:
    """Point ``<root>/latest`` at ``run_id`` (atomically)."""
    link, tmp = root / "latest", root / ".latest.tmp"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(run_id, target_is_directory=True)
    os.replace(tmp, link)


def _period(run: Run) -> tuple[datetime | None, datetime | None]:
    """The span ``run``'s windows cover, as UTC times (None: no windows, or unreadable)."""
    period = getattr(run, "period", None)
    bounds = []
    for text in (getattr(period, "start", None), getattr(period, "end", None)):
        try:
            bounds.append(parse_iso(text) if text else None)
        except (TypeError, ValueError):
            bounds.append(None)
    return bounds[0], bounds[1]


def moves_latest(root: Path, run: Run) -> bool:
    """Whether ``latest`` moves to ``run``: when it shows the newest period.

    ``latest`` moves unless it points at a run whose period ends later, or ends at the same
    time and starts earlier (covers more) while ``run`` was asked for a period: a backfill
    of past periods, even of the last day of the report ``latest`` shows, never replaces
    it; a report over the whole log ending as late does. A run with no window never
    replaces one with windows; a rerun of the same period does move ``latest``.
    """
    try:
        current = load(root / "latest" / "summary.json")
    except (OSError, ValueError, TypeError):
        return True
    (start, end), (cur_start, cur_end) = _period(run), _period(current)
    if cur_end is None:
        return True
    if end is None or end != cur_end:
        return end is not None and end > cur_end
    whole_log = getattr(getattr(run, "period", None), "requested_end", None) is None
    return whole_log or cur_start is None or (start is not None and start <= cur_start)


def apply_retention(root: Path, keep: int) -> list[Path]:
    """Remove the oldest run folders of ``root`` beyond ``keep`` (good and failed runs
    alike, oldest by when their ``summary.json`` was written), never ``latest``'s target.

    Returns
    -------
    list[Path]
        The folders removed.
    """
    latest = (root / "latest").resolve() if (root / "latest").is_symlink() else None
    runs = [past.path for past in collect_runs(root) if past.path is not None]
    runs.sort(key=lambda p: ((p / "summary.json").stat().st_mtime, p.name), reverse=True)
    removed = []
    for path in runs[keep:]:
        if latest is not None and path.resolve() == latest:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def write_history(root: Path) -> Path:
    """Write ``<root>/index.html`` (atomically): every run, newest first, with its status
    and key figures (see :mod:`obskit.runner.history`).

    Returns
    -------
    Path
        The page.
    """
    page = root / "index.html"
    tmp = root / f".index.html.{os.getpid()}.tmp"
    tmp.write_text(history_html(collect_runs(root),
                                latest=(root / "latest" / "index.html").is_file()))
    os.replace(tmp, page)
    return page
