"""PredictionLogger: no row lost or doubled under concurrent writers and rotation, files
readable by obskit's own reader, bounded queue (block / drop counted), trace ids,
Parquet types, write errors counted."""

from __future__ import annotations

import json
import math
import shutil
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from obskit.config import load_config
from obskit.instrument import _files
from obskit.instrument.logger import PredictionLogger
from obskit.io import load_logs

THREADS, PER_THREAD = 20, 1000


def _row(t: int, i: int) -> dict:
    return {"request_id": f"r{t}-{i}", "model_version": "v1", "prediction": i % 2,
            "score": (i % 100) / 100, "latency_ms": 1.5, "status": 200, "error": None,
            "features": {"age": i % 90, "income": float(i), "region": ("n", "s")[t % 2]}}


def _send_concurrently(plog: PredictionLogger) -> None:
    def work(t: int) -> None:
        for i in range(PER_THREAD):
            assert plog.log(_row(t, i))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()


def _read_ids(directory: Path, fmt: str) -> list[str]:
    ids: list[str] = []
    for path in sorted(directory.iterdir()):
        if fmt == "jsonl":
            ids += [json.loads(line)["request_id"] for line in path.read_text().splitlines()]
        else:
            ids += pq.read_table(path).column("request_id").to_pylist()
    return ids


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_concurrent_rows_all_written_once_across_rotations(tmp_path, fmt):
    plog = PredictionLogger(tmp_path, format=fmt, max_bytes=64_000, queue_size=500)
    _send_concurrently(plog)
    assert plog.close()
    files = sorted(tmp_path.iterdir())
    assert not [p for p in files if p.name.endswith(".part")]
    assert len(files) >= 4  # rotated by size several times
    assert all(p.name.startswith("predictions-") and p.suffix == f".{fmt}" for p in files)
    ids = _read_ids(tmp_path, fmt)
    expected = {f"r{t}-{i}" for t in range(THREADS) for i in range(PER_THREAD)}
    assert len(ids) == len(expected) and set(ids) == expected
    stats = plog.stats()
    assert (stats.queued, stats.written, stats.dropped) == (len(expected), len(expected), 0)
    assert stats.files_closed == len(files) and stats.queue_depth == 0

    # obskit's own reader (what `obskit report` uses) reads every row, quarantines none
    logs = load_logs(load_config(overrides={"sources": {"current": str(tmp_path)},
                                            "task": "binary"}))
    assert logs.current.rows_read == len(expected)
    assert logs.current.rows_used == len(expected)
    assert logs.current.rows_quarantined == 0
    assert set(logs.features) == {"age", "income", "region"}


def test_jsonl_row_shape(tmp_path):
    stamp = datetime(2026, 11, 1, 0, 0, 1, 5, tzinfo=timezone.utc)
    with PredictionLogger(tmp_path) as plog:
        plog.log({"timestamp": stamp, "request_id": "a", "score": math.nan,
                  "features": {"x": math.inf, "c": "q"}})
        plog.log({"request_id": "b"})
    (path,) = tmp_path.iterdir()
    first, second = (json.loads(x) for x in path.read_text().splitlines())
    assert first == {"timestamp": "2026-11-01T00:00:01.000005Z", "request_id": "a",
                     "score": None, "features": {"x": None, "c": "q"}}
    filled = datetime.strptime(second["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ")
    age = datetime.now(timezone.utc) - filled.replace(tzinfo=timezone.utc)
    assert abs(age.total_seconds()) < 600
    assert "trace_id" not in second  # no active span


def test_rotation_by_age(tmp_path):
    with PredictionLogger(tmp_path, max_age_s=0.05, flush_interval_s=0.01) as plog:
        plog.log({"request_id": "a"})
        deadline = time.monotonic() + 10
        while plog.stats().files_closed < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert plog.stats().files_closed == 1  # finished while the logger stays open
        assert [p.suffix for p in tmp_path.iterdir()] == [".jsonl"]
        plog.log({"request_id": "b"})
    assert sorted(_read_ids(tmp_path, "jsonl")) == ["a", "b"]
    assert len(list(tmp_path.iterdir())) == 2


def _blocked_writer(monkeypatch) -> threading.Event:
    """Make the writer wait on an event before each write."""
    release = threading.Event()
    original = _files.JsonlFile.write

    def write(self, rows, max_bytes):
        assert release.wait(30)
        return original(self, rows, max_bytes)

    monkeypatch.setattr(_files.JsonlFile, "write", write)
    return release


def test_drop_mode_counts_every_refused_row(tmp_path, monkeypatch):
    release = _blocked_writer(monkeypatch)
    plog = PredictionLogger(tmp_path, queue_size=5, when_full="drop")
    accepted = sum(plog.log({"request_id": str(i)}) for i in range(200))
    assert 5 <= accepted < 200
    release.set()
    assert plog.close(timeout_s=30)
    stats = plog.stats()
    written = len(_read_ids(tmp_path, "jsonl"))
    assert written == stats.written == accepted
    assert stats.dropped == 200 - written


def test_block_mode_gives_up_after_the_timeout(tmp_path, monkeypatch):
    release = _blocked_writer(monkeypatch)
    plog = PredictionLogger(tmp_path, queue_size=2, when_full="block", block_timeout_s=0.05)
    results = [plog.log({"request_id": str(i)}) for i in range(10)]
    assert results.count(False) >= 1 and results[:2] == [True, True]
    release.set()
    assert plog.close(timeout_s=30)
    stats = plog.stats()
    assert stats.written == results.count(True) == len(_read_ids(tmp_path, "jsonl"))
    assert stats.dropped == results.count(False)


def test_block_mode_waits_for_room(tmp_path, monkeypatch):
    release = _blocked_writer(monkeypatch)
    plog = PredictionLogger(tmp_path, queue_size=2, when_full="block", block_timeout_s=30)
    threading.Timer(0.2, release.set).start()
    assert all(plog.log({"request_id": str(i)}) for i in range(20))
    assert plog.close(timeout_s=30)
    assert sorted(_read_ids(tmp_path, "jsonl"), key=int) == [str(i) for i in range(20)]


def test_trace_id_of_the_active_span(tmp_path):
    from opentelemetry.sdk.trace import TracerProvider

    tracer = TracerProvider().get_tracer("test")
    with PredictionLogger(tmp_path) as plog, tracer.start_as_current_span("predict") as span:
        plog.log({"request_id": "a"})
        plog.log({"request_id": "b", "trace_id": "given"})
    rows = [json.loads(x) for x in next(tmp_path.iterdir()).read_text().splitlines()]
    expected = format(span.get_span_context().trace_id, "032x")
    assert len(expected) == 32 and expected != "0" * 32
    assert [r["trace_id"] for r in rows] == [expected, "given"]


def test_parquet_round_trip(tmp_path):
    stamp = datetime(2026, 11, 1, 12, 30, 0, 123456, tzinfo=timezone.utc)
    with PredictionLogger(tmp_path, format="parquet") as plog:
        plog.log({"timestamp": stamp, "request_id": "a", "prediction": 1, "score": 0.25,
                  "label": None, "features": {"age": 30, "region": "w", "x": 1.5}})
        assert plog.flush(timeout_s=30)
        # a new feature and a type change each start a new file instead of failing
        plog.log({"timestamp": "2026-11-01T12:30:01.000001Z", "request_id": "b",
                  "features": {"age": 31, "region": "w", "x": 2.5, "new": 1}})
        assert plog.flush(timeout_s=30)
        plog.log({"request_id": "c", "features": {"age": "old"}})
    tables = [pq.read_table(p) for p in sorted(tmp_path.iterdir())]
    assert len(tables) == 3
    first = tables[0]
    assert str(first.schema.field("timestamp").type) == "timestamp[us, tz=UTC]"
    assert first.column("timestamp").to_pylist() == [stamp]
    assert first.select(["age", "region", "x"]).to_pylist() == [
        {"age": 30, "region": "w", "x": 1.5}]
    assert "features" not in first.schema.names
    assert tables[1].column("new").to_pylist() == [1]
    assert tables[1].column("timestamp").to_pylist() == [
        datetime(2026, 11, 1, 12, 30, 1, 1, tzinfo=timezone.utc)]
    assert tables[2].column("age").to_pylist() == ["old"]


def test_numbers_share_a_double_column_whatever_their_python_type(tmp_path):
    """41 then 41.5, and ints beyond int64, stay in one file; only status is int64."""
    with PredictionLogger(tmp_path, format="parquet") as plog:
        for i, n in enumerate([41, 41.5, 10**40, 10**400, -(2**63) - 1]):
            plog.log({"request_id": str(i), "prediction": n, "score": n, "latency_ms": n,
                      "status": 200, "features": {"n": n, "on": i % 2 == 0}})
            assert plog.flush(timeout_s=30)  # one batch each
        plog.log({"request_id": "kind", "features": {"n": "text"}})  # a change of kind
    stats = plog.stats()
    assert (stats.written, stats.dropped, stats.last_error) == (6, 0, None)
    first, second = (pq.read_table(p) for p in sorted(tmp_path.iterdir()))
    assert {n: str(first.schema.field(n).type) for n in
            ("prediction", "score", "latency_ms", "n", "status", "on")} == {
        "prediction": "double", "score": "double", "latency_ms": "double", "n": "double",
        "status": "int64", "on": "bool"}
    expected = [41.0, 41.5, 1e40, None, -(2.0**63)]  # beyond a double's range: null
    for column in ("prediction", "score", "latency_ms", "n"):
        assert first.column(column).to_pylist() == expected
    assert second.column("n").to_pylist() == ["text"]


def test_jsonl_keeps_ints_beyond_int64(tmp_path):
    with PredictionLogger(tmp_path) as plog:
        plog.log({"request_id": "a", "score": 10**40, "features": {"n": 10**40, "m": 41}})
        plog.log({"request_id": "b", "features": {"n": 41.5, "m": 1}})
    assert plog.stats().dropped == 0
    rows = [json.loads(x) for x in next(tmp_path.iterdir()).read_text().splitlines()]
    assert [r["features"]["n"] for r in rows] == [10**40, 41.5] and rows[0]["score"] == 10**40


def test_parquet_low_traffic_makes_one_row_group(tmp_path):
    """Rows one at a time, flushed every few ms: still one row group, not one per row."""
    with PredictionLogger(tmp_path, format="parquet", flush_interval_s=0.005) as plog:
        for i in range(300):
            plog.log(_row(0, i))
            assert plog.flush(timeout_s=30)
    (path,) = tmp_path.iterdir()
    meta = pq.read_metadata(path)
    assert (meta.num_rows, meta.num_row_groups) == (300, 1)
    assert path.stat().st_size < 30_000  # 300 row groups took 2.5 MB


def test_parquet_row_groups_of_row_group_rows(tmp_path):
    with PredictionLogger(tmp_path, format="parquet", row_group_rows=100) as plog:
        for i in range(350):
            plog.log(_row(0, i))
            if i % 7 == 0:
                assert plog.flush(timeout_s=30)
    (path,) = tmp_path.iterdir()
    meta = pq.read_metadata(path)
    assert [meta.row_group(k).num_rows for k in range(meta.num_row_groups)] == [
        100, 100, 100, 50]
    assert pq.read_table(path).column("request_id").to_pylist() == [
        f"r0-{i}" for i in range(350)]


def test_check_writable_names_the_directory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    plog = PredictionLogger(blocker / "logs")
    with pytest.raises(OSError, match="file/logs"):
        plog.check_writable()
    PredictionLogger(tmp_path / "ok").check_writable()
    assert (tmp_path / "ok").is_dir() and not list((tmp_path / "ok").iterdir())
    plog.close()


def test_write_error_is_counted_not_fatal(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    plog = PredictionLogger(blocker / "logs")
    assert all(plog.log({"request_id": str(i)}) for i in range(10))
    assert plog.close(timeout_s=30)
    stats = plog.stats()
    assert (stats.written, stats.dropped) == (0, 10)
    assert stats.last_error is not None and "file/logs" in stats.last_error


def test_log_after_close_raises(tmp_path):
    plog = PredictionLogger(tmp_path)
    assert plog.close() and plog.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        plog.log({"request_id": "a"})
    assert list(tmp_path.iterdir()) == []  # no empty file


def test_directory_removed_under_an_open_file(tmp_path):
    directory = tmp_path / "logs"
    plog = PredictionLogger(directory)
    for i in range(5):
        plog.log({"request_id": str(i)})
    assert plog.flush(timeout_s=30) and plog.stats().written == 5
    shutil.rmtree(directory)
    assert plog.close(timeout_s=30)
    stats = plog.stats()
    assert (stats.written, stats.dropped, stats.files_closed) == (0, 5, 0)
    assert stats.last_error is not None and "logs" in stats.last_error


def test_parquet_service_rows_read_by_obskit(tmp_path):
    """Rows as a service logs them: the first batch has no label and no error (null
    columns), later ones have both; obskit's reader stacks the files."""
    with PredictionLogger(tmp_path, format="parquet") as plog:
        for i in range(30):
            failed = i % 10 == 9
            plog.log({"request_id": f"r{i}", "model_version": "v1",
                      "prediction": None if failed else i % 2,
                      "score": None if failed else 0.1 + i / 100,
                      "label": i % 2 if i >= 10 else None, "latency_ms": 2.0,
                      "status": 500 if failed else 200,
                      "error": "ValueError: bad" if failed else None,
                      "features": {"age": 20 + i, "region": "n" if i % 3 else None}})
            if i in (0, 10):
                assert plog.flush(timeout_s=30)
    assert plog.stats().written == 30
    assert len(list(tmp_path.iterdir())) >= 2
    logs = load_logs(load_config(overrides={"sources": {"current": str(tmp_path)},
                                            "task": "binary"}))
    assert logs.current.rows_read == 30 and logs.current.rows_quarantined == 0
    assert logs.features == {"age": "numeric", "region": "categorical"}
    assert {"label", "error", "status"} <= set(logs.roles)


@pytest.mark.parametrize(("option", "value"), [
    ("format", "csv"), ("when_full", "wait"), ("max_bytes", 0), ("queue_size", 0),
    ("max_age_s", -1.0), ("block_timeout_s", -1.0), ("row_group_rows", 0),
])
def test_bad_options_are_refused_by_name(tmp_path, option, value):
    with pytest.raises(ValueError, match=option):
        PredictionLogger(tmp_path, **{option: value})
