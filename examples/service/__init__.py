"""An instrumented model service: FastAPI + obskit.instrument (README, "Serve and instrument").

Start it from the repository root::

    python -m uvicorn examples.service.app:app --port 8000
"""
