"""``obskit dashboard``: a Grafana dashboard of the served model and of obskit's reports.

One JSON file in Grafana's dashboard model (``schemaVersion`` 39, Grafana 10.x / 11.x,
https://grafana.com/docs/grafana/latest/dashboards/build-dashboards/view-dashboard-json-model/)
with a datasource input ``DS_PROMETHEUS`` (Grafana's export-for-sharing form), so it imports
into any Grafana: *Dashboards → New → Import* asks which Prometheus to use.

The service's panels read the metrics of :mod:`obskit.instrument.metrics`; the report's
panels read what ``obskit exporter`` and the textfile / Pushgateway sinks publish
(:mod:`obskit.sinks.prometheus`). Only current panel types are used (``timeseries``,
``stat``, ``gauge``, ``heatmap``, ``table``). Variables: ``model_name``, ``model_version``
(the service's labels) and ``job`` (the Prometheus job scraping the reports).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from obskit.exceptions import InputError

__all__ = ["SCHEMA_VERSION", "DATASOURCE", "PANEL_TYPES", "dashboard", "write_dashboard",
           "add_parser", "run"]

SCHEMA_VERSION = 39
#: every panel and target points at the imported datasource
DATASOURCE: dict[str, str] = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
PANEL_TYPES = ("timeseries", "stat", "gauge", "heatmap", "table")
UID = "obskit-model"
FILE_NAME = "obskit-dashboard.json"

_SEL = 'model_name=~"$model_name", model_version=~"$model_version"'
_JOB = 'job=~"$job"'
_RATE = "$__rate_interval"


def _target(expr: str, legend: str = "", ref: str = "A", **extra: Any) -> dict[str, Any]:
    return {"datasource": dict(DATASOURCE), "refId": ref, "expr": expr,
            "legendFormat": legend or "__auto", "range": True, **extra}


def _panel(kind: str, title: str, targets: list[dict[str, Any]], *, unit: str = "short",
           description: str = "", options: dict[str, Any] | None = None,
           defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    """A panel without id and position (:func:`_layout` gives them)."""
    return {"type": kind, "title": title, "description": description,
            "datasource": dict(DATASOURCE), "targets": targets,
            "fieldConfig": {"defaults": {"unit": unit, **(defaults or {})}, "overrides": []},
            "options": options or {}}


def _thresholds(*steps: tuple[float | None, str]) -> dict[str, Any]:
    return {"thresholds": {"mode": "absolute",
                           "steps": [{"value": v, "color": c} for v, c in steps]}}


def _quantile(q: str) -> dict[str, Any]:
    return _target(
        f"histogram_quantile({q}, sum by (le) (rate(obskit_prediction_duration_seconds_bucket"
        f"{{{_SEL}}}[{_RATE}])))", f"p{q[2:].ljust(2, '0')}", ref=f"Q{q[2:]}")


def _service_panels() -> list[tuple[dict[str, Any], int, int]]:
    """(panel, width, height) of the served model's row."""
    return [
        (_panel("timeseries", "Request rate by outcome", [_target(
            f"sum by (outcome) (rate(obskit_prediction_requests_total{{{_SEL}}}[{_RATE}]))",
            "{{outcome}}")], unit="reqps"), 8, 8),
        (_panel("timeseries", "Error rate", [_target(
            f"sum(rate(obskit_prediction_errors_total{{{_SEL}}}[{_RATE}])) / "
            f"sum(rate(obskit_prediction_requests_total{{{_SEL}}}[{_RATE}]))", "errors")],
            unit="percentunit", description="Failed predictions over all requests.",
            defaults=_thresholds((None, "green"), (0.05, "red"))), 8, 8),
        (_panel("timeseries", "Latency p50 / p95 / p99",
                [_quantile("0.5"), _quantile("0.95"), _quantile("0.99")], unit="s",
                defaults=_thresholds((None, "green"), (0.5, "red"))), 8, 8),
        (_panel("heatmap", "Score distribution", [_target(
            f"sum by (le) (increase(obskit_prediction_score_bucket{{{_SEL}}}[{_RATE}]))",
            "{{le}}", format="heatmap")],
            options={"calculate": False, "yAxis": {"unit": "short"},
                     "cellGap": 1, "color": {"mode": "scheme", "scheme": "Oranges"}}),
         12, 8),
        (_panel("timeseries", "Prediction log rows dropped / queued", [
            _target("sum(increase(obskit_prediction_log_rows_dropped_total[$__rate_interval]))",
                    "dropped"),
            _target("sum(obskit_prediction_log_queue_depth)", "queued", ref="B")],
            description="Rows the prediction logger could not write (queue full or a "
                        "write error): the report never sees them."), 6, 8),
        (_panel("table", "Models served", [_target(
            f"max by (model_name, model_version) (obskit_model_info{{{_SEL}}})", "",
            format="table", instant=True, range=False)]), 6, 8),
    ]


def _report_panels() -> list[tuple[dict[str, Any], int, int]]:
    """(panel, width, height) of the reports' row."""
    return [
        (_panel("gauge", "Drift share (latest window)", [_target(
            f"max(obskit_drift_share{{{_JOB}}})", "drift share")], unit="percentunit",
            defaults={"min": 0, "max": 1, **_thresholds((None, "green"), (0.1, "red"))}),
         6, 8),
        (_panel("stat", "Alerts active", [_target(
            f"sum(obskit_alert_active{{{_JOB}}} == 1) or vector(0)", "alerts")],
            defaults=_thresholds((None, "green"), (1, "red"))), 4, 8),
        (_panel("stat", "Report age", [_target(
            f"time() - max(obskit_last_run_timestamp_seconds{{{_JOB}}})", "age")], unit="s",
            description="Time since the latest report run was generated.",
            defaults=_thresholds((None, "green"), (2 * 86400, "red"))), 5, 8),
        (_panel("stat", "Report available", [_target(
            f"min(obskit_report_available{{{_JOB}}})", "available")],
            defaults=_thresholds((None, "red"), (1, "green"))), 4, 8),
        (_panel("stat", "Rows in the latest run", [_target(
            f"sum by (kind) (obskit_rows{{{_JOB}}})", "{{kind}}")]), 5, 8),
        (_panel("timeseries", "Performance per model", [_target(
            f"obskit_performance{{{_JOB}}}", "{{job}} {{metric}}")],
            description="Realized performance of each report's latest window."), 12, 8),
        (_panel("timeseries", "Drift share over time", [_target(
            f"obskit_drift_share{{{_JOB}}}", "{{job}}")], unit="percentunit"), 12, 8),
        (_panel("timeseries", "Drift score per feature", [_target(
            f"obskit_drift_score{{{_JOB}}}", "{{feature}}")]), 12, 8),
        (_panel("table", "Active alerts", [_target(
            f"obskit_alert_active{{{_JOB}}} == 1", "", format="table", instant=True,
            range=False)]), 12, 8),
    ]


def _layout(panels: list[tuple[dict[str, Any], int, int]], *, first_id: int = 1,
            top: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Place panels left to right on a 24-column grid, wrapping to a new line; returns the
    panels (with ``id`` and ``gridPos``) and the y below them."""
    x, y, line_h, out = 0, top, 0, []
    for k, (panel, w, h) in enumerate(panels):
        if x + w > 24:
            x, y, line_h = 0, y + line_h, 0
        out.append({"id": first_id + k, "gridPos": {"x": x, "y": y, "w": w, "h": h}, **panel})
        x, line_h = x + w, max(line_h, h)
    return out, y + line_h


def _variable(name: str, query: str, label: str) -> dict[str, Any]:
    return {"type": "query", "name": name, "label": label, "datasource": dict(DATASOURCE),
            "query": {"query": query, "refId": f"var-{name}"}, "definition": query,
            "refresh": 2, "includeAll": True, "multi": True, "allValue": ".*",
            "current": {"text": "All", "value": "$__all"}, "sort": 1, "hide": 0}


def dashboard(*, title: str = "obskit: model service and reports") -> dict[str, Any]:
    """The dashboard, as Grafana's JSON model.

    Parameters
    ----------
    title : str
        The dashboard's title.

    Returns
    -------
    dict
        ``__inputs`` / ``__requires`` (import-for-sharing form), ``panels`` with unique
        ids on a 24-column grid, ``templating`` (``model_name``, ``model_version``,
        ``job``), ``schemaVersion`` :data:`SCHEMA_VERSION`.
    """
    service, below = _layout(_service_panels())
    report, _ = _layout(_report_panels(), first_id=len(service) + 1, top=below)
    return {
        "__inputs": [{"name": "DS_PROMETHEUS", "label": "Prometheus",
                      "description": "The Prometheus scraping the service and the exporter",
                      "type": "datasource", "pluginId": "prometheus",
                      "pluginName": "Prometheus"}],
        "__requires": [
            {"type": "grafana", "id": "grafana", "name": "Grafana", "version": "10.4.0"},
            {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"},
            *({"type": "panel", "id": kind, "name": kind, "version": ""}
              for kind in PANEL_TYPES)],
        "annotations": {"list": []},
        "description": "Generated by obskit dashboard.",
        "editable": True, "graphTooltip": 1, "id": None, "uid": UID, "version": 1,
        "links": [], "liveNow": False, "refresh": "1m",
        "schemaVersion": SCHEMA_VERSION, "tags": ["obskit", "ml-monitoring"],
        "time": {"from": "now-6h", "to": "now"}, "timepicker": {}, "timezone": "utc",
        "title": title, "weekStart": "",
        "panels": service + report,
        "templating": {"list": [
            _variable("model_name", "label_values(obskit_prediction_requests_total, "
                      "model_name)", "Model"),
            _variable("model_version", "label_values(obskit_prediction_requests_total"
                      '{model_name=~"$model_name"}, model_version)', "Model version"),
            _variable("job", "label_values(obskit_report_available, job)", "Report job"),
        ]},
    }


def write_dashboard(out: str | Path, **options: Any) -> Path:
    """Write :func:`dashboard` to ``<out>/obskit-dashboard.json`` (folder made if needed).

    Raises
    ------
    InputError
        ``out`` exists and is not a folder, or cannot be written.
    """
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{out}: not a folder (flag --out)", path=str(out))
    target = folder / FILE_NAME
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(dashboard(**options), indent=2) + "\n")
    except OSError as exc:
        raise InputError(f"{target}: cannot write the dashboard: {exc.strerror}",
                         path=str(target)) from exc
    return target


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``dashboard`` subcommand to ``subparsers`` (dispatch with :func:`run`)."""
    p = subparsers.add_parser(
        "dashboard", help="write a Grafana dashboard of the service and the reports",
        description="Write DIR/obskit-dashboard.json: import it in Grafana (Dashboards > "
                    "New > Import) and pick the Prometheus datasource.")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write into")
    p.add_argument("--title", default=None, help="dashboard title")
    return p


def run(args: argparse.Namespace) -> int:
    """Write the dashboard; prints its path."""
    options = {"title": args.title} if args.title else {}
    print(f"dashboard: {write_dashboard(args.out, **options)}")
    return 0
