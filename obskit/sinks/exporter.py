"""``obskit exporter``: serve the latest results of a reports folder to Prometheus.

Each scrape of ``/metrics`` reads ``<reports>/latest/summary.json`` and
``<reports>/alert_state.json`` afresh, so a new run shows up without a restart.
``/healthz`` answers ``ok``. ``obskit_report_available`` is 0 while there is no readable
summary yet.

With ``--otlp-endpoint URL`` it also pushes the same metrics over OTLP/HTTP every
``--otlp-interval`` (:mod:`obskit.sinks.otlp`), read afresh before each push, while it keeps
serving ``/metrics``. ``--otlp-interval`` alone pushes to the endpoint of the standard
variables (``OTEL_EXPORTER_OTLP_METRICS_ENDPOINT``, ``OTEL_EXPORTER_OTLP_ENDPOINT``) and is
refused (exit 2) when none is set. The startup output says where it pushes, or that it
does not.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from obskit.results import Run, load
from obskit.sinks.prometheus import metric_families

__all__ = ["ReportsCollector", "make_server", "add_parser", "run", "main"]

log = logging.getLogger("obskit.sinks")

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 9464
_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _read_run(path: Path) -> Run | None:
    """The run of a ``summary.json``, None when it cannot be read (not yet written, half
    written, not a JSON object)."""
    try:
        return load(path)
    except (OSError, ValueError):
        return None


class ReportsCollector(Collector):
    """Metrics of ``<reports>/latest/summary.json``, firing alerts of ``alert_state.json``."""

    def __init__(self, reports: str | Path) -> None:
        self.reports = Path(reports)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        run = _read_run(self.reports / "latest" / "summary.json")
        state = _read_json(self.reports / "alert_state.json")
        firing = state.get("firing") if isinstance(state, dict) else None
        available = GaugeMetricFamily("obskit_report_available",
                                      "1 when the latest summary.json could be read")
        available.add_metric([], 1.0 if run is not None else 0.0)
        yield available
        if run is None:
            return
        yield from metric_families(run, active=[a for a in firing or []
                                                if isinstance(a, dict)])


def _registry(reports: str | Path) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ReportsCollector(reports))
    return registry


def make_server(reports: str | Path, host: str = DEFAULT_HOST,
                port: int = DEFAULT_PORT) -> ThreadingHTTPServer:
    """An HTTP server (not yet serving) for ``/metrics`` and ``/healthz``; port 0 picks a
    free port (see ``server.server_address``)."""
    from prometheus_client import generate_latest

    registry = _registry(reports)

    class Handler(BaseHTTPRequestHandler):
        server_version = "obskit-exporter"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, generate_latest(registry), _CONTENT_TYPE)
            elif path == "/healthz":
                self._send(200, b"ok\n", "text/plain; charset=utf-8")
            elif path == "/":
                self._send(200, b"obskit exporter: /metrics, /healthz\n",
                           "text/plain; charset=utf-8")
            else:
                self._send(404, b"not found\n", "text/plain; charset=utf-8")

        def _send(self, code: int, body: bytes, content_type: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("exporter: " + format, *args)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``exporter`` subcommand to ``subparsers`` (dispatch with :func:`run`)."""
    p = subparsers.add_parser(
        "exporter", help="serve the latest results of a reports folder to Prometheus",
        description="Serve /metrics (read afresh on each scrape from DIR/latest/summary.json "
                    "and DIR/alert_state.json) and /healthz; with --otlp-endpoint, also push "
                    "them over OTLP/HTTP.")
    p.add_argument("--reports", required=True, metavar="DIR",
                   help="a reports folder (the config's out)")
    p.add_argument("--host", default=DEFAULT_HOST, help=f"default {DEFAULT_HOST}")
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=f"default {DEFAULT_PORT}; 0 picks a free port")
    from obskit.sinks.otlp import endpoint_arg, interval_arg

    p.add_argument("--otlp-endpoint", type=endpoint_arg, metavar="URL",
                   help="also push the metrics as OTLP/HTTP gauges to URL (a base URL gets "
                        "/v1/metrics appended); headers from $OTEL_EXPORTER_OTLP_HEADERS")
    p.add_argument("--otlp-interval", type=interval_arg, default=None, metavar="DURATION",
                   help="time between OTLP pushes, e.g. 60s, 5m (default 60s); without "
                        "--otlp-endpoint it pushes to $OTEL_EXPORTER_OTLP_METRICS_ENDPOINT "
                        "or $OTEL_EXPORTER_OTLP_ENDPOINT, and is refused when neither is set")
    return p


def run(args: argparse.Namespace) -> int:
    """Serve until SIGTERM or Ctrl-C; returns the exit code (2: cannot listen, or
    ``--otlp-interval`` without ``--otlp-endpoint`` and without the OTLP endpoint variables).

    Raises
    ------
    ConfigError
        ``--otlp-endpoint`` without the OpenTelemetry SDK installed.
    """
    from obskit.config.sinks import OTLP_ENDPOINT_ENVS

    endpoint = getattr(args, "otlp_endpoint", None)
    interval = getattr(args, "otlp_interval", None)
    from_env = next((name for name in OTLP_ENDPOINT_ENVS if os.environ.get(name)), None)
    if endpoint is None and interval is not None and from_env is None:
        print("obskit exporter: --otlp-interval without --otlp-endpoint: no OTLP endpoint "
              "to push to (pass --otlp-endpoint URL, or set "
              + " or ".join(OTLP_ENDPOINT_ENVS) + ")", file=sys.stderr)
        return 2
    pusher = None
    if endpoint is not None or interval is not None:
        from obskit.config.sinks import OtlpConfig
        from obskit.sinks.otlp import OtlpPusher, check_sdk

        check_sdk("--otlp-endpoint" if endpoint is not None else "--otlp-interval")
        interval = 60.0 if interval is None else interval
        pusher = OtlpPusher(ReportsCollector(args.reports).collect,
                            OtlpConfig(endpoint=endpoint), interval)
    try:
        server = make_server(args.reports, args.host, args.port)
    except OSError as exc:
        print(f"obskit exporter: cannot listen on {args.host}:{args.port}: {exc.strerror}",
              file=sys.stderr)
        return 2
    address, port = server.server_address[:2]
    host = address.decode() if isinstance(address, bytes) else address

    def stop(signum: int, frame: Any) -> None:
        # shutdown() waits for serve_forever's loop, so it runs beside it; raising from
        # the handler instead is lost when the signal lands while a request is handled
        threading.Thread(target=server.shutdown, daemon=True).start()

    previous = None  # installed before the startup lines: a SIGTERM after them stops
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, stop)
    if not Path(args.reports).is_dir():
        print(f"obskit exporter: {args.reports}: no such folder yet; serving "
              "obskit_report_available 0", file=sys.stderr)
    print(f"obskit exporter: serving http://{host}:{port}/metrics", flush=True)
    if pusher is not None:
        from obskit.sinks.otlp import metrics_url
        from obskit.sinks.prometheus import redact_url

        source = "" if endpoint is not None else f" (from ${from_env})"
        print(f"obskit exporter: pushing OTLP metrics to "
              f"{redact_url(metrics_url(endpoint) or '')}{source} every {interval:g}s",
              flush=True)
        pusher.start()
    else:
        hint = (f"; ${from_env} is set: add --otlp-interval to push there" if from_env
                else "")
        print(f"obskit exporter: not pushing OTLP metrics (no --otlp-endpoint){hint}",
              flush=True)

    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if pusher is not None:
            pusher.stop()
        server.server_close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m obskit.sinks.exporter --reports DIR`` (same as ``obskit exporter``)."""
    parser = argparse.ArgumentParser(prog="obskit")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return run(parser.parse_args(["exporter", *(argv if argv is not None else sys.argv[1:])]))


if __name__ == "__main__":
    sys.exit(main())
