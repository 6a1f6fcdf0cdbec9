"""Smoke test of benchmarks/ at a tiny size: the generator writes obskit's log schema, and
the drift benchmark runs obskit and the peers and finds their values equal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture()
def bench_env(tmp_path, monkeypatch):
    env = {"OBSKIT_BENCH_DATA": str(tmp_path / "data"),
           "OBSKIT_BENCH_RESULTS": str(tmp_path / "results"),
           "DO_NOT_TRACK": "1", "ITERATIVE_DO_NOT_TRACK": "1",
           "NML_DISABLE_USAGE_LOGGING": "1"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return tmp_path


def test_generate_writes_the_log_schema(bench_env):
    pq = pytest.importorskip("pyarrow.parquet")
    out = bench_env / "gen"
    proc = subprocess.run([sys.executable, str(BENCH / "generate.py"), "--rows", "3000",
                           "--features", "6", "--chunk-rows", "1000", "--out", str(out)],
                          capture_output=True, text=True, check=True, env=os.environ.copy())
    meta = json.loads(proc.stdout.strip().splitlines()[-1])
    assert meta["numeric"] == ["x00", "x01", "x02", "x03"]
    assert meta["categorical"] == ["c00", "c01"]
    table = pq.read_table(out / "current")
    assert table.num_rows == 3000
    assert str(table.schema.field("timestamp").type) == "timestamp[us, tz=UTC]"
    for role in ("request_id", "model_version", "prediction", "score", "label",
                 "latency_ms", "status", "error"):
        assert role in table.column_names
    assert pq.read_table(out / "reference").num_rows == 3000
    assert (out / "model.skops").exists() and (out / "config.yml").exists()
    from obskit.config import load_config

    assert load_config(str(out / "config.yml")).model.endswith("model.skops")


def test_drift_benchmark_agrees_with_the_peers(bench_env):
    pytest.importorskip("evidently")
    peers = "evidently,nannyml"
    try:
        import importlib.util

        if importlib.util.find_spec("nannyml") is None:
            peers = "evidently"
    except ImportError:  # pragma: no cover
        peers = "evidently"
    proc = subprocess.run(
        [sys.executable, str(BENCH / "bench_drift.py"), "--sizes", "3000", "--features", "6",
         "--peers", peers, "--sweep-features", "none"],
        capture_output=True, text=True, env=os.environ.copy(), timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "MISMATCH" not in proc.stdout
    assert "equality vs evidently: OK" in proc.stdout
    results = list((bench_env / "results").glob("drift-*.json"))
    assert len(results) == 1
    data = json.loads(results[0].read_text())
    assert data["results"][0]["checks"]["evidently"]["compared"] == 6
