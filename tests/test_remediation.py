"""Guarded rollback over scheduled runs of a synthetic drift stream (JSON alias file).

Each run is a real :func:`obskit.runner.run_report` (analysis, alerts, publishing) over
logs that grow by one day per run; only the papermill notebook is replaced by a one-cell
copy (it does not take part in remediation and costs most of a run's time).
"""

from __future__ import annotations

import json
from datetime import timedelta

import nbformat
import pytest

from obskit.cli import main
from obskit.config import load_config
from obskit.instrument.aliases import open_alias_store
from obskit.remediation import read_audit
from obskit.remediation.state import parse_time
from obskit.runner import execute, run_report
from tests.remediation_support import (
    config_dict,
    save_model,
    write_config,
    write_day,
    write_reference,
)

DRIFT_DAY = 3


@pytest.fixture
def fake_notebook(monkeypatch):
    """Skip papermill: the 'executed' notebook is a one-cell copy."""
    def fake_execute(notebook, output, parameters, *, timeout_s=1800.0, kernel=None):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("print('report')")]
        nbformat.write(nb, output)
    monkeypatch.setattr(execute, "execute_notebook", fake_execute)


@pytest.fixture
def stream(tmp_path):
    """Reference log, champion model, and a JSON alias file: versions 1 and 2, champion 2
    (promoted from 1)."""
    reference, model = write_reference(tmp_path)
    store = open_alias_store(tmp_path / "models.json", model_name="credit")
    for n in (1, 2):
        version = store.register(save_model(model, tmp_path / f"model-v{n}.skops"))
        store.set_alias("champion", version.version, reason=f"release {n}")
    return {"root": tmp_path, "logs": tmp_path / "logs", "reference": reference,
            "model": model, "store": store}


def _config(stream, remediation, **extra):
    rules = {"registry": {"alias_file": "models.json"}, **remediation}
    raw = config_dict(stream["root"], stream["logs"], stream["reference"], rules,
                      anomalies={"isolation_sample_rows": 500}, **extra)
    return write_config(stream["root"], raw)


ROLLBACK = {"alert": "drift_share_high", "action": "rollback", "consecutive_windows": 2,
            "cooldown": "1d", "max_per_day": 1}


def test_scheduled_runs_roll_back_once_after_n_windows_and_cooldown_holds(stream,
                                                                         fake_notebook):
    path = _config(stream, {"dry_run": False, "rules": [ROLLBACK]})
    config = load_config(path)
    outcomes = []
    for day in range(1, 7):  # one scheduled run per day, over the logs written so far
        write_day(stream["logs"], stream["model"], day, drift_day=DRIFT_DAY, rows=1500)
        outcomes.append(run_report(config, run_id=f"day-{day}", config_path=path))
    # the drift alert fires from the drift day on, in every run that sees it
    breached = [sorted({a.window_start for a in o.run.alerts}) for o in outcomes]
    assert breached[-1] == [f"2026-11-0{d}T00:00:00Z" for d in range(DRIFT_DAY, 7)]
    decisions = [o.remediation for o in outcomes]
    assert all(len(d) == 1 for d in decisions)
    kinds = [(d[0]["decision"], d[0]["reason"].split(";")[0]) for d in decisions]
    assert kinds == [("skipped", "0 of 2 consecutive breaching windows"),
                     ("skipped", "0 of 2 consecutive breaching windows"),
                     ("skipped", "1 of 2 consecutive breaching windows"),
                     ("acted", "2 of 2 consecutive breaching windows"),
                     ("skipped", "1 of 2 consecutive breaching windows"),
                     ("skipped", "2 of 2 consecutive breaching windows")]
    acted = decisions[3][0]
    assert (acted["from_version"], acted["to_version"]) == ("2", "1")
    assert acted["windows"] == {"breaching": 2, "required": 2,
                                "latest": "2026-11-04T00:00:00Z"}
    assert acted["line"] == "remediation: rollback champion 2 -> 1"
    assert "cooldown 1d until" in decisions[5][0]["reason"]
    # exactly one rollback: the alias file says champion 1, moved once by obskit
    store = open_alias_store(stream["root"] / "models.json")
    assert store.get("champion").version == "1"
    history = json.loads((stream["root"] / "models.json").read_text())["history"]
    moves = [h for h in history if "obskit remediation" in str(h.get("reason"))]
    assert [(h["from"], h["to"]) for h in moves] == [("2", "1")]
    # the audit log has one line per run, the same as each run's alerts.json
    audit = read_audit(stream["root"] / "reports" / "remediation.jsonl")
    assert [a["run_id"] for a in audit] == [f"day-{d}" for d in range(1, 7)]
    assert [a["decision"] for a in audit] == [k for k, _ in kinds]
    for outcome, line in zip(outcomes, audit, strict=True):
        published = json.loads((outcome.run_dir / "alerts.json").read_text())
        assert [{k: v for k, v in d.items() if k != "line"}
                for d in published["remediation"]] == [line]
    state = json.loads((stream["root"] / "reports" / "remediation_state.json").read_text())
    assert state["live"]["last_action"]["drift_share_high/rollback"]["window"] == \
        "2026-11-04T00:00:00Z"
    assert sum(state["windows"]["drift_share_high"].values()) == 7 - DRIFT_DAY


def test_dry_run_changes_nothing_and_says_what_it_would_do(stream, fake_notebook, capsys):
    for day in range(1, 5):
        write_day(stream["logs"], stream["model"], day, drift_day=DRIFT_DAY, rows=1500)
    alias_file = stream["root"] / "models.json"
    before = alias_file.read_bytes()
    path = _config(stream, {"rules": [ROLLBACK]})  # dry_run: true by default
    assert main(["report", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "remediation: rollback champion 2 -> 1 (dry run)" in out.splitlines()
    assert alias_file.read_bytes() == before
    # --dry-run forces a dry run over a live remediation section
    path = _config(stream, {"dry_run": False, "rules": [{**ROLLBACK, "cooldown": "1min"}]},
                   dry_run=False)
    assert main(["report", "--config", str(path), "--dry-run"]) == 0
    assert alias_file.read_bytes() == before
    audit = read_audit(stream["root"] / "reports" / "remediation.jsonl")
    assert [(a["decision"], a["dry_run"]) for a in audit] == [("dry_run", True),
                                                              ("skipped", True)]
    # the second dry run saw the same windows: the first one already covered them
    assert audit[1]["reason"] == "0 of 2 consecutive breaching windows"
    assert (audit[0]["from_version"], audit[0]["to_version"]) == ("2", "1")


def test_no_previous_version_is_skipped_and_audited(tmp_path, fake_notebook):
    reference, model = write_reference(tmp_path)
    store = open_alias_store(tmp_path / "models.json", model_name="credit")
    store.set_alias("champion", store.register(
        save_model(model, tmp_path / "m.skops")).version)
    for day in range(1, 5):
        write_day(tmp_path / "logs", model, day, drift_day=DRIFT_DAY, rows=1500)
    raw = config_dict(tmp_path, tmp_path / "logs", reference, {
        "dry_run": False, "registry": {"alias_file": "models.json"}, "rules": [ROLLBACK]},
        anomalies={"isolation_sample_rows": 500})
    outcome = run_report(load_config(write_config(tmp_path, raw)))
    (decision,) = outcome.remediation
    assert decision["decision"] == "skipped"
    assert decision["reason"] == ("2 of 2 consecutive breaching windows; no earlier version "
                                  "of champion that was not rolled back from (now 1)")
    assert open_alias_store(tmp_path / "models.json").get("champion").version == "1"


def _minutes_pass(root, minutes):
    """Let time pass for the guards: move the live actions of the state file back."""
    path = root / "reports" / "remediation_state.json"
    state = json.loads(path.read_text())
    for entry in [*state["live"]["last_action"].values(), *state["live"]["actions"]]:
        entry["time"] = (parse_time(entry["time"]) - timedelta(minutes=minutes)).isoformat(
            timespec="seconds").replace("+00:00", "Z")
    path.write_text(json.dumps(state))


LIVE_1MIN = {"dry_run": False, "rules": [{**ROLLBACK, "cooldown": "1min", "max_per_day": 5}]}


def test_a_second_rollback_never_puts_back_the_version_rolled_away_from(stream,
                                                                       fake_notebook):
    path = _config(stream, LIVE_1MIN)
    config = load_config(path)
    for day in range(1, 5):
        write_day(stream["logs"], stream["model"], day, drift_day=DRIFT_DAY, rows=1500)
    first = run_report(config, run_id="run-a", config_path=path).remediation[0]
    assert (first["decision"], first["line"]) == ("acted", "remediation: rollback champion 2 -> 1")
    _minutes_pass(stream["root"], 2)  # past the cooldown; the drift goes on
    for day in (5, 6):
        write_day(stream["logs"], stream["model"], day, drift_day=DRIFT_DAY, rows=1500)
    second = run_report(config, run_id="run-b", config_path=path).remediation[0]
    assert second["decision"] == "skipped" and second["reason"] == (
        "2 of 2 consecutive breaching windows; no earlier version of champion that was not "
        "rolled back from (now 1)")
    store = open_alias_store(stream["root"] / "models.json")
    assert store.get("champion").version == "1"
    history = json.loads((stream["root"] / "models.json").read_text())["history"]
    assert [(h["from"], h["to"]) for h in history] == [(None, "1"), ("1", "2"), ("2", "1")]


def test_after_a_rollback_by_hand_remediation_does_not_flip_back(stream, fake_notebook):
    stream["store"].set_alias("champion", "1", reason="rollback")  # a person, 2 -> 1
    for day in range(1, 5):
        write_day(stream["logs"], stream["model"], day, drift_day=DRIFT_DAY, rows=1500)
    path = _config(stream, LIVE_1MIN)
    (decision,) = run_report(load_config(path), config_path=path).remediation
    assert decision["decision"] == "skipped"
    assert "no earlier version of champion that was not rolled back from" in \
        decision["reason"]
    assert open_alias_store(stream["root"] / "models.json").get("champion").version == "1"


def test_an_unset_alias_is_skipped_naming_the_alias_file(stream, fake_notebook):
    for day in range(1, 5):
        write_day(stream["logs"], stream["model"], day, drift_day=DRIFT_DAY, rows=1500)
    path = _config(stream, {**LIVE_1MIN, "alias": "production"})
    (decision,) = run_report(load_config(path), config_path=path).remediation
    assert decision["decision"] == "skipped"
    assert decision["reason"].endswith(
        f"alias 'production' points at no version in alias file "
        f"{str(stream['root'] / 'models.json')!r}")


@pytest.mark.parametrize("section, key", [
    ({"registry": {"alias_file": "nosuch.json"}}, "remediation.registry.alias_file"),
    ({"rules": [{"alert": "drift_share_high", "action": "retrain",
                 "entry_point": "fixremed_no_train:make_candidate"}]},
     "remediation.rules[0].entry_point"),
])
def test_a_missing_registry_or_entry_point_stops_the_command_before_any_work(
        stream, capsys, section, key):
    write_day(stream["logs"], stream["model"], 1, drift_day=DRIFT_DAY, rows=200)
    path = _config(stream, {**LIVE_1MIN, **section})
    assert main(["report", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert key in err and "Traceback" not in err
    assert not (stream["root"] / "reports").exists()  # no log was read, nothing written


def test_backfill_counts_windows_across_runs_of_one_window_each(stream, fake_notebook,
                                                               capsys):
    for day in range(1, 7):
        write_day(stream["logs"], stream["model"], day, drift_day=DRIFT_DAY, rows=1500)
    path = _config(stream, {"dry_run": False, "rules": [ROLLBACK]})
    assert main(["backfill", "--config", str(path), "--from", "2026-11-01",
                 "--to", "2026-11-07", "--every", "1d"]) == 0
    out = capsys.readouterr()
    lines = [line.strip() for line in (out.out + out.err).splitlines()
             if line.strip().startswith("remediation:")]
    # a live config, but a backfill only previews: the guards count the windows across
    # the one-window runs, and the would-be rollback is a dry run that moves nothing
    skipped = "remediation: drift_share_high/rollback skipped: "
    note = "; dry run: backfill of a past period"
    assert lines[:-1] == [f"{skipped}{k} of 2 consecutive breaching windows{note}"
                          for k in (0, 0, 1)] \
        + ["remediation: rollback champion 2 -> 1 (dry run)",
           f"{skipped}1 of 2 consecutive breaching windows{note}"]
    assert lines[-1].startswith(f"{skipped}2 of 2 consecutive breaching windows; cooldown")
    assert "cooldown 1d until" in lines[-1] and lines[-1].endswith(note)
    assert open_alias_store(stream["root"] / "models.json").get("champion").version == "2"
    audit = read_audit(stream["root"] / "reports" / "remediation.jsonl")
    assert [a["run_id"] for a in audit] == [f"2026-11-0{d}" for d in range(1, 7)]
    assert [a["windows"]["latest"] for a in audit] == \
        [f"2026-11-0{d}T00:00:00Z" for d in range(1, 7)]
    assert all(a["dry_run"] for a in audit)
    assert [a["decision"] for a in audit].count("dry_run") == 1
    assert audit[3]["reason"] == ("2 of 2 consecutive breaching windows; would move champion "
                                  f"2 -> 1{note}")
    # the preview kept its own memory; no live state was written
    assert not (stream["root"] / "reports" / "remediation_state.json").exists()
    state = json.loads((stream["root"] / "reports" / "remediation_state.preview.json")
                       .read_text())
    assert state["live"]["last_action"] == {}


def test_a_backfill_after_live_runs_previews_its_own_periods_and_leaves_live_state_alone(
        stream, fake_notebook, capsys):
    """Live daily runs have judged (and acted on) later windows; a backfill of the same
    past periods must preview from its own periods only, never from the live memory, and
    must leave the live state and the alias file as they were."""
    path = _config(stream, {"dry_run": False, "rules": [ROLLBACK]})
    for day in range(1, 7):
        write_day(stream["logs"], stream["model"], day, drift_day=DRIFT_DAY, rows=1500)
        run_report(load_config(path), config_path=path)
    reports = stream["root"] / "reports"
    live_state = (reports / "remediation_state.json").read_bytes()
    aliases = (stream["root"] / "models.json").read_bytes()
    capsys.readouterr()
    assert main(["backfill", "--config", str(path), "--from", "2026-11-01",
                 "--to", "2026-11-07", "--every", "1d", "--force"]) == 0
    out = capsys.readouterr()
    lines = [line.strip() for line in (out.out + out.err).splitlines()
             if line.strip().startswith("remediation:")]
    skipped = "remediation: drift_share_high/rollback skipped: "
    note = "; dry run: backfill of a past period"
    # counted period by period as in an empty folder (not 4+ windows at once from the live
    # memory); at the second breaching period the live rollback has left nothing to go to
    assert lines[:4] == [f"{skipped}{k} of 2 consecutive breaching windows{note}"
                         for k in (0, 0, 1)] + [
        f"{skipped}2 of 2 consecutive breaching windows; no earlier version of champion "
        f"that was not rolled back from (now 1){note}"]
    audit = read_audit(reports / "remediation.jsonl")[-6:]
    assert [a["windows"]["latest"] for a in audit] == \
        [f"2026-11-0{d}T00:00:00Z" for d in range(1, 7)]
    assert (reports / "remediation_state.json").read_bytes() == live_state
    assert (stream["root"] / "models.json").read_bytes() == aliases
