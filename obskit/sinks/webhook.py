"""POST the alerts to announce as JSON, with a Slack-compatible ``text`` field.

The URL comes from an environment variable (it often carries a token). It is never logged
nor returned: results and errors name the variable (``$OBSKIT_WEBHOOK_URL``) instead.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from obskit._format import json_safe
from obskit.config.sinks import WebhookConfig
from obskit.profiles.segments import segment_key
from obskit.results import Run, RunRecord

__all__ = ["format_text", "build_payload", "send_webhook", "event_line"]

log = logging.getLogger("obskit.sinks")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "—" if value is None else str(value)


def _segment(segment: Any) -> str:
    if not segment:
        return "all"
    if isinstance(segment, Mapping):
        return segment_key(segment)
    return str(segment)


def event_line(alert: Mapping[str, Any], *, resolved: bool = False) -> str:
    """One line for an event: severity, rule, metric, value vs threshold, window, segment.

    >>> event_line({"rule": "p95", "metric": "health.latency_p95_ms", "op": ">",
    ...             "value": 812.0, "threshold": 500, "severity": "critical",
    ...             "window_start": "2026-11-09T00:00:00Z", "segment": None})
    '[CRITICAL] p95: health.latency_p95_ms = 812 > 500 (window 2026-11-09T00:00:00Z, segment all)'
    """
    where = f"(window {alert.get('window_start') or '—'}, segment {_segment(alert.get('segment'))})"
    rule = alert.get("rule")
    metric = alert.get("metric")
    if resolved:
        res = alert.get("resolution") or {}
        return (f"RESOLVED [{str(alert.get('severity') or '').upper()}] {rule}: {metric} "
                f"last value {_fmt(res.get('last_value'))} (was {_fmt(alert.get('value'))} "
                f"{alert.get('op') or ''} {_fmt(alert.get('threshold'))}; resolved "
                f"{res.get('resolved_at') or '—'}) {where}")
    if alert.get("error") and metric is None:  # report_failed
        return f"[{str(alert.get('severity') or '').upper()}] {rule}: {alert['error']} {where}"
    return (f"[{str(alert.get('severity') or '').upper()}] {rule}: {metric} = "
            f"{_fmt(alert.get('value'))} {alert.get('op') or ''} "
            f"{_fmt(alert.get('threshold'))} {where}")


def format_text(events: Mapping[str, Any], *, title: str | None = None,
                run_id: str | None = None) -> str:
    """The ``text`` field: a heading, then one line per firing and resolved event."""
    firing, resolved = events.get("firing") or [], events.get("resolved") or []
    head = (f"obskit{': ' + title if title else ''}: {len(firing)} firing, "
            f"{len(resolved)} resolved{f' (run {run_id})' if run_id else ''}")
    lines = [event_line(a) for a in firing] + [event_line(a, resolved=True) for a in resolved]
    return "\n".join([head, *lines])


def build_payload(run: Run | None, events: Mapping[str, Any], run_dir: Any = None, *,
                  record: RunRecord | None = None) -> dict[str, Any]:
    """The JSON body of the webhook.

    Parameters
    ----------
    run : Run or None
        The run (its ``title`` and ``status``).
    events : Mapping
        ``{"firing": [...], "resolved": [...]}``: alert dicts.
    run_dir : str, Path or None
        The run folder.
    record : RunRecord, optional
        The runner's facts (``run_id``).

    Returns
    -------
    dict
        ``{text, source, title, run_id, status, run_dir, events: {firing, resolved}}``,
        strict JSON (NaN and infinities as null).
    """
    title = run.title if run is not None else None
    run_id = record.run_id if record is not None else None
    status = run.status if run is not None else None
    return json_safe({
        "text": format_text(events, title=title, run_id=run_id),
        "source": "obskit", "title": title, "run_id": run_id, "status": status,
        "run_dir": str(run_dir) if run_dir is not None else None,
        "events": {"firing": list(events.get("firing") or []),
                   "resolved": list(events.get("resolved") or [])},
    })


def _post(url: str, body: bytes, timeout: float) -> int:
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": "obskit"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        response.read()
        return int(response.status)


def send_webhook(config: WebhookConfig, payload: Mapping[str, Any], *,
                 environ: Mapping[str, str] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """POST ``payload``; retry connection errors, timeouts, 429 and 5xx with backoff.

    Returns ``{sink, target, status, attempts, http_status, error}`` where ``target`` is
    ``"$<url_env>"`` and ``status`` is ``sent`` or ``failed``. Never raises for a delivery
    problem, and never includes the URL.
    """
    target = f"${config.url_env}"
    result: dict[str, Any] = {"sink": "webhook", "target": target, "status": "failed",
                              "attempts": 0, "http_status": None, "error": None}
    url = (environ if environ is not None else os.environ).get(config.url_env, "").strip()
    if not url:
        result["error"] = f"environment variable {config.url_env} is not set (sinks.webhook)"
        log.warning("webhook not sent: %s", result["error"])
        return result
    if not url.lower().startswith(("http://", "https://")):
        result["error"] = f"environment variable {config.url_env} does not hold an http(s) URL"
        log.warning("webhook not sent: %s", result["error"])
        return result
    body = json.dumps(payload, allow_nan=False).encode()
    for attempt in range(1, config.retries + 2):
        result["attempts"] = attempt
        retry = False
        try:
            result["http_status"] = _post(url, body, config.timeout_s)
            result.update(status="sent", error=None)
            return result
        except urllib.error.HTTPError as exc:
            result["http_status"] = exc.code
            result["error"] = f"HTTP {exc.code} from {target}"
            retry = exc.code >= 500 or exc.code == 429
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            kind = "timed out" if isinstance(reason, TimeoutError) \
                else "connection failed"
            result["error"] = f"{kind} for {target}: {type(reason).__name__}"
            result["http_status"] = None
            retry = True
        except (ValueError, OSError) as exc:  # malformed URL, ...
            result["error"] = f"cannot post to {target}: {type(exc).__name__}"
            retry = False
        if not retry or attempt > config.retries:
            break
        wait = config.backoff_s * 2 ** (attempt - 1)
        log.info("webhook %s: %s; retry %d/%d in %.2g s", target, result["error"], attempt,
                 config.retries, wait)
        sleep(wait)
    log.warning("webhook not sent after %d attempt(s): %s", result["attempts"], result["error"])
    return result
