"""Unfinished log files (``x.jsonl.part``: still being written, or left by a process that
stopped without finishing it) are never read and never skipped silently: each source
names them with their sizes in ``notes``, the report's data quality section,
``sources.unfinished`` of summary.json and a warning finding; a source of unfinished files
only stops the run (exit 2) saying so."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

import obskit
from obskit import render
from obskit.cli import EXIT_INPUT, main
from obskit.config import load_config
from obskit.exceptions import InputError
from obskit.instrument.logger import PredictionLogger
from obskit.io import load_logs
from obskit.io.paths import SkippedFile, is_unfinished, unfinished_text
from obskit.results import UnfinishedFile, load
from tests.helpers import credit_log

WHY = "still being written, or left by a process that stopped without finishing it"
WHY_MANY = "still being written, or left by processes that stopped without finishing them"


def _records(start: str, rows: int, *, seed: int) -> list[dict]:
    """Log rows in the schema the prediction logger writes (features nested)."""
    df = credit_log(start, 1, rows, seed=seed)
    out = []
    for r in df.to_dict("records"):
        out.append({"timestamp": r["timestamp"].strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    "request_id": r["request_id"], "model_version": "v1",
                    "prediction": int(r["prediction"]), "score": float(r["score"]),
                    "latency_ms": float(r["latency_ms"]), "status": 200,
                    "features": {"age": float(r["age"]), "income": float(r["income"]),
                                 "region": r["region"]}})
    return out


def _load(spec: str, **sources):
    return load_logs(load_config(overrides={"sources": {"current": spec, **sources},
                                            "task": "binary"}))


def test_is_unfinished_needs_a_log_extension_before_the_suffix():
    assert is_unfinished("logs/predictions-20261130T190000Z-000001.jsonl.part")
    assert is_unfinished("x.PARQUET.part") and is_unfinished("x.csv.broken")
    assert not is_unfinished("notes.part") and not is_unfinished("x.jsonl")
    assert not is_unfinished("x.jsonl.partial") and not is_unfinished("x.part.jsonl")


def test_a_directory_reads_finished_files_and_names_the_unfinished(write, tmp_path):
    a = write("d/a.jsonl", _records("2026-11-01", 3, seed=1))
    b = write("d/sub/b.parquet", pd.DataFrame({
        "timestamp": ["2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z"], "score": [0.2, 0.7],
        "prediction": [0, 1], "age": [30.0, 40.0]}))
    c = write("d/c.jsonl.part", "".join(json.dumps(r) + "\n"
                                        for r in _records("2026-11-02", 4, seed=2))
              + '{"timestamp": "2026-11-02T23:')  # ends in half a line
    e = write("d/sub/e.parquet.broken", "PAR1 not a finished parquet file")
    write("d/notes.part", "not a log file: ignored like any unknown file")
    logs = _load(str(tmp_path / "d"))
    assert logs.current.files == (a, b)
    assert logs.current.rows_read == 5 and logs.current.rows_quarantined == 0
    assert logs.current.unfinished == (SkippedFile(c, os.path.getsize(c)),
                                       SkippedFile(e, os.path.getsize(e)))
    note = next(n for n in logs.notes if "unfinished" in n)
    # a .part may still be written; a .broken one (a Parquet file a crash left without
    # its footer) never will: each is said as what it is
    assert note == (f"sources.current: 1 unfinished log file skipped: c.jsonl.part "
                    f"({os.path.getsize(c):,} bytes; {WHY}); 1 unfinished log file skipped: "
                    f"e.parquet.broken ({os.path.getsize(e):,} bytes; unreadable: a crashed "
                    "writer left it without its end, and its rows are lost; delete it once "
                    "noted); their rows are not in this report.")


def test_a_glob_names_the_unfinished_files_it_would_match_once_finished(write, tmp_path):
    a = write("logs/a.jsonl", _records("2026-11-01", 2, seed=1))
    b = write("logs/b.jsonl.part", _records("2026-11-01", 2, seed=2))
    write("logs/c.csv.part", "timestamp,score\n")  # not what *.jsonl asks for
    logs = _load(str(tmp_path / "logs" / "*.jsonl"))
    assert logs.current.files == (a,)
    assert logs.current.unfinished == (SkippedFile(b, os.path.getsize(b)),)
    # a glob that matches the unfinished file itself skips it too (no "unknown type" error)
    wide = _load(str(tmp_path / "logs" / "*"))
    assert wide.current.files == (a,)
    assert [Path(f.path).name for f in wide.current.unfinished] == ["b.jsonl.part",
                                                                   "c.csv.part"]


@pytest.mark.parametrize("source", ["current", "reference", "labels"])
def test_a_source_of_unfinished_files_only_stops_saying_so(write, tmp_path, source):
    good = write("good.jsonl", _records("2026-11-01", 3, seed=1))
    part = write("only/predictions-20261130T190000Z-000001.jsonl.part",
                 _records("2026-11-02", 3, seed=2))
    sources = {"current": good, source: str(tmp_path / "only")}
    with pytest.raises(InputError) as err:
        load_logs(load_config(overrides={"sources": sources, "task": "binary"}))
    msg = str(err.value)
    assert msg.startswith(f"sources.{source}: {tmp_path / 'only'}: matched no finished log "
                          "file; 1 unfinished log file skipped: "
                          "predictions-20261130T190000Z-000001.jsonl.part "
                          f"({os.path.getsize(part):,} bytes; {WHY})")
    assert "rename it without the .part or .broken suffix" in msg


def test_the_cli_exits_2_on_a_directory_of_unfinished_files(write, tmp_path, capsys):
    write("logs/predictions-1.jsonl.part", _records("2026-11-01", 3, seed=1))
    code = main(["report", "--current", str(tmp_path / "logs"),
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == EXIT_INPUT
    assert "sources.current" in err and "predictions-1.jsonl.part" in err
    assert "unfinished log file skipped" in err and "Traceback" not in err


def test_an_empty_finished_file_beside_unfinished_ones_names_both(write, tmp_path):
    empty = write("d/a.jsonl", "")
    write("d/b.jsonl.part", _records("2026-11-01", 3, seed=1))
    with pytest.raises(InputError) as err:
        _load(str(tmp_path / "d"))
    msg = str(err.value)
    assert empty in msg and "no rows" in msg
    assert "Besides, 1 unfinished log file skipped: b.jsonl.part" in msg


def test_a_spec_naming_an_unfinished_file_stops_and_says_how_to_read_it(write, tmp_path):
    part = write("x.jsonl.part", _records("2026-11-01", 3, seed=1))
    with pytest.raises(InputError) as err:
        _load(part)
    msg = str(err.value)
    assert f"{part}: an unfinished log file ({WHY})" in msg
    assert f"renames it to {part[:-5]}" in msg
    missing = str(tmp_path / "x.jsonl")  # the finished name, not there yet
    with pytest.raises(InputError, match="no such file; .*x.jsonl.part: an unfinished"):
        _load(missing)


def test_unfinished_text_counts_beyond_the_names_shown():
    files = [(f"/l/p-{i}.jsonl.part", 10 * i) for i in range(7)] + [("/l/q.csv.part", None)]
    text = unfinished_text(files, shown=2)
    assert text == (f"8 unfinished log files skipped: p-0.jsonl.part (0 bytes), "
                    f"p-1.jsonl.part (10 bytes) and 6 more ({WHY_MANY})")
    assert unfinished_text([("q.csv.part", None)]) == (
        f"1 unfinished log file skipped: q.csv.part (size unknown; {WHY})")
    assert unfinished_text([]) == ""


@pytest.fixture
def crashed_service(tmp_path):
    """Logs as a service leaves them: one file the prediction logger finished (renamed),
    one still open (``.part``, flushed: its rows are on disk); label and probe sources
    with an unfinished file each. Yields the paths and the open logger (closed after)."""
    logs = tmp_path / "logs"
    done = PredictionLogger(logs, flush_interval_s=0.05)
    rows = _records("2026-11-01", 300, seed=1)
    assert all(done.log(r) for r in rows)
    assert done.close(timeout_s=30)
    open_ = PredictionLogger(logs, prefix="later", flush_interval_s=0.05)
    late = _records("2026-11-02", 40, seed=2)
    assert all(open_.log(r) for r in late)
    assert open_.flush(timeout_s=30)
    labels = tmp_path / "labels"
    labels.mkdir()
    (labels / "labels.jsonl").write_text("".join(
        json.dumps({"request_id": r["request_id"], "label": k % 2}) + "\n"
        for k, r in enumerate(rows)))
    (labels / "labels-2.csv.part").write_text("request_id,label\nr2-0,1\n")
    probes = tmp_path / "probes"
    probes.mkdir()
    (probes / "p.jsonl").write_text(json.dumps(
        {"timestamp": "2026-11-01T12:00:00Z", "passed": True, "latency_ms": 9.0}) + "\n")
    (probes / "p-2.jsonl.part").write_text('{"timestamp": "2026-11-01T13:00:00Z", "pa')
    try:
        yield {"logs": logs, "labels": labels, "probes": probes, "logger": open_}
    finally:
        open_.close(timeout_s=30)


def test_a_report_over_a_crashed_service_names_every_unfinished_file(crashed_service,
                                                                     tmp_path):
    s = crashed_service
    parts = sorted(s["logs"].glob("*.part"))
    assert [p.name[:6] for p in parts] == ["later-"]  # the open file, as the logger names it
    config = load_config(overrides={"sources": {"current": str(s["logs"]),
                                                "labels": str(s["labels"]),
                                                "probes": str(s["probes"])},
                                    "task": "binary"})
    run = obskit.analyze(config)
    assert run.rows.read == 300 and len(run.sources.current) == 1  # the finished file only
    label_part = s["labels"] / "labels-2.csv.part"
    probe_part = s["probes"] / "p-2.jsonl.part"
    assert run.sources.unfinished == {
        "current": (UnfinishedFile(path=str(parts[0]), bytes=parts[0].stat().st_size),),
        "labels": (UnfinishedFile(path=str(label_part), bytes=label_part.stat().st_size),),
        "probes": (UnfinishedFile(path=str(probe_part), bytes=probe_part.stat().st_size),),
    }
    assert parts[0].stat().st_size > 0  # flushed rows a report would miss
    notes = [n for n in run.notes if "unfinished" in n]
    assert [n.split(":")[0] for n in notes] == ["sources.current", "sources.labels",
                                                "sources.probes"]
    assert notes[0] == (f"sources.current: 1 unfinished log file skipped: {parts[0].name} "
                        f"({parts[0].stat().st_size:,} bytes; {WHY}); its rows are not in "
                        "this report.")
    found = [f for f in run.findings if f.kind == "unfinished_files"]
    assert len(found) == 1 and found[0].severity == "warning"
    assert found[0].text == " ".join(notes)
    # it comes before every info finding (the first screen shows the most severe)
    kinds = [f.severity for f in run.findings]
    assert kinds.index("warning") < kinds.index("info")

    # the typed model round-trips through summary.json
    doc = json.loads(json.dumps(run.to_dict()))
    assert doc["sources"]["unfinished"]["labels"] == [
        {"path": str(label_part), "bytes": label_part.stat().st_size}]
    again = load(doc)
    assert again.sources.unfinished == run.sources.unfinished
    assert again.to_dict() == doc

    # the accounting section names them with their sizes, escaped
    html = render.data_quality_html(again)
    assert "<h3>Unfinished log files</h3>" in html
    assert f"<td>current</td><td>{parts[0].name}</td>" in html
    assert f"<td class=num>{label_part.stat().st_size:,}</td>" in html

    # once the writer finishes (renames) it, the next run reads its rows, nothing skipped
    assert s["logger"].close(timeout_s=30)
    rerun = obskit.analyze(load_config(overrides={"sources": {"current": str(s["logs"])},
                                                  "task": "binary"}))
    assert rerun.rows.read == 340 and rerun.sources.unfinished == {}
    assert rerun.to_dict()["sources"]["unfinished"] == {}
    assert not any(f.kind == "unfinished_files" for f in rerun.findings)
