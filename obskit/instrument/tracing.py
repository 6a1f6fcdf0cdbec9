"""An OpenTelemetry tracer provider that exports where the user says.

``destination`` (the service's ``OBSKIT_TRACES``): an ``http(s)://`` URL of an OTLP/HTTP
collector (protobuf; ``/v1/traces`` is appended when the URL has no path, as the OTLP
exporter specification does for the signal-less endpoint), a file path for OTLP JSON
lines (:class:`~obskit.instrument.otlp_json.OTLPJsonFileExporter`), or None for spans
that are made (so logs and responses carry trace ids) but not exported.

The provider is the caller's own; it is never set as the global one here.

Example
-------
>>> from obskit.instrument.tracing import tracer_provider
>>> provider = tracer_provider("traces.jsonl", service_name="credit-model",
...                            service_version="v1")  # doctest: +SKIP
>>> with provider.get_tracer("svc").start_as_current_span("predict"):  # doctest: +SKIP
...     ...
>>> provider.shutdown()  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from obskit.exceptions import ConfigError

__all__ = ["tracer_provider", "TRACES_ENV"]

#: the environment variable of the example service that names the destination
TRACES_ENV = "OBSKIT_TRACES"


def _otlp_http_endpoint(url: str) -> str:
    """The traces endpoint of an OTLP/HTTP URL: ``/v1/traces`` added to an empty path."""
    parts = urlsplit(url)
    if parts.path in ("", "/"):
        parts = parts._replace(path="/v1/traces")
    return urlunsplit(parts)


def _exporter(destination: str) -> SpanExporter:
    if destination.startswith(("http://", "https://")):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        if not urlsplit(destination).hostname:
            raise ConfigError(f"{TRACES_ENV}: {destination!r} is not a URL with a host "
                              "(expected e.g. http://127.0.0.1:4318)", key=TRACES_ENV)
        return OTLPSpanExporter(endpoint=_otlp_http_endpoint(destination))
    from obskit.instrument.otlp_json import OTLPJsonFileExporter

    path = Path(destination)
    if path.is_dir():
        raise ConfigError(f"{TRACES_ENV}: {destination!r} is a directory; expected an "
                          "http(s):// OTLP endpoint or a file path for OTLP JSON lines",
                          key=TRACES_ENV)
    try:
        return OTLPJsonFileExporter(path)
    except OSError as exc:
        raise ConfigError(f"{TRACES_ENV}: cannot append OTLP JSON lines to {destination!r}: "
                          f"{exc.strerror or exc}", key=TRACES_ENV) from exc


def tracer_provider(destination: str | None, *, service_name: str,
                    service_version: str | None = None) -> TracerProvider:
    """A new SDK tracer provider exporting to ``destination`` in a batch span processor.

    Parameters
    ----------
    destination : str or None
        ``http(s)://host:port[/path]``: OTLP/HTTP protobuf to a collector (``/v1/traces``
        appended to an empty path); any other text: a file to append OTLP JSON lines to;
        None: spans are made but not exported.
    service_name, service_version : str
        The resource's ``service.name`` and ``service.version`` (OpenTelemetry semantic
        conventions for resources).

    Returns
    -------
    TracerProvider
        Not set as the global provider; call ``shutdown()`` on it to flush and stop.

    Raises
    ------
    ConfigError
        A destination that is neither a URL with a host nor a writable file path (a
        directory, a missing or unwritable parent); the message names ``OBSKIT_TRACES``.
    """
    attributes: dict[str, str] = {SERVICE_NAME: service_name}
    if service_version is not None:
        attributes[SERVICE_VERSION] = service_version
    provider = TracerProvider(resource=Resource.create(attributes))
    if destination:
        provider.add_span_processor(BatchSpanProcessor(_exporter(destination)))
    return provider
