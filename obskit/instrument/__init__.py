"""The serving side: prediction logs, Prometheus metrics and OpenTelemetry spans from a
served model, in obskit's log schema (README, "Serve and instrument").

It knows only the log schema and the metric names; it never imports the analysis.
FastAPI, uvicorn and OpenTelemetry come with the ``serve`` extra
(``pip install "obskit[serve]"``) and are imported only when used.
"""

from __future__ import annotations

__all__: list[str] = []
