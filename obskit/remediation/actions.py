"""The ``rollback`` and ``webhook`` actions (the ``retrain`` one is in
:mod:`obskit.remediation.retrain`).

Each takes what it acts on and returns the decision's fields (``decision``, ``reason``,
versions); a delivery or registry problem raises, and :func:`obskit.remediation.remediate`
audits it as ``failed``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from obskit.config.sinks import WebhookConfig
from obskit.results import Run, RunRecord

__all__ = ["rollback", "send_remediation_webhook", "webhook_payload"]


def _where(store: Any) -> str:
    """The registry, for messages: the alias file, or the registered model."""
    path = getattr(store, "path", None)
    return f"alias file {str(path)!r}" if path is not None else \
        f"registered model {getattr(store, 'name', '?')!r}"


def rollback(store: Any, alias: str, *, dry_run: bool, reason: str) -> dict[str, Any]:
    """Move ``alias`` back to its previous version (``store.previous``): the most recent
    earlier version that was not rolled back from, so a second rollback never puts back
    the version a first one (or a person) rolled away from.

    Parameters
    ----------
    store : AliasStore
        :func:`obskit.instrument.aliases.open_alias_store` (a JSON alias file, or an
        MLflow registered model and its aliases).
    alias : str
        The serving alias (``champion``).
    dry_run : bool
        Describe the move without making it.
    reason : str
        Recorded with the alias move (the store's history, MLflow's alias tags).

    Returns
    -------
    dict
        ``decision`` (``acted``, ``dry_run`` or ``skipped``), ``reason``, ``from_version``
        and ``to_version``.
    """
    current = store.get(alias)
    if current is None:
        return {"decision": "skipped", "from_version": None, "to_version": None,
                "reason": f"alias {alias!r} points at no version in {_where(store)}"}
    previous = store.previous(alias)
    if previous is None or previous.version == current.version:
        return {"decision": "skipped", "from_version": current.version, "to_version": None,
                "reason": f"no earlier version of {alias} that was not rolled back from "
                          f"(now {current.version})"}
    moved = {"from_version": current.version, "to_version": previous.version}
    if dry_run:
        return {"decision": "dry_run", "reason": f"would move {alias} {current.version} -> "
                                                 f"{previous.version}", **moved}
    store.set_alias(alias, previous.version, reason=reason)
    return {"decision": "acted", "reason": f"moved {alias} {current.version} -> "
                                           f"{previous.version}", **moved}


def webhook_payload(*, run: Run, record: RunRecord, run_dir: str | Path, rule: str,
                    alert: str, reason: str, windows: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of a remediation webhook (Slack-compatible ``text`` first).

    Returns
    -------
    dict
        ``{text, source, kind, rule, alert, reason, windows, title, run_id, run_dir,
        status}``; ``kind`` is ``"remediation"`` so a receiver can tell it from the alert
        webhook of :mod:`obskit.sinks.webhook`.
    """
    title = run.title or "obskit"
    return {
        "text": f"obskit remediation: {title}: alert {alert} breached {reason} "
                f"(latest window {windows.get('latest')}, run {record.run_id})",
        "source": "obskit", "kind": "remediation", "rule": rule, "alert": alert,
        "reason": reason, "windows": windows, "title": run.title, "run_id": record.run_id,
        "run_dir": str(run_dir), "status": run.status,
    }


def send_remediation_webhook(config: WebhookConfig | None, payload: dict[str, Any], *,
                             dry_run: bool) -> dict[str, Any]:
    """POST ``payload`` with the ``sinks.webhook`` settings (URL from ``$url_env``).

    Returns
    -------
    dict
        ``decision`` (``acted``, ``dry_run`` or ``failed``), ``reason`` and ``error``; the
        URL is never included (the target is named ``$URL_ENV``).
    """
    from obskit.sinks.webhook import send_webhook

    if config is None:  # load_config refuses this; a hand-made Config may not
        return {"decision": "failed", "reason": "sinks.webhook is not configured",
                "error": "sinks.webhook is not configured"}
    target = f"${config.url_env}"
    if dry_run:
        return {"decision": "dry_run", "reason": f"would POST to {target}", "error": None}
    sent = send_webhook(config, payload)
    if sent["status"] != "sent":
        return {"decision": "failed", "reason": f"webhook to {target} failed",
                "error": sent["error"]}
    return {"decision": "acted", "error": None,
            "reason": f"posted to {target} (HTTP {sent['http_status']})"}
