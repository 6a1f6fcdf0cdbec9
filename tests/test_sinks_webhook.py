"""The webhook sink against a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from obskit.config.sinks import WebhookConfig
from obskit.results import load, load_record
from obskit.sinks import dispatch
from obskit.sinks.webhook import format_text, send_webhook

TOKEN = "T0KEN-s3cr3t-9f8e7d"
FIRING = {"rule": "p95", "metric": "health.latency_p95_ms", "window": 3,
          "window_start": "2026-11-09T00:00:00Z", "window_end": "2026-11-10T00:00:00Z",
          "op": ">", "value": 812.5, "threshold": 500.0, "severity": "critical",
          "segment": {"model_version": "v2"}, "action": None}
RESOLVED = {"rule": "error_rate", "metric": "health.error_rate", "window": 2,
            "window_start": "2026-11-08T00:00:00Z", "window_end": "2026-11-09T00:00:00Z",
            "op": ">", "value": 0.09, "threshold": 0.05, "severity": "critical",
            "segment": None, "action": None,
            "resolution": {"resolved_at": "2026-11-10T06:00:00Z", "run_id": "r2",
                           "last_value": 0.01}}
SUMMARY = {"title": "credit", "run_id": "r2", "status": "alert", "windows": []}
RUN, RECORD = load(SUMMARY), load_record(SUMMARY)


class Receiver:
    """An HTTP server in a thread that records POSTs and answers scripted status codes."""

    def __init__(self, codes=()):
        self.codes = list(codes)
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"path": self.path, "body": body,
                                          "content_type": self.headers["Content-Type"]})
                code = receiver.codes.pop(0) if receiver.codes else 200
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/{TOKEN}"


@pytest.fixture
def receiver():
    made = []

    def make(codes=()):
        r = Receiver(codes)
        r.thread.start()
        made.append(r)
        return r

    yield make
    for r in made:
        r.server.shutdown()
        r.server.server_close()
        r.thread.join(timeout=5)


def _no_token(results, caplog):
    assert TOKEN not in json.dumps(results)
    assert "127.0.0.1" not in json.dumps(results)
    assert TOKEN not in caplog.text


def test_text_has_one_line_per_event():
    text = format_text({"firing": [FIRING], "resolved": [RESOLVED]}, title="credit")
    head, fire, res = text.splitlines()
    assert head == "obskit: credit: 1 firing, 1 resolved"
    assert fire.startswith("[CRITICAL] p95: health.latency_p95_ms = 812.5 > 500")
    assert "window 2026-11-09T00:00:00Z" in fire and "segment model_version=v2" in fire
    assert res.startswith("RESOLVED [CRITICAL] error_rate: health.error_rate last value 0.01")
    assert "segment all" in res


def test_posts_json_with_text_and_events(receiver, monkeypatch, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    r = receiver()
    monkeypatch.setenv("OBSKIT_TEST_HOOK", r.url)
    events = {"firing": [{**FIRING, "value": float("nan")}], "resolved": [RESOLVED],
              "ongoing": [{**FIRING, "rule": "old"}]}
    results = dispatch({"webhook": {"url_env": "OBSKIT_TEST_HOOK"}}, run=RUN, record=RECORD,
                       events=events, run_dir=tmp_path / "r2")
    assert results == [{"sink": "webhook", "target": "$OBSKIT_TEST_HOOK", "status": "sent",
                        "attempts": 1, "http_status": 200, "error": None, "events": 2}]
    [request] = r.requests
    assert request["path"] == f"/hooks/{TOKEN}"
    assert request["content_type"].startswith("application/json")
    payload = json.loads(request["body"])  # strict JSON: NaN became null
    assert payload["text"].splitlines()[0] == "obskit: credit: 1 firing, 1 resolved (run r2)"
    assert "RESOLVED" in payload["text"]
    assert [e["rule"] for e in payload["events"]["firing"]] == ["p95"]
    assert payload["events"]["firing"][0]["value"] is None
    assert payload["events"]["resolved"][0]["resolution"]["last_value"] == 0.01
    assert "ongoing" not in payload["events"]
    assert payload["run_dir"] == str(tmp_path / "r2")
    _no_token(results, caplog)


def test_retries_after_5xx_then_succeeds(receiver, caplog):
    caplog.set_level(logging.DEBUG)
    r = receiver(codes=[500, 503])
    waits: list[float] = []
    result = send_webhook(WebhookConfig("HOOK", timeout_s=5, retries=3, backoff_s=0.25),
                          {"text": "x"}, environ={"HOOK": r.url}, sleep=waits.append)
    assert result["status"] == "sent" and result["attempts"] == 3
    assert len(r.requests) == 3 and waits == [0.25, 0.5]
    assert "HTTP 500 from $HOOK" in caplog.text
    _no_token(result, caplog)


def test_gives_up_after_retries(receiver, caplog):
    r = receiver(codes=[502] * 10)
    result = send_webhook(WebhookConfig("HOOK", retries=2, backoff_s=0), {"text": "x"},
                          environ={"HOOK": r.url}, sleep=lambda s: None)
    assert result["status"] == "failed" and result["attempts"] == 3
    assert result["http_status"] == 502 and len(r.requests) == 3
    _no_token(result, caplog)


def test_4xx_is_not_retried(receiver, caplog):
    r = receiver(codes=[404])
    result = send_webhook(WebhookConfig("HOOK", retries=3, backoff_s=0), {"text": "x"},
                          environ={"HOOK": r.url}, sleep=lambda s: None)
    assert (result["status"], result["attempts"], result["http_status"]) == ("failed", 1, 404)
    _no_token(result, caplog)


def test_connection_refused_is_retried_and_recorded(caplog):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/hooks/{TOKEN}"
    waits: list[float] = []
    result = send_webhook(WebhookConfig("HOOK", timeout_s=2, retries=2, backoff_s=0.1),
                          {"text": "x"}, environ={"HOOK": url}, sleep=waits.append)
    assert result["status"] == "failed" and result["attempts"] == 3 and waits == [0.1, 0.2]
    assert result["error"].startswith("connection failed for $HOOK")
    _no_token(result, caplog)


def test_timeout_is_retried(caplog):
    with socket.socket() as server:  # accepts the connection, never answers
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        url = f"http://127.0.0.1:{server.getsockname()[1]}/{TOKEN}"
        result = send_webhook(WebhookConfig("HOOK", timeout_s=0.3, retries=1, backoff_s=0),
                              {"text": "x"}, environ={"HOOK": url}, sleep=lambda s: None)
    assert result["status"] == "failed" and result["attempts"] == 2
    assert result["error"].startswith("timed out for $HOOK")
    _no_token(result, caplog)


def test_unset_or_bad_variable(monkeypatch, caplog):
    monkeypatch.delenv("OBSKIT_TEST_HOOK", raising=False)
    results = dispatch({"webhook": {"url_env": "OBSKIT_TEST_HOOK"}}, run=RUN, record=RECORD,
                       events={"firing": [FIRING]}, run_dir=None)
    assert results[0]["status"] == "failed"
    assert results[0]["error"] == ("environment variable OBSKIT_TEST_HOOK is not set "
                                   "(sinks.webhook)")
    monkeypatch.setenv("OBSKIT_TEST_HOOK", f"ftp://{TOKEN}")
    results = dispatch({"webhook": {"url_env": "OBSKIT_TEST_HOOK"}}, run=RUN, record=RECORD,
                       events={"firing": [FIRING]}, run_dir=None)
    assert "does not hold an http(s) URL" in results[0]["error"]
    _no_token(results, caplog)


def test_nothing_to_announce_and_dry_run(receiver, monkeypatch):
    r = receiver()
    monkeypatch.setenv("OBSKIT_TEST_HOOK", r.url)
    sinks = {"webhook": {"url_env": "OBSKIT_TEST_HOOK"}}
    [quiet] = dispatch(sinks, run=RUN, record=RECORD, events={"ongoing": [FIRING]}, run_dir=None)
    assert quiet["status"] == "skipped"
    [dry] = dispatch(sinks, run=RUN, record=RECORD, events={"firing": [FIRING]}, run_dir=None,
                     dry_run=True)
    assert dry["status"] == "dry_run" and "[CRITICAL] p95" in dry["text"]
    assert r.requests == []
