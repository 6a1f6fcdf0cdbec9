"""Tests for ``obskit probe`` (obskit/instrument/probe.py, probe_cli.py) against a real
loopback HTTP server whose /predict answers are controlled per request."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from obskit.cli import main
from obskit.instrument.probe import GoldenRequest, check_answer, predict_url, read_golden
from obskit.instrument.probe_cli import parse_interval

#: x → (behaviour, expected prediction, expected score) of the golden requests
GOLDEN = {1: ("ok", 0, 0.125), 2: ("ok", 1, 0.875), 3: ("wrong_prediction", 0, 0.25),
          4: ("wrong_score", 1, 0.75), 5: ("slow", 0, 0.0625), 6: ("error", 1, 0.5)}
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


class Model:
    """What the fake service answers; ``broken`` switches behaviours on."""

    def __init__(self) -> None:
        self.broken = False
        self.bodies: list[dict] = []

    def answer(self, features: dict) -> tuple[int, dict]:
        behaviour, pred, score = GOLDEN[features["x"]]
        if not self.broken or behaviour == "ok":
            return 200, {"prediction": pred, "score": score + 4e-7, "request_id": "r"}
        if behaviour == "wrong_prediction":
            return 200, {"prediction": 1 - pred, "score": score}
        if behaviour == "wrong_score":
            return 200, {"prediction": pred, "score": score + 0.01}
        if behaviour == "slow":
            time.sleep(0.4)
            return 200, {"prediction": pred, "score": score}
        return 500, {"detail": "model exploded"}


@contextmanager
def json_server(answer: Callable[[str, dict], tuple[int, dict]]) -> Iterator[str]:
    """A real loopback HTTP server: ``answer(path, body)`` gives each POST's status and
    JSON answer. Yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            status, reply = answer(self.path, body)
            data = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def service() -> Iterator[tuple[str, Model]]:
    model = Model()

    def answer(path: str, body: dict) -> tuple[int, dict]:
        model.bodies.append(body)
        if path != "/predict":
            return 404, {"detail": "not found"}
        return model.answer(body["features"])

    with json_server(answer) as url:
        yield url, model


@pytest.fixture
def golden(tmp_path: Path) -> Path:
    path = tmp_path / "golden.jsonl"
    path.write_text("".join(json.dumps({"features": {"x": x, "name": f"n{x}"},
                                        "prediction": p, "score": s}) + "\n"
                            for x, (_, p, s) in GOLDEN.items()), encoding="utf-8")
    return path


def _table_rows(out: str) -> dict[int, list[str]]:
    rows = {}
    for line in out.splitlines():
        m = re.match(r"^(\d+)\s{2,}(\d{3}|-)\s{2,}", line)
        if m:
            rows[int(m.group(1))] = re.split(r"\s{2,}", line)
    return rows


def test_all_pass_exit_0_and_results_written(service, golden, tmp_path, capsys):
    url, model = service
    results = tmp_path / "out" / "probes.jsonl"
    code = main(["probe", url, "--golden", str(golden), "--results", str(results)])
    out = capsys.readouterr().out
    assert code == 0
    assert f"POST {url}/predict (6 of 6 passed)" in out
    rows = _table_rows(out)
    assert sorted(rows) == [1, 2, 3, 4, 5, 6]
    assert all(r[1] == "200" and "pass" in r for r in rows.values())
    assert rows[2][3] == "1 (0.875000)"  # expected prediction (score)
    assert [b["features"]["x"] for b in model.bodies] == [1, 2, 3, 4, 5, 6]
    assert model.bodies[0] == {"features": {"x": 1, "name": "n1"}}
    lines = [json.loads(x) for x in results.read_text().splitlines()]
    assert [x["request"] for x in lines] == [1, 2, 3, 4, 5, 6]
    for x in lines:
        assert set(x) == {"timestamp", "url", "request", "status", "latency_ms", "passed",
                          "reason"}
        assert ISO_Z.match(x["timestamp"]) and x["url"] == f"{url}/predict"
        assert x["status"] == 200 and x["passed"] is True and x["reason"] is None
        assert x["latency_ms"] > 0


def test_failures_named_exit_1(service, golden, tmp_path, capsys):
    url, model = service
    model.broken = True
    results = tmp_path / "probes.jsonl"
    results.write_text('{"kept": true}\n')  # appended to, never truncated
    code = main(["probe", f"{url}/predict", "--golden", str(golden), "--budget-ms", "200",
                 "--results", str(results)])
    out = capsys.readouterr().out
    assert code == 1
    assert "(2 of 6 passed)" in out
    rows = _table_rows(out)
    assert [("FAIL" in r) for _, r in sorted(rows.items())] == [False, False, True, True,
                                                                True, True]
    assert rows[6][1] == "500"
    assert "request 3: prediction 1, expected 0 [features: x=3, name=\"n3\"]" in out
    assert re.search(r"request 4: score 0\.76, expected 0\.75 \(off by 0\.01 > tolerance "
                     r"1e-06\)", out)
    assert re.search(r"request 5: latency \d+ ms > budget 200 ms", out)
    assert "request 6: HTTP 500, expected 200" in out
    lines = results.read_text().splitlines()
    assert lines[0] == '{"kept": true}'
    got = [json.loads(x) for x in lines[1:]]
    assert [(x["request"], x["passed"], x["status"]) for x in got] == [
        (1, True, 200), (2, True, 200), (3, False, 200), (4, False, 200), (5, False, 200),
        (6, False, 500)]
    assert got[2]["reason"] == "prediction 1, expected 0"
    assert got[4]["latency_ms"] > 200


def test_tolerance_and_budget_flags_decide(service, golden, capsys):
    url, model = service
    model.broken = True
    golden.write_text("\n".join(golden.read_text().splitlines()[3:5]) + "\n")  # x=4, 5
    assert main(["probe", url, "--golden", str(golden), "--tolerance", "0.02",
                 "--budget-ms", "5000"]) == 0
    assert main(["probe", url, "--golden", str(golden), "--tolerance", "0.009",
                 "--budget-ms", "5000"]) == 1
    model.broken = False  # the 4e-7 offset of a rounded score passes 1e-6, not 1e-7
    assert main(["probe", url, "--golden", str(golden), "--tolerance", "1e-7"]) == 1
    out = capsys.readouterr().out
    assert "request 1: score 0.75, expected 0.75 (off by 4e-07 > tolerance 1e-07)" in out


def test_timeout_is_a_failure_with_reason(service, golden, capsys):
    url, model = service
    model.broken = True
    golden.write_text(golden.read_text().splitlines()[4] + "\n")  # x=5, answers in 0.4 s
    assert main(["probe", url, "--golden", str(golden), "--timeout-s", "0.1"]) == 1
    assert "request 1: no answer within 0.1 s" in capsys.readouterr().out


def test_closed_port_fails_with_reason_not_traceback(golden, tmp_path, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends
    results = tmp_path / "r.jsonl"
    code = main(["probe", f"http://127.0.0.1:{port}", "--golden", str(golden),
                 "--results", str(results)])
    cap = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in cap.out + cap.err
    assert f"request 1: cannot connect to http://127.0.0.1:{port}/predict: " \
           "Connection refused" in cap.out
    got = [json.loads(x) for x in results.read_text().splitlines()]
    assert len(got) == 6
    assert all(x["status"] is None and x["latency_ms"] is None and not x["passed"]
               for x in got)


def test_rounds_with_count_and_every(service, golden, tmp_path, capsys):
    url, model = service
    results = tmp_path / "r.jsonl"
    assert main(["probe", url, "--golden", str(golden), "--every", "10ms", "--count", "3",
                 "--results", str(results)]) == 0
    out = capsys.readouterr().out
    assert "probe round 3:" in out and "probe round 4" not in out
    assert "probe: 3 rounds, 18 of 18 requests passed" in out
    got = [json.loads(x) for x in results.read_text().splitlines()]
    assert [x["request"] for x in got] == [1, 2, 3, 4, 5, 6] * 3
    assert len(model.bodies) == 18


@pytest.mark.parametrize(("text", "line", "what"), [
    ('{"features": {"x": 1}, "prediction": 0}\nnot json\n', 2, "not JSON"),
    ('{"features": {"x": 1}, "prediction": 0}\n\n{"prediction": 1}\n', 3,
     'expected an object with a "features" object'),
    ('[1, 2]\n', 1, 'expected an object with a "features" object'),
    ('{"features": {"x": 1}}\n', 1, 'no "prediction"'),
    ('{"features": {"x": 1}, "prediction": 0, "score": "high"}\n', 1,
     '"score" must be a finite number'),
])
def test_bad_golden_file_exit_2_names_file_and_line(tmp_path, capsys, text, line, what):
    path = tmp_path / "g.jsonl"
    path.write_text(text)
    assert main(["probe", "http://127.0.0.1:9", "--golden", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}, line {line}: {what}" in err
    assert "Traceback" not in err


def test_missing_or_empty_golden_and_bad_url_exit_2(tmp_path, capsys):
    missing = tmp_path / "nope.jsonl"
    assert main(["probe", "http://127.0.0.1:9", "--golden", str(missing)]) == 2
    assert f"{missing}: cannot read the golden file" in capsys.readouterr().err
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    assert main(["probe", "http://127.0.0.1:9", "--golden", str(empty)]) == 2
    assert f"{empty}: the golden file has no requests" in capsys.readouterr().err
    empty.write_text('{"features": {}, "prediction": 0}\n')
    assert main(["probe", "127.0.0.1:8000", "--golden", str(empty)]) == 2
    assert "URL must be http(s)://" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["probe", "http://x", "--golden", str(empty), "--every", "soon"])
    assert exc.value.code == 2


def test_predict_url_accepts_base_or_predict():
    assert predict_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000/predict"
    assert predict_url("http://127.0.0.1:8000/") == "http://127.0.0.1:8000/predict"
    assert predict_url("http://h:1/predict") == "http://h:1/predict"
    assert predict_url("https://h/api/v1/") == "https://h/api/v1/predict"
    assert predict_url("http://h/predict?k=1") == "http://h/predict?k=1"


def test_check_answer_and_golden_reader(tmp_path):
    g = GoldenRequest(1, {"x": 1}, 1)  # no score: only the prediction is compared
    assert check_answer(g, 200, {"prediction": 1, "score": 0.1}, 1.0) is None
    assert check_answer(g, 200, {"prediction": True}, 1.0) == "prediction true, expected 1"
    assert check_answer(g, 200, "oops", 1.0) == "the answer is not a JSON object"
    assert check_answer(g, 200, {"score": 1}, 1.0) == 'no "prediction" in the answer'
    g2 = GoldenRequest(2, {"x": 1}, "yes", 0.5)
    assert check_answer(g2, 200, {"prediction": "yes", "score": None}, 1.0) == \
        "score null, expected a number"
    path = tmp_path / "g.jsonl"
    path.write_text('{"features": {"a": 1}, "prediction": "yes", "score": 1}\n\n'
                    '{"features": {"a": 2}, "prediction": "no"}\n')
    assert read_golden(path) == [GoldenRequest(1, {"a": 1}, "yes", 1.0),
                                 GoldenRequest(3, {"a": 2}, "no", None)]
    assert parse_interval("30s") == 30.0 and parse_interval("5m") == 300.0


def test_demo_golden_passes_against_the_demo_model_served(tmp_path, capsys):
    """The golden contract end to end: a loopback server scoring the demo's model.skops
    on the JSON features passes with the default tolerance; flipping its rule fails."""
    import pandas as pd

    from obskit.demo import generate_demo
    from obskit.io.model import load_model, prediction_function

    files = generate_demo(tmp_path / "demo", rows=2_000, seed=3)
    score = prediction_function(load_model(files.model), "binary")
    threshold = {"value": 0.5}

    def answer(path: str, body: dict) -> tuple[int, dict]:
        p = float(score(pd.DataFrame([body["features"]]))[0])
        return 200, {"prediction": int(p >= threshold["value"]), "score": p}

    with json_server(answer) as url:
        assert main(["probe", url, "--golden", str(files.golden), "--budget-ms",
                     "10000"]) == 0
        assert "(20 of 20 passed)" in capsys.readouterr().out
        threshold["value"] = 0.0  # every request predicted 1: the 10 negatives fail
        assert main(["probe", url, "--golden", str(files.golden), "--budget-ms",
                     "10000"]) == 1
        out = capsys.readouterr().out
        assert "(10 of 20 passed)" in out and out.count(": prediction 1, expected 0") == 10


def test_every_runs_until_ctrl_c_and_exits_with_a_summary(service, golden, tmp_path):
    import os
    import select
    import signal
    import subprocess
    import sys

    url, _ = service
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen([sys.executable, "-m", "obskit", "probe", url, "--golden",
                             str(golden), "--every", "50ms"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        seen, deadline = "", time.monotonic() + 60
        while "probe round 2:" not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], 1.0)
            if ready:
                seen += proc.stdout.readline()
        assert "probe round 2:" in seen
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "probe: stopped" in out
    assert re.search(r"probe: (\d+) rounds, (\d+) of \2 requests passed", out)
