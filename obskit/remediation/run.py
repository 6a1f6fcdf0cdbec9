"""One remediation pass after a published report run: guards, action, audit, state."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from obskit._secrets import redact_text
from obskit.config import Config
from obskit.config.remediation import RemediationConfig, RemediationRule
from obskit.remediation.actions import rollback, send_remediation_webhook, webhook_payload
from obskit.remediation.audit import AUDIT_FILE, append_audit, decision_line
from obskit.remediation.guards import Verdict, judged_windows, verdict
from obskit.remediation.promote import retrain
from obskit.remediation.state import PREVIEW_STATE_FILE, STATE_FILE, RemediationState
from obskit.results import Run, RunRecord

__all__ = ["remediate", "audit_path", "CANDIDATES_DIR"]

log = logging.getLogger("obskit.remediation")

#: where candidates returned as model objects are saved (under the report folder)
CANDIDATES_DIR = "remediation-candidates"
def audit_path(config: RemediationConfig, root: str | Path) -> Path:
    """The audit log: ``remediation.audit_log``, else ``<root>/remediation.jsonl``."""
    return Path(config.audit_log) if config.audit_log else Path(root) / AUDIT_FILE


class _Store:
    """The alias store, opened on first use (a run whose rules all wait opens nothing)."""

    def __init__(self, config: RemediationConfig) -> None:
        self.config = config
        self.store: Any = None

    def get(self) -> Any:
        if self.store is None:
            from obskit.instrument.aliases import open_alias_store

            target = self.config.registry_target
            if target is None:
                raise ValueError("remediation.registry is not configured")
            self.store = open_alias_store(target, model_name=self.config.model_name)
        return self.store


def _act(rule: RemediationRule, v: Verdict, *, config: Config, store: _Store, run: Run,
         record: RunRecord, root: Path, run_dir: Path, dry_run: bool) -> dict[str, Any]:
    rc = config.remediation
    assert rc is not None
    run_id = str(record.run_id)
    if rule.action == "rollback":
        return rollback(store.get(), rc.alias, dry_run=dry_run,
                        reason=f"obskit remediation {rule.key}, run {run_id}: {v.reason}")
    if rule.action == "retrain":
        return retrain(rule, store=store.get(), alias=rc.alias, config=config, run=run,
                       run_dir=run_dir, run_id=run_id, work_dir=root / CANDIDATES_DIR,
                       dry_run=dry_run)
    payload = webhook_payload(run=run, record=record, run_dir=run_dir, rule=rule.key,
                              alert=rule.alert, reason=v.reason,
                              windows={"breaching": v.breaching, "required": v.required,
                                       "latest": v.latest})
    return send_remediation_webhook(config.sinks.webhook, payload, dry_run=dry_run)


def _iso(now: datetime) -> str:
    return now.isoformat(timespec="seconds").replace("+00:00", "Z")


def remediate(config: Config, run: Run, record: RunRecord, *, root: str | Path,
              run_dir: str | Path, dry_run: bool = False, dry_run_reason: str | None = None,
              now: datetime | None = None) -> list[dict[str, Any]]:
    """Apply the ``remediation`` rules after a published run; audit every decision.

    Parameters
    ----------
    config : Config
        The run's config (its ``remediation`` section; None: nothing to do).
    run : Run
        The published run (its windows, alerts and insufficient data).
    record : RunRecord
        The runner's facts (``run_id``).
    root : str or Path
        The report folder (``remediation_state.json``, the default audit log).
    run_dir : str or Path
        The published run folder.
    dry_run : bool
        Force a dry run (``--dry-run`` / ``dry_run: true``) whatever
        ``remediation.dry_run`` says.
    dry_run_reason : str, optional
        Force a dry run for this reason (``obskit backfill``: a past period must never move
        production's alias); each decision's reason ends with ``dry run: <reason>``, and
        the guards use the preview's own memory (``remediation_state.preview.json``): the
        live runs' windows and actions are neither counted nor changed.
    now : datetime, optional
        The decision time (UTC; default now): cooldowns and daily caps count from it.

    Returns
    -------
    list of dict
        One decision per rule, as written to the audit log (see
        :mod:`obskit.remediation.audit`), each with its printable ``line``. Never raises
        for a failed action: it is a ``failed`` decision with its ``error``.
    """
    rc = config.remediation
    if rc is None:
        return []
    root, run_dir = Path(root), Path(run_dir)
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    dry = bool(dry_run or rc.dry_run or dry_run_reason)
    # a preview (backfill) judges its own windows: the live memory is neither read nor
    # written, so a past period is never counted with later live windows
    state = RemediationState.load(root, file=PREVIEW_STATE_FILE if dry_run_reason
                                  else STATE_FILE)
    for alert in dict.fromkeys(r.alert for r in rc.rules):
        state.record_windows(alert, judged_windows(run, alert))
    store = _Store(rc)
    decisions = []
    for rule in rc.rules:
        v = verdict(rule, rc, state, now=now, dry_run=dry)
        entry: dict[str, Any] = {
            "time": _iso(now), "run_id": record.run_id, "rule": rule.key, "alert": rule.alert,
            "action": rule.action, "decision": "skipped", "reason": v.reason, "dry_run": dry,
            "alias": rc.alias, "from_version": None, "to_version": None,
            "windows": {"breaching": v.breaching, "required": v.required,
                        "latest": v.latest},
            "scores": None, "error": None}
        if v.go:
            try:
                done = _act(rule, v, config=config, store=store, run=run, record=record,
                            root=root, run_dir=run_dir, dry_run=dry)
            except Exception as exc:  # an action never fails the report
                done = {"decision": "failed", "reason": f"{rule.action} failed",
                        "error": redact_text(f"{type(exc).__name__}: {exc}")}
            entry.update(done)
            entry["reason"] = f"{v.reason}; {entry['reason']}"
            if entry["decision"] == "acted" and entry.get("promoted") is False:
                entry["reason"] += (f"; counts as an action (cooldown until "
                                    f"{_iso(now + rule.cooldown)})")
            if entry["decision"] in ("acted", "dry_run"):
                state.record_action(rule.key, now, v.latest,
                                    dry_run=entry["decision"] == "dry_run")
        if dry_run_reason:
            entry["reason"] = f"{entry['reason']}; dry run: {dry_run_reason}"
        entry["line"] = decision_line(entry)
        append_audit(audit_path(rc, root), {k: v for k, v in entry.items() if k != "line"})
        # info, also for a failure: the command line prints each decision's line itself,
        # and a warning would reach stderr a second time through logging's last resort
        log.info("%s", entry["line"])
        decisions.append(entry)
    state.save()
    return decisions
