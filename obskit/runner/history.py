"""The history page of a report folder: every run, newest first, escaped and offline.

Each past run is read back from its ``summary.json`` into a typed
:class:`~obskit.results.Run` and its :class:`~obskit.results.RunRecord` (older documents
load too; a folder whose document cannot be read is skipped).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from obskit.metrics.performance import summary_primary_metric
from obskit.results import Record, Run, RunRecord, Window, load, load_record, read_document

__all__ = ["PastRun", "collect_runs", "history_html", "key_figures"]

_BADGE = {"ok": "#1a7f37", "alert": "#b35900", "failed": "#cf222e"}
#: the rule of the synthetic alert a failed notebook adds (not counted as an alert)
_REPORT_FAILED = "report_failed"


@dataclass(frozen=True)
class PastRun:
    """A published run: its folder name (the run id), its run and the runner's record."""

    name: str
    run: Run
    record: RunRecord = field(default_factory=RunRecord)
    #: the run folder (None: a run not read from a folder)
    path: Path | None = None

    @classmethod
    def read(cls, folder: Path) -> PastRun:
        """The run of ``folder/summary.json``.

        Raises
        ------
        OSError, ValueError, TypeError
            The document cannot be read, is not JSON or not a summary.
        """
        document = read_document(folder / "summary.json")
        return cls(folder.name, load(document), load_record(document) or RunRecord(),
                   folder)


def collect_runs(root: Path) -> list[PastRun]:
    """The run folders of ``root`` with their runs, newest first.

    Hidden folders (``.tmp-*``), symlinks (``latest``) and folders without a readable
    ``summary.json`` are skipped. Runs are ordered by ``generated_at``, then by name.

    Parameters
    ----------
    root : Path
        A report folder.

    Returns
    -------
    list[PastRun]
        Newest first.
    """
    runs = []
    for child in root.iterdir() if root.is_dir() else ():
        if child.name.startswith(".") or child.is_symlink() \
                or not (child / "summary.json").is_file():
            continue
        try:
            runs.append(PastRun.read(child))
        except (OSError, ValueError, TypeError):
            continue
    runs.sort(key=lambda r: (str(r.run.generated_at or ""), r.name), reverse=True)
    return runs


def _has(record: Record, key: str) -> bool:
    """Whether ``key`` was in the document (a record built in code has every key)."""
    return record.layout is None or key in record.layout


def _last(windows: Sequence[Window], value: Callable[[Window], Any]) -> Any:
    for window in reversed(windows):
        try:
            node = value(window)
        except (AttributeError, TypeError):
            node = None
        if isinstance(node, (int, float)) and not isinstance(node, bool):
            return node
    return None


def key_figures(run: Run) -> dict[str, Any]:
    """The figures the history lists for a run.

    Parameters
    ----------
    run : Run

    Returns
    -------
    dict[str, Any]
        ``alerts`` (count, without a failed notebook's ``report_failed``),
        ``drift_share_max`` (0-1), ``primary_metric`` (its name, None without a task),
        ``primary_metric_latest`` and ``latency_p95_latest`` (ms) of the last window that
        has them, ``rows`` (current rows used; None when the document has no ``rows``).
    """
    windows = [w for w in run.windows if isinstance(w, Window)]
    shares = [w.drift_share for w in windows if isinstance(w.drift_share, (int, float))]
    metric = None
    if run.task:
        roles = list(run.roles) if _has(run, "roles") else None
        metric = summary_primary_metric({"task": run.task, "roles": roles})
    return {
        "alerts": len([a for a in run.alerts if a.rule != _REPORT_FAILED]),
        "drift_share_max": max(shares) if shares else None,
        "primary_metric": metric,
        "primary_metric_latest": _last(windows, lambda w: w.performance.get(metric))
        if metric else None,
        "latency_p95_latest": _last(windows, lambda w: w.health.latency_p95_ms),
        "rows": run.rows.current if _has(run, "rows") else None,
    }


def _cell(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _number(value: Any, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


def _latest_line(runs: Sequence[PastRun], latest: bool) -> str:
    count = f"{len(runs)} run{'' if len(runs) == 1 else 's'}"
    if latest:
        return f'<a href="latest/index.html">Latest good report</a> · {count}'
    failed = sum(1 for r in runs if r.run.status == "failed")
    return (f"No good report yet: {failed} of {count} failed (see each run's notebook "
            "below)" if failed else "No report yet") + "."


def _row(past: PastRun) -> str:
    run, run_id = past.run, past.name
    status = run.status or "?"
    figures = key_figures(run)
    if status == "failed":
        link = (f'{_cell(run_id)} (<a href="{_cell(run_id)}/monitoring_report.ipynb">'
                f"notebook</a>)")
        error = f'<br><small>{_cell(str(past.record.error or "")[:300])}</small>'
    else:
        link = f'<a href="{_cell(run_id)}/index.html">{_cell(run_id)}</a>'
        error = ""
    metric = figures["primary_metric"]
    return (
        "<tr>"
        f"<td>{link}</td>"
        f"<td>{_cell(str(run.generated_at or '')[:19].replace('T', ' '))}</td>"
        f"<td>{_cell((run.period.start or '')[:16])} → "
        f"{_cell((run.period.end or '')[:16])}<br><small>window "
        f"{_cell(run.window)}</small></td>"
        f'<td><span class="badge" style="background:{_BADGE.get(status, "#57606a")}">'
        f"{_cell(status)}</span>{error}</td>"
        f"<td>{figures['alerts']}</td>"
        f"<td>{_number(figures['drift_share_max'], '.0%')}</td>"
        f"<td>{_cell(metric) + ' ' if metric else ''}"
        f"{_number(figures['primary_metric_latest'], '.3f')}</td>"
        f"<td>{_number(figures['latency_p95_latest'], '.0f')}</td>"
        f"<td>{_cell(figures['rows'])}</td>"
        "</tr>"
    )


def history_html(runs: Sequence[PastRun], *, latest: bool | None = None) -> str:
    """A self-contained page listing ``runs``, in the given order.

    Parameters
    ----------
    runs : Sequence[PastRun]
        The runs (see :func:`collect_runs`).
    latest : bool, optional
        Whether ``latest/index.html`` exists (None: whether some run did not fail).
        Without it the page links to no latest report and says that no run succeeded yet.

    Returns
    -------
    str
        The page: every text escaped, no script, no network fetch.
    """
    if latest is None:
        latest = any(r.run.status != "failed" for r in runs)
    rows = [_row(past) for past in runs]
    first = runs[0].run if runs else None
    title = "obskit reports" if first is None else \
        _cell(first.title if _has(first, "title") else "obskit reports")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{title} — history</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #1f2328; }}
table {{ border-collapse: collapse; }} td, th {{ padding: .3rem .8rem;
border-bottom: 1px solid #d0d7de; text-align: left; vertical-align: top; }}
.badge {{ color: white; border-radius: .6rem; padding: .1rem .5rem; font-size: .85em; }}
</style></head><body>
<h1>{title} — history</h1>
<p>{_latest_line(runs, latest)}</p>
<table><thead><tr><th>Run</th><th>Time (UTC)</th><th>Period</th><th>Status</th>
<th>Alerts</th><th>Max drift share</th><th>Primary metric (latest)</th>
<th>p95 latency ms (latest)</th><th>Rows used</th></tr></thead><tbody>
{''.join(rows)}
</tbody></table></body></html>
"""
