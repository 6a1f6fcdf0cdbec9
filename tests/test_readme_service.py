"""README, "Serve and instrument" → "Your own service": the app printed there runs as
written (its code block taken from README.md), from a folder where ``obskit demo`` ran."""

from __future__ import annotations

import json
import re
import runpy
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from obskit.demo import generate_demo  # noqa: E402

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_app_code() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Your own service"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_service_serves_logs_traces_and_counts(tmp_path, monkeypatch):
    demo = generate_demo(tmp_path / "demo-data", rows=2000)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my_service.py").write_text(readme_app_code(), encoding="utf-8")
    app = runpy.run_path(str(tmp_path / "my_service.py"), run_name="my_service")["app"]
    golden = [json.loads(x) for x in demo.golden.read_text().splitlines()[:5]]
    with TestClient(app) as client:
        answers = [client.post("/predict", json={"features": g["features"]}).json()
                   for g in golden]
        metrics = client.get("/metrics").text
    assert [a["prediction"] for a in answers] == [g["prediction"] for g in golden]
    assert [a["score"] for a in answers] == pytest.approx([g["score"] for g in golden],
                                                          abs=1e-6)
    rows = [json.loads(line) for f in sorted((tmp_path / "prediction-logs").glob("*.jsonl"))
            for line in f.read_text().splitlines()]
    assert [r["request_id"] for r in rows] == [a["request_id"] for a in answers]
    assert [r["trace_id"] for r in rows] == [a["trace_id"] for a in answers]
    spans = {s["traceId"] for line in (tmp_path / "traces.jsonl").read_text().splitlines()
             for rs in json.loads(line)["resourceSpans"] for ss in rs["scopeSpans"]
             for s in ss["spans"]}
    assert {a["trace_id"] for a in answers} <= spans
    counted = {s.labels["outcome"]: s.value for f in text_string_to_metric_families(metrics)
               for s in f.samples if s.name == "obskit_prediction_requests_total"}
    assert counted["success"] == len(golden) and counted["error"] == 0
