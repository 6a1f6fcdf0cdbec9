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


# --------------------------------------------------------------------------- issue 17


def _generate(out, *args):
    proc = subprocess.run([sys.executable, str(BENCH / "generate.py"), "--out", str(out),
                           *args], capture_output=True, text=True, env=os.environ.copy())
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_engine_generator_keeps_the_schema_and_the_drift(bench_env):
    """generate.py's engine (DuckDB SQL into Parquet, the default) writes numpy's schema,
    the injected drift it documents, the model's own scores, rows independent of files."""
    pq = pytest.importorskip("pyarrow.parquet")
    np = pytest.importorskip("numpy")
    engine = _generate(bench_env / "engine", "--rows", "20000", "--features", "6",
                       "--file-rows", "7000")
    assert engine["generator"] == "engine"
    _generate(bench_env / "numpy", "--rows", "2000", "--features", "6", "--numpy")
    for side in ("reference", "current"):
        ours = pq.read_table(bench_env / "engine" / side)
        theirs = pq.read_table(bench_env / "numpy" / side)
        assert ours.schema.remove_metadata() == theirs.schema.remove_metadata()
    assert len(list((bench_env / "engine" / "current").glob("part-*.parquet"))) == 3
    assert str(ours.schema.field("timestamp").type) == "timestamp[us, tz=UTC]"
    assert str(ours.schema.field("x03").type) == "int64"  # a count
    ref = pq.read_table(bench_env / "engine" / "reference").to_pandas()
    cur = ours.to_pandas()
    assert cur.timestamp.is_monotonic_increasing and ref.timestamp.max() < cur.timestamp.min()
    # x00 mean + 0.5 sd, x01 scale x 1.5, x02 mean + 0.02 sd (ratio: sd 0.289)
    assert abs((cur.x00.mean() - ref.x00.mean()) / ref.x00.std() - 0.5) < 0.05
    assert abs(cur.x01.std() / ref.x01.std() - 1.5) < 0.15
    assert abs(ref.x03.mean() - 6.0) < 0.1 and abs(ref.x03.var() - 6.0) < 0.3  # Poisson(6)
    # c00's shares reversed, c01 a new category on 2% of rows
    assert ref.c00.value_counts().idxmax() == "c00_v00"
    assert cur.c00.value_counts().idxmax() == "c00_v02"
    assert abs((cur.c01 == "c01_new").mean() - 0.02) < 0.005 and "c01_new" not in set(ref.c01)
    assert set(ref.model_version) == {"v1", "v2"} and abs((ref.status == 500).mean()) < 0.01
    # score: the saved model's predict_proba, computed in SQL
    import skops.io as sio

    path = bench_env / "engine" / "model.skops"
    model = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    feats = engine["numeric"] + engine["categorical"]
    expected = np.round(model.predict_proba(cur[feats])[:, 1], 6)
    assert np.abs(expected - cur.score.to_numpy()).max() <= 1.01e-6
    assert (cur.prediction == (cur.score >= 0.5)).all()
    # a row's values do not depend on the file layout
    _generate(bench_env / "one-file", "--rows", "20000", "--features", "6")
    assert pq.read_table(bench_env / "one-file" / "current").equals(ours)


def test_targets_benchmark_prints_every_target(bench_env):
    """bench_targets.py at a tiny size: each requested target has a figure and a ratio,
    the opt-in 100M says how to run it, the JSON and the markdown are written."""
    pytest.importorskip("evidently")
    proc = subprocess.run(
        [sys.executable, str(BENCH / "bench_targets.py"), "--targets",
         "report300k,incremental", "--size", "report300k=3000", "--size", "incremental=1000",
         "--days", "1,2"], capture_output=True, text=True, env=os.environ.copy(), timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = bench_env / "results"
    data = json.loads(next(results.glob("targets-*.json")).read_text())
    table = (results / "targets-latest.md").read_text()
    assert "| target | obskit | peer/reference | ratio | goal | result |" in table
    assert "machine:" in table and "command: python benchmarks/bench_targets.py" in table
    rows = {r["target"]: [] for r in data["rows"]}
    for r in data["rows"]:
        rows[r["target"]].append(r)
    assert set(rows) == {"report300k", "incremental", "100M"}
    for name in ("report300k", "incremental"):
        for r in rows[name]:
            assert r["result"] in ("PASS", "MISSED"), r
            assert isinstance(r["ratio"], float) and r["ratio"] > 0
            assert f"**{name}**" in table
    report = rows["report300k"][0]
    assert report["raw"]["obskit"]["windows"] == 1
    assert report["raw"]["evidently"]["drift_s"] > 0 and "Evidently" in report["peer"]
    # one row per D (warm vs cold), one for warm(2) / warm(1)
    assert len(rows["incremental"]) == 3
    for r in rows["incremental"][:2]:
        assert "window cache" in r["note"]
        assert r["raw"]["warm"]["windows"] == r["raw"]["cold"]["windows"] + 1
    assert rows["100M"][0]["result"].startswith("not run (opt-in:")
    assert "not run (opt-in:" in table


def test_memory_peaks_follows_the_child_of_time_and_samples_its_memory(tmp_path):
    gnu_time = Path("/usr/bin/time")
    if not gnu_time.exists():
        pytest.skip("GNU time is not installed")
    out = tmp_path / "peaks"
    # the child holds 200 MB for a moment: the samples must see it, not /usr/bin/time's RSS
    child = "import numpy as np, time; a = np.ones(25_000_000); time.sleep(1.2)"
    proc = subprocess.run([sys.executable, str(BENCH / "memory_peaks.py"), str(out), "--",
                           str(gnu_time), "-v", sys.executable, "-c", child],
                          capture_output=True, text=True, check=True)
    assert proc.stdout.startswith("exit 0, sampled peak ")
    peak = max(int(line.split()[1]) for line in
               Path(str(out) + ".rss").read_text().splitlines())
    assert 190 <= peak < 1000, peak
    assert "Maximum resident set size" in Path(str(out) + ".stdout").read_text()


def test_children_import_the_obskit_on_pythonpath_else_this_checkout(tmp_path, monkeypatch):
    """A side-by-side run sets PYTHONPATH to an older worktree: its children must import
    that obskit, not the checkout they run in (``python -m`` puts the working directory
    first on ``sys.path``)."""
    monkeypatch.syspath_prepend(str(BENCH))
    import _common

    other = tmp_path / "older" / "obskit"
    other.mkdir(parents=True)
    (other / "__init__.py").write_text("")
    probe = ["-c", "import json, obskit, _common; print(json.dumps({'at': obskit.__file__}))"]
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "older"))
    assert _common.run_json_child(probe)["at"] == str(other / "__init__.py")
    monkeypatch.delenv("PYTHONPATH")
    here = _common.run_json_child(probe)["at"]
    assert here == str(BENCH.parent / "obskit" / "__init__.py")
    # the CLI as the report benchmark starts it: python -m, in the checkout
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "older"))
    proc = subprocess.run([sys.executable, "-c", "import obskit; print(obskit.__file__)"],
                          capture_output=True, text=True, cwd=BENCH.parent,
                          env=_common.child_env())
    assert proc.stdout.strip() == str(other / "__init__.py")
