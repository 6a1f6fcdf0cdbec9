"""The remediation audit log: one JSON line per decision, append-only.

Every run writes one line per remediation rule, whatever the decision:

- ``acted``: the action was taken (alias moved, challenger registered, webhook sent);
- ``dry_run``: the guards passed and the action was described, not taken;
- ``skipped``: a guard held the rule back, or the action had nothing to do (``reason``);
- ``failed``: the action was attempted and failed (``error``); the report is unaffected.

Each line holds ``time``, ``run_id``, ``rule`` (``alert/action``), ``alert``, ``action``,
``decision``, ``reason``, ``dry_run``, ``alias``, ``from_version``, ``to_version``,
``windows`` (``{"breaching", "required", "latest"}``), ``scores`` (retrain gate),
``challenger`` and ``error``. The file is opened for appending, each line written in one
``write`` then flushed and fsynced, so a crash never leaves a line half-written among
others and nothing earlier is ever rewritten.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from obskit._format import json_safe

__all__ = ["AUDIT_FILE", "DECISIONS", "append_audit", "read_audit", "decision_line"]

AUDIT_FILE = "remediation.jsonl"
DECISIONS = ("acted", "dry_run", "skipped", "failed")


def append_audit(path: str | Path, record: Mapping[str, Any]) -> None:
    """Append one decision to the audit log (created with its folder when missing).

    Parameters
    ----------
    path : str or Path
        The JSONL file.
    record : Mapping
        The decision (strict JSON is written: NaN becomes null, odd types text).
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(json_safe(record), sort_keys=False, allow_nan=False) + "\n"
    with open(p, "a", encoding="utf-8") as fh:
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())


def read_audit(path: str | Path) -> list[dict[str, Any]]:
    """The decisions of an audit log, oldest first (empty when there is no file).

    Parameters
    ----------
    path : str or Path
        The JSONL file.

    Returns
    -------
    list of dict
    """
    p = Path(path)
    if not p.is_file():
        return []
    return [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def decision_line(decision: Mapping[str, Any]) -> str:
    """One line for a decision, as the CLI prints it.

    >>> decision_line({"action": "rollback", "alias": "champion", "from_version": "3",
    ...                "to_version": "2", "decision": "dry_run", "rule": "drift/rollback",
    ...                "reason": "3 of 3 consecutive breaching windows"})
    'remediation: rollback champion 3 -> 2 (dry run)'
    >>> decision_line({"action": "rollback", "decision": "skipped", "rule": "drift/rollback",
    ...                "reason": "1 of 3 consecutive breaching windows"})
    'remediation: drift/rollback skipped: 1 of 3 consecutive breaching windows'
    """
    kind, action = decision.get("decision"), decision.get("action")
    if kind == "skipped":
        return f"remediation: {decision.get('rule')} skipped: {decision.get('reason')}"
    if kind == "failed":
        return f"remediation: {decision.get('rule')} failed: {decision.get('error')}"
    note = " (dry run)" if kind == "dry_run" else ""
    if action == "rollback" or (action == "retrain" and decision.get("to_version")):
        moved = f"{decision.get('from_version')} -> {decision.get('to_version')}"
        verb = "rollback" if action == "rollback" else "retrain: promote"
        return f"remediation: {verb} {decision.get('alias')} {moved}{note}"
    if action == "retrain":
        return f"remediation: retrain {decision.get('reason')}{note}"
    return f"remediation: webhook {decision.get('reason')}{note}"
