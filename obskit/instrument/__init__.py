"""The serving side: prediction logs, Prometheus metrics and OpenTelemetry spans from a
served model, in obskit's log schema (README, "Serve and instrument").

It knows only the log schema and the metric names; it never imports the analysis.
FastAPI, uvicorn and OpenTelemetry come with the ``serve`` extra
(``pip install "obskit[serve]"``) and are imported only when used: the names below are
loaded from their modules on first use, so ``import obskit.instrument`` imports none of
them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from obskit.instrument.logger import LoggerStats, PredictionLogger
    from obskit.instrument.otlp_json import OTLPJsonFileExporter, encode_traces_data
    from obskit.instrument.tracing import tracer_provider

__all__ = ["PredictionLogger", "LoggerStats", "OTLPJsonFileExporter", "encode_traces_data",
           "tracer_provider"]

#: public name → the submodule that defines it
_HOMES = {
    "PredictionLogger": "logger",
    "LoggerStats": "logger",
    "OTLPJsonFileExporter": "otlp_json",
    "encode_traces_data": "otlp_json",
    "tracer_provider": "tracing",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
