"""Instrument a FastAPI model service: one span, one set of metrics and one log row per
prediction, all carrying the same trace id.

The HTTP server span comes from ``opentelemetry-instrumentation-fastapi`` (the field's
convention); :meth:`Instrumentation.prediction` opens a ``predict`` span under it with a
child span per stage, records :class:`~obskit.instrument.metrics.PredictionMetrics` and
writes the row through a prediction logger.

Span attributes of ``predict`` (OpenTelemetry has no semantic convention for a classic
model's prediction, so they live in the ``obskit.`` namespace as its naming guide asks;
``error.type`` is the semantic convention's):

=========================  =====================================================
``obskit.model.name``      the model name
``obskit.model.version``   the model version that served the request
``obskit.request_id``      the request id (also in the answer and the log row)
``obskit.prediction``      the prediction
``obskit.score``           the score (probability of the positive class)
``obskit.synthetic``        true for a synthetic request (``obskit probe``): no log row
``error.type``             the exception's class name, on failure
=========================  =====================================================

Examples
--------
>>> inst = Instrumentation(model_name="credit", model_version="v1",  # doctest: +SKIP
...                        registry=registry, tracer_provider=provider, logger=logger)
>>> inst.instrument_app(app)  # doctest: +SKIP
>>> with inst.prediction(request_id) as p:  # doctest: +SKIP
...     with p.stage("inference"):
...         score = model.predict_proba(X)[0, 1]
...     p.set_result(features=features, prediction=int(score >= 0.5), score=score)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from opentelemetry.trace import Span, Status, StatusCode, Tracer

from obskit.instrument.metrics import PredictionMetrics

if TYPE_CHECKING:
    from fastapi import FastAPI, Request
    from opentelemetry.sdk.trace import TracerProvider
    from prometheus_client import CollectorRegistry
    from starlette.responses import Response

__all__ = ["Instrumentation", "Prediction", "EXCLUDED_URLS"]

#: routes that make no span (regular expressions searched in the request URL)
EXCLUDED_URLS = "/livez$,/readyz$,/metrics$"


class _Logger(Protocol):
    def log(self, row: Mapping[str, Any]) -> bool: ...  # pragma: no cover
    def stats(self) -> Any: ...  # pragma: no cover


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value (JSON and span attributes need those)."""
    item = getattr(value, "item", None)
    return item() if callable(item) and not isinstance(value, (str, bytes)) else value


def _attribute(value: Any) -> str | bool | int | float:
    value = _plain(value)
    return value if isinstance(value, (str, bool, int, float)) else str(value)


class Prediction:
    """One prediction in flight: its stages and its result (made by
    :meth:`Instrumentation.prediction`)."""

    def __init__(self, tracer: Tracer, span: Span, request_id: str, model_version: str) -> None:
        self._tracer = tracer
        self.span = span
        self.request_id = request_id
        self.model_version = model_version
        self.trace_id = format(span.get_span_context().trace_id, "032x")
        self.features: Mapping[str, Any] | None = None
        self.prediction: Any = None
        self.score: float | None = None

    @contextmanager
    def stage(self, name: str) -> Iterator[Span]:
        """A child span of ``predict`` (e.g. ``preprocess``, ``inference``, ``postprocess``).

        Parameters
        ----------
        name : str
            The span name.

        Yields
        ------
        Span
            The stage's span; an exception leaving it is recorded and sets status ERROR.
        """
        with self._tracer.start_as_current_span(name) as span:
            yield span

    def set_result(self, *, features: Mapping[str, Any], prediction: Any,
                   score: float | None = None) -> None:
        """Keep what the log row and the span need.

        Parameters
        ----------
        features : mapping
            The model input (nested under ``features`` in the log row; not a span
            attribute).
        prediction : object
            The prediction (a numpy scalar is turned into its Python value).
        score : float, optional
            The score.
        """
        self.features = {k: _plain(v) for k, v in features.items()}
        self.prediction = _plain(prediction)
        self.score = None if score is None else float(score)
        self.span.set_attribute("obskit.prediction", _attribute(self.prediction))
        if self.score is not None:
            self.span.set_attribute("obskit.score", self.score)


class Instrumentation:
    """Metrics, spans and log rows for a FastAPI model service.

    Parameters
    ----------
    app : FastAPI, optional
        Instrumented at once when given (see :meth:`instrument_app`).
    model_name : str
        The model's name (metric label, span attribute).
    model_version : str or callable
        The version served, or a function returning it (None while no model is loaded);
        a callable is read on every request, so swapping the model needs no restart.
    registry : CollectorRegistry
        The app's own Prometheus registry.
    tracer_provider : TracerProvider
        The app's own tracer provider (see :func:`obskit.instrument.tracing.tracer_provider`).
    logger : PredictionLogger, optional
        Where log rows go (its ``stats`` are exposed as metrics); None writes no rows.
        The ``logger`` attribute may be set later (e.g. in the app's lifespan, so that
        building the app starts no writer thread).
    excluded_urls : str, default :data:`EXCLUDED_URLS`
        Comma-separated regular expressions of URLs that make no HTTP span.
    """

    def __init__(
        self,
        app: FastAPI | None = None,
        *,
        model_name: str,
        model_version: str | Callable[[], str | None],
        registry: CollectorRegistry,
        tracer_provider: TracerProvider,
        logger: _Logger | None = None,
        excluded_urls: str = EXCLUDED_URLS,
    ) -> None:
        self.model_name = model_name
        self._version = model_version
        self.tracer_provider = tracer_provider
        self.tracer = tracer_provider.get_tracer("obskit.instrument")
        self.logger = logger
        self.excluded_urls = excluded_urls
        self.metrics = PredictionMetrics(registry, model_name=model_name,
                                         model_version=self.model_version(),
                                         logger_stats=self._logger_stats)
        if app is not None:
            self.instrument_app(app)

    def _logger_stats(self) -> Any:
        return None if self.logger is None else self.logger.stats()

    def model_version(self) -> str | None:
        """The version served now.

        Returns
        -------
        str or None
            ``model_version`` called when it is a callable, else as given.
        """
        return self._version() if callable(self._version) else self._version

    def instrument_app(self, app: FastAPI) -> None:
        """Add the HTTP server spans and count request validation failures.

        Uses ``FastAPIInstrumentor.instrument_app`` with this tracer provider (never the
        global one), without the ASGI ``http receive`` / ``http send`` internal spans
        (``exclude_spans``: one server span per request), and registers a
        ``RequestValidationError`` handler that counts ``outcome="invalid_input"`` and
        answers FastAPI's usual 422.

        Parameters
        ----------
        app : FastAPI
            The application.
        """
        from fastapi.exceptions import RequestValidationError
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(app, tracer_provider=self.tracer_provider,
                                           excluded_urls=self.excluded_urls,
                                           exclude_spans=["receive", "send"])
        app.add_exception_handler(RequestValidationError, self._invalid_input)

    async def _invalid_input(self, request: Request, exc: Exception) -> Response:
        from fastapi.exception_handlers import request_validation_exception_handler
        from fastapi.exceptions import RequestValidationError

        if not isinstance(exc, RequestValidationError):  # registered for this class only
            raise exc
        self.count_invalid_input()
        return await request_validation_exception_handler(request, exc)

    def count_invalid_input(self) -> None:
        """Count one request rejected before the model saw it (no span, no log row)."""
        self.metrics.observe(outcome="invalid_input", model_version=self._show_served())

    def _show_served(self) -> str | None:
        """The version served now, shown in ``obskit_model_info`` (read afresh, so a
        request that ran on the previous model never shows that one again)."""
        current = self.model_version()
        if current is not None:
            self.metrics.set_version(current)
        return current

    @contextmanager
    def prediction(self, request_id: str, features: Mapping[str, Any] | None = None, *,
                   synthetic: bool = False,
                   model_version: str | None = None) -> Iterator[Prediction]:
        """Instrument one prediction: span ``predict``, metrics and the log row.

        Parameters
        ----------
        request_id : str
            The request's id (span attribute and log row; never a metric label).
        features : mapping, optional
            The input, logged even when the prediction fails before
            :meth:`Prediction.set_result`.
        synthetic : bool, default False
            A synthetic request, such as an ``obskit probe`` golden request (header
            :data:`obskit.instrument.probe.PROBE_HEADER`): traced (attribute
            ``obskit.synthetic``) and counted in the metrics, but written to no log row,
            so that probes repeating the same few inputs never reach the drift and
            performance analysis of real traffic.
        model_version : str, optional
            The version of the model object that serves this request, when the service
            swaps models (read it together with the model, so they match); default
            :meth:`model_version`.

        Yields
        ------
        Prediction
            Open stages with :meth:`Prediction.stage`, give the answer with
            :meth:`Prediction.set_result`.

        Raises
        ------
        Exception
            Whatever the block raises, after the span got status ERROR with the exception
            recorded, the error was counted by class name and a row with status 500 and the
            error message was written.
        """
        version = model_version or self.model_version() or "unknown"
        attributes: dict[str, str | bool] = {
            "obskit.model.name": self.model_name, "obskit.model.version": version,
            "obskit.request_id": request_id}
        if synthetic:
            attributes["obskit.synthetic"] = True
        start = time.perf_counter()
        with self.tracer.start_as_current_span(
                "predict", attributes=attributes, record_exception=False,
                set_status_on_exception=False) as span:
            p = Prediction(self.tracer, span, request_id, version)
            if features is not None:
                p.features = {k: _plain(v) for k, v in features.items()}
            try:
                yield p
            except Exception as exc:
                elapsed = time.perf_counter() - start
                error_type = type(exc).__name__
                span.record_exception(exc)
                span.set_attribute("error.type", error_type)
                span.set_status(Status(StatusCode.ERROR, f"{error_type}: {exc}"))
                self._show_served()
                self.metrics.observe(outcome="error", model_version=version,
                                     duration_s=elapsed, error_type=error_type)
                if not synthetic:
                    self._log(p, elapsed, status=500, error=f"{error_type}: {exc}")
                raise
            elapsed = time.perf_counter() - start
            self._show_served()
            self.metrics.observe(outcome="success", model_version=version,
                                 duration_s=elapsed, score=p.score)
            if not synthetic:
                self._log(p, elapsed, status=200, error=None)

    def _log(self, p: Prediction, elapsed_s: float, *, status: int, error: str | None) -> None:
        if self.logger is None:
            return
        self.logger.log({
            "request_id": p.request_id, "model_version": p.model_version,
            "features": dict(p.features or {}), "prediction": p.prediction, "score": p.score,
            "latency_ms": round(elapsed_s * 1000.0, 3), "status": status, "error": error,
            "trace_id": p.trace_id,
        })
