"""The deep-dive command of a finding: ``obskit deep-dive`` for a drifted feature,
``obskit investigate`` for a flagged request or an unusual (or unhealthy) window."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from obskit.results import Finding, RunRecord

__all__ = ["attach_commands", "deep_dive_command", "finding_command"]


def _facts(record: RunRecord | Mapping[str, Any] | None) -> tuple[Any, Any]:
    """The config file and run folder of ``record`` (either may be None)."""
    if record is None:
        return None, None
    if isinstance(record, RunRecord):
        return record.config_path, record.run_dir
    return record.get("config_path"), record.get("run_dir")


def deep_dive_command(record: RunRecord | Mapping[str, Any] | None, command: str,
                      *args: Any) -> str:
    """The shell command that opens a deep dive on a run, every part shell-quoted.

    Parameters
    ----------
    record : RunRecord, Mapping or None
        The runner's facts about the run (``config_path``, ``run_dir``; a mapping with
        those keys, e.g. a ``summary.json`` document, works too); None before the run is
        written.
    command : str
        ``deep-dive`` or ``investigate``.
    *args
        The command's own arguments (``--feature``, ``age``).

    Returns
    -------
    str
        It reuses the run's ``summary.json`` when the run folder is known, and says
        ``CONFIG.yml`` when the config file is not.

    Examples
    --------
    >>> deep_dive_command(RunRecord(config_path="/d/config.yml"), "deep-dive",
    ...                   "--feature", "age")
    'obskit deep-dive --config /d/config.yml --feature age'
    """
    config_path, run_dir = _facts(record)
    parts: list[Any] = ["obskit", command, "--config", config_path or "CONFIG.yml", *args]
    if run_dir:
        parts += ["--summary", str(Path(str(run_dir)) / "summary.json")]
    return " ".join(shlex.quote(str(p)) for p in parts)


def finding_command(finding: Finding, record: RunRecord | Mapping[str, Any] | None = None
                    ) -> str | None:
    """The deep-dive command of one finding, None when it has none.

    Parameters
    ----------
    finding : Finding
    record : RunRecord, Mapping or None
        See :func:`deep_dive_command`.

    Returns
    -------
    str or None
        For a drifted feature, the anomaly drivers (their first flagged request), and an
        unusual or unhealthy window (its start: the day alone at midnight).
    """
    kind = finding.kind
    if kind == "feature_drift" and finding.feature:
        return deep_dive_command(record, "deep-dive", "--feature", finding.feature)
    if kind == "anomaly_drivers" and finding.request_id:
        return deep_dive_command(record, "investigate", "--request-id", finding.request_id)
    start = finding.window_start
    if start and (kind == "window_anomaly" or finding.section == "health"):
        return deep_dive_command(record, "investigate", "--window-start",
                                 str(start)[:10] if str(start).endswith("T00:00:00Z")
                                 else start)
    return None


def attach_commands(findings: Iterable[Finding],
                    record: RunRecord | Mapping[str, Any] | None = None
                    ) -> tuple[Finding, ...]:
    """The findings, each that has a deep dive with its exact ``command``
    (:func:`finding_command`); call again once the run's record is known.

    Parameters
    ----------
    findings : iterable of Finding
    record : RunRecord, Mapping or None
        See :func:`deep_dive_command`.

    Returns
    -------
    tuple of Finding
        New findings (the given ones are not changed); one without a deep dive is
        returned as it is. A new ``command`` key goes after the finding's other keys.
    """
    out = []
    for finding in findings:
        command = finding_command(finding, record)
        if command:
            layout = finding.layout
            if layout is not None and "command" not in layout:
                layout = (*layout, "command")
            finding = replace(finding, command=command, layout=layout)
        out.append(finding)
    return tuple(out)
