"""Run a rule's ``action`` (an argv list, never a shell) when its alert starts firing.

The command gets the alert in its environment (``OBSKIT_RULE``, ``OBSKIT_METRIC``,
``OBSKIT_VALUE``, ``OBSKIT_THRESHOLD``, ``OBSKIT_WINDOW_START``, ``OBSKIT_WINDOW_END``,
``OBSKIT_SEGMENT``, ``OBSKIT_SEVERITY``, ``OBSKIT_RUN_DIR``) on top of obskit's own. Its
exit code, duration and (truncated) output are recorded; a timeout or a missing program is
recorded too, never raised.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterable, Mapping
from typing import Any

from obskit.profiles.segments import segment_key
from obskit.results import Run

__all__ = ["run_action", "run_actions", "action_env", "MAX_OUTPUT_CHARS",
           "DEFAULT_TIMEOUT_S"]

#: stdout / stderr kept per action (characters)
MAX_OUTPUT_CHARS = 4000
DEFAULT_TIMEOUT_S = 60.0


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Mapping):
        return segment_key(value)
    return str(value)


def _truncate(data: bytes | str | None) -> str:
    if data is None:
        return ""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    if len(text) <= MAX_OUTPUT_CHARS:
        return text
    return text[:MAX_OUTPUT_CHARS] + f"\n…[truncated {len(text) - MAX_OUTPUT_CHARS} chars]"


def action_env(alert: Mapping[str, Any], *, run_dir: Any = None) -> dict[str, str]:
    """The ``OBSKIT_*`` variables describing ``alert`` (segment as ``col=value,...``)."""
    return {
        "OBSKIT_RULE": _text(alert.get("rule")),
        "OBSKIT_METRIC": _text(alert.get("metric")),
        "OBSKIT_VALUE": _text(alert.get("value")),
        "OBSKIT_THRESHOLD": _text(alert.get("threshold")),
        "OBSKIT_WINDOW_START": _text(alert.get("window_start")),
        "OBSKIT_WINDOW_END": _text(alert.get("window_end")),
        "OBSKIT_SEGMENT": _text(alert.get("segment")),
        "OBSKIT_SEVERITY": _text(alert.get("severity")),
        "OBSKIT_RUN_DIR": _text(run_dir),
    }


def run_action(alert: Mapping[str, Any], *, timeout_s: float = DEFAULT_TIMEOUT_S,
               run_dir: Any = None, dry_run: bool = False) -> dict[str, Any]:
    """Run ``alert["action"]`` and return what happened.

    ``status`` is ``ok`` (exit 0), ``failed`` (another exit code), ``timeout`` (killed
    after ``timeout_s``), ``error`` (the program could not be started) or ``dry_run``
    (recorded, not run).
    """
    argv = [str(a) for a in alert.get("action") or []]
    result: dict[str, Any] = {
        "sink": "action", "rule": alert.get("rule"), "metric": alert.get("metric"),
        "segment": alert.get("segment"), "argv": argv, "timeout_s": timeout_s,
        "status": None, "exit_code": None, "duration_s": None, "stdout": "", "stderr": "",
    }
    if dry_run:
        return {**result, "status": "dry_run", "env": action_env(alert, run_dir=run_dir)}
    env = {**os.environ, **action_env(alert, run_dir=run_dir)}
    start = time.monotonic()
    try:
        done = subprocess.run(argv, shell=False, timeout=timeout_s, capture_output=True,
                              env=env, stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired as exc:
        result.update(status="timeout", stdout=_truncate(exc.stdout),
                      stderr=_truncate(exc.stderr),
                      error=f"action timed out after {timeout_s:g} s (action_timeout_s)")
    except OSError as exc:  # program missing, not executable, ...
        result.update(status="error", error=f"cannot run {argv[0]!r}: {exc.strerror or exc}")
    else:
        result.update(status="ok" if done.returncode == 0 else "failed",
                      exit_code=done.returncode, stdout=_truncate(done.stdout),
                      stderr=_truncate(done.stderr))
    result["duration_s"] = round(time.monotonic() - start, 3)
    return result


def _timeouts(run: Run | None) -> dict[str, float]:
    rules = run.alert_rules if run is not None else ()
    return {str(r.name): float(r.action_timeout_s) for r in rules
            if r.action_timeout_s is not None}


def run_actions(alerts: Iterable[Mapping[str, Any]], *, run: Run | None = None,
                run_dir: Any = None, dry_run: bool = False) -> list[dict[str, Any]]:
    """Run the action of each alert that has one, in order.

    Parameters
    ----------
    alerts : iterable of Mapping
        Alert dicts (newly firing events), each with its ``action`` (argv) or none.
    run : Run, optional
        The run: its ``alert_rules`` give each rule's ``action_timeout_s``.
    run_dir : str, Path or None
        ``OBSKIT_RUN_DIR`` of the commands.
    dry_run : bool
        Record the commands, run none.

    Returns
    -------
    list of dict
        One :func:`run_action` result per alert with an action. The time limit (seconds)
        is the alert's ``action_timeout_s``, else its rule's, else
        :data:`DEFAULT_TIMEOUT_S`.
    """
    timeouts = _timeouts(run)
    results = []
    for alert in alerts:
        if not alert.get("action"):
            continue
        timeout = alert.get("action_timeout_s") or timeouts.get(str(alert.get("rule")),
                                                               DEFAULT_TIMEOUT_S)
        results.append(run_action(alert, timeout_s=float(timeout), run_dir=run_dir,
                                  dry_run=dry_run))
    return results
