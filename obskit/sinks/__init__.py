"""Where alerts and metrics go after a run: a webhook, Prometheus, MLflow, rule actions.

:func:`dispatch` is called once per run with the typed run (:class:`obskit.results.Run`),
the runner's record of it and the alert events
(``firing`` / ``resolved`` / ``ongoing``, see :mod:`obskit.runner.alert_state`):

- ``webhook``: a JSON POST of the firing and resolved events (skipped when there are none);
- ``prometheus``: metrics of the latest window, to a textfile and/or a Pushgateway;
- ``otlp``: the same metrics as OTLP/HTTP gauges (Datadog, New Relic, a Collector);
- ``mlflow``: every run as an MLflow run, alerts or not (:mod:`obskit.sinks.mlflow`);
- actions: the ``action`` of each newly firing alert's rule (always, sinks or not).

A sink that fails is recorded in the results, never raised: delivery problems must not
fail a report. Configuration mistakes raise :class:`~obskit.exceptions.ConfigError`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from obskit.config.sinks import (
    MlflowConfig,
    OtlpConfig,
    PrometheusConfig,
    SinksConfig,
    WebhookConfig,
    load_sinks,
)
from obskit.results import Run, RunRecord

__all__ = ["dispatch", "load_sinks", "SinksConfig", "WebhookConfig", "PrometheusConfig",
           "MlflowConfig"]

log = logging.getLogger("obskit.sinks")


def _events(events: Any) -> dict[str, list[dict[str, Any]]]:
    if events is None:
        return {"firing": [], "resolved": [], "ongoing": []}
    if not isinstance(events, Mapping) and hasattr(events, "to_dict"):
        events = events.to_dict()
    return {k: [dict(a) for a in events.get(k) or []] for k in ("firing", "resolved", "ongoing")}


def _webhook(config: WebhookConfig, run: Run | None, record: RunRecord | None,
             events: dict[str, Any], run_dir: Any, dry_run: bool) -> dict[str, Any]:
    from obskit.sinks.webhook import build_payload, send_webhook

    count = len(events["firing"]) + len(events["resolved"])
    base = {"sink": "webhook", "target": f"${config.url_env}", "events": count}
    if count == 0:
        return {**base, "status": "skipped", "reason": "nothing to announce"}
    payload = build_payload(run, events, run_dir, record=record)
    if dry_run:
        return {**base, "status": "dry_run", "text": payload["text"]}
    return {**send_webhook(config, payload), "events": count}


def _push_error(exc: BaseException) -> str:
    from urllib.error import HTTPError, URLError

    if isinstance(exc, HTTPError):
        return f"push failed: HTTP {exc.code}"
    if isinstance(exc, URLError):
        reason = exc.reason
        detail = getattr(reason, "strerror", None) or type(reason).__name__
        return f"push failed: {detail}"
    if str(exc).startswith("error talking to pushgateway"):  # prometheus_client's own
        return f"push failed: {exc}"
    return f"push failed: {type(exc).__name__}"


def _prometheus(config: PrometheusConfig, run: Run | None, events: dict[str, Any],
                dry_run: bool) -> list[dict[str, Any]]:
    from obskit.sinks.prometheus import (
        build_registry,
        push_gateway,
        redact_url,
        write_textfile,
    )

    registry = build_registry(run, active=events["firing"] + events["ongoing"],
                              resolved=events["resolved"])
    results = []
    if config.textfile:
        base = {"sink": "prometheus.textfile", "target": config.textfile}
        if dry_run:
            results.append({**base, "status": "dry_run"})
        else:
            try:
                results.append(write_textfile(config.textfile, registry))
            except OSError as exc:
                results.append({**base, "status": "failed",
                                "error": f"cannot write {config.textfile}: {exc.strerror}"})
    if config.pushgateway:
        base = {"sink": "prometheus.pushgateway", "target": redact_url(config.pushgateway),
                "job": config.job}
        if dry_run:
            results.append({**base, "status": "dry_run"})
        else:
            try:
                results.append(push_gateway(config.pushgateway, config.job, registry))
            except (OSError, ValueError) as exc:  # never the raw URL: it may hold a password
                results.append({**base, "status": "failed", "error": _push_error(exc)})
    return results


def _otlp(config: OtlpConfig, run: Run | None, events: dict[str, Any],
          dry_run: bool) -> dict[str, Any]:
    from obskit.sinks.otlp import push_families
    from obskit.sinks.prometheus import metric_families

    return push_families(metric_families(run, active=events["firing"] + events["ongoing"],
                                         resolved=events["resolved"]), config, dry_run=dry_run)


def _mlflow(config: MlflowConfig, run: Run | None, record: RunRecord | None,
            events: dict[str, Any], run_dir: Any, dry_run: bool) -> dict[str, Any]:
    from obskit.sinks import mlflow as mlflow_sink

    if run is None:
        return {"sink": "mlflow", "status": "skipped", "reason": "no run to log"}
    if dry_run:
        return mlflow_sink.plan(config, run, record, events, run_dir)
    return mlflow_sink.log_run(config, run, record, events, run_dir)


def dispatch(sinks_config: Any, *, run: Run | None, events: Any,
             run_dir: str | Path | None, record: RunRecord | None = None,
             dry_run: bool = False, base_dir: str | Path | None = None
             ) -> list[dict[str, Any]]:
    """Send a run's results to every configured sink and run the actions of new alerts.

    Parameters
    ----------
    sinks_config : SinksConfig, Mapping or None
        ``Config.sinks``, a raw ``sinks:`` mapping, or None (no sinks: actions only).
    run : Run or None
        The run (a ``summary.json`` file: :func:`obskit.results.load`).
    events : Mapping or AlertEvents or None
        ``{"firing": [...], "resolved": [...], "ongoing": [...]}`` (alert dicts), or
        :class:`~obskit.runner.alert_state.AlertEvents`.
    run_dir : str, Path or None
        The run folder (in the webhook payload and ``OBSKIT_RUN_DIR``).
    record : RunRecord, optional
        The runner's facts (the webhook payload's ``run_id``;
        :func:`obskit.results.load_record`).
    dry_run : bool
        Record what would be sent or run, without sending or running anything.
    base_dir : str, Path or None
        The folder a relative ``prometheus.textfile`` is resolved against.

    Returns
    -------
    list of dict
        One result per sink target and per action, JSON-serialisable, each with ``sink``
        and ``status`` (for ``alerts.json``). No result holds the webhook URL.

    Raises
    ------
    ConfigError
        The sinks section is malformed (nothing is sent).
    """
    from obskit.sinks.actions import run_actions

    config = load_sinks(sinks_config, base_dir=base_dir)
    events = _events(events)
    results: list[dict[str, Any]] = []
    if config.webhook is not None:
        results.append(_webhook(config.webhook, run, record, events, run_dir, dry_run))
    if config.prometheus is not None:
        results.extend(_prometheus(config.prometheus, run, events, dry_run))
    if config.otlp is not None:
        results.append(_otlp(config.otlp, run, events, dry_run))
    if config.mlflow is not None:
        results.append(_mlflow(config.mlflow, run, record, events, run_dir, dry_run))
    results.extend(run_actions(events["firing"], run=run, run_dir=run_dir,
                               dry_run=dry_run))
    for result in results:
        if result.get("status") in ("failed", "timeout", "error"):
            log.warning("sink %s (%s): %s", result.get("sink"),
                        result.get("target") or result.get("rule"), result.get("error")
                        or f"exit code {result.get('exit_code')}")
    return results
