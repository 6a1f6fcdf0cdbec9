"""The history page of a report folder: every run, newest first, escaped and offline."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

__all__ = ["collect_runs", "history_html", "key_figures"]

_BADGE = {"ok": "#1a7f37", "alert": "#b35900", "failed": "#cf222e"}


def _cell(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def collect_runs(root: Path) -> list[tuple[Path, dict[str, Any]]]:
    """The run folders of ``root`` with their ``summary.json``, newest first.

    Hidden folders (``.tmp-*``), symlinks (``latest``) and folders without a readable
    ``summary.json`` are skipped. Runs are ordered by ``generated_at``, then by name.
    """
    runs = []
    for child in root.iterdir() if root.is_dir() else ():
        summary_file = child / "summary.json"
        if child.name.startswith(".") or child.is_symlink() or not summary_file.is_file():
            continue
        try:
            summary = json.loads(summary_file.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(summary, dict):
            runs.append((child, summary))
    runs.sort(key=lambda r: (str(r[1].get("generated_at") or ""), r[0].name), reverse=True)
    return runs


def _last(windows: list[dict[str, Any]], *path: str) -> Any:
    for window in reversed(windows):
        node: Any = window
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, (int, float)) and not isinstance(node, bool):
            return node
    return None


def key_figures(summary: dict[str, Any]) -> dict[str, Any]:
    """The figures the history lists for a run: alerts, the largest drift share, the
    primary metric and the p95 latency of the last window that has them, rows used."""
    from obskit.performance import summary_primary_metric

    windows = [w for w in summary.get("windows") or [] if isinstance(w, dict)]
    shares = [w["drift_share"] for w in windows
              if isinstance(w.get("drift_share"), (int, float))]
    metric = summary_primary_metric(summary) if summary.get("task") else None
    return {
        "alerts": len([a for a in summary.get("alerts") or []
                       if a.get("rule") != "report_failed"]),
        "drift_share_max": max(shares) if shares else None,
        "primary_metric": metric,
        "primary_metric_latest": _last(windows, "performance", metric) if metric else None,
        "latency_p95_latest": _last(windows, "health", "latency_p95_ms"),
        "rows": (summary.get("rows") or {}).get("current"),
    }


def _number(value: Any, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


def _latest_line(runs: list[tuple[str, dict[str, Any]]], latest: bool) -> str:
    count = f"{len(runs)} run{'' if len(runs) == 1 else 's'}"
    if latest:
        return f'<a href="latest/index.html">Latest good report</a> · {count}'
    failed = sum(1 for _, s in runs if s.get("status") == "failed")
    return (f"No good report yet: {failed} of {count} failed (see each run's notebook "
            "below)" if failed else "No report yet") + "."


def history_html(runs: list[tuple[str, dict[str, Any]]], *,
                 latest: bool | None = None) -> str:
    """A self-contained page listing ``(run_id, summary)`` pairs, in the given order.

    ``latest``: whether ``latest/index.html`` exists (None: whether some run did not fail).
    Without it the page links to no latest report and says that no run succeeded yet.
    """
    if latest is None:
        latest = any(s.get("status") != "failed" for _, s in runs)
    rows = []
    for run_id, s in runs:
        status = str(s.get("status", "?"))
        period = s.get("period") or {}
        figures = key_figures(s)
        if status == "failed":
            link = (f'{_cell(run_id)} (<a href="{_cell(run_id)}/monitoring_report.ipynb">'
                    f"notebook</a>)")
            error = f'<br><small>{_cell(str(s.get("error") or "")[:300])}</small>'
        else:
            link = f'<a href="{_cell(run_id)}/index.html">{_cell(run_id)}</a>'
            error = ""
        metric = figures["primary_metric"]
        rows.append(
            "<tr>"
            f"<td>{link}</td>"
            f"<td>{_cell(str(s.get('generated_at') or '')[:19].replace('T', ' '))}</td>"
            f"<td>{_cell((period.get('start') or '')[:16])} → "
            f"{_cell((period.get('end') or '')[:16])}<br><small>window "
            f"{_cell(s.get('window'))}</small></td>"
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
    title = _cell(runs[0][1].get("title", "obskit reports")) if runs else "obskit reports"
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
