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
``mape``, ``mean_error``, ...) are left out and listed in the result. The snapshot's
metadata holds ``obskit_run_id`` (re-exporting a run adds nothing), ``obskit_window``,
``window_start`` / ``window_end`` and ``labelled_rows``; its tags ``obskit`` and the status.
Workspace API: https://docs.evidentlyai.com/docs/platform/workspace_overview.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from obskit._optional import require
from obskit.exceptions import InputError
from obskit.results import Run, Window
from obskit.sinks.export_common import SummaryFile, read_summary

__all__ = ["ESTIMATED", "METRICS", "RUN_ID_KEY", "TAG", "export_evidently", "project_name"]

#: snapshot metadata key holding the obskit run id (idempotent export)
RUN_ID_KEY = "obskit_run_id"
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
    model = serialization.SnapshotModel(
        report=serialization.ReportModel(items=[]),
        name=f"obskit window {window.index}: {window.start}",
        timestamp=_timestamp(window.start),
        metadata={RUN_ID_KEY: summary.run_id, "obskit_window": str(window.index),
                  "window_start": str(window.start), "window_end": str(window.end),
                  "labelled_rows": str(window.labelled_rows)},
        tags=[TAG, f"status:{window.status}"],
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


def _exported(workspace: Any, project_id: Any, run_id: str) -> Iterator[Any]:
    for snapshot_id in workspace.list_runs(project_id):
        model = workspace.get_run(project_id, snapshot_id)
        if model is not None and model.metadata.get(RUN_ID_KEY) == run_id:
            yield snapshot_id


def export_evidently(summary: str | Path, workspace: str | Path, *,
                     project: str | None = None) -> dict[str, Any]:
    """Write a run's windows into an Evidently workspace project, one snapshot each.

    Parameters
    ----------
    summary : str or Path
        The run's ``summary.json``.
    workspace : str or Path
        An Evidently local workspace folder (``evidently ui --workspace DIR``), created
        when missing.
    project : str, optional
        The project (found by name, created when missing); default :func:`project_name`.

    Returns
    -------
    dict
        ``workspace``, ``project``, ``project_id``, ``project_created``, ``run_id``,
        ``snapshots_added`` (0 when the run was exported before), ``already_exported``
        (its snapshots found), ``snapshots`` (the project's total) and ``not_exported``
        (obskit metrics without an Evidently type).

    Raises
    ------
    InputError
        ``summary`` is not a run's ``summary.json``; ``workspace`` is not a folder.
    ConfigError
        Evidently is not installed (``pip install "obskit[evidently]"``).
    """
    run = read_summary(summary)
    folder = Path(workspace)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{workspace}: not a folder (flag --workspace)", path=str(workspace))
    ws_module = require("evidently.ui.workspace", "evidently", purpose=_PURPOSE)
    ws = ws_module.Workspace(str(folder))
    name = project or project_name(run)
    proj, created = _find_project(ws, name, run.run.task)
    before = list(_exported(ws, proj.id, run.run_id))
    skipped: set[str] = set()
    added = 0
    if not before:
        for window in run.run.windows:
            snapshot = _snapshot(run, window, _window_results(run.run, window, skipped))
            ws.add_run(proj.id, snapshot)
            added += 1
    return {"workspace": str(folder), "project": name, "project_id": str(proj.id),
            "project_created": created, "run_id": run.run_id, "snapshots_added": added,
            "already_exported": len(before), "snapshots": len(ws.list_runs(proj.id)),
            "not_exported": sorted(skipped)}
