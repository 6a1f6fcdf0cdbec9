"""``obskit export evidently``: a run's drift and performance, window by window, as
snapshots of an Evidently 0.7 workspace project, so a team on Evidently's UI sees them.

One snapshot per window, stamped with the window's start (Evidently's dashboard panels
plot a metric over snapshot timestamps). Every value is a result of one of Evidently's own
metric types (``evidently.metrics``; no custom class, so a stock Evidently UI renders the
snapshots without obskit installed), built by that metric's calculation (``result()``) from
obskit's value: nothing is recomputed.

=========================================  ==========================================
obskit (``windows[i]``)                    Evidently metric result
=========================================  ==========================================
``rows``                                   ``RowCount()``
``len(drifted_features)``, ``drift_share`` ``DriftedColumnsCount(columns=judged)``
                                           count and share
``drift[f].value`` (+ ``drifted``)         ``ValueDrift(column=f, method, threshold)``,
                                           the verdict as its test (FAIL: drifted)
``performance[m]``                         ``Accuracy()``, ``Precision()``, ``Recall()``,
                                           ``F1Score()``, ``RocAuc()``, ``LogLoss()``,
                                           ``RMSE()``, ``R2Score()``
``estimated_performance[m]``               the same with
                                           ``classification_name="estimated"``
                                           (``regression_name`` for regression)
=========================================  ==========================================

Metrics without an Evidently single-value type (``pr_auc``, ``brier``, ``ece``, ``mae``,
``mape``, ``mean_error``, ...) are left out and listed in the result.

A snapshot is one window of the project: its metadata ``window_start``, ``window_end`` and
``obskit_segment`` (``none``: the whole population) identify it. Exporting a run whose
window the project holds already replaces that snapshot when the run is at least as new
(``generated_at``; latest judgement wins), keeps it when it holds the same run or a newer
one. The metadata also holds ``obskit_run_id``, ``obskit_generated_at``, ``run_status``,
``window_status``, ``obskit_window`` and ``labelled_rows``; the tags ``obskit``,
``run_status:<ok|alert|failed|unknown>`` and ``window_status:<ok|empty|insufficient_data>``.
Workspace API: https://docs.evidentlyai.com/docs/platform/workspace_overview.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from obskit._optional import require
from obskit.exceptions import InputError
from obskit.results import Run, Window
from obskit.sinks.export_common import SummaryFile, read_summary, refuse_failed, status_note

__all__ = ["ESTIMATED", "METRICS", "RUN_ID_KEY", "SEGMENT_KEY", "TAG", "export_evidently",
           "project_name", "workspace_folder"]

#: snapshot metadata key holding the obskit run id (a re-export of a run is a no-op)
RUN_ID_KEY = "obskit_run_id"
#: snapshot metadata key of the run's ``generated_at`` (the newer run's window wins)
GENERATED_KEY = "obskit_generated_at"
#: snapshot metadata key of the segment a window belongs to (``none``: whole population)
SEGMENT_KEY, NO_SEGMENT = "obskit_segment", "none"
TAG = "obskit"
#: ``classification_name`` / ``regression_name`` of the estimated (label-free) metrics
ESTIMATED = "estimated"
#: task → obskit metric → Evidently single-value metric class (``evidently.metrics``)
METRICS: dict[str, dict[str, str]] = {
    "binary": {"accuracy": "Accuracy", "precision": "Precision", "recall": "Recall",
               "f1": "F1Score", "roc_auc": "RocAuc", "log_loss": "LogLoss"},
    "multiclass": {"accuracy": "Accuracy", "log_loss": "LogLoss"},
    "regression": {"rmse": "RMSE", "r2": "R2Score"},
}
_PURPOSE = "obskit export evidently"


def project_name(summary: SummaryFile) -> str:
    """The default project: the run's title, else its model file's name, else ``obskit``."""
    if summary.run.title:
        return summary.run.title
    if summary.record and summary.record.model:
        return Path(summary.record.model).stem
    return "obskit"


def _moment(text: str | None) -> datetime:
    """An ISO-8601 time as a naive UTC datetime; ``datetime.min`` when missing or
    unreadable (such a snapshot is older than any run)."""
    try:
        return _timestamp(text)
    except (InputError, ValueError):
        return datetime.min


def _timestamp(text: str | None) -> datetime:
    """A window's ISO-8601 UTC start as a naive UTC datetime (Evidently compares snapshot
    timestamps with naive ones: ``Report.run`` stamps ``datetime.now()``)."""
    if not text:
        raise InputError("a window has no start: cannot stamp its snapshot")
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


class _Results:
    """The metric results of one snapshot, built by each metric's own calculation."""

    def __init__(self) -> None:
        self.core = require("evidently.core.metric_types", "evidently", purpose=_PURPOSE)
        self.report = require("evidently.core.report", "evidently", purpose=_PURPOSE)
        self.metrics = require("evidently.metrics", "evidently", purpose=_PURPOSE)
        self.results: dict[str, Any] = {}
        self.tests: list[Any] = []

    def add(self, metric: Any, *values: float, title: str | None = None) -> Any:
        calc = metric.to_calculation()
        result = calc.result(*values)
        result.set_metric_location(calc.to_metric_config())  # as Context.calculate_metric
        if title:
            result.display_name = title
        result.widget = self.core.get_default_render(result.display_name, result)
        self.report.link_metric(result.widget, metric)
        self.results[calc.id] = result
        return result

    def verdict(self, metric: Any, result: Any, *, name: str, text: str, failed: bool) -> None:
        test = self.core.MetricTestResult(
            id=f"{metric.get_fingerprint()}-obskit", name=name, description=text,
            metric_config=result.metric_value_location.metric,
            test_config={"source": "obskit"}, status="FAIL" if failed else "SUCCESS")
        result.set_tests([test])
        self.tests.append(test)


def _window_results(run: Run, window: Window, skipped: set[str]) -> _Results:
    out = _Results()
    m = out.metrics
    out.add(m.RowCount(), window.rows)
    judged = {f: d for f, d in window.drift.items() if d.value is not None}
    if judged and window.drift_share is not None:
        out.add(m.DriftedColumnsCount(columns=sorted(judged)),
                len(window.drifted_features), window.drift_share)
    for feature, drift in judged.items():
        assert drift.value is not None
        metric = m.ValueDrift(column=feature, method=drift.method, threshold=drift.threshold)
        result = out.add(metric, drift.value)
        if drift.drifted is not None:
            out.verdict(metric, result, name=f"Drift of {feature}",
                        text=f"obskit: {drift.method} {drift.value:.4g} vs threshold "
                             f"{drift.threshold} ({'drifted' if drift.drifted else 'no drift'})",
                        failed=drift.drifted)
    names = METRICS.get(run.task or "", {})
    key = "regression_name" if run.task == "regression" else "classification_name"
    for kind, values in (("default", window.performance),
                         (ESTIMATED, window.estimated_performance)):
        for metric_name, value in values.items():
            if metric_name not in names:
                skipped.add(metric_name)
            elif value is not None:
                title = f"{'Estimated ' if kind == ESTIMATED else ''}{metric_name} (obskit)"
                out.add(getattr(m, names[metric_name])(**{key: kind}), value, title=title)
    return out


def _snapshot(summary: SummaryFile, window: Window, results: _Results) -> Any:
    report = results.report
    serialization = require("evidently.core.serialization", "evidently", purpose=_PURPOSE)
    widgets = [w for r in results.results.values() for w in r.get_widgets()]
    tests = results.tests
    run_status = summary.run.status or "unknown"
    model = serialization.SnapshotModel(
        report=serialization.ReportModel(items=[]),
        name=f"obskit window {window.index}: {window.start}",
        timestamp=_timestamp(window.start),
        metadata={RUN_ID_KEY: summary.run_id,
                  GENERATED_KEY: str(summary.run.generated_at or ""),
                  "run_status": run_status, "window_status": str(window.status),
                  "obskit_window": str(window.index), "window_start": str(window.start),
                  "window_end": str(window.end), SEGMENT_KEY: NO_SEGMENT,
                  "labelled_rows": str(window.labelled_rows)},
        tags=[TAG, f"run_status:{run_status}", f"window_status:{window.status}"],
        metric_results=results.results, top_level_metrics=list(results.results),
        widgets=widgets,
        tests_widgets=([report.metric_tests_stats(tests), results.core.metric_tests_widget(tests)]
                       if tests else []))
    return report.Snapshot.load_model(model)


def _add_panels(project: Any, task: str | None) -> None:
    """Time-series panels of a new project (Evidently's ``line_plot_panel``)."""
    panels = require("evidently.sdk.panels", "evidently", purpose=_PURPOSE)
    models = require("evidently.sdk.models", "evidently", purpose=_PURPOSE)

    def value(metric: str, legend: str | None, **labels: str) -> Any:
        return models.PanelMetric(legend=legend, tags=[TAG], metric=metric,
                                  metric_labels=labels)

    board = project.dashboard
    board.add_panel(panels.line_plot_panel("Share of drifted features (obskit)", [
        value("DriftedColumnsCount", "share", value_type="share")], size="half"), tab="obskit")
    board.add_panel(panels.line_plot_panel("Rows per window (obskit)", [
        value("RowCount", "rows")], size="half"), tab="obskit")
    board.add_panel(panels.line_plot_panel("Drift score per feature (obskit)", [
        value("ValueDrift", None)]), tab="obskit")
    key = "regression_name" if task == "regression" else "classification_name"
    for metric in dict.fromkeys(METRICS.get(task or "", {}).values()):
        board.add_panel(panels.line_plot_panel(f"{metric}: realized and estimated (obskit)", [
            value(metric, "realized", **{key: "default"}),
            value(metric, "estimated", **{key: ESTIMATED})], size="half"), tab="obskit")


def _find_project(workspace: Any, name: str, task: str | None) -> tuple[Any, bool]:
    found = workspace.search_project(name)
    if found:
        return sorted(found, key=lambda p: str(p.id))[0], False
    project = workspace.create_project(name, description="obskit monitoring runs")
    _add_panels(project, task)
    return project, True


def _is_project(entry: Path) -> bool:
    """An Evidently 0.7 local project folder: ``<project uuid>/metadata.json``
    (``evidently.ui.service.storage.local.base``: ``METADATA_PATH``; snapshots, datasets
    and artifacts all live under it)."""
    try:
        uuid.UUID(entry.name)
    except ValueError:
        return False
    return (entry / "metadata.json").is_file()


def workspace_folder(workspace: str | Path) -> Path:
    """The folder of an Evidently local workspace: an existing workspace, else an empty
    or missing folder (created).

    Parameters
    ----------
    workspace : str or Path
        The ``--workspace`` folder.

    Returns
    -------
    Path

    Raises
    ------
    InputError
        It is a file, a non-empty folder without Evidently project folders (a folder of
        prediction logs, say), or it cannot be created.
    """
    folder = Path(workspace)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{workspace}: not a folder (flag --workspace)", path=str(workspace))
    try:
        if folder.is_dir():
            entries = [e for e in folder.iterdir() if not e.name.startswith(".")]
            if entries and not any(_is_project(e) for e in entries):
                raise InputError(
                    f"{workspace}: not an Evidently workspace: expected an empty folder, a "
                    f"new one, or a workspace holding Evidently project folders "
                    f"(<project id>/metadata.json) (flag --workspace)", path=str(workspace))
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{workspace}: cannot create the Evidently workspace: "
                         f"{exc.strerror or exc} (flag --workspace)",
                         path=str(workspace)) from exc
    return folder


def _window_key(metadata: Mapping[str, Any]) -> tuple[str, str, str]:
    return (str(metadata.get("window_start")), str(metadata.get("window_end")),
            str(metadata.get(SEGMENT_KEY, NO_SEGMENT)))


def _held(workspace: Any, project_id: Any) -> dict[tuple[str, str, str], list[Any]]:
    """The project's obskit snapshots by window: key → [(snapshot id, metadata)]."""
    held: dict[tuple[str, str, str], list[Any]] = {}
    for snapshot_id in workspace.list_runs(project_id):
        model = workspace.get_run(project_id, snapshot_id)
        if model is not None and TAG in (model.tags or []):
            held.setdefault(_window_key(model.metadata), []).append(
                (snapshot_id, model.metadata))
    return held


def _place(ws: Any, project_id: Any, summary: SummaryFile, held: list[Any],
           add: Any, counts: dict[str, int]) -> None:
    """Put one window into the project: add it, replace older snapshots of it, or keep
    the one holding this run or a newer one; other copies of the window are deleted."""
    ours = _moment(summary.run.generated_at)
    same = [sid for sid, meta in held if meta.get(RUN_ID_KEY) == summary.run_id]
    newer = sorted((_moment(meta.get(GENERATED_KEY)), str(sid), sid) for sid, meta in held
                   if _moment(meta.get(GENERATED_KEY)) > ours)
    keep = newer[-1][2] if newer else (same[0] if same else None)
    for sid, _ in held:
        if sid != keep:
            ws.delete_run(project_id, sid)
            counts["duplicates_removed"] += keep is not None
    if keep is not None:
        counts["unchanged"] += 1
        counts["kept_newer"] += bool(newer)
    else:
        add()
        counts["replaced" if held else "added"] += 1


def export_evidently(summary: str | Path, workspace: str | Path, *,
                     project: str | None = None,
                     include_failed: bool = False) -> dict[str, Any]:
    """Write a run's windows into an Evidently workspace project, one snapshot each.

    Parameters
    ----------
    summary : str or Path
        The run's ``summary.json`` or its run folder.
    workspace : str or Path
        An Evidently local workspace folder (``evidently ui --workspace DIR``); an empty
        or missing folder is created.
    project : str, optional
        The project (found by name, created when missing); default :func:`project_name`.
    include_failed : bool
        Export a run whose status is ``failed`` (refused by default).

    Returns
    -------
    dict
        ``workspace``, ``project``, ``project_id``, ``project_created``, ``run_id``,
        ``run_status``, ``status_note``; per window ``added``, ``replaced`` (an older
        run's snapshot of it replaced) or ``unchanged`` (this run or a newer one holds it;
        ``kept_newer`` of them a newer one); ``duplicates_removed`` (extra copies of a
        window deleted), ``snapshots`` (the project's total) and ``not_exported``
        (obskit metrics without an Evidently type).

    Raises
    ------
    InputError
        ``summary`` is not a run's ``summary.json``, or a failed run without
        ``include_failed``; ``workspace`` is not an Evidently workspace folder, or cannot
        be written.
    ConfigError
        Evidently is not installed (``pip install "obskit[evidently]"``).
    """
    run = read_summary(summary)
    refuse_failed(run, include_failed=include_failed)
    folder = workspace_folder(workspace)
    ws_module = require("evidently.ui.workspace", "evidently", purpose=_PURPOSE)
    counts = dict.fromkeys(("added", "replaced", "unchanged", "kept_newer",
                            "duplicates_removed"), 0)
    skipped: set[str] = set()
    name = project or project_name(run)
    try:
        ws = ws_module.Workspace(str(folder))
        proj, created = _find_project(ws, name, run.run.task)
        held = _held(ws, proj.id)
        for window in run.run.windows:
            def add(window: Window = window) -> None:
                results = _window_results(run.run, window, skipped)
                ws.add_run(proj.id, _snapshot(run, window, results))

            key = _window_key({"window_start": str(window.start),
                               "window_end": str(window.end)})
            _place(ws, proj.id, run, held.get(key, []), add, counts)
        total = len(ws.list_runs(proj.id))
    except OSError as exc:
        raise InputError(f"{workspace}: cannot write the Evidently workspace: "
                         f"{exc.strerror or exc} (flag --workspace)",
                         path=str(workspace)) from exc
    return {"workspace": str(folder), "project": name, "project_id": str(proj.id),
            "project_created": created, "run_id": run.run_id,
            "run_status": run.run.status or "unknown", "status_note": status_note(run),
            **counts, "snapshots": total, "not_exported": sorted(skipped)}
