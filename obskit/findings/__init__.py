"""Findings in words, most severe first, each with its evidence and a next step.

Built from a typed :class:`~obskit.results.Run` alone (a run read back from its
``summary.json`` with :func:`obskit.results.load` too), so a run can always be
re-explained. Texts are plain strings; the renderer escapes them.

Modules, one kind of finding each: :mod:`~obskit.findings.fired` (alert rules on health,
performance and drift share), :mod:`~obskit.findings.drift` (features, missing features,
multivariate), :mod:`~obskit.findings.performance` (realized vs estimated),
:mod:`~obskit.findings.anomalies`, :mod:`~obskit.findings.quality` (data quality),
:mod:`~obskit.findings.data` (quarantine, labels, scores), :mod:`~obskit.findings.probes`
(failed health probes); the deep-dive commands in
:mod:`~obskit.findings.commands`, the wording in :mod:`~obskit.findings.wording`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from obskit.findings.anomalies import anomaly_findings
from obskit.findings.commands import attach_commands, deep_dive_command, finding_command
from obskit.findings.data import data_findings
from obskit.findings.drift import bound_crossed, feature_drift_findings, multivariate_findings
from obskit.findings.fired import rule_findings, verdict_findings
from obskit.findings.performance import estimate_findings
from obskit.findings.probes import probe_findings
from obskit.findings.quality import data_quality_findings
from obskit.findings.traces import trace_findings
from obskit.results import Finding, Run, RunRecord
from obskit.severity import severity_rank

__all__ = ["attach_commands", "bound_crossed", "build_findings", "deep_dive_command",
           "finding_command"]


def build_findings(run: Run, *, record: RunRecord | Mapping[str, Any] | None = None
                   ) -> tuple[Finding, ...]:
    """All findings of a run, most severe first.

    Parameters
    ----------
    run : Run
        The run (nothing else is read).
    record : RunRecord, Mapping or None, optional
        The runner's facts, for the deep-dive commands (default: none yet, the commands
        say ``CONFIG.yml``).

    Returns
    -------
    tuple of Finding
        In order: fired rules, feature drift, multivariate drift, estimate gaps,
        anomalies, data quality, the data's coverage, health probes, traces, then ``ok``
        when no rule fired (``nothing_judged``, a warning, when no window had enough rows
        to be judged); sorted (stably) by severity, critical first. Those with a deep dive carry its
        ``command``.
    """
    findings = (rule_findings(run) + feature_drift_findings(run)
                + multivariate_findings(run) + estimate_findings(run)
                + anomaly_findings(run) + data_quality_findings(run) + data_findings(run)
                + probe_findings(run) + trace_findings(run) + verdict_findings(run))
    findings.sort(key=lambda f: severity_rank(f.severity))
    return attach_commands(findings, record)
