"""What the remediation guards remember between runs: ``<out>/remediation_state.json``.

- ``windows``: alert rule → window start → whether the window breached the rule. A window
  is identified by its start, so a window analysed by several runs (a growing log, a rerun)
  counts once, with its latest judgement.
- ``live`` and ``dry_run``: per mode, the last action of each remediation rule (its time
  and the latest window it covered) and the recent actions (for the daily caps). A dry run
  keeps its own record, so it previews exactly what a live run would do (cooldowns and caps
  included) without ever blocking a live action.

Written atomically (a temporary file, then :func:`os.replace`), like
:mod:`obskit.runner.alert_state`; a file that cannot be read is treated as empty.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = ["STATE_FILE", "PREVIEW_STATE_FILE", "RemediationState", "parse_time", "until"]

STATE_FILE = "remediation_state.json"
#: the separate memory of a preview (a backfill): what it judged never mixes with the
#: live runs' windows and actions, and the live state is never written by it
PREVIEW_STATE_FILE = "remediation_state.preview.json"
_VERSION = 1
#: windows kept per alert rule, and actions kept per mode
_KEEP_WINDOWS = 500
_KEEP_ACTIONS = 200


def _mode(dry_run: bool) -> str:
    return "dry_run" if dry_run else "live"


class RemediationState:
    """The guards' memory of a report folder (see the module docstring)."""

    def __init__(self, root: str | Path, data: Mapping[str, Any] | None = None, *,
                 file: str = STATE_FILE) -> None:
        self.root = Path(root)
        self.file = file
        data = data or {}
        self.windows: dict[str, dict[str, bool]] = {
            str(k): {str(s): bool(b) for s, b in v.items()}
            for k, v in (data.get("windows") or {}).items() if isinstance(v, Mapping)}
        self.modes: dict[str, dict[str, Any]] = {}
        for mode in ("live", "dry_run"):
            found = data.get(mode)
            entry: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
            self.modes[mode] = {"last_action": dict(entry.get("last_action") or {}),
                                "actions": list(entry.get("actions") or [])}

    @property
    def path(self) -> Path:
        """``<root>/remediation_state.json`` (a preview's: :data:`PREVIEW_STATE_FILE`)."""
        return self.root / self.file

    @classmethod
    def load(cls, root: str | Path, *, file: str = STATE_FILE) -> RemediationState:
        """The state of ``root`` in ``file`` (empty when it cannot be read)."""
        try:
            data = json.loads((Path(root) / file).read_text())
        except (OSError, ValueError):
            return cls(root, file=file)
        return cls(root, data if isinstance(data, Mapping) else None, file=file)

    def record_windows(self, alert: str, judged: Mapping[str, bool]) -> None:
        """Merge a run's judgement of ``alert`` per window start (latest wins)."""
        known = self.windows.setdefault(alert, {})
        known.update(judged)
        if len(known) > _KEEP_WINDOWS:
            for start in sorted(known)[:-_KEEP_WINDOWS]:
                del known[start]

    def streak(self, alert: str, *, after: str | None = None) -> tuple[int, str | None]:
        """The breaching windows in a row at the end of ``alert``'s judged windows.

        Parameters
        ----------
        alert : str
            The alert rule.
        after : str or None
            Count only windows that start after this one (the last window an action
            covered: each breaching window leads to at most one action).

        Returns
        -------
        tuple of (int, str or None)
            The count, and the start of the latest judged window (None: none).
        """
        starts = sorted(s for s in self.windows.get(alert, {}) if after is None or s > after)
        count = 0
        for start in reversed(starts):
            if not self.windows[alert][start]:
                break
            count += 1
        return count, (starts[-1] if starts else None)

    def last_action(self, rule: str, *, dry_run: bool) -> dict[str, Any] | None:
        """``{"time", "window"}`` of the rule's last action in this mode (None: never)."""
        found = self.modes[_mode(dry_run)]["last_action"].get(rule)
        return dict(found) if isinstance(found, Mapping) else None

    def actions_on(self, day: str, *, dry_run: bool, rule: str | None = None) -> int:
        """Actions on a UTC day (``YYYY-MM-DD``) in this mode, of one rule or of all."""
        return sum(1 for a in self.modes[_mode(dry_run)]["actions"]
                   if str(a.get("time", "")).startswith(day)
                   and (rule is None or a.get("rule") == rule))

    def record_action(self, rule: str, at: datetime, window: str | None, *,
                      dry_run: bool) -> None:
        """Remember an action (acted, or would-be in a dry run) at ``at`` (UTC)."""
        mode = self.modes[_mode(dry_run)]
        when = _iso(at)
        mode["last_action"][rule] = {"time": when, "window": window}
        mode["actions"] = [*mode["actions"], {"time": when, "rule": rule}][-_KEEP_ACTIONS:]

    def to_dict(self) -> dict[str, Any]:
        """The state file's object."""
        return {"version": _VERSION, "windows": self.windows, **self.modes}

    def save(self) -> Path:
        """Write ``<root>/remediation_state.json`` atomically."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".{self.file}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")
        os.replace(tmp, self.path)
        return self.path


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """An ISO-8601 time of the state file (``Z`` for UTC)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def until(last: Mapping[str, Any], cooldown: timedelta) -> datetime:
    """When a cooldown started by the action ``last`` ends."""
    return parse_time(str(last["time"])) + cooldown
