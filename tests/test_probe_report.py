"""Probe results in a report (``sources.probes`` / ``--probes``): per-window figures on
the typed windows and in summary.json, the finding, the health section of the HTML, the
quarantine of bad lines, and an alert rule on ``health.probes.pass_rate``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import obskit
import obskit.results
from obskit import render
from obskit.cli import main
from obskit.config import load_config
from obskit.demo import generate_demo
from obskit.instrument.probe import GoldenRequest, ProbeResult, result_record
from tests.helpers import credit_log

URL = "http://127.0.0.1:8000/predict"
EVIL = "HTTP 500, expected 200 <script>alert(1)</script>"
#: day of November 2026 → (passed, latency_ms, reason) per probe
PLAN = {
    1: [(True, 11.0, None), (True, 13.5, None), (True, 17.0, None), (True, 40.0, None)],
    2: [(True, 20.0, None), (False, 650.0, "latency 650 ms > budget 500 ms"),
        (False, 30.0, "prediction 1, expected 0"), (True, 25.0, None),
        (False, 5.0, EVIL)],
    4: [(False, None, "cannot connect to http://127.0.0.1:8000/predict: Connection refused"),
        (False, None, "cannot connect to http://127.0.0.1:8000/predict: Connection refused")],
}


def _line(day: int, k: int, passed: bool, latency: float | None, reason: str | None) -> str:
    g = GoldenRequest(k + 1, {"x": k}, 0, 0.1)
    r = ProbeResult(g, f"2026-11-{day:02d}T{6 + k:02d}:00:00.000Z",
                    None if latency is None else (200 if "HTTP" not in (reason or "") else 500),
                    latency, None, None, reason)
    assert r.passed is passed
    return json.dumps(result_record(URL, r))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("probe-report")
    files = generate_demo(root / "data", rows=5_000)
    probes = root / "probes"
    probes.mkdir()
    lines = [_line(day, k, *p) for day, plan in PLAN.items() for k, p in enumerate(plan)]
    lines.insert(3, "this is not json")  # line 4 of the first file
    lines.append(json.dumps({"timestamp": "2026-12-30T00:00:00Z", "passed": True}))  # outside
    (probes / "a.jsonl").write_text("\n".join(lines) + "\n")
    (probes / "b.jsonl").write_text(
        json.dumps({"timestamp": "2026-11-03T01:00:00Z", "passed": "maybe"}) + "\n"
        + json.dumps({"timestamp": "2026-11-03T02:00:00Z", "passed": True,
                      "latency_ms": "fast"}) + "\n"
        + json.dumps({"timestamp": "2026-11-03T03:00:00Z", "passed": True,
                      "latency_ms": 8.0}) + "\n")
    return files.config, probes


@pytest.fixture(scope="module")
def report(demo, tmp_path_factory) -> tuple[dict, str]:
    config, probes = demo
    out = tmp_path_factory.mktemp("reports")
    assert main(["report", "--config", str(config), "--probes", str(probes),
                 "--out", str(out)]) == 0
    latest = out / "latest"
    return (json.loads((latest / "summary.json").read_text()),
            (latest / "index.html").read_text(encoding="utf-8"))


def _expected(day: int) -> dict:
    plan = PLAN.get(day, []) + ([(True, 8.0, None)] if day == 3 else [])
    lat = [x for _, x, _ in plan if x is not None]
    failures: dict[str, int] = {}
    for ok, _, reason in plan:
        if not ok:
            failures[reason] = failures.get(reason, 0) + 1
    sent = len(plan)
    passed = sum(ok for ok, _, _ in plan)
    return {"sent": sent, "passed": passed, "failed": sent - passed,
            "pass_rate": passed / sent if sent else None,
            "latency_p50_ms": float(np.percentile(lat, 50)) if lat else None,
            "latency_p95_ms": float(np.percentile(lat, 95)) if lat else None,
            "failures": failures}


def test_summary_windows_carry_the_probe_figures(report):
    summary, _ = report
    windows = summary["windows"]
    assert len(windows) == 14
    for w in windows:
        day = int(w["start"][8:10])
        got = w["health"]["probes"]
        want = _expected(day)
        assert {k: got[k] for k in ("sent", "passed", "failed", "failures")} == \
            {k: want[k] for k in ("sent", "passed", "failed", "failures")}, day
        for key in ("pass_rate", "latency_p50_ms", "latency_p95_ms"):
            assert got[key] == pytest.approx(want[key], rel=1e-12) if want[key] is not None \
                else got[key] is None, (day, key)
    day2 = windows[1]["health"]["probes"]
    assert day2["pass_rate"] == pytest.approx(0.4)
    assert day2["latency_p95_ms"] == pytest.approx(np.percentile([20, 650, 30, 25, 5], 95))
    assert list(day2["failures"]) == sorted(day2["failures"])  # ties: by reason


def test_summary_accounts_for_every_probe_line(report, demo):
    summary, _ = report
    _, probes = demo
    p = summary["probes"]
    assert p["files"] == [str(probes / "a.jsonl"), str(probes / "b.jsonl")]
    assert p["read"] == 16 and p["quarantined"] == 3 and p["used"] == 13
    assert p["read"] == p["used"] + p["quarantined"]
    assert p["outside_windows"] == 1  # 2026-12-30
    assert p["quarantine"]["by_reason"] == {"invalid JSON": 1,
                                            "passed missing or not true/false": 1,
                                            "latency_ms not a number": 1}
    where = {(Path(x["file"]).name, x["line"], x["reason"], x["detail"])
             for x in p["quarantine"]["examples"]}
    assert where == {("a.jsonl", 4, "invalid JSON", "this is not json"),
                     ("b.jsonl", 1, "passed missing or not true/false", "maybe"),
                     ("b.jsonl", 2, "latency_ms not a number", "fast")}
    used_in_windows = sum(w["health"]["probes"]["sent"] for w in summary["windows"])
    assert used_in_windows + p["outside_windows"] == p["used"]


def test_findings_name_the_failed_probes(report):
    summary, _ = report
    found = {f["kind"]: f for f in summary["findings"]}
    f = found["probe_failures"]
    assert f["severity"] == "critical"  # no probe passed on 2026-11-04
    assert f["windows"] == [1, 3] and f["window_start"] == "2026-11-04T00:00:00Z"
    assert "Health probes failed in 2 windows (5 of 12 golden requests)" in f["text"]
    assert "lowest pass rate 0.0% on 2026-11-04" in f["text"]
    assert "most often: cannot connect" in f["text"]
    assert found["probe_quarantine"]["text"].startswith(
        "3 of 16 probe result lines were quarantined")


def test_html_health_section_shows_the_probes_escaped(report):
    _, html = report
    section = html[html.index("Health probes"):]
    section = section[:section.index("</table>")]
    assert "2026-11-02" in section and "40.0%" in section and "2026-11-04" in section
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section
    assert "<script>alert(1)" not in html
    assert "16 probe result lines read from 2 files, 13 used, 3 quarantined" in html


def test_round_trip_and_no_probes_changes_nothing(report, demo):
    summary, _ = report
    run = obskit.results.load(summary)
    assert run.windows[1].health.probes.pass_rate == pytest.approx(0.4)
    assert run.probes.quarantined == 3
    doc = run.to_dict()
    assert doc["windows"] == summary["windows"] and doc["probes"] == summary["probes"]
    first = render.probes_html(run).split("</table>")[0]
    assert first.count("<tr>") == 1 + 4  # header + the 4 windows with probes
    config, _ = demo
    plain = obskit.analyze(load_config(config))
    assert plain.probes is None and plain.to_dict()["probes"] is None
    assert all("probes" not in w.to_dict()["health"] for w in plain.windows)
    assert render.probes_html(plain) == ""
    assert not any(f.kind.startswith("probe") for f in plain.findings)


def test_alert_rule_on_the_probe_pass_rate(demo):
    config, probes = demo
    rule = {"name": "probes", "metric": "health.probes.pass_rate", "op": "<", "value": 0.9,
            "severity": "warning"}
    run = obskit.analyze(load_config(config, overrides={"sources": {"probes": str(probes)},
                                                        "alerts": [rule]}))
    fired = [(a.rule, a.window, a.value) for a in run.alerts]
    assert fired == [("probes", 1, pytest.approx(0.4)), ("probes", 3, 0.0)]
    text = next(f.text for f in run.findings if f.kind != "probe_failures"
                and "probe pass rate" in f.text)
    assert text.startswith("probe pass rate < 90.0% in 2 of 14 windows")


def test_bad_probe_source_exits_2_naming_it(demo, tmp_path, capsys):
    config, _ = demo
    missing = tmp_path / "none.jsonl"
    assert main(["report", "--config", str(config), "--probes", str(missing),
                 "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "sources.probes" in err and str(missing) in err and "Traceback" not in err
    other = tmp_path / "other.jsonl"
    other.write_text('{"time": "2026-11-01T00:00:00Z", "ok": true}\n')
    assert main(["report", "--config", str(config), "--probes", str(other),
                 "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "sources.probes" in err and str(other) in err and "'timestamp'" in err


def _probe(when: pd.Timestamp, passed: bool = True) -> str:
    return json.dumps({"timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "url": URL,
                       "passed": passed, "latency_ms": 10.0,
                       "reason": None if passed else "prediction 1, expected 0"})


def test_row_windows_hold_the_probes_after_the_last_row_period_windows_do_not(tmp_path):
    """Row windows: a probe belongs to the block whose start it follows, and the last block
    is open-ended (probes sent after the last log row); period windows stay [start, end)."""
    log = credit_log("2026-11-01", 1, 300, seed=4)
    log.to_parquet(tmp_path / "cur.parquet")
    times = log.timestamp
    first, last = times.iloc[0], times.iloc[-1]
    start_1 = times.iloc[100]  # 100-row blocks: block 1 starts at the 101st row
    probes = tmp_path / "probes.jsonl"
    probes.write_text("\n".join([
        _probe(first - pd.Timedelta("1h")),                  # before every window
        _probe(start_1 + pd.Timedelta("1us")),               # block 1
        _probe(last),                                        # the last row's time: block 2
        _probe(last + pd.Timedelta("1s"), passed=False),     # after the last row
        _probe(last + pd.Timedelta("3D")),                   # long after, the service idle
    ]) + "\n")
    sources = {"current": str(tmp_path / "cur.parquet"), "probes": str(probes)}

    rows = obskit.analyze(load_config(overrides={"sources": sources, "window": "100 rows"}))
    assert [w.rows for w in rows.windows] == [100, 100, 100]
    sent = [w.health.probes.sent for w in rows.windows]
    assert sent == [0, 1, 3]
    assert rows.probes.outside_windows == 1  # only the one before the first row
    assert rows.windows[2].health.probes.failed == 1
    assert any(f.kind == "probe_failures" for f in rows.findings)
    assert "No probe result falls in a window" not in render.probes_html(rows)

    days = obskit.analyze(load_config(overrides={"sources": sources, "window": "1d"}))
    assert len(days.windows) == 1 and days.windows[0].end == "2026-11-02T00:00:00Z"
    in_day = sum(t < pd.Timestamp("2026-11-02", tz="UTC")
                 for t in (start_1, last, last + pd.Timedelta("1s")))
    assert days.windows[0].health.probes.sent == in_day
    assert days.probes.outside_windows == 5 - in_day  # before the day, and 3 days later
