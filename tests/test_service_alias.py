"""The example service follows a model alias without a restart (OBSKIT_MODEL_ALIAS).

Two real models fitted on the demo data (the demo's, and one fitted on flipped labels, so
their scores differ everywhere) are registered in a JSON alias file; uvicorn serves the
``champion`` alias on loopback, re-reading it every 0.5 s. A rollback shows in /metrics
(``obskit_model_info``: the old version gone), in the answers and in the next log rows; a
version that cannot be loaded keeps the previous one serving. The MLflow backend is
checked in-process. Every wait is bounded and every process is killed in teardown.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")
from service_support import feature_rows, log_rows, samples, value, wait_for  # noqa: E402
from test_service_e2e import REPO, start_service, stop, wait_listening  # noqa: E402

from examples.service.settings import Settings  # noqa: E402
from obskit.demo import generate_demo  # noqa: E402
from obskit.demo.model import dump_model, fit_model, probability  # noqa: E402
from obskit.demo.population import FEATURES  # noqa: E402
from obskit.exceptions import ConfigError  # noqa: E402
from obskit.instrument.aliases import open_alias_store  # noqa: E402
from obskit.io.model import load_model  # noqa: E402

pytestmark = pytest.mark.e2e
INFO = "obskit_model_info"
FAILURES = "obskit_model_reload_failures_total"


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Two model files and the first rows of the reference, with each model's score."""
    tmp = tmp_path_factory.mktemp("models")
    demo = generate_demo(tmp / "demo", rows=2000)
    folder = tmp / "registry" / "models"
    folder.mkdir(parents=True)
    shutil.copy(demo.model, folder / "v1.skops")
    reference = pd.read_parquet(demo.reference)
    dump_model(fit_model(reference, 1 - reference["label"].to_numpy()), folder / "v2.skops")
    rows = feature_rows(demo.reference, 20)
    frame = pd.DataFrame(rows)[list(FEATURES)]
    scores = {v: probability(load_model(folder / f"v{v}.skops"), frame) for v in ("1", "2")}
    assert np.all(np.abs(scores["1"] - scores["2"]) > 0.01)  # the versions tell apart
    return {"folder": folder, "rows": rows, "scores": scores, "tmp": tmp}


def alias_file(models, path):
    store = open_alias_store(path, model_name="credit")
    for v in ("1", "2"):
        store.register(models["folder"] / f"v{v}.skops", tags={"fitted_on": "demo"})
    store.set_alias("champion", "2", reason="first release")
    return store


def predict_all(client, rows, prefix):
    answers = []
    for k, features in enumerate(rows):
        r = client.post("/predict", json={"features": features},
                        headers={"X-Request-ID": f"{prefix}-{k}"})
        assert r.status_code == 200, r.text
        answers.append(r.json())
    return answers


def info_versions(client) -> list[str]:
    found = samples(client.get("/metrics").text)
    return sorted(dict(ls)["model_version"] for (n, ls) in found if n == INFO)


def test_a_rollback_is_served_without_restart_and_a_broken_version_is_not(models, tmp_path):
    store = alias_file(models, tmp_path / "models.json")
    rows, scores = models["rows"], models["scores"]
    proc, base = start_service(
        tmp_path, OBSKIT_MODEL_ALIAS=f"{tmp_path / 'models.json'}#champion",
        OBSKIT_ALIAS_REFRESH_S="0.5", OBSKIT_LOG_DIR=str(tmp_path / "logs"),
        OBSKIT_MODEL="", OBSKIT_MODEL_NAME="")
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            wait_for(lambda: wait_listening(proc, base, tmp_path) == 200, timeout_s=90,
                     what="/readyz 200")
            ready = client.get("/readyz").json()
            assert ready["alias"] == {"alias": "champion", "model": "credit", "version": "2",
                                      "last_error": None}
            before = predict_all(client, rows, "before")
            assert {a["model_version"] for a in before} == {"2"}
            assert np.allclose([a["score"] for a in before], scores["2"], atol=1e-9)
            assert info_versions(client) == ["2"]

            store.set_alias("champion", "1", reason="rollback: drift on v2")
            wait_for(lambda: info_versions(client) == ["1"], timeout_s=30,
                     what="obskit_model_info shows version 1 only")
            after = predict_all(client, rows, "after")
            assert {a["model_version"] for a in after} == {"1"}
            assert np.allclose([a["score"] for a in after], scores["1"], atol=1e-9)

            broken = tmp_path / "v3.skops"
            broken.write_bytes(b"not a skops archive")
            store.register(broken)
            store.set_alias("champion", "3", reason="a bad release")
            found = wait_for(
                lambda: (f := samples(client.get("/metrics").text))
                and value(f, FAILURES, reason="load") == 1 and f,
                timeout_s=30, what="the load failure counted")
            assert value(found, FAILURES) == 1  # once: a failed version is not retried
            assert info_versions(client) == ["1"]
            ready = client.get("/readyz")
            assert ready.status_code == 200, ready.text
            alias = ready.json()["alias"]
            assert alias["version"] == "1" and "version 3" in alias["last_error"]
            still = predict_all(client, rows[:5], "still")
            assert {a["model_version"] for a in still} == {"1"}
            assert value(samples(client.get("/metrics").text), "obskit_model_reloads_total",
                         model_name="credit") == 1
        # uvicorn shuts down gracefully, then re-raises the signal it caught
        assert stop(proc) in (0, -signal.SIGTERM)
    finally:
        stop(proc, sig=signal.SIGKILL if proc.poll() is None else signal.SIGTERM)
    logged = {r["request_id"]: r for r in log_rows(tmp_path / "logs")}
    for prefix, version in (("before", "2"), ("after", "1"), ("still", "1")):
        mine = [r for rid, r in logged.items() if rid.startswith(prefix + "-")]
        assert mine and {r["model_version"] for r in mine} == {version}, prefix
    after_scores = [logged[f"after-{k}"]["score"] for k in range(len(rows))]
    assert np.allclose(after_scores, scores["1"], atol=1e-6)
    log = (tmp_path / "service.log").read_text()
    assert ("model alias 'champion' of 'credit': version 3 did not load: model file "
            f"'{broken}' (version 3 of 'credit') is not a readable skops file") in log
    assert "; still serving version 1" in log
    assert "Application shutdown complete" in log


def test_the_mlflow_registry_alias_is_followed(models, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient
    from opentelemetry.sdk.trace import TracerProvider

    from examples.service.app import create_app

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    store = open_alias_store(uri, model_name="credit")
    for v in ("1", "2"):
        store.register(models["folder"] / f"v{v}.skops")
    store.set_alias("champion", "2")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    settings = Settings.from_env({"OBSKIT_MODEL_ALIAS": "models:/credit@champion",
                                  "OBSKIT_ALIAS_REFRESH_S": "0.2",
                                  "OBSKIT_LOG_DIR": str(tmp_path / "logs")})
    rows, scores = models["rows"][:5], models["scores"]
    with TestClient(create_app(settings, tracer_provider=TracerProvider())) as client:
        wait_for(lambda: client.get("/readyz").status_code == 200, timeout_s=60,
                 what="/readyz 200")
        answers = predict_all(client, rows, "mlflow")
        assert {a["model_version"] for a in answers} == {"2"}
        assert np.allclose([a["score"] for a in answers], scores["2"][:5], atol=1e-9)
        store.set_alias("champion", "1", reason="rollback")
        wait_for(lambda: info_versions(client) == ["1"], timeout_s=30,
                 what="model_info version 1")
        answers = predict_all(client, rows, "mlflow-after")
        assert {a["model_version"] for a in answers} == {"1"}
        assert np.allclose([a["score"] for a in answers], scores["1"][:5], atol=1e-9)


def test_a_version_failing_the_golden_check_is_not_served(models, tmp_path):
    from fastapi.testclient import TestClient
    from opentelemetry.sdk.trace import TracerProvider

    from examples.service.app import create_app

    store = alias_file(models, tmp_path / "models.json")
    store.set_alias("champion", "1")
    golden = tmp_path / "golden.jsonl"  # version 1's answers
    scores = models["scores"]["1"]
    golden.write_text("".join(
        json.dumps({"features": f, "prediction": int(p >= 0.5), "score": float(p)}) + "\n"
        for f, p in zip(models["rows"][:5], scores, strict=False)))
    settings = Settings.from_env({"OBSKIT_MODEL_ALIAS": f"{tmp_path}/models.json#champion",
                                  "OBSKIT_ALIAS_REFRESH_S": "0.2", "OBSKIT_GOLDEN": str(golden),
                                  "OBSKIT_LOG_DIR": str(tmp_path / "logs")})
    with TestClient(create_app(settings, tracer_provider=TracerProvider())) as client:
        ready = wait_for(lambda: (r := client.get("/readyz")).status_code == 200 and r,
                         timeout_s=60, what="/readyz 200").json()
        assert ready["checks"]["golden"] == "ok" and ready["alias"]["version"] == "1"
        store.set_alias("champion", "2", reason="fails the golden requests")
        found = wait_for(lambda: (f := samples(client.get("/metrics").text))
                         and value(f, FAILURES, reason="golden") == 1 and f,
                         timeout_s=30, what="the golden failure counted")
        assert value(found, FAILURES, reason="load") == 0
        assert info_versions(client) == ["1"]
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["checks"]["golden"] == "ok"
        assert "version 2 failed the golden check" in ready.json()["alias"]["last_error"]
        answer = predict_all(client, models["rows"][:1], "golden")[0]
        assert answer["model_version"] == "1"
        # an alias file broken while serving: counted, said, and version 1 keeps serving
        (tmp_path / "models.json").write_text('{"format": "obskit-aliases/1", "model_na')
        wait_for(lambda: value(samples(client.get("/metrics").text), FAILURES,
                               reason="alias") >= 1, timeout_s=30, what="alias failure")
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["alias"]["version"] == "1"
        assert "models.json" in ready.json()["alias"]["last_error"]
        assert "is not valid JSON" in ready.json()["alias"]["last_error"]
        assert predict_all(client, models["rows"][:1], "broken")[0]["model_version"] == "1"


def test_an_alias_not_set_yet_is_not_ready_until_it_is(models, tmp_path):
    from fastapi.testclient import TestClient
    from opentelemetry.sdk.trace import TracerProvider

    from examples.service.app import create_app

    store = open_alias_store(tmp_path / "models.json", model_name="credit")
    store.register(models["folder"] / "v1.skops")
    settings = Settings.from_env({"OBSKIT_MODEL_ALIAS": f"{tmp_path}/models.json#champion",
                                  "OBSKIT_ALIAS_REFRESH_S": "0.2",
                                  "OBSKIT_LOG_DIR": str(tmp_path / "logs")})
    with TestClient(create_app(settings, tracer_provider=TracerProvider())) as client:
        said = wait_for(lambda: "is not set" in (r := client.get("/readyz")).text and r,
                        timeout_s=30, what="/readyz says the alias is not set")
        assert said.status_code == 503
        assert said.json()["checks"]["model"] == (
            "failed: model alias 'champion' of 'credit': is not set")
        assert client.post("/predict", json={"features": models["rows"][0]}).status_code \
            == 503
        store.set_alias("champion", "1")
        wait_for(lambda: client.get("/readyz").status_code == 200, timeout_s=30,
                 what="/readyz 200 once the alias is set")
        assert predict_all(client, models["rows"][:1], "set")[0]["model_version"] == "1"


@pytest.mark.parametrize("env, says", [
    ({"OBSKIT_MODEL_VERSION": "7"}, "OBSKIT_MODEL_ALIAS and OBSKIT_MODEL_VERSION"),
    ({"OBSKIT_MODEL": "m.skops"}, "OBSKIT_MODEL_ALIAS and OBSKIT_MODEL "),
    ({"OBSKIT_ALIAS_REFRESH_S": "0"}, "OBSKIT_ALIAS_REFRESH_S must be a number"),
    ({"OBSKIT_ALIAS_REFRESH_S": "soon"}, "OBSKIT_ALIAS_REFRESH_S must be a number"),
])
def test_bad_alias_settings_are_named(env, says):
    with pytest.raises(ConfigError, match=says):
        Settings.from_env({"OBSKIT_MODEL_ALIAS": "/srv/models.json#champion", **env})


def test_a_bad_combination_exits_2_with_the_message(tmp_path):
    env = {"OBSKIT_MODEL_ALIAS": f"{tmp_path}/models.json#champion",
           "OBSKIT_MODEL_VERSION": "3", "PYTHONPATH": str(REPO)}
    run = subprocess.run([sys.executable, "-c", "import examples.service.app"], cwd=REPO,
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    assert "OBSKIT_MODEL_ALIAS and OBSKIT_MODEL_VERSION are both set" in run.stderr
    assert "Traceback" not in run.stderr
    env.pop("OBSKIT_MODEL_VERSION")
    run = subprocess.run([sys.executable, "-c", "import examples.service.app"], cwd=REPO,
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "alias file" in run.stderr and "does not exist" in \
        run.stderr, run.stderr
