"""``<root>/.lock``: one run at a time in a report folder (scheduled jobs and backfills
take it; a stale lock is taken over)."""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from obskit.config.schedule import DEFAULT_LOCK_MAX_AGE_S
from obskit.runner.cron import iso
from obskit.runner.publish import process_alive

__all__ = ["LOCK_FILE", "RunLock"]

log = logging.getLogger(__name__)

LOCK_FILE = ".lock"
#: a lock file without readable content is left alone this long (it may be being written)
_UNREADABLE_LOCK_GRACE_S = 10.0


class RunLock:
    """``<root>/.lock``: one run at a time in a report folder.

    The file holds ``{"pid", "host", "started", "started_ts", "label"}``. It is stale when
    its process is gone (checked on the same host only), when it is older than
    ``max_age_s``, or when it stays unreadable; a stale lock is taken over.
    """

    def __init__(self, root: str | Path, *, max_age_s: float = DEFAULT_LOCK_MAX_AGE_S,
                 label: str | None = None) -> None:
        self.root = Path(root)
        self.path = self.root / LOCK_FILE
        self.max_age_s = max_age_s
        self.label = label
        self.held = False

    def holder(self) -> dict[str, Any] | None:
        """The lock's content (None: no lock, or unreadable)."""
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def is_stale(self, holder: dict[str, Any] | None) -> bool:
        """Whether a lock with this content may be taken over (see the class docs)."""
        if holder is None:
            try:
                return time.time() - self.path.stat().st_mtime > _UNREADABLE_LOCK_GRACE_S
            except OSError:
                return True
        started = holder.get("started_ts")
        if not isinstance(started, (int, float)) or time.time() - started > self.max_age_s:
            return True
        return not process_alive(holder.get("pid"), holder.get("host"))

    def acquire(self) -> bool:
        """Take the lock; False when a live run holds it."""
        self.root.mkdir(parents=True, exist_ok=True)
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self.holder()
                if not self.is_stale(holder):
                    return False
                log.warning("taking over the stale lock %s (held by %s)", self.path,
                            holder or "an unreadable lock")
                self._break(holder)
                continue
            now = time.time()
            with os.fdopen(fd, "w") as f:
                json.dump({"pid": os.getpid(), "host": socket.gethostname(),
                           "started": iso(datetime.fromtimestamp(now, timezone.utc)),
                           "started_ts": now, "label": self.label}, f)
            self.held = True
            return True
        return False

    def _break(self, judged: dict[str, Any] | None) -> None:
        # Move the stale lock aside, unless another process replaced it meanwhile.
        aside = self.path.with_name(f"{LOCK_FILE}.stale-{os.getpid()}")
        try:
            if self.holder() != judged:
                return
            os.replace(self.path, aside)
            aside.unlink(missing_ok=True)
        except FileNotFoundError:
            pass

    def release(self) -> None:
        """Remove the lock file, when this process holds it."""
        if not self.held:
            return
        holder = self.holder()
        if holder is None or holder.get("pid") == os.getpid():
            self.path.unlink(missing_ok=True)
        self.held = False

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()
