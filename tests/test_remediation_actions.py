"""Retrain behind a gate, rollback in MLflow's registry, the webhook action, failures.

Real parts: report runs over a synthetic drift stream with a concept change (the label
moves from ``x1`` to ``x2`` on the drift day), a JSON alias file or a SQLite MLflow
registry, a user entry point imported by name, a loopback HTTP receiver.
"""

from __future__ import annotations

import json
import logging
import textwrap
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from obskit.config import load_config
from obskit.instrument.aliases import open_alias_store
from obskit.remediation import read_audit
from obskit.remediation.state import parse_time
from obskit.runner import run_report
from tests.remediation_support import (
    FEATURES,
    config_dict,
    save_model,
    write_config,
    write_day,
    write_reference,
)
from tests.test_remediation import fake_notebook  # noqa: F401  (a fixture)
from tests.test_sinks_webhook import TOKEN, receiver  # noqa: F401  (a fixture)

DRIFT_DAY, DAYS, ROWS = 3, 6, 1500
pytestmark = pytest.mark.usefixtures("fake_notebook")

ENTRY = textwrap.dedent('''
    """A team's retrain entry points (what `entry_point: remed_train:NAME` imports)."""
    import json, os
    import numpy as np
    from tests.remediation_support import fit

    def _note(context):
        seen = {"rows": len(context.data), "holdout_start": context.holdout_start,
                "latest": str(context.data["timestamp"].max()),
                "champion": context.champion.version, "features": list(context.features)}
        with open(os.environ["REMED_SEEN"], "w") as fh:
            json.dump(seen, fh)

    def better(context):
        _note(context)
        recent = context.data.head(2 * 1500)        # newest first: the drifted days
        return fit(recent, recent["label"].astype(int))

    def worse(context):
        _note(context)
        recent = context.data.head(2 * 1500)
        return fit(recent, 1 - recent["label"].astype(int))   # deliberately inverted

    def broken(context):
        raise RuntimeError("training data missing")
''')


@pytest.fixture
def stream(tmp_path, monkeypatch):
    """Six days of logs (drift and concept change from day 3), a champion fitted on the
    reference, and the entry point module on sys.path."""
    reference, model = write_reference(tmp_path)
    for day in range(1, DAYS + 1):
        write_day(tmp_path / "logs", model, day, drift_day=DRIFT_DAY, rows=ROWS)
    (tmp_path / "remed_train.py").write_text(ENTRY)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("REMED_SEEN", str(tmp_path / "seen.json"))
    return {"root": tmp_path, "reference": reference, "model": model}


def _run(stream, remediation, **extra):
    raw = config_dict(stream["root"], stream["root"] / "logs", stream["reference"],
                      remediation, anomalies={"isolation_sample_rows": 500}, **extra)
    path = write_config(stream["root"], raw)
    return run_report(load_config(path), config_path=path)


def _json_store(stream):
    store = open_alias_store(stream["root"] / "models.json", model_name="credit")
    version = store.register(save_model(stream["model"], stream["root"] / "champion.skops"))
    store.set_alias("champion", version.version, reason="release")
    return store


def _retrain(entry):
    return {"dry_run": False, "registry": {"alias_file": "models.json"}, "rules": [
        {"alert": "drift_share_high", "action": "retrain", "consecutive_windows": 2,
         "entry_point": f"remed_train:{entry}",
         "gate": {"metric": "roc_auc", "windows": 2, "min_improvement": 0.02}}]}


def _gate_rows(stream):
    """The labelled rows of the two gate windows (days 5 and 6), read from the files."""
    files = sorted((stream["root"] / "logs").glob("*.jsonl"))[-2:]
    return pd.concat([pd.read_json(f, lines=True) for f in files])


def test_worse_candidate_becomes_challenger_and_is_not_promoted(stream):
    _json_store(stream)
    outcome = _run(stream, _retrain("worse"))
    (decision,) = outcome.remediation
    assert decision["decision"] == "acted" and decision["promoted"] is False
    assert decision["challenger"] == "2" and decision["to_version"] is None
    scores = decision["scores"]
    assert scores["challenger"] < scores["champion"] + 0.02
    until = (parse_time(decision["time"]) + timedelta(days=1)).isoformat().replace(
        "+00:00", "Z")  # the rule's default cooldown, 1d
    assert decision["reason"].endswith(
        f"challenger not promoted: challenger roc_auc {scores['challenger']:.4f} < champion "
        f"{scores['champion']:.4f} + 0.02; counts as an action (cooldown until {until})")
    assert "counts as an action" in decision["line"]
    store = open_alias_store(stream["root"] / "models.json")
    assert store.get("champion").version == "1"
    assert store.get("challenger").version == "2"
    assert store.get_version("2").tags["obskit.rule"] == "drift_share_high/retrain"
    # the audit line shows both scores, as the run's alerts.json does
    (audit,) = read_audit(stream["root"] / "reports" / "remediation.jsonl")
    assert audit["scores"] == scores and audit["challenger"] == "2"
    # the rejected attempt counts as an action: its windows are consumed and the
    # cooldown starts, so the next run does not retrain again
    state = json.loads((stream["root"] / "reports" / "remediation_state.json").read_text())
    assert state["live"]["last_action"]["drift_share_high/retrain"] == {
        "time": decision["time"], "window": "2026-11-06T00:00:00Z"}
    again = _run(stream, _retrain("worse")).remediation[0]
    assert (again["decision"], again["reason"]) == \
        ("skipped", "0 of 2 consecutive breaching windows")
    assert [v.version for v in store.versions()] == ["1", "2"]


def test_better_candidate_is_promoted_on_held_out_windows(stream):
    _json_store(stream)
    outcome = _run(stream, _retrain("better"))
    (decision,) = outcome.remediation
    assert decision["promoted"] is True and decision["line"] == \
        "remediation: retrain: promote champion 1 -> 2"
    assert open_alias_store(stream["root"] / "models.json").get("champion").version == "2"
    # the champion's score is roc_auc of the reference model on the gate windows' rows
    rows = _gate_rows(stream)
    expected = roc_auc_score(rows["label"], stream["model"].predict_proba(
        rows[list(FEATURES)])[:, 1])
    assert decision["scores"]["champion"] == pytest.approx(expected, abs=1e-9)
    assert decision["scores"]["rows"] == len(rows) == 2 * ROWS
    assert decision["scores"]["challenger"] >= expected + 0.02
    # the entry point saw only rows before the held-out gate windows
    seen = json.loads((stream["root"] / "seen.json").read_text())
    assert seen["holdout_start"] == "2026-11-05T00:00:00Z"
    assert seen["rows"] == 4 * ROWS and seen["latest"] < "2026-11-05"
    assert seen["champion"] == "1" and sorted(seen["features"]) == list(FEATURES)


def test_failing_entry_point_is_audited_and_the_report_stands(stream, caplog):
    _json_store(stream)
    caplog.set_level(logging.INFO, logger="obskit")
    outcome = _run(stream, _retrain("broken"))
    # the command line prints the line; the log must not reach stderr a second time
    # (a warning goes through logging's last-resort handler when nothing is configured)
    failures = [r for r in caplog.records if "training data missing" in r.getMessage()]
    assert [r.levelno for r in failures] == [logging.INFO]
    assert outcome.status == "alert" and outcome.html.is_file()
    (decision,) = outcome.remediation
    assert decision["decision"] == "failed"
    assert decision["error"] == "RuntimeError: training data missing"
    assert decision["line"] == \
        "remediation: drift_share_high/retrain failed: RuntimeError: training data missing"
    assert open_alias_store(stream["root"] / "models.json").get("challenger") is None
    # a failed action is no action: the next run tries again
    state = json.loads((stream["root"] / "reports" / "remediation_state.json").read_text())
    assert state["live"]["last_action"] == {}


def test_rollback_in_an_mlflow_registry(stream, monkeypatch):
    monkeypatch.chdir(stream["root"])  # MLflow's default artifact root is ./mlruns
    uri = f"sqlite:///{stream['root']}/mlflow.db"
    store = open_alias_store(uri, model_name="credit")
    for n in (1, 2):
        version = store.register(save_model(stream["model"], stream["root"] / f"v{n}.skops"))
        store.set_alias("champion", version.version, reason=f"release {n}")
    outcome = _run(stream, {"dry_run": False, "rules": [
        {"alert": "drift_share_high", "action": "rollback", "consecutive_windows": 3}],
        "registry": {"tracking_uri": uri, "model_name": "credit"}})
    (decision,) = outcome.remediation
    assert (decision["decision"], decision["from_version"], decision["to_version"]) == \
        ("acted", "2", "1")
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    assert str(client.get_model_version_by_alias("credit", "champion").version) == "1"


def test_webhook_action_reaches_the_receiver(stream, receiver,  # noqa: F811
                                             monkeypatch):
    hook = receiver()
    monkeypatch.setenv("REMED_HOOK_URL", hook.url)
    outcome = _run(stream, {"dry_run": False, "rules": [
        {"alert": "drift_share_high", "action": "webhook", "consecutive_windows": 4}]},
        sinks={"webhook": {"url_env": "REMED_HOOK_URL", "retries": 0}})
    remediation = [r for r in hook.requests
                   if json.loads(r["body"]).get("kind") == "remediation"]
    assert len(remediation) == 1
    body = json.loads(remediation[0]["body"])
    assert body["rule"] == "drift_share_high/webhook" and body["run_id"] == \
        outcome.record.run_id
    assert body["windows"] == {"breaching": 4, "required": 4,
                               "latest": "2026-11-06T00:00:00Z"}
    (decision,) = outcome.remediation
    assert decision["decision"] == "acted"
    audit_text = (stream["root"] / "reports" / "remediation.jsonl").read_text()
    assert TOKEN not in audit_text and "127.0.0.1" not in audit_text
    assert "$REMED_HOOK_URL" in decision["reason"]


def test_gate_score_uses_the_model_class_space():
    from obskit.remediation.retrain import gate_score
    from tests.remediation_support import fit, population

    frame = population(np.random.default_rng(3), 800, drifted=False)
    model = fit(frame, frame["label"])
    rows = frame.assign(label=frame["label"].astype(str))  # labels are read as text
    score = gate_score(model, rows, metric="roc_auc", features=FEATURES, task="binary")
    assert score == pytest.approx(roc_auc_score(frame["label"], model.predict_proba(
        frame[list(FEATURES)])[:, 1]))
