"""The MLflow sink: each report run logged as one MLflow run (``sinks.mlflow``).

In the experiment ``experiment`` (created when missing) obskit creates one run per
report run, named from ``run_name``, and logs with :class:`mlflow.MlflowClient`:

- every window's metrics as steps (:func:`obskit.sinks.mlflow_run.window_metrics`), in
  ``log_batch`` calls within MLflow's limits (1000 metrics, 100 tags a call);
- tags: ``obskit.run_id``, ``obskit.status``, ``obskit.model_name``,
  ``obskit.model_version``, ``obskit.period_start`` / ``_end`` … (:func:`run_tags`);
- artifacts under ``obskit/``: ``alerts.json`` (the alerts and their events),
  ``findings.json``, and the run folder's ``summary.json`` and ``index.html``.

With ``registered_model``, each ``model_version`` value the windows name is looked up in
the MLflow Model Registry: a number or ``v<N>`` is version N, any other value an alias.
The run gets ``obskit.registered_model``, ``obskit.registered_model_versions`` and, for
versions registered from a logged model (MLflow 3: ``models:/<model_id>``),
``obskit.model_ids``, those models as the run's model inputs, and the metrics of each
window served by that one version linked to its ``model_id``. Each version gets the tags
``obskit.last_monitoring_run`` (the MLflow run id) and ``obskit.last_monitoring_status``.
A value that names no registered version is listed in ``obskit.unregistered_versions``,
never an error.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from obskit._optional import require
from obskit._secrets import redact_text, redact_url
from obskit.config.sinks import MlflowConfig
from obskit.instrument.aliases import default_artifact_location
from obskit.results import Run, RunRecord
from obskit.sinks.mlflow_run import (
    run_name,
    run_tags,
    served_versions,
    window_metrics,
)

__all__ = ["plan", "log_run", "tracking_uri"]

_METRICS_PER_BATCH = 1000  # mlflow.utils.validation.MAX_METRICS_PER_BATCH
_TAGS_PER_BATCH = 100  # MAX_PARAMS_TAGS_PER_BATCH
_NOT_FOUND = {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND"}
_FILES = ("summary.json", "index.html")
_DEFAULT_HTTP = {"MLFLOW_HTTP_REQUEST_TIMEOUT": 30, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": 2}


def tracking_uri(config: MlflowConfig) -> str | None:
    """The tracking URI in force: ``tracking_uri``, else ``$MLFLOW_TRACKING_URI``."""
    return config.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or None


def _base(config: MlflowConfig, run: Run, record: RunRecord | None) -> dict[str, Any]:
    uri = tracking_uri(config)
    return {"sink": "mlflow", "target": redact_url(uri) if uri else None,
            "experiment": config.experiment, "run_name": run_name(config, run, record)}


def _artifacts(run_dir: Any) -> list[str]:
    names = ["obskit/alerts.json", "obskit/findings.json"]
    if run_dir is not None:
        names += [f"obskit/{n}" for n in _FILES if (Path(run_dir) / n).is_file()]
    return names


def plan(config: MlflowConfig, run: Run, record: RunRecord | None,
         events: Mapping[str, Any], run_dir: Any) -> dict[str, Any]:
    """What :func:`log_run` would log, without contacting MLflow (``--dry-run``).

    Parameters
    ----------
    config, run, record, events, run_dir
        As for :func:`log_run`.

    Returns
    -------
    dict
        ``status: dry_run``, the redacted target, experiment, run name, tags, the number of
        metrics and steps, the artifacts, the versions served.
    """
    return {**_base(config, run, record), "status": "dry_run",
            "metrics": len(window_metrics(run)), "steps": len(run.windows),
            "tags": run_tags(config, run, record, events, run_dir),
            "artifacts": _artifacts(run_dir),
            "registered_model": config.registered_model,
            "model_versions": [v for v, _ in served_versions(run)]}


@contextlib.contextmanager
def _http_settings(config: MlflowConfig) -> Iterator[None]:
    """MLflow's HTTP timeout and retries for the sink's calls, restored afterwards (the
    process environment is shared: not meant for concurrent sinks in threads)."""
    wanted: dict[str, int | None] = {"MLFLOW_HTTP_REQUEST_TIMEOUT": config.timeout_s,
              "MLFLOW_HTTP_REQUEST_MAX_RETRIES": config.retries}
    before = {name: os.environ.get(name) for name in wanted}
    for name, value in wanted.items():
        if value is not None or before[name] is None:
            os.environ[name] = str(value if value is not None else _DEFAULT_HTTP[name])
    try:
        yield
    finally:
        for name, old in before.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


def _safe_error(exc: BaseException, uri: str) -> str:
    """The error's first line, without the tracking URI's credentials."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = text.replace(uri, redact_url(uri))
    return f"{type(exc).__name__}: {redact_text(text)}"[:500]


def _experiment_id(client: Any, config: MlflowConfig, uri: str) -> str:
    found = client.get_experiment_by_name(config.experiment)
    if found is not None:
        return str(found.experiment_id)
    try:
        location = config.artifact_location or default_artifact_location(uri)
        return str(client.create_experiment(config.experiment, artifact_location=location))
    except Exception:  # created meanwhile by another run: use it
        found = client.get_experiment_by_name(config.experiment)
        if found is None:
            raise
        return str(found.experiment_id)


def _lookup(client: Any, name: str, version: str) -> Any | None:
    """The registered model version a log's ``model_version`` names, or None."""
    mlflow = require("mlflow", "mlflow", key="sinks.mlflow", purpose="the MLflow sink")
    number = re.fullmatch(r"[vV]?(\d+)", version.strip())
    try:
        if number:
            return client.get_model_version(name, number[1])
        if re.fullmatch(r"[\w\-]+", version) and version.lower() != "latest":
            return client.get_model_version_by_alias(name, version)
    except mlflow.exceptions.MlflowException as exc:
        if exc.error_code in _NOT_FOUND:
            return None
        raise
    return None


def _model_id(client: Any, model_version: Any) -> str | None:
    """The logged model (MLflow 3) a registered version was made from, if it exists."""
    model_id = getattr(model_version, "model_id", None)
    if not model_id:
        source = str(getattr(model_version, "source", "") or "")
        found = re.fullmatch(r"models:/([^/@]+)", source)
        model_id = found[1] if found else None
    if not model_id:
        return None
    try:
        client.get_logged_model(model_id)
    except Exception:
        return None
    return str(model_id)


def _link(client: Any, config: MlflowConfig, run: Run) -> tuple[list[dict[str, Any]],
                                                                 list[str]]:
    """(the registered versions served: version, model_version, model_id; the values
    that name none)."""
    linked: list[dict[str, Any]] = []
    unregistered: list[str] = []
    for version, rows in served_versions(run):
        found = _lookup(client, str(config.registered_model), version)
        if found is None:
            unregistered.append(version)
            continue
        linked.append({"version": version, "rows": rows, "model_version": str(found.version),
                       "model_id": _model_id(client, found)})
    return linked, unregistered


def _link_tags(config: MlflowConfig, linked: list[dict[str, Any]],
               unregistered: list[str]) -> dict[str, str]:
    tags = {"obskit.registered_model": str(config.registered_model),
            "obskit.registered_model_versions": ",".join(v["model_version"] for v in linked),
            "obskit.model_ids": ",".join(v["model_id"] for v in linked if v["model_id"]),
            "obskit.unregistered_versions": ",".join(unregistered)}
    return {k: v for k, v in tags.items() if v}


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def log_run(config: MlflowConfig, run: Run, record: RunRecord | None,
            events: Mapping[str, Any], run_dir: Any) -> dict[str, Any]:
    """Log one report run as an MLflow run; a failure is recorded, never raised.

    Parameters
    ----------
    config : MlflowConfig
    run : Run
        The run (``summary.json``: :func:`obskit.results.load`).
    record : RunRecord or None
        The runner's facts (run id, model file).
    events : Mapping
        ``{"firing": [...], "resolved": [...], "ongoing": [...]}``.
    run_dir : str, Path or None
        The published run folder (``summary.json`` and ``index.html`` are logged).

    Returns
    -------
    dict
        ``status`` ``logged`` with ``mlflow_run_id``, ``experiment_id``, ``metrics``,
        ``artifacts`` and, with ``registered_model``, ``model_versions`` (linked) and
        ``unregistered``; or ``status`` ``failed`` with ``error`` (no credentials).
    """
    base = _base(config, run, record)
    uri = tracking_uri(config)
    if uri is None:
        return {**base, "status": "failed", "error": "no tracking URI: set "
                "sinks.mlflow.tracking_uri or MLFLOW_TRACKING_URI"}
    mlflow_run_id = None
    try:
        mlflow = require("mlflow", "mlflow", key="sinks.mlflow", purpose="the MLflow sink")
        entities = require("mlflow.entities", "mlflow", key="sinks.mlflow")
        with _http_settings(config):
            client = mlflow.MlflowClient(tracking_uri=uri)
            experiment_id = _experiment_id(client, config, uri)
            linked: list[dict[str, Any]] = []
            unregistered: list[str] = []
            if config.registered_model:
                linked, unregistered = _link(client, config, run)
            created = client.create_run(experiment_id, run_name=base["run_name"])
            mlflow_run_id = created.info.run_id
            result = _log(client, entities, mlflow_run_id, config, run, record, events,
                          run_dir, linked, unregistered)
            client.set_terminated(mlflow_run_id,
                                  "FAILED" if run.status == "failed" else "FINISHED")
    except Exception as exc:  # delivery problems must not fail the report
        if mlflow_run_id is not None:
            with contextlib.suppress(Exception), _http_settings(config):
                client.set_terminated(mlflow_run_id, "FAILED")
        return {**base, "status": "failed", "mlflow_run_id": mlflow_run_id,
                "error": _safe_error(exc, uri)}
    return {**base, "status": "logged", "mlflow_run_id": mlflow_run_id,
            "experiment_id": experiment_id, **result}


def _log(client: Any, entities: Any, run_id: str, config: MlflowConfig, run: Run,
         record: RunRecord | None, events: Mapping[str, Any], run_dir: Any,
         linked: list[dict[str, Any]], unregistered: list[str]) -> dict[str, Any]:
    """Log the metrics, tags, model inputs, artifacts and version tags of one run."""
    by_version = {v["version"]: v["model_id"] for v in linked if v["model_id"]}
    served = [w.model_versions for w in run.windows]
    metrics = []
    for key, number, stamp, step in window_metrics(run):
        only = served[step]
        model_id = by_version.get(str(only[0].version)) if len(only) == 1 else None
        metrics.append(entities.Metric(key, number, stamp, step, model_id=model_id))
    tags = run_tags(config, run, record, events, run_dir)
    if config.registered_model:
        tags.update(_link_tags(config, linked, unregistered))
    tag_list = [entities.RunTag(k, v) for k, v in tags.items()]
    for batch in _chunks(metrics, _METRICS_PER_BATCH):
        client.log_batch(run_id, metrics=batch)
    for batch in _chunks(tag_list, _TAGS_PER_BATCH):
        client.log_batch(run_id, tags=batch)
    model_ids = sorted({v["model_id"] for v in linked if v["model_id"]})
    if model_ids:
        client.log_inputs(run_id, models=[entities.LoggedModelInput(m) for m in model_ids])
    client.log_dict(run_id, {"alerts": [a.to_dict() for a in run.alerts],
                             "events": {k: list(events.get(k) or []) for k in
                                        ("firing", "resolved", "ongoing")}},
                    "obskit/alerts.json")
    client.log_dict(run_id, {"findings": [f.to_dict() for f in run.findings]},
                    "obskit/findings.json")
    for name in _FILES:
        if run_dir is not None and (Path(run_dir) / name).is_file():
            client.log_artifact(run_id, str(Path(run_dir) / name), artifact_path="obskit")
    for version in linked:
        for key, value in (("obskit.last_monitoring_run", run_id),
                           ("obskit.last_monitoring_status", str(run.status))):
            client.set_model_version_tag(str(config.registered_model),
                                         version["model_version"], key, value)
    out: dict[str, Any] = {"metrics": len(metrics), "steps": len(run.windows),
                           "linked_metrics": sum(1 for m in metrics if m.model_id),
                           "artifacts": _artifacts(run_dir)}
    if config.registered_model:
        out.update(registered_model=config.registered_model, model_versions=linked,
                   unregistered=unregistered)
    return out
