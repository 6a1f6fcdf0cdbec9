"""Crash recovery of PredictionLogger's ``.part`` files: a process killed with SIGKILL (or
``os._exit``) leaves them; the next logger on the directory finishes them (JSONL: every
complete row kept, a partial last line cut and counted; Parquet without footer: renamed
``.broken``, counted and said), and never touches a file a live process still writes."""

from __future__ import annotations

import json
import logging
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from obskit.config import load_config
from obskit.instrument import _recover
from obskit.instrument.logger import LoggerStats, PredictionLogger
from obskit.io import load_logs

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="no fcntl: no recovery")

#: a child process: logs N rows, flushes, says so, then closes ("close") or dies ("exit")
CHILD = """
import os, sys
from obskit.instrument.logger import LoggerStats, PredictionLogger
directory, fmt, n, group = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
plog = PredictionLogger(directory, format=fmt, row_group_rows=group)
for i in range(n):
    plog.log({"request_id": f"r{i}", "score": i / 1000, "status": 200,
              "features": {"n": i, "region": "west"}})
assert plog.flush(timeout_s=60)
print("flushed", flush=True)
if sys.stdin.readline().strip() == "close":
    plog.close()
    print("closed", flush=True)
else:
    os._exit(9)
"""


class Child:
    """A child process logging rows (see CHILD); killed in teardown whatever happens."""

    def __init__(self, directory: Path, fmt: str = "jsonl", rows: int = 315,
                 group: int = 10_000) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(directory), fmt, str(rows), str(group)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=os.environ.copy())
        assert self.expect() == "flushed"

    def expect(self, timeout_s: float = 60.0) -> str:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout_s)
        assert ready, "the child said nothing in time"
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().strip()

    def tell(self, word: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(word + "\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(30)


@pytest.fixture
def children():
    made: list[Child] = []
    yield lambda *a, **k: made.append(Child(*a, **k)) or made[-1]
    for child in made:
        child.kill()


def _start(directory: Path, **options) -> LoggerStats:
    """Start a logger on the directory (which recovers what it finds) and close it."""
    plog = PredictionLogger(directory, **options)
    assert plog.close(timeout_s=30)
    return plog.stats()


def _parts(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.name.endswith(".part"))


def test_sigkilled_jsonl_rows_recovered_and_a_partial_line_cut(tmp_path, children, caplog):
    child = children(tmp_path)
    child.proc.send_signal(signal.SIGKILL)  # kill -9: no close, no atexit
    child.kill()
    (part,) = _parts(tmp_path)
    assert re.fullmatch(rf"predictions-\d{{8}}T\d{{6}}Z-{child.proc.pid}-000000\.jsonl\.part",
                        part.name)
    with part.open("ab") as fh:  # a write cut short by the crash
        fh.write(b'{"request_id": "r315", "sco')

    with caplog.at_level(logging.WARNING, logger="obskit.instrument"):
        plog = PredictionLogger(tmp_path)
    stats = plog.stats()
    assert (stats.recovered_files, stats.recovered_rows, stats.cut_lines) == (1, 315, 1)
    assert (stats.broken_files, stats.written, stats.dropped) == (0, 0, 0)
    final = part.with_name(part.name[: -len(".part")])
    assert _parts(tmp_path) == [] and final.is_file()
    assert part.name in caplog.text and "315 row(s)" in caplog.text
    rows = [json.loads(x) for x in final.read_text().splitlines()]
    assert [r["request_id"] for r in rows] == [f"r{i}" for i in range(315)]

    plog.log({"request_id": "after"})  # the new logger writes on, in its own file
    assert plog.close(timeout_s=30)
    logs = load_logs(load_config(overrides={"sources": {"current": str(tmp_path)},
                                            "task": "binary"}))
    assert logs.current.rows_read == 316 and logs.current.rows_quarantined == 0


def test_a_whole_last_line_without_its_newline_is_kept(tmp_path, children):
    child = children(tmp_path, rows=3)
    child.tell("exit")
    child.kill()
    (part,) = _parts(tmp_path)
    with part.open("ab") as fh:  # the crash fell between the object and its newline
        fh.write(b'{"request_id": "r3"}')
    stats = _start(tmp_path)
    assert (stats.recovered_rows, stats.cut_lines) == (4, 0)
    (final,) = tmp_path.iterdir()
    assert [json.loads(x)["request_id"] for x in final.read_text().splitlines()] == [
        "r0", "r1", "r2", "r3"]


def test_garbage_after_the_last_newline_and_only_a_partial_line(tmp_path):
    stamp = "20261130T120000Z"
    garbage = tmp_path / f"predictions-{stamp}-7-000000.jsonl.part"
    garbage.write_bytes(b'{"request_id": "a"}\n' + b"\0" * 40 + b"\n")  # power loss
    partial = tmp_path / f"predictions-{stamp}-8-000000.jsonl.part"
    partial.write_bytes(b'{"request_id": "b", "sc')
    other = tmp_path / f"other-{stamp}-9-000000.jsonl.part"  # another prefix: not ours
    other.write_bytes(b'{"request_id": "c"}\n')
    stats = _start(tmp_path)
    assert (stats.recovered_files, stats.recovered_rows, stats.cut_lines) == (1, 1, 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        other.name, f"predictions-{stamp}-7-000000.jsonl"]
    assert (tmp_path / f"predictions-{stamp}-7-000000.jsonl").read_bytes() == \
        b'{"request_id": "a"}\n'


def test_a_part_held_by_a_live_process_is_not_touched(tmp_path, children):
    child = children(tmp_path, rows=50)
    (part,) = _parts(tmp_path)
    before = part.read_bytes()
    with PredictionLogger(tmp_path) as plog:  # starts while the child still writes
        assert plog.stats().recovered_files == 0
        assert _parts(tmp_path) == [part] and part.read_bytes() == before
        plog.log({"request_id": "mine"})
    child.tell("close")
    assert child.expect() == "closed"
    assert child.proc.wait(30) == 0
    assert _parts(tmp_path) == []
    ids = [json.loads(x)["request_id"] for p in sorted(tmp_path.iterdir())
           for x in p.read_text().splitlines()]
    assert sorted(ids) == sorted([f"r{i}" for i in range(50)] + ["mine"])
    assert len(list(tmp_path.iterdir())) == 2  # two processes, two names (pids differ)


def test_killed_parquet_without_footer_is_broken_counted_and_said(tmp_path, children, caplog):
    child = children(tmp_path, fmt="parquet", rows=315, group=100)  # 3 row groups on disk
    child.tell("exit")
    child.kill()
    (part,) = _parts(tmp_path)
    size = part.stat().st_size
    assert size > 4
    with caplog.at_level(logging.WARNING, logger="obskit.instrument"):
        stats = _start(tmp_path, format="parquet")
    assert (stats.broken_files, stats.recovered_files) == (1, 0)
    broken = tmp_path / (part.name[: -len(".part")] + ".broken")
    assert [p.name for p in tmp_path.iterdir()] == [broken.name]
    assert f"{part.name} ({size} bytes)" in caplog.text and "lost" in caplog.text
    with pytest.raises(pa.ArrowInvalid):
        pq.read_metadata(broken)


def test_parquet_part_with_its_footer_is_recovered(tmp_path):
    """Killed after the footer was written, before the rename: every row is there."""
    part = tmp_path / "predictions-20261130T120000Z-7-000003.parquet.part"
    pq.write_table(pa.table({"request_id": ["a", "b"], "score": [0.1, 0.2]}), part)
    (tmp_path / "predictions-20261130T120000Z-7-000003.parquet").write_bytes(b"taken")
    stats = _start(tmp_path, format="parquet")
    assert (stats.recovered_files, stats.recovered_rows, stats.broken_files) == (1, 2, 0)
    recovered = tmp_path / "predictions-20261130T120000Z-7-000003.1.parquet"  # no clobber
    assert pq.read_table(recovered).column("request_id").to_pylist() == ["a", "b"]
    assert (tmp_path / "predictions-20261130T120000Z-7-000003.parquet").read_bytes() == \
        b"taken"


def test_empty_part_removed_only_once_it_is_old(tmp_path):
    young = tmp_path / "predictions-20261130T120000Z-7-000000.jsonl.part"
    old = tmp_path / "predictions-20261130T120000Z-8-000000.jsonl.part"
    young.touch()
    old.touch()
    past = time.time() - _recover.EMPTY_GRACE_S - 60
    os.utime(old, (past, past))
    stats = _start(tmp_path)
    assert (stats.recovered_files, stats.cut_lines) == (0, 0)
    assert [p.name for p in tmp_path.iterdir()] == [young.name]


def test_a_part_linked_to_its_final_name_is_only_unlinked(tmp_path):
    """Killed between the hard link to the final name and the unlink: no row twice."""
    final = tmp_path / "predictions-20261130T120000Z-7-000000.jsonl"
    final.write_bytes(b'{"request_id": "a"}\n')
    os.link(final, tmp_path / (final.name + ".part"))
    stats = _start(tmp_path)
    assert stats.recovered_rows == 0
    assert [p.name for p in tmp_path.iterdir()] == [final.name]


def test_recovery_counts_are_exposed_to_prometheus(tmp_path):
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.parser import text_string_to_metric_families

    from obskit.instrument.metrics import LoggerStatsCollector

    stamp = "20261130T120000Z"
    (tmp_path / f"predictions-{stamp}-7-000000.jsonl.part").write_bytes(
        b'{"request_id": "a"}\n{"request_id": "b"}\n{"req')
    (tmp_path / f"predictions-{stamp}-8-000000.parquet.part").write_bytes(b"PAR1" + b"x" * 60)
    plog = PredictionLogger(tmp_path)
    registry = CollectorRegistry()
    registry.register(LoggerStatsCollector(plog.stats))
    assert plog.close(timeout_s=30)
    families = {f.name: f for f in text_string_to_metric_families(
        generate_latest(registry).decode())}
    values = {name: families[name].samples[0].value for name in families}
    assert values["obskit_prediction_log_rows_recovered"] == 2
    assert values["obskit_prediction_log_lines_cut"] == 1
    assert values["obskit_prediction_log_files_broken"] == 1
    assert "write error" in families["obskit_prediction_log_rows_dropped"].documentation
