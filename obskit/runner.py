"""The report runner: analyse → parameterise → execute → check → render → publish.

A run is written to a hidden temporary folder beside its final place and renamed into
place when complete, so a reader never sees half a report and a failed run never replaces
the last good one. ``latest`` always points at the last good run.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import shutil
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from obskit.alert_state import AlertEvents, AlertState, latest_values
from obskit.analysis import Analysis, analyze
from obskit.config import Config
from obskit.config.sinks import load_sinks
from obskit.exceptions import InputError, NotebookError
from obskit.findings import attach_commands
from obskit.history import collect_runs, history_html
from obskit.results import load, load_record
from obskit.sinks import dispatch

__all__ = ["RunOutcome", "run_report", "run_notebook", "notebook_path", "to_html",
           "write_history", "kernel_config",
           "apply_retention", "clean_stale_tmp", "process_alive", "NOTEBOOK",
           "REPORT_FAILED_RULE"]

NOTEBOOK = "monitoring_report.ipynb"
#: Blocks every script, every network fetch and every plug-in in the published HTML.
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
       "script-src 'none'; base-uri 'none'; form-action 'none'")
#: the rule name of the synthetic alert a failed notebook adds to its run's alerts
REPORT_FAILED_RULE = "report_failed"
#: the file inside ``.tmp-<id>/`` naming the process that writes it
OWNER_FILE = ".owner.json"
#: a ``.tmp-*`` folder without an owner file is left alone this long (it may be starting)
UNOWNED_TMP_GRACE_S = 3600.0
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:+-]*$")


@dataclass(frozen=True)
class RunOutcome:
    """Where a run went and how it ended."""

    run_dir: Path
    status: str  # ok / alert / failed
    summary: dict[str, Any]
    #: what changed against the folder's alert state: send ``firing`` and ``resolved``
    events: AlertEvents | None = None

    @property
    def html(self) -> Path:
        return self.run_dir / "index.html"

    @property
    def run_id(self) -> str:
        return self.run_dir.name


def notebook_path(name: str = NOTEBOOK) -> Path:
    """A notebook of obskit: the package's ``obskit/notebooks/`` in an installed wheel, else
    the repository's ``notebooks/`` (the one copy; the wheel is built from it, setup.py)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "notebooks" / name, here.parent / "notebooks" / name):
        if candidate.is_file():
            return candidate
    raise InputError(f"report notebook {name!r} not found next to the obskit package",
                     path=name)


def _run_id(root: Path, prefix: str = "") -> str:
    stamp = prefix + datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    run_id, n = stamp, 1
    while any((root / name).exists() for name in (run_id, f"{run_id}-failed",
                                                   f".tmp-{run_id}")):
        n += 1
        run_id = f"{stamp}-{n}"
    return run_id


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, allow_nan=False, default=str) + "\n")


def _execute(notebook: Path, output: Path, parameters: dict[str, Any], *,
             timeout_s: float = 1800.0) -> None:
    """Run the notebook with papermill; the whole run (not each cell) gets ``timeout_s``.

    A cell still running at the deadline is stopped with its kernel, and the run fails.
    """
    import papermill as pm
    from nbclient.exceptions import DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    deadline = time.monotonic() + timeout_s

    def remaining(cell: Any) -> int:  # nbclient asks before each cell
        return max(1, math.ceil(deadline - time.monotonic()))

    try:
        pm.execute_notebook(
            str(notebook), str(output), parameters=parameters, kernel_name="python3",
            cwd=str(output.parent), progress_bar=False,
            execution_timeout=max(1, math.ceil(timeout_s)), timeout_func=remaining,
            config=kernel_config(),
        )
    except PapermillExecutionError as exc:
        raise NotebookError(
            f"notebook cell {exc.cell_index} failed: {exc.ename}: {exc.evalue}",
            notebook=str(output),
        ) from exc
    except TimeoutError as exc:  # nbclient's CellTimeoutError
        raise NotebookError(
            f"notebook timed out after {timeout_s:g} s (config key 'notebook_timeout_s')",
            notebook=str(output),
        ) from exc
    except DeadKernelError as exc:
        raise NotebookError(f"notebook kernel died: {exc}", notebook=str(output)) from exc


def kernel_config() -> Any:
    """The kernel manager's settings for a notebook run: transport encryption ``auto``.

    jupyter_client then provisions CurveZMQ keys for a kernel whose kernelspec declares
    support (ipykernel's does), so the kernel's sockets are encrypted and ipykernel does
    not warn "Kernel is running over TCP without encryption" on every run. Older
    jupyter_client releases (no ``transport_encryption`` setting) or a pyzmq without
    CurveZMQ keep their defaults.
    """
    import zmq
    from jupyter_client.manager import KernelManager
    from traitlets.config import Config as TraitletsConfig

    settings = TraitletsConfig()
    if "transport_encryption" in KernelManager.class_trait_names() and zmq.has("curve"):
        settings.KernelManager.transport_encryption = "auto"
    return settings


_PAGE_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328;
       max-width: 1200px; margin: 1.5rem auto; padding: 0 1.5rem; line-height: 1.45; }
h1, h2, h3 { line-height: 1.2; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #d0d7de;
padding-bottom: .3rem; } img { max-width: 100%; height: auto; }
code { background: #f6f8fa; padding: .1rem .3rem; border-radius: 4px; }
pre { background: #f6f8fa; padding: .6rem; overflow-x: auto; }
.jp-OutputArea-output pre { white-space: pre-wrap; } .anchor-link { display: none; }
"""

_EXTERNAL = re.compile(
    r"<script\b[^>]*\bsrc\s*=\s*[\"']?(?:https?:)?//[^>]*>\s*</script>"
    r"|<link\b[^>]*\bhref\s*=\s*[\"']?(?:https?:)?//[^>]*>",
    re.IGNORECASE,
)


def to_html(notebook: Path, *, title: str = "obskit report") -> str:
    """Convert an executed notebook to one self-contained HTML page: code hidden, images
    embedded, no stylesheet or script from the network, and no script allowed to run."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="basic")  # the cells only: no CDN, no lab CSS
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.embed_images = True
    nb = nbformat.read(str(notebook), as_version=4)
    _static_widgets(nb)
    body, _ = exporter.from_notebook_node(nb)
    body = _EXTERNAL.sub("", body)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_PAGE_CSS}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def _static_widgets(nb: Any) -> None:
    """Drop live-widget views (they need a kernel and a script, which the page forbids), so
    each shows its static ``text/html`` fallback, e.g. the explorer's snapshot and note."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data") or {}
            if data.pop("application/vnd.jupyter.widget-view+json", None) is not None \
                    and not set(data) - {"text/plain"}:
                data["text/plain"] = ("[an interactive widget: it needs a running Jupyter "
                                      "kernel]")


def process_alive(pid: Any, host: Any = None) -> bool:
    """Whether process ``pid`` runs (on ``host``; another host's process counts as alive,
    since it cannot be checked from here)."""
    if host not in (None, socket.gethostname()):
        return True
    try:
        pid = int(pid)
    except (TypeError, ValueError):
        return False
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _owner() -> dict[str, Any]:
    return {"pid": os.getpid(), "host": socket.gethostname(),
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def clean_stale_tmp(root: Path) -> list[Path]:
    """Remove the ``.tmp-*`` / ``.old-*`` folders of runs whose process is gone.

    A run killed mid-way leaves only its ``.tmp-<id>`` folder (with the owner's pid in
    ``.owner.json``); the next run removes it. A folder without an owner file is removed
    once it is older than :data:`UNOWNED_TMP_GRACE_S`.
    """
    removed = []
    for child in root.iterdir() if root.is_dir() else ():
        if not child.is_dir() or child.is_symlink():
            continue
        if child.name.startswith(".tmp-"):
            try:
                owner = json.loads((child / OWNER_FILE).read_text())
                stale = not process_alive(owner.get("pid"), owner.get("host"))
            except (OSError, ValueError, AttributeError):
                stale = time.time() - child.stat().st_mtime > UNOWNED_TMP_GRACE_S
        elif m := re.match(r"^\.old-(\d+)-", child.name):
            stale = not process_alive(m.group(1))
        else:
            continue
        if stale:
            shutil.rmtree(child, ignore_errors=True)
            removed.append(child)
    return removed


def _publish(tmp: Path, final: Path) -> None:
    """Rename the finished ``tmp`` folder to ``final``, replacing a previous run of the same
    id (a forced rerun)."""
    (tmp / OWNER_FILE).unlink(missing_ok=True)
    if final.exists():
        old = final.parent / f".old-{os.getpid()}-{final.name}"
        os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, final)


def _point_latest(root: Path, run_id: str) -> None:
    link, tmp = root / "latest", root / ".latest.tmp"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(run_id, target_is_directory=True)
    os.replace(tmp, link)


def _period_end(summary: dict[str, Any] | None) -> str:
    return str(((summary or {}).get("period") or {}).get("end") or "")


def _moves_latest(root: Path, summary: dict[str, Any]) -> bool:
    """``latest`` moves to a new run unless it points at a run of a later period (so a
    backfill of old periods never hides the newest report)."""
    try:
        current = json.loads((root / "latest" / "summary.json").read_text())
    except (OSError, ValueError):
        return True
    return _period_end(summary) >= _period_end(current)


def _failed_alert(summary: dict[str, Any], error: str) -> dict[str, Any]:
    period = summary.get("period") or {}
    return {"rule": REPORT_FAILED_RULE, "metric": None, "segment": None, "window": None,
            "window_start": period.get("start"), "window_end": period.get("end"),
            "op": None, "value": None, "threshold": None, "severity": "critical",
            "reference": None, "action": None, "run_id": summary.get("run_id"),
            "error": error}


def _alert_events(root: Path, summary: dict[str, Any]) -> tuple[AlertState, AlertEvents]:
    state = AlertState.load(root)
    events = state.update(summary["alerts"], summary["run_id"],
                          insufficient=summary.get("insufficient_data") or [],
                          last_values=latest_values(summary))
    return state, events


def _write_alerts(path: Path, summary: dict[str, Any], events: AlertEvents,
                  sinks: list[dict[str, Any]] | None = None) -> None:
    _write_json(path, {"alerts": summary["alerts"], "events": events.to_dict(),
                       "sinks": sinks or []})


def _notify(config: Config, run_dir: Path, summary: dict[str, Any],
            events: AlertEvents) -> list[dict[str, Any]]:
    """Send the new and resolved alerts to the configured sinks, run rule actions, and
    record the results in the published run's ``alerts.json`` (atomically)."""
    results = dispatch(config.sinks, run=load(summary), record=load_record(summary),
                       events=events, run_dir=run_dir,
                       dry_run=config.dry_run)
    tmp = run_dir / ".alerts.json.tmp"
    _write_alerts(tmp, summary, events, results)
    os.replace(tmp, run_dir / "alerts.json")
    return results


def run_report(config: Config, *, out: str | Path | None = None,
               analysis: Analysis | None = None, run_id: str | None = None,
               config_path: str | Path | None = None) -> RunOutcome:
    """Analyse, execute the report notebook, convert it and publish the run folder.

    ``run_id`` names the run folder (default: the UTC time); a folder of that name is
    replaced by the new run (a forced rerun). The notebook gets
    ``config.notebook_timeout_s`` in all. After a good run, ``latest`` points at it
    (unless it points at a later period) and the oldest runs beyond ``config.keep`` are
    removed. ``alerts.json`` holds ``{"alerts": [...], "events": {...}}`` and
    ``<out>/alert_state.json`` is updated (see :mod:`obskit.alert_state`). ``config_path``
    (the config file the run came from, if any) goes into ``summary.json`` with the run
    folder, so the findings can give the exact deep-dive commands.

    Raises :class:`InputError` / :class:`ConfigError` (nothing written) for bad input and
    :class:`NotebookError` when the notebook fails or times out: the run is kept as
    ``<id>-failed``, with a critical ``report_failed`` alert added to its alerts.
    """
    if config.model and not Path(config.model).is_file():
        raise InputError(f"{config.model}: model file not found (config key 'model')",
                         path=config.model)
    if run_id is not None and not _RUN_ID.match(run_id):
        raise InputError(f"run id {run_id!r}: expected letters, digits and _.:+- only",
                         path=run_id)
    load_sinks(config.sinks)  # a bad sinks section stops the run before any work
    analysis = analysis or analyze(config)
    summary = analysis.to_summary()
    summary["model"] = config.model
    root = Path(out or config.out)
    root.mkdir(parents=True, exist_ok=True)
    clean_stale_tmp(root)
    run_id = run_id or _run_id(root)
    summary["config_path"] = str(Path(config_path).resolve()) if config_path else None
    summary["run_dir"] = str((root / run_id).resolve())
    summary["findings"] = [f.to_dict() for f in attach_commands(load(summary).findings,
                                                                load_record(summary))]
    tmp = root / f".tmp-{run_id}"
    if tmp.exists():  # our own earlier attempt, or a stale one the cleanup kept
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        return _run_into(tmp, root, run_id, config, summary)
    except NotebookError:
        raise  # published as <id>-failed
    except BaseException:  # never leave a half run behind a live process
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _run_into(tmp: Path, root: Path, run_id: str, config: Config,
              summary: dict[str, Any]) -> RunOutcome:
    _write_json(tmp / OWNER_FILE, _owner())
    summary["run_id"] = run_id
    _write_json(tmp / "summary.json", summary)
    _write_json(tmp / "alerts.json", {"alerts": summary["alerts"], "events": {}})
    executed = tmp / NOTEBOOK
    started = time.monotonic()
    try:
        _execute(notebook_path(), executed, {"summary_path": str(tmp / "summary.json")},
                 timeout_s=config.notebook_timeout_s)
    except NotebookError as exc:
        _record_render_time(summary, started)
        summary["status"] = "failed"
        summary["error"] = str(exc)
        summary["alerts"] = [*summary["alerts"], _failed_alert(summary, str(exc))]
        state, events = _alert_events(root, summary)
        _write_json(tmp / "summary.json", summary)
        _write_alerts(tmp / "alerts.json", summary, events)
        failed = root / f"{run_id}-failed"
        _publish(tmp, failed)
        state.save()
        _notify(config, failed, summary, events)
        exc.notebook = str(failed / NOTEBOOK)
        write_history(root)
        raise
    (tmp / "index.html").write_text(to_html(executed, title=config.title))
    _record_render_time(summary, started)
    _write_json(tmp / "summary.json", summary)
    state, events = _alert_events(root, summary)
    _write_alerts(tmp / "alerts.json", summary, events)
    final = root / run_id
    _publish(tmp, final)
    state.save()  # after publishing: a crash in between re-announces, never loses
    _notify(config, final, summary, events)
    stale_failure = root / f"{run_id}-failed"
    if stale_failure.is_dir():
        shutil.rmtree(stale_failure, ignore_errors=True)
    if _moves_latest(root, summary):
        _point_latest(root, run_id)
    if config.keep:
        apply_retention(root, config.keep)
    write_history(root)
    return RunOutcome(final, summary["status"], summary, events)


def _record_render_time(summary: dict[str, Any], started: float) -> None:
    """``timings.render_s``: seconds spent executing and converting the notebook."""
    timings = summary.get("timings")
    if not isinstance(timings, dict):
        timings = summary["timings"] = {}
    timings["render_s"] = round(time.monotonic() - started, 3)


def _slug(text: Any) -> str:
    """A folder-name-safe version of ``text`` (data such as a feature name or request id)."""
    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", str(text)).strip("-.")[:60] or "x"


def run_notebook(config: Config, notebook: str, *, parameters: dict[str, Any],
                 out: str | Path, name: str, title: str) -> Path:
    """Execute one parameterised notebook and publish it as ``<out>/<name>-<time>/``.

    The deep dives (``drift_deep_dive.ipynb``, ``anomaly_investigation.ipynb``) run this
    way: the same papermill execution, page conversion (code hidden, no script) and
    atomic publish as the report, without alerts, history or ``latest``. The folder holds
    ``index.html`` and the executed notebook.

    Parameters
    ----------
    config : Config
        The run's configuration (for ``notebook_timeout_s``).
    notebook : str
        A notebook of the repository's ``notebooks/`` folder.
    parameters : dict
        Papermill parameters (JSON-able; paths absolute, since the notebook runs in the
        run folder).
    out : path
        The folder the run folder is created in.
    name : str
        The start of the run folder's name (made folder-safe).
    title : str
        The page title.

    Returns
    -------
    Path
        The published run folder.

    Raises
    ------
    NotebookError
        The notebook failed or timed out; it is kept as ``<name>-<time>-failed/``.
    """
    source = notebook_path(notebook)
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    clean_stale_tmp(root)
    run_id = _run_id(root, f"{_slug(name)}-")
    tmp = root / f".tmp-{run_id}"
    tmp.mkdir()
    _write_json(tmp / OWNER_FILE, _owner())
    executed = tmp / source.name
    try:
        _execute(source, executed, parameters, timeout_s=config.notebook_timeout_s)
        (tmp / "index.html").write_text(to_html(executed, title=title))
    except NotebookError as exc:
        failed = root / f"{run_id}-failed"
        _publish(tmp, failed)
        exc.notebook = str(failed / source.name)
        raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    final = root / run_id
    _publish(tmp, final)
    return final


def apply_retention(root: Path, keep: int) -> list[Path]:
    """Remove the oldest run folders of ``root`` beyond ``keep`` (good and failed runs
    alike, oldest by when their ``summary.json`` was written), never ``latest``'s target.
    """
    latest = (root / "latest").resolve() if (root / "latest").is_symlink() else None
    runs = [path for path, _ in collect_runs(root)]
    runs.sort(key=lambda p: ((p / "summary.json").stat().st_mtime, p.name), reverse=True)
    removed = []
    for path in runs[keep:]:
        if latest is not None and path.resolve() == latest:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def write_history(root: Path) -> Path:
    """``<root>/index.html``: every run, newest first, with its status and key figures."""
    runs = [(path.name, summary) for path, summary in collect_runs(root)]
    page = root / "index.html"
    tmp = root / f".index.html.{os.getpid()}.tmp"
    tmp.write_text(history_html(runs, latest=(root / "latest" / "index.html").is_file()))
    os.replace(tmp, page)
    return page
