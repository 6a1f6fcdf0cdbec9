"""The ``sinks:`` section of a run config: where alerts and metrics go.

Validated once, at :func:`obskit.config.load_config`, with errors naming
``sinks.<key>``; :attr:`obskit.config.Config.sinks` holds the :class:`SinksConfig`::

    sinks:
      webhook: {url_env: OBSKIT_WEBHOOK_URL, timeout_s: 5, retries: 3, backoff_s: 0.5}
      prometheus: {textfile: /var/lib/node-exporter/obskit.prom,
                   pushgateway: http://127.0.0.1:9091, job: obskit}
      otlp: {endpoint: https://otlp.nr-data.net:4318,
             headers_env: {api-key: NEW_RELIC_LICENSE_KEY}, timeout_s: 10}
      mlflow: {tracking_uri: "sqlite:///mlflow.db", experiment: credit-monitoring,
               run_name: "{model_name} {run_id}", registered_model: credit-risk}

The webhook URL is read from the environment variable ``url_env`` names, never from the
file: it often carries a token; so are the OTLP headers (API keys), from ``headers_env``.
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from obskit._optional import check_installed
from obskit._registry import Registry
from obskit.config.checks import check_keys, expect
from obskit.exceptions import ConfigError

__all__ = ["SinksConfig", "WebhookConfig", "PrometheusConfig", "MlflowConfig", "OtlpConfig",
           "load_sinks", "SECTIONS", "WEBHOOK_KEYS", "PROMETHEUS_KEYS", "MLFLOW_KEYS",
           "RUN_NAME_FIELDS", "OTLP_KEYS", "OTLP_ENDPOINT_ENVS"]

WEBHOOK_KEYS = ("url_env", "timeout_s", "retries", "backoff_s")
PROMETHEUS_KEYS = ("textfile", "pushgateway", "job")
MLFLOW_KEYS = ("tracking_uri", "experiment", "run_name", "registered_model",
               "artifact_location", "timeout_s", "retries")
#: the fields a ``sinks.mlflow.run_name`` template may name
RUN_NAME_FIELDS = ("run_id", "model_name", "status", "title")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_JOB = re.compile(r"^[^/\x00-\x1f]+$")


@dataclass(frozen=True)
class WebhookConfig:
    """A JSON POST of the alerts to announce; the URL is in ``$url_env``."""

    url_env: str
    timeout_s: float = 5.0
    #: attempts after the first, on connection errors, timeouts, 429 and 5xx
    retries: int = 3
    #: wait before retry k (1-based): ``backoff_s * 2 ** (k - 1)``
    backoff_s: float = 0.5


@dataclass(frozen=True)
class PrometheusConfig:
    """Metrics of the latest window: a node-exporter textfile and/or a Pushgateway push."""

    textfile: str | None = None
    pushgateway: str | None = None
    job: str = "obskit"


@dataclass(frozen=True)
class OtlpConfig:
    """The run's metrics pushed as OTLP/HTTP gauges (:mod:`obskit.sinks.otlp`).

    ``endpoint`` is a base URL (``/v1/metrics`` is appended) or a full ``.../v1/metrics``
    URL; None: the OpenTelemetry variables of :data:`OTLP_ENDPOINT_ENVS` apply.
    ``headers_env`` maps each header to the environment variable holding its value.
    """

    endpoint: str | None = None
    headers_env: tuple[tuple[str, str], ...] = ()
    timeout_s: float = 10.0
    #: the ``service.name`` resource attribute (None: ``$OTEL_SERVICE_NAME`` or ``obskit``)
    service_name: str | None = None


@dataclass(frozen=True)
class MlflowConfig:
    """Each report run logged as an MLflow run (:mod:`obskit.sinks.mlflow`).

    ``tracking_uri`` None: ``$MLFLOW_TRACKING_URI`` at delivery. ``run_name`` is a
    template of :data:`RUN_NAME_FIELDS`. ``registered_model``: the MLflow registered
    model whose versions the log's ``model_version`` values name (version numbers,
    ``v<N>``, or aliases). ``artifact_location``: of the experiment, when obskit creates
    it. ``timeout_s`` / ``retries``: MLflow's ``MLFLOW_HTTP_REQUEST_TIMEOUT`` /
    ``MLFLOW_HTTP_REQUEST_MAX_RETRIES`` for the sink's calls (None: MLflow's variable
    when set, else 30 s / 2 retries).
    """

    tracking_uri: str | None = None
    experiment: str = "obskit"
    run_name: str = "obskit {run_id}"
    registered_model: str | None = None
    artifact_location: str | None = None
    timeout_s: int | None = None
    retries: int | None = None


@dataclass(frozen=True)
class SinksConfig:
    """The sinks in force (None: not configured)."""

    webhook: WebhookConfig | None = None
    prometheus: PrometheusConfig | None = None
    otlp: OtlpConfig | None = None
    mlflow: MlflowConfig | None = None


def _number(value: Any, key: str, expected: str, *, minimum: float = 0.0,
            strict: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value \
        and (value > minimum if strict else value >= minimum)
    expect(ok, key, expected, value)
    return float(value)


def _webhook(raw: Any, key: str, base: Path) -> WebhookConfig:
    if isinstance(raw, Mapping) and "url" in raw:
        raise ConfigError(f"config key '{key}.url': the webhook URL may carry a secret, so it "
                          f"is read from the environment: set '{key}.url_env' to the name of "
                          "the variable that holds it", key=f"{key}.url")
    check_keys(raw, WEBHOOK_KEYS, key)
    expect("url_env" in raw, f"{key}.url_env", "the name of the environment variable that "
           "holds the URL (required)", None)
    env = raw["url_env"]
    expect(isinstance(env, str) and bool(_ENV_NAME.match(env)), f"{key}.url_env",
           "an environment variable name (letters, digits, _)", env)
    timeout = _number(raw.get("timeout_s", 5), f"{key}.timeout_s", "a positive number of "
                      "seconds", strict=True)
    retries = raw.get("retries", 3)
    expect(isinstance(retries, int) and not isinstance(retries, bool) and 0 <= retries <= 10,
           f"{key}.retries", "an integer between 0 and 10", retries)
    backoff = _number(raw.get("backoff_s", 0.5), f"{key}.backoff_s",
                      "a non-negative number of seconds")
    return WebhookConfig(env, timeout, retries, backoff)


def _prometheus(raw: Any, key: str, base: Path) -> PrometheusConfig:
    check_keys(raw, PROMETHEUS_KEYS, key)
    expect(raw.get("textfile") is not None or raw.get("pushgateway") is not None, key,
           "at least one of textfile, pushgateway", dict(raw))
    textfile = raw.get("textfile")
    if textfile is not None:
        expect(isinstance(textfile, str) and textfile.endswith(".prom"), f"{key}.textfile",
               "a file path ending in .prom (node-exporter reads only *.prom)", textfile)
        path = Path(textfile)
        textfile = str(path if path.is_absolute() else (base / path).resolve())
    gateway = raw.get("pushgateway")
    if gateway is not None:
        expect(isinstance(gateway, str) and gateway.strip() != ""
               and re.match(r"^(https?://)?[^\s/]+", gateway) is not None,
               f"{key}.pushgateway", "a Pushgateway address, e.g. http://127.0.0.1:9091",
               gateway)
    job = raw.get("job", "obskit")
    expect(isinstance(job, str) and bool(_JOB.match(job)), f"{key}.job",
           "a non-empty job name without '/'", job)
    return PrometheusConfig(textfile, gateway, job)


OTLP_KEYS = ("endpoint", "headers_env", "timeout_s", "service_name")
#: the OpenTelemetry exporter variables that give the endpoint when ``endpoint`` is unset
#: (https://opentelemetry.io/docs/specs/otel/protocol/exporter/): the first, a full URL;
#: the second, a base URL
OTLP_ENDPOINT_ENVS = ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$")
_HEADER = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP token (RFC 9110)


def _otlp(raw: Any, key: str, base: Path) -> OtlpConfig:
    if isinstance(raw, Mapping) and "headers" in raw:
        raise ConfigError(f"config key '{key}.headers': headers carry API keys, so their "
                          f"values are read from the environment: set '{key}.headers_env' "
                          "to {header: VARIABLE}", key=f"{key}.headers")
    check_keys(raw, OTLP_KEYS, key)
    endpoint = raw.get("endpoint")
    if endpoint is None:
        expect(any(os.environ.get(name) for name in OTLP_ENDPOINT_ENVS), f"{key}.endpoint",
               "an OTLP/HTTP URL such as http://127.0.0.1:4318 (or "
               + " or ".join(f"${name}" for name in OTLP_ENDPOINT_ENVS) + " set)", None)
    elif not (isinstance(endpoint, str) and _URL.match(endpoint)):  # not echoed: a secret?
        raise ConfigError(f"config key '{key}.endpoint': expected an http:// or https:// URL "
                          "such as http://127.0.0.1:4318", key=f"{key}.endpoint")
    headers = raw.get("headers_env") or {}
    expect(isinstance(headers, Mapping), f"{key}.headers_env",
           "a mapping of header name to environment variable", headers)
    for name, env in headers.items():
        expect(isinstance(name, str) and bool(_HEADER.match(name)), f"{key}.headers_env",
               "HTTP header names as keys", name)
        expect(isinstance(env, str) and bool(_ENV_NAME.match(env)), f"{key}.headers_env.{name}",
               "an environment variable name (letters, digits, _)", env)
    timeout = _number(raw.get("timeout_s", 10), f"{key}.timeout_s", "a positive number of "
                      "seconds", strict=True)
    service = raw.get("service_name")
    expect(service is None or (isinstance(service, str) and service.strip() != ""),
           f"{key}.service_name", "a non-empty service name", service)
    return OtlpConfig(endpoint, tuple(headers.items()), timeout, service)


def _text(raw: Mapping[str, Any], name: str, key: str, expected: str) -> str | None:
    """``raw[name]``: None when absent, else a non-empty string (``key`` in the error)."""
    value = raw.get(name)
    if value is None:
        return None
    expect(isinstance(value, str) and value.strip() != "", f"{key}.{name}", expected, value)
    return str(value)


def _mlflow(raw: Any, key: str, base: Path) -> MlflowConfig:
    check_keys(raw, MLFLOW_KEYS, key)
    check_installed("mlflow", "mlflow", key=key, purpose="the MLflow sink")
    uri = raw.get("tracking_uri")
    if uri is not None:  # never echo the value: it may carry a password
        expect(isinstance(uri, str) and uri.strip() != "" and not re.search(r"\s", uri),
               f"{key}.tracking_uri", "an MLflow tracking URI without spaces, e.g. "
               "sqlite:///mlflow.db or http://127.0.0.1:5000",
               "(a text, not shown)" if isinstance(uri, str) else uri)
    elif not os.environ.get("MLFLOW_TRACKING_URI"):
        raise ConfigError(f"config key '{key}.tracking_uri': expected an MLflow tracking URI "
                          "(e.g. sqlite:///mlflow.db or http://127.0.0.1:5000), or the "
                          "MLFLOW_TRACKING_URI environment variable; neither is set",
                          key=f"{key}.tracking_uri")
    experiment = _text(raw, "experiment", key, "an experiment name") or "obskit"
    run_name = _text(raw, "run_name", key, "a run name") or MlflowConfig.run_name
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(run_name) if f is not None}
    except ValueError:
        fields = {"?"}
    expect(fields <= set(RUN_NAME_FIELDS), f"{key}.run_name", "a name whose only fields are "
           + ", ".join("{" + f + "}" for f in RUN_NAME_FIELDS), run_name)
    model = _text(raw, "registered_model", key, "a registered model name")
    location = _text(raw, "artifact_location", key, "an artifact location (path or URI)")
    if location is not None and "://" not in location and not location.startswith("/"):
        location = str((base / location).resolve())
    timeout = raw.get("timeout_s")
    expect(timeout is None or (isinstance(timeout, int) and not isinstance(timeout, bool)
                               and 1 <= timeout <= 3600), f"{key}.timeout_s",
           "a whole number of seconds between 1 and 3600", timeout)
    retries = raw.get("retries")
    expect(retries is None or (isinstance(retries, int) and not isinstance(retries, bool)
                               and 0 <= retries <= 10), f"{key}.retries",
           "an integer between 0 and 10", retries)
    return MlflowConfig(uri, experiment, run_name, model, location, timeout, retries)


#: the sections of ``sinks:`` and their validators
SECTIONS: Registry[Callable[[Any, str, Path], Any]] = Registry("sinks section")
SECTIONS.register("webhook", _webhook)
SECTIONS.register("prometheus", _prometheus)
SECTIONS.register("otlp", _otlp)
SECTIONS.register("mlflow", _mlflow)


def load_sinks(raw: Any, *, base_dir: str | Path | None = None) -> SinksConfig:
    """Validate the raw ``sinks:`` mapping into a :class:`SinksConfig`.

    Parameters
    ----------
    raw : the mapping from the config file, a :class:`SinksConfig`, or None (no sinks).
    base_dir : folder a relative ``textfile`` path is resolved against (default: cwd).

    Raises
    ------
    ConfigError
        naming ``sinks.<key>`` and what was expected; an unknown key lists the known ones.

    >>> load_sinks({"webhook": {"url_env": "HOOK"}}).webhook.retries
    3
    """
    if raw is None:
        return SinksConfig()
    if isinstance(raw, SinksConfig):
        return raw
    check_keys(raw, SECTIONS.names(), "sinks")
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    parsed = {name: SECTIONS.get(name)(value, f"sinks.{name}", base)
              for name, value in raw.items() if value is not None}
    return SinksConfig(**parsed)
