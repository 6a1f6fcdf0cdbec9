"""obskit.instrument.fastapi through the example service, in process (TestClient).

Spans go to an in-memory exporter; log rows to a tmp directory; metrics are parsed with
prometheus_client's parser.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

pytest.importorskip("fastapi")
from fastapi import FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode  # noqa: E402
from prometheus_client import CollectorRegistry, generate_latest  # noqa: E402
from service_support import (  # noqa: E402
    check_histograms,
    feature_rows,
    log_rows,
    samples,
    value,
    wait_for,
    write_golden,
)

from examples.service.app import create_app  # noqa: E402
from examples.service.settings import Settings  # noqa: E402
from obskit.demo import generate_demo  # noqa: E402
from obskit.instrument.fastapi import Instrumentation  # noqa: E402

REQUESTS = "obskit_prediction_requests_total"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    files = generate_demo(tmp_path_factory.mktemp("demo"), rows=2000)
    return files


@pytest.fixture
def settings(demo, tmp_path):
    golden = write_golden(demo.reference, tmp_path / "golden.jsonl")
    return Settings(model=demo.model, model_name="credit", log_dir=tmp_path / "logs",
                    golden=golden, golden_required=True, fault_injection=True)


def started(settings: Settings):
    """(app, exporter) with spans kept in memory."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return create_app(settings, tracer_provider=provider), exporter


def ready(client: TestClient) -> dict:
    response = wait_for(lambda: (r := client.get("/readyz")).status_code == 200 and r,
                        timeout_s=60, what="/readyz 200")
    return response.json()


def test_a_prediction_has_http_predict_and_stage_spans_and_one_log_row(demo, settings):
    app, exporter = started(settings)
    features = feature_rows(demo.reference, 1)[0]
    with TestClient(app) as client:
        assert ready(client)["checks"]["golden"] == "ok"
        response = client.post("/predict", json={"features": features},
                               headers={"X-Request-ID": "req-42"})
    assert response.status_code == 200
    answer = response.json()
    assert set(answer) == {"prediction", "score", "request_id", "model_version", "trace_id"}
    assert answer["request_id"] == "req-42" and answer["prediction"] in (0, 1)
    assert answer["model_version"].startswith("sha256-") and len(answer["model_version"]) == 19

    spans = exporter.get_finished_spans()
    [predict] = [s for s in spans if s.name == "predict"]
    [server] = [s for s in spans if s.kind == SpanKind.SERVER]
    assert server.name == "POST /predict"
    assert predict.parent.span_id == server.context.span_id
    stages = {s.name: s for s in spans if s.parent and s.parent.span_id == predict.context.span_id}
    assert set(stages) == {"preprocess", "inference", "postprocess"}
    assert predict.attributes["obskit.model.name"] == "credit"
    assert predict.attributes["obskit.model.version"] == answer["model_version"]
    assert predict.attributes["obskit.request_id"] == "req-42"
    assert predict.attributes["obskit.prediction"] == answer["prediction"]
    assert predict.attributes["obskit.score"] == pytest.approx(answer["score"])
    assert answer["trace_id"] == format(predict.context.trace_id, "032x")
    assert {s.context.trace_id for s in spans} == {predict.context.trace_id}

    [row] = log_rows(settings.log_dir)
    assert row["trace_id"] == answer["trace_id"] and row["request_id"] == "req-42"
    assert row["features"] == features and row["status"] == 200 and row["error"] is None
    assert row["prediction"] == answer["prediction"] and row["score"] == answer["score"]
    assert row["model_version"] == answer["model_version"] and row["latency_ms"] > 0
    assert row["timestamp"].endswith("Z")


def test_probes_and_metrics_make_no_spans_and_no_rows(settings):
    app, exporter = started(settings)
    with TestClient(app) as client:
        ready(client)
        for path in ("/livez", "/readyz", "/metrics"):
            assert client.get(path).status_code == 200
    assert exporter.get_finished_spans() == ()
    assert log_rows(settings.log_dir) == []


def test_a_probe_request_is_traced_and_counted_but_not_logged(demo, settings):
    """``obskit probe`` marks its golden requests (PROBE_HEADER): the answer and the span
    are real, the prediction log gets no row (synthetic inputs would skew drift)."""
    from obskit.instrument.probe import PROBE_HEADER

    app, exporter = started(settings)
    features = feature_rows(demo.reference, 1)[0]
    with TestClient(app) as client:
        ready(client)
        answer = client.post("/predict", json={"features": features},
                             headers={PROBE_HEADER: "1"})
        assert answer.status_code == 200
        metrics = samples(client.get("/metrics").text)
    (predict,) = [s for s in exporter.get_finished_spans() if s.name == "predict"]
    assert predict.attributes["obskit.synthetic"] is True
    assert format(predict.context.trace_id, "032x") == answer.json()["trace_id"]
    assert value(metrics, REQUESTS, outcome="success") == 1
    assert log_rows(settings.log_dir) == []


BAD = [
    ([1, 2], ("body",), "valid dictionary"),
    ({"features": [1, 2]}, ("body", "features"), "valid dictionary"),
    ("age-as-object", ("body", "features", "age"), "number, a string, a boolean or null"),
    ({"rows": {}}, ("body", "features"), "Field required"),
    ("missing", ("body", "features", "region"), "needs feature 'region'"),
    ("age-as-text", ("body", "features", "age"), "valid number"),
    ("region-as-number", ("body", "features", "region"), "valid string"),
    ("age-NaN", ("body", "features", "age"), "finite number"),
    ("age-1e400", ("body", "features", "age"), "finite number"),
    ("age-10**40", ("body", "features", "age"), "finite number"),
]


@pytest.mark.parametrize(("body", "loc", "reason"), BAD, ids=[str(b[1]) + b[2] for b in BAD])
def test_bad_input_is_422_naming_the_field_counted_without_span_or_row(
        demo, settings, body, loc, reason):
    features = feature_rows(demo.reference, 1)[0]
    if body == "missing":
        body = {"features": {k: v for k, v in features.items() if k != "region"}}
    elif body == "age-as-object":
        body = {"features": {**features, "age": {"years": 40}}}
    elif body == "age-as-text":
        body = {"features": {**features, "age": "forty"}}
    elif body == "region-as-number":
        body = {"features": {**features, "region": 3}}
    raw = None
    if isinstance(body, str) and body.startswith("age-"):  # JSON that json.dumps won't write
        number = body.removeprefix("age-").replace("10**40", str(10**40))
        raw = json.dumps({"features": {**features, "age": 0}}).replace(
            '"age": 0', f'"age": {number}')
    app, exporter = started(settings)
    with TestClient(app) as client:
        ready(client)
        response = (client.post("/predict", json=body) if raw is None else
                    client.post("/predict", content=raw,
                                headers={"Content-Type": "application/json"}))
        metrics = samples(client.get("/metrics").text)
    assert response.status_code == 422
    [error] = [e for e in response.json()["detail"] if tuple(e["loc"][:len(loc)]) == loc]
    assert reason in error["msg"]
    assert value(metrics, REQUESTS, outcome="invalid_input") == 1
    assert value(metrics, REQUESTS, outcome="success") == 0
    assert [s.name for s in exporter.get_finished_spans()] == ["POST /predict"]
    assert log_rows(settings.log_dir) == []


def test_a_failed_prediction_is_traced_counted_and_logged(demo, settings):
    app, exporter = started(settings)
    features = feature_rows(demo.reference, 1)[0]
    with TestClient(app) as client:
        ready(client)
        response = client.post("/predict", json={"features": features},
                               headers={"X-Obskit-Fail": "disk on fire"})
        metrics = samples(client.get("/metrics").text)
    assert response.status_code == 500
    assert "InjectedFault: injected failure: disk on fire" in response.json()["detail"]
    spans = {s.name: s for s in exporter.get_finished_spans()}
    predict = spans["predict"]
    assert predict.status.status_code == StatusCode.ERROR
    assert predict.attributes["error.type"] == "InjectedFault"
    assert [e.name for e in predict.events] == ["exception"]
    assert spans["inference"].status.status_code == StatusCode.ERROR
    assert spans["POST /predict"].status.status_code == StatusCode.ERROR
    assert value(metrics, "obskit_prediction_errors_total", error_type="InjectedFault") == 1
    assert value(metrics, REQUESTS, outcome="error") == 1
    [row] = log_rows(settings.log_dir)
    assert row["status"] == 500 and "disk on fire" in row["error"]
    assert row["prediction"] is None and row["features"] == features
    assert row["trace_id"] == response.json()["trace_id"] == format(predict.context.trace_id,
                                                                     "032x")


def test_metrics_count_every_outcome_with_bounded_labels(demo, settings):
    app, _ = started(settings)
    rows = feature_rows(demo.reference, 30)
    ids = []
    with TestClient(app) as client:
        ready(client)
        for k, features in enumerate(rows):
            headers = {"X-Request-ID": f"req-{k}"}
            if k % 10 == 3:
                headers["X-Obskit-Fail"] = "yes"
            ids.append(headers["X-Request-ID"])
            client.post("/predict", json={"features": features}, headers=headers)
        for _ in range(4):
            client.post("/predict", json={"features": {}})
        text = client.get("/metrics").text
    found = samples(text)
    closed = samples(generate_latest(app.state.registry).decode())  # the logger is closed
    assert value(found, REQUESTS, outcome="success") == 27
    assert value(found, REQUESTS, outcome="error") == 3
    assert value(found, REQUESTS, outcome="invalid_input") == 4
    assert value(found, "obskit_prediction_duration_seconds_count") == 30
    assert value(found, "obskit_prediction_score_count") == 27
    assert check_histograms(text) == 2
    info = [dict(ls) for (n, ls), _ in found.items() if n == "obskit_model_info"]
    assert info == [{"model_name": "credit", "model_version": info[0]["model_version"]}]
    assert value(closed, "obskit_prediction_log_rows_written_total") == 30
    assert value(closed, "obskit_prediction_log_rows_dropped_total") == 0
    assert value(closed, "obskit_prediction_log_queue_depth") == 0
    labels = {v for (_, ls) in found for _, v in ls}
    assert not labels & set(ids) and not any("/predict" in v for v in labels)
    assert len(log_rows(settings.log_dir)) == 30


def test_two_apps_in_one_process_keep_their_own_metrics(demo, settings, tmp_path):
    features = feature_rows(demo.reference, 1)[0]
    first, _ = started(settings)
    second, _ = started(replace(settings, log_dir=tmp_path / "logs2", model_name="other"))
    with TestClient(first) as a, TestClient(second) as b:
        ready(a), ready(b)
        for _ in range(3):
            assert a.post("/predict", json={"features": features}).status_code == 200
        assert b.post("/predict", json={"features": features}).status_code == 200
        found_a, found_b = samples(a.get("/metrics").text), samples(b.get("/metrics").text)
    assert value(found_a, REQUESTS, outcome="success", model_name="credit") == 3
    assert value(found_b, REQUESTS, outcome="success", model_name="other") == 1
    assert value(found_b, REQUESTS, model_name="credit") == 0


def test_readyz_names_the_failing_check_while_livez_answers(demo, settings, tmp_path):
    wrong = write_golden(demo.reference, tmp_path / "wrong.jsonl", flip=True)
    (tmp_path / "a-file").write_text("")
    for broken, check, says in [
        (replace(settings, log_dir=tmp_path / "a-file" / "logs"), "log_dir", "not writable"),
        (replace(settings, golden=wrong), "golden", "wrong.jsonl line 1: prediction"),
        (replace(settings, model=tmp_path / "none.skops"), "model", "does not exist"),
        (replace(settings, golden=tmp_path / "absent.jsonl"), "golden", "does not exist"),
    ]:
        app, _ = started(broken)
        with TestClient(app) as client:
            assert client.get("/livez").status_code == 200
            body = wait_for(lambda c=client, k=check: (r := c.get("/readyz").json())["checks"][k]
                            not in ("loading", "pending") and r, what=check)
            assert client.get("/readyz").status_code == 503
            assert says in body["checks"][check] and body["status"] == "not ready"
            if check == "model":
                assert client.post("/predict", json={"features": {}}).status_code == 503


def test_without_a_golden_file_readiness_says_the_check_was_skipped(settings, tmp_path):
    app, _ = started(replace(settings, golden=tmp_path / "none.jsonl", golden_required=False))
    with TestClient(app) as client:
        assert ready(client)["checks"]["golden"].startswith("skipped: no golden file")


def test_fault_injection_headers_do_nothing_unless_enabled(demo, settings):
    app, _ = started(replace(settings, fault_injection=False))
    features = feature_rows(demo.reference, 1)[0]
    with TestClient(app) as client:
        ready(client)
        response = client.post("/predict", json={"features": features},
                               headers={"X-Obskit-Fail": "1"})
    assert response.status_code == 200


def test_the_model_version_is_read_per_request():
    version = ["v1"]
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    registry = CollectorRegistry()
    inst = Instrumentation(FastAPI(), model_name="m", model_version=lambda: version[0],
                           registry=registry, tracer_provider=provider)
    with inst.prediction("r1") as p:
        p.set_result(features={"x": 1}, prediction=1, score=0.9)
    version[0] = "v2"
    with inst.prediction("r2") as p:
        p.set_result(features={"x": 1}, prediction=0, score=0.1)
    found = samples(generate_latest(registry).decode())
    assert value(found, REQUESTS, model_version="v1", outcome="success") == 1
    assert value(found, REQUESTS, model_version="v2", outcome="success") == 1
    assert [dict(ls)["model_version"] for (n, ls) in found if n == "obskit_model_info"] == ["v2"]
    assert [s.attributes["obskit.model.version"] for s in exporter.get_finished_spans()] == [
        "v1", "v2"]


def test_a_bare_tree_model_takes_numbers_only_and_names_its_trust_setting(tmp_path):
    """A model without a ColumnTransformer (a bare forest) takes numbers: text or a
    boolean is a 422, not a 500; its skops types not trusted are named with the service's
    setting, OBSKIT_TRUST_TYPES, and loading with it works."""
    import pandas as pd
    import skops.io as sio
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier

    from examples.service.model import ServedModel
    from examples.service.schema import check_features

    data = load_breast_cancer(as_frame=True)
    X = data.data.iloc[:, :4]
    path = tmp_path / "forest.skops"
    sio.dump(RandomForestClassifier(n_estimators=3, random_state=0).fit(X, data.target), path)
    with pytest.raises(ValueError, match=r"OBSKIT_TRUST_TYPES=sklearn\.tree\._tree\.Tree"):
        ServedModel(path)
    model = ServedModel(path, ("sklearn.tree._tree.Tree",))
    assert model.kinds == dict.fromkeys(X.columns, "number")
    row = {k: float(v) for k, v in X.iloc[0].items()}
    assert check_features(row, model.features, model.kinds) == []
    for bad in ("abc", True):
        [error] = check_features({**row, "mean radius": bad}, model.features, model.kinds)
        assert error["loc"] == ("body", "features", "mean radius")
    prediction, score = model.predict(row)
    assert prediction in (0, 1) and 0.0 <= score <= 1.0
    expected = model.model.predict_proba(pd.DataFrame([row]))[0, 1]
    assert score == expected


def test_a_request_served_by_the_old_model_does_not_bring_its_version_back():
    """After a swap to v2, a request still running on v1 is counted under v1 but
    obskit_model_info keeps showing only the version served now."""
    version = ["v1"]
    registry = CollectorRegistry()
    inst = Instrumentation(FastAPI(), model_name="m", model_version=lambda: version[0],
                           registry=registry, tracer_provider=TracerProvider())
    with inst.prediction("old", model_version="v1") as p:
        version[0] = "v2"  # swapped while the request runs
        inst.metrics.set_version("v2")
        p.set_result(features={"x": 1}, prediction=1, score=0.9)
    found = samples(generate_latest(registry).decode())
    assert value(found, REQUESTS, model_version="v1", outcome="success") == 1
    assert [dict(ls)["model_version"] for (n, ls) in found if n == "obskit_model_info"] == ["v2"]
    assert p.model_version == "v1"
