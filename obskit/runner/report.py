"""The report run: analyse → parameterise → execute → check → render → publish.

The run's results are the typed :class:`~obskit.results.Run` of the analysis; the runner's
own facts (model, config file, run folder, run id, render time, a notebook's error) live
in a :class:`~obskit.results.RunRecord` beside it. ``summary.json`` is written from both
(:func:`obskit.results.dump`). A failed notebook makes a new run (status ``failed``, a
critical ``report_failed`` alert added) published as ``<id>-failed``; the runs are never
changed in place. Publishing is atomic (:mod:`obskit.runner.publish`).
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from obskit.analysis import Analysis, analyze
from obskit.analysis.preflight import check_config
from obskit.config import Config
from obskit.config.sinks import load_sinks
from obskit.exceptions import InputError, NotebookError
from obskit.findings import attach_commands
from obskit.results import Alert, Alerts, Run, RunRecord, dump
from obskit.runner import execute
from obskit.runner.alert_state import AlertEvents, AlertState, latest_values
from obskit.runner.page import to_html
from obskit.runner.publish import (
    OWNER_FILE,
    apply_retention,
    check_run_id,
    clean_stale_tmp,
    moves_latest,
    new_run_id,
    owner,
    point_latest,
    publish,
    write_history,
    write_json,
)
from obskit.runner.warm_kernel import WarmKernel, warm_kernel
from obskit.sinks import dispatch

__all__ = ["REPORT_FAILED_RULE", "RunOutcome", "failed_run", "run_report"]

#: the rule name of the synthetic alert a failed notebook adds to its run's alerts
REPORT_FAILED_RULE = "report_failed"


@dataclass(frozen=True)
class RunOutcome:
    """Where a run went and how it ended: ``status`` is ``ok``, ``alert`` or ``failed``;
    ``run`` and ``record`` are what its ``summary.json`` holds."""

    run_dir: Path
    status: str
    run: Run
    record: RunRecord = field(default_factory=RunRecord)
    #: what changed against the folder's alert state: send ``firing`` and ``resolved``
    events: AlertEvents | None = None
    #: the remediation decisions of the run (:func:`obskit.remediation.remediate`)
    remediation: list[dict[str, Any]] = field(default_factory=list)

    @property
    def html(self) -> Path:
        """The report page, ``<run_dir>/index.html``."""
        return self.run_dir / "index.html"

    @property
    def run_id(self) -> str:
        """The run folder's name."""
        return self.run_dir.name

    @property
    def timings(self) -> dict[str, float]:
        """Seconds per stage: the analysis's, then ``render_s`` (as in ``summary.json``)."""
        timings = dict(self.run.timings)
        if self.record.render_s is not None:
            timings["render_s"] = self.record.render_s
        return timings


def _with_commands(run: Run, record: RunRecord) -> Run:
    """The run whose findings carry the exact deep-dive commands of this run's config file
    and folder (a new run)."""
    if not run.findings:
        return run
    # the findings' deep-dive commands, for this config file and folder
    return replace(run, findings=attach_commands(run.findings, record))


def failed_run(run: Run, record: RunRecord, error: str) -> Run:
    """A new run of a failed notebook: status ``failed``, a critical ``report_failed``
    alert added to the alerts.

    Parameters
    ----------
    run : Run
        The analysis's run.
    record : RunRecord
        The runner's record (its ``run_id`` goes into the alert).
    error : str
        What failed.

    Returns
    -------
    Run
        A new run (``run`` is unchanged).
    """
    period = run.period
    alert = Alert.from_dict({
        "rule": REPORT_FAILED_RULE, "metric": None, "segment": None, "window": None,
        "window_start": period.start, "window_end": period.end, "op": None, "value": None,
        "threshold": None, "severity": "critical", "reference": None, "action": None,
        "run_id": record.run_id, "error": error})
    return replace(run, status="failed", alerts=Alerts((*run.alerts, alert)))


def run_report(config: Config, *, out: str | Path | None = None,
               analysis: Analysis | Run | None = None, run_id: str | None = None,
               config_path: str | Path | None = None,
               remediation_dry_run: str | None = None) -> RunOutcome:
    """Analyse, execute the report notebook, convert it and publish the run folder.

    After a good run, ``latest`` points at it (unless it shows a newer period, see
    :func:`~obskit.runner.publish.moves_latest`) and the oldest runs beyond
    ``config.keep`` are removed. ``alerts.json`` holds
    ``{"alerts": [...], "events": {...}, "sinks": [...]}`` and ``<out>/alert_state.json``
    is updated (see :mod:`obskit.runner.alert_state`).

    Parameters
    ----------
    config : Config
        The run's configuration (``out``, ``model``, ``sinks``, ``keep``,
        ``notebook_timeout_s`` in all, ``title``).
    out : str or Path, optional
        The report folder (default ``config.out``).
    analysis : Analysis or Run, optional
        The analysis to report (default: :func:`obskit.analyze` of ``config``).
    run_id : str, optional
        The run folder's name (default: the UTC time); a folder of that name is replaced
        by the new run (a forced rerun).
    config_path : str or Path, optional
        The config file the run came from; it goes into ``summary.json`` with the run
        folder, so the findings can give the exact deep-dive commands.
    remediation_dry_run : str, optional
        Why remediation must not act in this run (``obskit backfill`` passes
        ``"backfill of a past period"``): every rule is evaluated and audited, but as a dry
        run whose reason says so; no alias moves, no entry point or webhook is called.
        None: the config (and ``--dry-run``) decide.

    Returns
    -------
    RunOutcome

    Raises
    ------
    InputError, ConfigError
        Bad input (nothing written).
    NotebookError
        The notebook failed or timed out: the run is kept as ``<id>-failed``, with a
        critical ``report_failed`` alert added to its alerts.
    """
    check_config(config)  # a config the analysis would refuse starts no kernel
    if run_id is not None and not check_run_id(run_id):
        raise InputError(f"run id {run_id!r}: expected letters, digits and _.:+- only",
                         path=run_id)
    load_sinks(config.sinks)  # a bad sinks section stops the run before any work
    # the notebook's kernel starts (and imports) while the analysis runs
    with warm_kernel(enabled=analysis is None) as kernel:
        run: Run = analysis or analyze(config)
        root = Path(out or config.out).resolve()  # the notebook runs in the run folder
        root.mkdir(parents=True, exist_ok=True)
        clean_stale_tmp(root)
        run_id = run_id or new_run_id(root)
        record = RunRecord(model=config.model,
                           config_path=str(Path(config_path).resolve()) if config_path
                           else None, run_dir=str((root / run_id).resolve()), run_id=run_id)
        run = _with_commands(run, record)
        tmp = root / f".tmp-{run_id}"
        if tmp.exists():  # our own earlier attempt, or a stale one the cleanup kept
            shutil.rmtree(tmp)
        tmp.mkdir()
        try:
            return _run_into(tmp, root, config, run, record, remediation_dry_run, kernel)
        except NotebookError:
            raise  # published as <id>-failed
        except BaseException:  # never leave a half run behind a live process
            shutil.rmtree(tmp, ignore_errors=True)
            raise


def _run_into(tmp: Path, root: Path, config: Config, run: Run, record: RunRecord,
              remediation_dry_run: str | None = None,
              kernel: WarmKernel | None = None) -> RunOutcome:
    run_id = str(record.run_id)
    write_json(tmp / OWNER_FILE, owner())
    dump(run, tmp / "summary.json", record)
    write_json(tmp / "alerts.json", {"alerts": _alerts(run), "events": {}})
    executed = tmp / execute.NOTEBOOK
    started = time.monotonic()
    try:
        execute.execute_notebook(execute.notebook_path(), executed,
                                 {"summary_path": str(tmp / "summary.json")},
                                 timeout_s=config.notebook_timeout_s, kernel=kernel)
    except NotebookError as exc:
        record = replace(record, render_s=_seconds_since(started), error=str(exc))
        _publish_failed(tmp, root, config, failed_run(run, record, str(exc)), record, exc)
        raise
    finally:
        if kernel is not None:  # its memory is free before the HTML and the sinks
            kernel.shutdown()
    (tmp / "index.html").write_text(to_html(executed, title=config.title))
    record = replace(record, render_s=_seconds_since(started))
    dump(run, tmp / "summary.json", record)
    state, events = _alert_events(root, run, run_id)
    _write_alerts(tmp / "alerts.json", run, events)
    final = root / run_id
    publish(tmp, final)
    state.save()  # after publishing: a crash in between re-announces, never loses
    sinks = _notify(config, final, run, record, events)
    decisions = _remediate(config, root, final, run, record, events, sinks,
                           remediation_dry_run)
    stale_failure = root / f"{run_id}-failed"
    if stale_failure.is_dir():
        shutil.rmtree(stale_failure, ignore_errors=True)
    if moves_latest(root, run):
        point_latest(root, run_id)
    if config.keep:
        apply_retention(root, config.keep)
    write_history(root)
    assert run.status is not None  # analyze judged it; a failed run says "failed"
    return RunOutcome(final, run.status, run, record, events, decisions)


def _publish_failed(tmp: Path, root: Path, config: Config, run: Run, record: RunRecord,
                    exc: NotebookError) -> None:
    """Publish a failed notebook's run as ``<id>-failed`` (alerts announced, history
    updated; ``latest`` stays) and point ``exc.notebook`` at its executed notebook."""
    state, events = _alert_events(root, run, str(record.run_id))
    dump(run, tmp / "summary.json", record)
    _write_alerts(tmp / "alerts.json", run, events)
    failed = root / f"{record.run_id}-failed"
    publish(tmp, failed)
    state.save()
    _notify(config, failed, run, record, events)
    exc.notebook = str(failed / execute.NOTEBOOK)
    write_history(root)


def _seconds_since(started: float) -> float:
    """``render_s``: seconds spent executing and converting the notebook."""
    return round(time.monotonic() - started, 3)


def _alerts(run: Run) -> list[dict[str, Any]]:
    return [alert.to_dict() for alert in run.alerts]


def _alert_events(root: Path, run: Run, run_id: str) -> tuple[AlertState, AlertEvents]:
    state = AlertState.load(root)
    events = state.update(run.alerts, run_id, insufficient=run.insufficient_data,
                          last_values=latest_values(run))
    return state, events


def _write_alerts(path: Path, run: Run, events: AlertEvents,
                  sinks: list[dict[str, Any]] | None = None,
                  remediation: list[dict[str, Any]] | None = None) -> None:
    doc: dict[str, Any] = {"alerts": _alerts(run), "events": events.to_dict(),
                           "sinks": sinks or []}
    if remediation is not None:
        doc["remediation"] = remediation
    write_json(path, doc)


def _rewrite_alerts(run_dir: Path, run: Run, events: AlertEvents,
                    sinks: list[dict[str, Any]],
                    remediation: list[dict[str, Any]] | None = None) -> None:
    """Replace the published run's ``alerts.json`` atomically (a temporary file, then
    :func:`os.replace`): readers never see a half-written file."""
    tmp = run_dir / ".alerts.json.tmp"
    _write_alerts(tmp, run, events, sinks, remediation)
    os.replace(tmp, run_dir / "alerts.json")


def _remediate(config: Config, root: Path, run_dir: Path, run: Run, record: RunRecord,
               events: AlertEvents, sinks: list[dict[str, Any]],
               dry_run_reason: str | None = None) -> list[dict[str, Any]]:
    """Apply the ``remediation`` rules (``--dry-run`` or ``dry_run_reason`` force a dry
    run) and add the decisions to the published run's ``alerts.json`` (``remediation``);
    never raises."""
    if config.remediation is None:
        return []
    from obskit.remediation import remediate

    try:
        decisions = remediate(config, run, record, root=root, run_dir=run_dir,
                              dry_run=config.dry_run, dry_run_reason=dry_run_reason)
    except Exception as exc:  # e.g. an unwritable audit log: report it, keep the run
        error = f"{type(exc).__name__}: {exc}"
        decisions = [{"decision": "failed", "error": error,
                      "line": f"remediation: failed: {error}"}]
    _rewrite_alerts(run_dir, run, events, sinks, decisions)
    return decisions


def _notify(config: Config, run_dir: Path, run: Run, record: RunRecord,
            events: AlertEvents) -> list[dict[str, Any]]:
    """Send the new and resolved alerts to the configured sinks, run rule actions, and
    record the results in the published run's ``alerts.json`` (atomically)."""
    results = dispatch(config.sinks, run=run, record=record, events=events,
                       run_dir=run_dir, dry_run=config.dry_run)
    _rewrite_alerts(run_dir, run, events, results)
    return results
