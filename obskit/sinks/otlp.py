"""OTLP metrics: the exporter's gauges pushed over OTLP/HTTP with the OpenTelemetry SDK, to
Datadog, New Relic or any OpenTelemetry Collector.

Each gauge family of :mod:`obskit.sinks.prometheus` (what ``obskit exporter`` serves)
becomes an OTLP gauge of the same name and description; each sample, a data point with the
sample's labels as attributes and its value. A push is one ``ExportMetricsServiceRequest``
from a ``MeterProvider`` of its own (never the global one), whose reader exports only on
``force_flush`` and whose resource carries ``service.name`` (OTel semantic conventions).

The endpoint follows the OTLP exporter specification
(https://opentelemetry.io/docs/specs/otel/protocol/exporter/); the SDK's own variables
(``OTEL_EXPORTER_OTLP_HEADERS``, ``OTEL_EXPORTER_OTLP_COMPRESSION``, ...) apply as usual.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from types import SimpleNamespace
from typing import Any

from prometheus_client import Metric

from obskit._optional import require
from obskit._version import __version__
from obskit.config.sinks import OTLP_ENDPOINT_ENVS, OtlpConfig
from obskit.exceptions import ConfigError
from obskit.sinks.prometheus import redact_url

__all__ = ["METRICS_PATH", "metrics_url", "push_families", "OtlpPusher", "check_sdk",
           "endpoint_arg", "interval_arg"]

log = logging.getLogger("obskit.sinks")

#: the OTLP/HTTP path of the metrics signal
METRICS_PATH = "/v1/metrics"
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
#: where the OTLP/HTTP metric exporter and the SDK's reader log a failed export
_SDK_LOGGERS = ("opentelemetry.exporter.otlp.proto.http.metric_exporter",
                "opentelemetry.sdk.metrics._internal.export")


def metrics_url(endpoint: str | None) -> str | None:
    """The URL metrics are posted to.

    Parameters
    ----------
    endpoint : str or None
        A base URL, a full ``.../v1/metrics`` URL, or None (the environment decides).

    Returns
    -------
    str or None
        None when neither ``endpoint`` nor a variable of ``OTLP_ENDPOINT_ENVS`` is set.

    >>> metrics_url("https://otlp.nr-data.net:4318")
    'https://otlp.nr-data.net:4318/v1/metrics'
    >>> metrics_url("http://127.0.0.1:4318/v1/metrics")
    'http://127.0.0.1:4318/v1/metrics'
    >>> metrics_url("https://gateway.example/otlp/?tenant=a")
    'https://gateway.example/otlp/v1/metrics?tenant=a'
    """
    if endpoint is None:
        full, endpoint = (os.environ.get(name) or None for name in OTLP_ENDPOINT_ENVS)
        if full or not endpoint:
            return full
    parts = urllib.parse.urlsplit(endpoint)
    if parts.path.rstrip("/").endswith(METRICS_PATH):
        return endpoint
    return urllib.parse.urlunsplit(parts._replace(path=parts.path.rstrip("/") + METRICS_PATH))


def check_sdk(key: str = "sinks.otlp") -> SimpleNamespace:
    """The OpenTelemetry SDK pieces a push needs (imported through ``obskit[otlp]``).

    Raises
    ------
    ConfigError
        The SDK or its OTLP/HTTP exporter is not installed (the message names the extra).
    """
    def need(module: str) -> Any:
        return require(module, "otlp", key=key, purpose="pushing OTLP metrics")

    metrics = need("opentelemetry.sdk.metrics")
    export = need("opentelemetry.sdk.metrics.export")
    http = need("opentelemetry.exporter.otlp.proto.http.metric_exporter")
    return SimpleNamespace(
        MeterProvider=metrics.MeterProvider, Observation=need("opentelemetry.metrics").Observation,
        Reader=export.PeriodicExportingMetricReader, Exporter=http.OTLPMetricExporter,
        Resource=need("opentelemetry.sdk.resources").Resource, Session=need("requests").Session)


@contextlib.contextmanager
def _quiet_sdk_log() -> Iterator[None]:
    """Drop the SDK's own log records of this thread's push: they quote the URL with its
    query (which may hold a token), and the push's result already says what failed."""
    me = threading.get_ident()

    def other_threads(record: logging.LogRecord) -> bool:
        return record.thread != me

    loggers = [logging.getLogger(name) for name in _SDK_LOGGERS]
    for logger in loggers:
        logger.addFilter(other_threads)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(other_threads)


def _gauge_callback(family: Metric, observation: Any) -> Callable[[Any], list[Any]]:
    points = [observation(float(s.value), dict(s.labels)) for s in family.samples]
    return lambda options: points


def push_families(families: Iterable[Metric], config: OtlpConfig, *,
                  dry_run: bool = False) -> dict[str, Any]:
    """Push gauge families as OTLP gauges, in one export request.

    Parameters
    ----------
    families : iterable of prometheus_client Metric
        E.g. :func:`obskit.sinks.prometheus.metric_families` (families without samples are
        left out: OTLP has no empty metric).
    config : OtlpConfig
    dry_run : bool
        Report what would be pushed, sending nothing.

    Returns
    -------
    dict
        ``sink`` (``otlp``), ``target`` (the URL without credentials or query), ``metrics``,
        ``data_points`` and ``status`` (``pushed``, ``dry_run`` or ``failed`` with
        ``error``). Header values are never in it.

    Raises
    ------
    ConfigError
        No endpoint: neither ``config.endpoint`` nor the OpenTelemetry variables.
    """
    url = metrics_url(config.endpoint)
    if url is None:
        raise ConfigError("config key 'sinks.otlp.endpoint': no endpoint, and none of "
                          + ", ".join(OTLP_ENDPOINT_ENVS) + " is set", key="sinks.otlp.endpoint")
    families = [f for f in families if f.samples]
    result = {"sink": "otlp", "target": redact_url(url), "metrics": len(families),
              "data_points": sum(len(f.samples) for f in families)}
    if dry_run:
        return {**result, "status": "dry_run"}
    headers = {}
    for name, env in config.headers_env:
        if not os.environ.get(env):
            return {**result, "status": "failed", "error": f"environment variable {env} "
                    f"(header {name}, sinks.otlp.headers_env) is not set"}
        headers[name] = os.environ[env]
    try:
        sdk = check_sdk()
    except ConfigError as exc:
        return {**result, "status": "failed", "error": str(exc)}
    statuses: list[int] = []
    session = sdk.Session()
    session.hooks["response"].append(  # the outcome: the exporter only logs it
        lambda response, *a, **k: statuses.append(response.status_code))
    exporter = sdk.Exporter(endpoint=url, headers=headers, timeout=config.timeout_s,
                            session=session)
    reader = sdk.Reader(exporter, export_interval_millis=math.inf)
    service = config.service_name or os.environ.get("OTEL_SERVICE_NAME") or "obskit"
    provider = sdk.MeterProvider(resource=sdk.Resource.create({"service.name": service}),
                                 metric_readers=[reader], shutdown_on_exit=False)
    meter = provider.get_meter("obskit", __version__)
    for family in families:
        meter.create_observable_gauge(family.name, description=family.documentation,
                                      callbacks=[_gauge_callback(family, sdk.Observation)])
    with _quiet_sdk_log():
        try:
            provider.force_flush(timeout_millis=config.timeout_s * 1000 + 1000)  # one export
        finally:
            provider.shutdown()
    if statuses and 200 <= statuses[-1] < 300:
        return {**result, "status": "pushed"}
    error = (f"push failed: HTTP {statuses[-1]}" if statuses
             else "push failed: no response (connection refused or timed out)")
    return {**result, "status": "failed", "error": error}


class OtlpPusher:
    """Push ``collect()``'s families every ``interval_s`` seconds, from a daemon thread.

    ``obskit exporter --otlp-endpoint``: ``collect`` reads the reports folder afresh, so each
    push carries the latest run. Failures are logged (without secrets), never raised.
    """

    def __init__(self, collect: Callable[[], Iterable[Metric]], config: OtlpConfig,
                 interval_s: float) -> None:
        self.collect = collect
        self.config = config
        self.interval_s = interval_s
        #: the result of the latest push (see :func:`push_families`)
        self.last: dict[str, Any] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="obskit-otlp-push",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float | None = None) -> None:
        """Stop after the push under way (waiting at most ``timeout_s``)."""
        self._stop.set()
        self._thread.join(self.config.timeout_s + 1 if timeout_s is None else timeout_s)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.last = push_families(list(self.collect()), self.config)
            except Exception as exc:  # noqa: BLE001 - the loop must outlive one bad push
                self.last = {"status": "failed", "error": f"push failed: {type(exc).__name__}"}
            if self.last["status"] == "failed":
                log.warning("otlp push to %s: %s", self.last.get("target"), self.last["error"])
            self._stop.wait(self.interval_s)


def endpoint_arg(text: str) -> str:
    """``--otlp-endpoint``: an http(s) URL (argparse ``type``)."""
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(
            f"expected an http:// or https:// URL such as http://127.0.0.1:4318, got {text!r}")
    return text


def interval_arg(text: str) -> float:
    """``--otlp-interval`` in seconds: ``60s``, ``500ms``, ``5m``, ``1h`` (argparse ``type``).

    >>> interval_arg("60s"), interval_arg("500ms"), interval_arg("2m")
    (60.0, 0.5, 120.0)
    """
    value = text.strip()
    unit = next((u for u in ("ms", "s", "m", "h") if value.endswith(u)), "")
    try:
        seconds = float(value[:len(value) - len(unit)]) * _UNITS.get(unit, 1.0)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise argparse.ArgumentTypeError(
            f"expected a positive duration such as 60s, 500ms or 5m, got {text!r}")
    return seconds
