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


def test_export_adds_one_project_then_snapshots_idempotently(runs, tmp_path, capsys):
    first, second = runs
    windows = len(load(first).windows)
    code, out = _export(capsys, first, tmp_path / "ws")
    assert code == 0, out.err
    assert f"{windows} snapshots added" in out.out and "created" in out.out
    _, projects, snaps = _snapshots(tmp_path / "ws")
    assert len(projects) == 1 and projects[0].name == load(first).title
    assert len(snaps[projects[0].id]) == windows

    code, out = _export(capsys, second, tmp_path / "ws")
    assert code == 0 and f"{windows} snapshots added" in out.out and "created" not in out.out
    _, projects, snaps = _snapshots(tmp_path / "ws")
    assert len(projects) == 1 and len(snaps[projects[0].id]) == 2 * windows
    ids = {s.metadata["obskit_run_id"] for s in snaps[projects[0].id]}
    assert len(ids) == 2 and "20261130T060000Z-credit" in ids

    for again in (first, second):  # the same runs again: nothing added, and it says so
        code, out = _export(capsys, again, tmp_path / "ws")
        assert code == 0 and "already exported" in out.out and "nothing added" in out.out
    _, projects, snaps = _snapshots(tmp_path / "ws")
    assert len(projects) == 1 and len(snaps[projects[0].id]) == 2 * windows

    code, out = _export(capsys, first, tmp_path / "ws", "--project", "credit-v2")
    assert code == 0
    _, projects, _ = _snapshots(tmp_path / "ws")
    assert sorted(p.name for p in projects) == sorted([load(first).title, "credit-v2"])


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
