"""Guarded self-healing: act on persistent alerts with a rollback, a retrain or a webhook.

After each published report run (:func:`obskit.runner.run_report`, so also scheduled and
backfilled runs), :func:`remediate` applies the config's ``remediation:`` rules
(:mod:`obskit.config.remediation`):

- :mod:`obskit.remediation.guards`: consecutive breaching windows, cooldown, daily caps;
- :mod:`obskit.remediation.actions`: ``rollback`` (move the serving alias of an
  :class:`~obskit.instrument.aliases.AliasStore` back) and ``webhook``;
- :mod:`obskit.remediation.retrain`, :mod:`obskit.remediation.promote`: ``retrain``
  (a challenger from the user's entry point, promoted only past the gate);
- :mod:`obskit.remediation.audit`: the append-only JSONL audit log of every decision;
- :mod:`obskit.remediation.state`: what the guards remember between runs.

Dry run is the default: decisions are audited and printed, nothing changes. Actions read
the typed run (:class:`obskit.results.Run`); they never recompute the analysis.
"""

from obskit.remediation.audit import AUDIT_FILE, append_audit, decision_line, read_audit
from obskit.remediation.retrain import CHALLENGER, RetrainContext
from obskit.remediation.run import audit_path, remediate
from obskit.remediation.state import PREVIEW_STATE_FILE, STATE_FILE, RemediationState

__all__ = ["remediate", "audit_path", "append_audit", "read_audit", "decision_line",
           "RemediationState", "RetrainContext", "AUDIT_FILE", "STATE_FILE",
           "PREVIEW_STATE_FILE", "CHALLENGER"]
