"""The example model service: ``POST /predict``, ``GET /livez``, ``/readyz``, ``/metrics``.

Run from the repository root (configuration: :mod:`examples.service.settings`)::

    python -m uvicorn examples.service.app:app --port 8000

``/readyz`` answers 503 with the failing checks (``model``, ``log_dir``, ``golden``) until
the model is loaded (in a background thread, so ``/livez`` answers meanwhile), the log
directory is writable and the golden requests give the expected answers; then 200.

With ``OBSKIT_MODEL_ALIAS`` the model is the version a model alias points to, followed
without a restart (:mod:`examples.service.follow`); ``/readyz`` then also shows the alias,
the version served and the last version that could not be served.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from examples.service.follow import AliasFollower, Served
from examples.service.model import ServedModel, check_golden, file_version
from examples.service.schema import PredictRequest, check_features
from examples.service.settings import Settings
from obskit.exceptions import ConfigError, InputError
from obskit.instrument.aliases import AliasStore, open_alias_store, parse_model_ref
from obskit.instrument.fastapi import Instrumentation
from obskit.instrument.logger import PredictionLogger
from obskit.instrument.tracing import tracer_provider as make_tracer_provider

__all__ = ["create_app", "app", "InjectedFault"]

#: uvicorn's own error log (shown by its default logging configuration)
_log = logging.getLogger("uvicorn.error")

#: longest delay X-Obskit-Delay-Ms may ask for
MAX_DELAY_MS = 60_000


class InjectedFault(RuntimeError):
    """The failure asked for by ``X-Obskit-Fail`` (fault injection only)."""


class _State:
    """What readiness depends on, filled in by the loader thread (or the alias follower)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.served: Served | None = None
        self.follower: AliasFollower | None = None
        self._model_check = "loading"
        self._golden_check = "pending"

    @property
    def version(self) -> str | None:
        served = self.served
        return served.version if served is not None else self.settings.model_version

    def checks(self) -> dict[str, str]:
        f = self.follower
        return {"model": f.model_check if f else self._model_check,
                "golden": f.golden_check if f else self._golden_check}

    def swap(self, served: Served, inst: Instrumentation) -> None:
        self.served = served  # one assignment: a request reads model and version together
        inst.metrics.set_version(served.version)

    def load(self, inst: Instrumentation) -> None:
        s = self.settings
        try:
            model = ServedModel(s.model, s.trust_types)
            version = s.model_version or file_version(s.model)
        except Exception as exc:  # any load failure is reported by /readyz, and logged
            self._model_check = f"failed: {exc}"
            self._golden_check = "not checked: the model did not load"
            _log.error("the model did not load; /readyz and /predict answer 503: %s", exc)
            return
        self.swap(Served(model, version), inst)
        self._model_check = "ok"
        if s.golden is None or (not s.golden.exists() and not s.golden_required):
            self._golden_check = f"skipped: no golden file at {s.golden}"
        elif not s.golden.exists():
            self._golden_check = f"failed: golden file {s.golden} does not exist"
        else:
            problem = check_golden(model, s.golden)
            self._golden_check = "ok" if problem is None else f"failed: {problem}"
            if problem is not None:
                _log.error("the golden check failed; /readyz answers 503: %s", problem)


def _alias_store(ref: str) -> tuple[AliasStore, str]:
    """The alias store and the alias ``OBSKIT_MODEL_ALIAS`` names (a JSON alias file must
    exist: it names the model)."""
    target, name, alias = parse_model_ref(ref)
    if name is None and not Path(target).is_file():
        raise ConfigError(f"OBSKIT_MODEL_ALIAS: alias file {target!r} does not exist",
                          key="OBSKIT_MODEL_ALIAS")
    return open_alias_store(target, model_name=name), alias


def create_app(settings: Settings | None = None, *,
               tracer_provider: TracerProvider | None = None) -> FastAPI:
    """Build the service with its own Prometheus registry, tracer provider and logger.

    Nothing is loaded or opened here: the lifespan opens the prediction log and loads the
    model (in a thread); shutting down flushes and closes the log, then shuts the tracer
    provider down (exporting the spans still batched).

    Parameters
    ----------
    settings : Settings, optional
        Default :meth:`Settings.from_env`.
    tracer_provider : TracerProvider, optional
        Default one built from ``settings.traces``
        (:func:`obskit.instrument.tracing.tracer_provider`).

    Returns
    -------
    FastAPI
    """
    s = settings or Settings.from_env()
    state = _State(s)
    registry = CollectorRegistry()
    model_name = s.model_name
    if s.model_alias is not None:
        store, alias = _alias_store(s.model_alias)
        model_name = model_name or store.name
        state.follower = AliasFollower(store, alias, trust_types=s.trust_types,
                                       golden=s.golden, interval_s=s.alias_refresh_s,
                                       registry=registry)
    provider = tracer_provider or make_tracer_provider(
        s.traces, service_name="obskit-example-service", service_version=s.model_version)
    inst = Instrumentation(model_name=model_name, model_version=lambda: state.version,
                           registry=registry, tracer_provider=provider)
    if state.follower is not None:
        state.follower.on_swap.append(lambda served: state.swap(served, inst))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        logger = PredictionLogger(s.log_dir, format=s.log_format)  # type: ignore[arg-type]
        inst.logger = app.state.logger = logger
        if state.follower is not None:
            state.follower.start()
        else:
            threading.Thread(target=state.load, args=(inst,), name="model-loader",
                             daemon=True).start()
        try:
            yield
        finally:
            if state.follower is not None:
                state.follower.stop()
            logger.close()  # flushes: every row of an answered request is in a file
            provider.shutdown()

    app = FastAPI(title="obskit example model service", lifespan=lifespan)
    app.state.settings, app.state.registry, app.state.instrumentation = s, registry, inst
    app.state.logger = None
    inst.instrument_app(app)

    @app.get("/livez")
    def livez() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        log_check, logger = "not open", app.state.logger
        if logger is not None:
            try:
                logger.check_writable()
                log_check = "ok"
            except OSError as exc:
                log_check = f"failed: {exc}"
        checks = {**state.checks(), "log_dir": log_check}
        ready = all(v == "ok" or v.startswith("skipped") for v in checks.values())
        body: dict[str, Any] = {"status": "ready" if ready else "not ready",
                                "checks": checks}
        if state.follower is not None:
            body["alias"] = state.follower.describe()
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @app.post("/predict")
    def predict(
        body: PredictRequest,
        request: Request,
        x_request_id: str | None = Header(default=None),
        x_obskit_delay_ms: int | None = Header(default=None, ge=0, le=MAX_DELAY_MS),
        x_obskit_fail: str | None = Header(default=None),
        x_obskit_probe: str | None = Header(default=None),
    ) -> Any:
        served = state.served  # the model and its version, read once
        if served is None:
            return JSONResponse({"detail": f"model not loaded: {state.checks()['model']}"},
                                status_code=503)
        model = served.model
        errors = check_features(body.features, model.features, model.kinds)
        if errors:
            raise RequestValidationError(errors, body=body.model_dump())
        request_id = x_request_id or uuid.uuid4().hex
        features = {name: body.features[name] for name in model.features}
        try:
            # a probe's golden request (PROBE_HEADER) is traced and counted, never logged
            with inst.prediction(request_id, features, synthetic=bool(x_obskit_probe),
                                 model_version=served.version) as p:
                with p.stage("preprocess"):
                    frame = model.frame(features)
                with p.stage("inference"):
                    if s.fault_injection and x_obskit_delay_ms:
                        time.sleep(x_obskit_delay_ms / 1000.0)
                    if s.fault_injection and x_obskit_fail:
                        raise InjectedFault(f"injected failure: {x_obskit_fail}")
                    output = model.infer(frame)
                with p.stage("postprocess"):
                    prediction, score = model.decide(output)
                    p.set_result(features=features, prediction=prediction, score=score)
        except Exception as exc:  # counted, traced and logged by inst.prediction
            return JSONResponse(
                {"detail": f"prediction failed: {type(exc).__name__}: {exc}",
                 "request_id": request_id, "model_version": p.model_version,
                 "trace_id": p.trace_id}, status_code=500)
        return {"prediction": p.prediction, "score": p.score, "request_id": request_id,
                "model_version": p.model_version, "trace_id": p.trace_id}

    return app


def _from_env() -> FastAPI:
    """The app uvicorn serves; a bad ``OBSKIT_*`` setting stops it with the message and
    exit code 2 (like obskit's commands), not a traceback."""
    try:
        return create_app()
    except (ConfigError, InputError) as exc:
        print(f"obskit example service: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


app = _from_env()
