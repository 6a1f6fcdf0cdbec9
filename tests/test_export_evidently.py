"""``obskit export evidently``: a real run into a real Evidently workspace, read back by
Evidently (``Workspace(DIR)``) and by the data storage its UI plots dashboards from."""

from __future__ import annotations

import asyncio
import json

import pytest

from obskit.cli import main
from obskit.results import RunRecord, document, load
from tests.demo_run import demo_run

pytest.importorskip("evidently")

TYPE = "evidently:metric_v2:"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two runs: the demo analysis as ``analyze()`` writes it (no runner record: its id is
    the file's hash), and as the runner writes a later run of it (its own ``run_id``)."""
    _, _, first = demo_run()
    second = tmp_path_factory.mktemp("second") / "summary.json"
    doc = document(load(first), RunRecord(run_id="20261130T060000Z-credit"))
    second.write_text(json.dumps(doc))
    return first, second


def _export(capsys, summary, workspace, *extra):
    code = main(["export", "evidently", "--summary", str(summary), "--workspace",
                 str(workspace), *extra])
    return code, capsys.readouterr()


def _snapshots(workspace):
    from evidently.ui.workspace import Workspace

    ws = Workspace(str(workspace))
    projects = ws.list_projects()
    return ws, projects, {p.id: [ws.get_run(p.id, s) for s in ws.list_runs(p.id)]
                          for p in projects}


def _daily(first, folder, day, windows, *, bump=0, status=None):
    """The demo run as the runner writes a daily report over the given windows: its own
    run id and ``generated_at``; ``bump`` added to every window's rows (a later judgement
    of the same window)."""
    doc = json.loads(first.read_text())
    doc["windows"] = [{**w, "rows": w["rows"] + bump} for w in windows]
    doc.update(run_id=f"202611{day}T060000Z-credit", generated_at=f"2026-11-{day}T06:00:00Z")
    if status:
        doc["status"] = status
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.json").write_text(json.dumps(doc))
    return folder / "summary.json"


def test_export_adds_one_project_then_snapshots_idempotently(runs, tmp_path, capsys):
    first, second = runs
    windows = len(load(first).windows)
    code, out = _export(capsys, first, tmp_path / "ws")
    assert code == 0, out.err
    assert f"windows: {windows} added, 0 replaced, 0 unchanged" in out.out
    assert "created" in out.out
    _, projects, snaps = _snapshots(tmp_path / "ws")
    assert len(projects) == 1 and projects[0].name == load(first).title
    assert len(snaps[projects[0].id]) == windows

    # the same analysis by a later run: its judgement replaces each window's snapshot
    code, out = _export(capsys, second, tmp_path / "ws")
    assert code == 0 and f"windows: 0 added, {windows} replaced, 0 unchanged" in out.out
    assert "created" not in out.out
    _, projects, snaps = _snapshots(tmp_path / "ws")
    assert len(projects) == 1 and len(snaps[projects[0].id]) == windows
    assert {s.metadata["obskit_run_id"] for s in snaps[projects[0].id]} == {
        "20261130T060000Z-credit"}

    code, out = _export(capsys, second, tmp_path / "ws")  # the same run again: a no-op
    assert code == 0 and f"windows: 0 added, 0 replaced, {windows} unchanged" in out.out
    _, projects, snaps = _snapshots(tmp_path / "ws")
    assert len(projects) == 1 and len(snaps[projects[0].id]) == windows

    code, out = _export(capsys, first, tmp_path / "ws", "--project", "credit-v2")
    assert code == 0
    _, projects, _ = _snapshots(tmp_path / "ws")
    assert sorted(p.name for p in projects) == sorted([load(first).title, "credit-v2"])


def test_daily_runs_over_overlapping_windows_keep_one_snapshot_per_window(
        runs, tmp_path, capsys):
    first, _ = runs
    all_windows = json.loads(first.read_text())["windows"]
    n = len(all_windows)
    assert n >= 3
    older = _daily(first, tmp_path / "r29", "29", all_windows[:-1])
    newer = _daily(first, tmp_path / "r30", "30", all_windows[1:], bump=7, status="alert")
    ws = tmp_path / "ws"
    assert _export(capsys, older, ws)[0] == 0
    code, out = _export(capsys, newer, ws)
    assert code == 0 and f"windows: 1 added, {n - 2} replaced, 0 unchanged" in out.out
    assert f"project now holds {n} snapshots" in out.out

    def check():
        _, projects, snaps = _snapshots(ws)
        (held,) = snaps.values()
        by_start = {}
        for snap in held:
            by_start.setdefault(snap.metadata["window_start"], []).append(snap)
        assert sorted(by_start) == sorted(w["start"] for w in all_windows)
        for i, window in enumerate(all_windows):
            (snap,) = by_start[window["start"]]  # one snapshot per window
            assert snap.metadata["window_end"] == window["end"]
            newest = i > 0  # windows 1.. come from the newer run, with its values
            assert snap.metadata["obskit_run_id"] == (
                "20261130T060000Z-credit" if newest else "20261129T060000Z-credit")
            assert _value(snap, "RowCount").value == window["rows"] + (7 if newest else 0)
            assert f"run_status:{'alert' if newest else load(first).status}" in snap.tags
            assert f"window_status:{window['status']}" in snap.tags
    check()
    code, out = _export(capsys, newer, ws)  # the same run again changes nothing
    assert code == 0 and f"windows: 0 added, 0 replaced, {n - 1} unchanged" in out.out
    code, out = _export(capsys, older, ws)  # an older judgement never replaces a newer
    assert code == 0 and f"windows: 0 added, 0 replaced, {n - 1} unchanged" in out.out
    assert f"kept: {n - 2} windows held by a newer run" in out.out
    check()


def test_a_failed_run_is_refused_unless_asked_for(runs, tmp_path, capsys):
    first, _ = runs
    failed = _daily(first, tmp_path / "failed", "30",
                    json.loads(first.read_text())["windows"], status="failed")
    code, out = _export(capsys, failed, tmp_path / "ws")
    assert code == 2 and "status failed" in out.err and "--include-failed" in out.err
    assert not (tmp_path / "ws").exists()
    code, out = _export(capsys, failed, tmp_path / "ws", "--include-failed")
    assert code == 0 and "note: run 20261130T060000Z-credit: status failed" in out.out
    _, _, snaps = _snapshots(tmp_path / "ws")
    (held,) = snaps.values()
    assert held and all("run_status:failed" in s.tags and s.metadata["run_status"] == "failed"
                        for s in held)


def test_workspace_must_be_an_evidently_workspace(runs, tmp_path, capsys):
    first, _ = runs
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "day0.jsonl").write_text('{"timestamp": "2026-11-30T00:00:00Z"}\n')
    code, out = _export(capsys, first, logs)
    assert code == 2 and f"{logs}: not an Evidently workspace" in out.err
    assert [p.name for p in logs.iterdir()] == ["day0.jsonl"]  # nothing written among logs
    under_file = logs / "day0.jsonl" / "sub"
    code, out = _export(capsys, first, under_file)
    assert code == 2 and f"{under_file}: cannot create the Evidently workspace" in out.err
    assert "Traceback" not in out.err and "internal error" not in out.err
    (tmp_path / "empty").mkdir()
    assert _export(capsys, first, tmp_path / "empty")[0] == 0  # an empty folder is taken
    assert _export(capsys, first, tmp_path / "empty")[0] == 0  # and is a workspace now


def test_summary_may_be_the_run_folder(runs, tmp_path, capsys):
    first, _ = runs
    code, out = _export(capsys, first.parent, tmp_path / "ws")
    assert code == 0, out.err
    assert f"{len(load(first).windows)} added" in out.out
    code, out = _export(capsys, tmp_path, tmp_path / "ws2")
    assert code == 2 and f"{tmp_path}: a folder without a summary.json" in out.err


def _value(snapshot, metric, **params):
    found = [r for r in snapshot.metric_results.values()
             if r.metric_value_location.metric.params["type"] == TYPE + metric
             and params.items() <= r.metric_value_location.metric.params.items()]
    assert len(found) <= 1, (metric, params)
    return found[0] if found else None


def test_values_read_back_equal_the_summary(runs, tmp_path, capsys):
    first, _ = runs
    run = load(first)
    assert _export(capsys, first, tmp_path / "ws")[0] == 0
    _, projects, snaps = _snapshots(tmp_path / "ws")
    by_window = {int(s.metadata["obskit_window"]): s for s in snaps[projects[0].id]}
    assert sorted(by_window) == [w.index for w in run.windows]
    drifted_seen = estimated_seen = 0
    for window in run.windows:
        snap = by_window[window.index]
        assert snap.timestamp.isoformat() + "Z" == window.start.replace("+00:00", "Z")
        assert _value(snap, "RowCount").value == window.rows
        judged = {f: d for f, d in window.drift.items() if d.value is not None}
        count = _value(snap, "DriftedColumnsCount")
        if judged:
            assert count.count.value == len(window.drifted_features)
            assert count.share.value == pytest.approx(window.drift_share, abs=0)
        for feature, drift in judged.items():
            result = _value(snap, "ValueDrift", column=feature)
            params = result.metric_value_location.metric.params
            assert (result.value, params["method"], params["threshold"]) == (
                drift.value, drift.method, drift.threshold)
            if drift.drifted is not None:
                assert [t.status.value for t in result.tests] == [
                    "FAIL" if drift.drifted else "SUCCESS"]
                drifted_seen += drift.drifted
        for name, cls in (("accuracy", "Accuracy"), ("roc_auc", "RocAuc"), ("f1", "F1Score")):
            for kind, values in (("default", window.performance),
                                 ("estimated", window.estimated_performance)):
                result = _value(snap, cls, classification_name=kind)
                if values.get(name) is None:
                    assert result is None
                else:
                    assert result.value == values[name]
                    estimated_seen += kind == "estimated"
    assert drifted_seen and estimated_seen  # the demo drifts and has label-free estimates


def test_the_ui_data_storage_plots_the_series(runs, tmp_path, capsys):
    """The dashboards of Evidently's UI read points from its data storage: the drift score
    of a feature over the windows is the summary's, in time order."""
    from evidently.ui.service.base import SeriesFilter
    from evidently.ui.service.storage.local.base import InMemoryDataStorage
    from evidently.ui.workspace import Workspace

    first, _ = runs
    run = load(first)
    assert _export(capsys, first, tmp_path / "ws")[0] == 0
    project = Workspace(str(tmp_path / "ws")).list_projects()[0]
    feature = run.drift_summary and max(
        run.drift_summary, key=lambda f: run.drift_summary[f].drifted_windows)
    series = asyncio.run(InMemoryDataStorage(str(tmp_path / "ws")).get_data_series(
        project.id, [SeriesFilter(tags=["obskit"], metadata={}, metric=TYPE + "ValueDrift",
                                  metric_labels={"column": feature})], None, None))
    expected = [w.drift[feature].value for w in run.windows
                if feature in w.drift and w.drift[feature].value is not None]
    assert len(series.series) == 1 and series.series[0].values == expected
    panels = Workspace(str(tmp_path / "ws")).get_dashboard(project.id).panels
    assert "Share of drifted features (obskit)" in [p.title for p in panels]


@pytest.mark.parametrize("content, expected", [
    (None, "summary file not found (flag --summary)"),
    ("not json", "not a readable summary.json"),
    ('{"title": "x"}', "not a summary.json: expected a JSON object with a 'windows' list"),
])
def test_bad_summary_exits_2_naming_the_flag(tmp_path, capsys, content, expected):
    path = tmp_path / "summary.json"
    if content is not None:
        path.write_text(content)
    code, out = _export(capsys, path, tmp_path / "ws")
    assert code == 2 and expected in out.err and str(path) in out.err
    assert "Traceback" not in out.err and not (tmp_path / "ws").exists()


def test_workspace_that_is_a_file_exits_2(runs, tmp_path, capsys):
    (tmp_path / "ws").write_text("")
    code, out = _export(capsys, runs[0], tmp_path / "ws")
    assert code == 2 and "not a folder (flag --workspace)" in out.err
