"""The history page of a report folder: every run, newest first, escaped and offline."""

from __future__ import annotations

from html import escape
from typing import Any

__all__ = ["history_html"]

_BADGE = {"ok": "#1a7f37", "alert": "#b35900", "failed": "#cf222e"}


def _cell(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def history_html(runs: list[tuple[str, dict[str, Any]]]) -> str:
    """A self-contained page listing ``(run_id, summary)`` pairs."""
    rows = []
    for run_id, s in runs:
        status = str(s.get("status", "?"))
        period = s.get("period") or {}
        windows = s.get("windows") or []
        link = f'<a href="{_cell(run_id)}/index.html">{_cell(run_id)}</a>' \
            if status != "failed" else f'{_cell(run_id)} (<a href="{_cell(run_id)}/' \
            f'monitoring_report.ipynb">notebook</a>)'
        rows.append(
            "<tr>"
            f"<td>{link}</td>"
            f'<td><span class="badge" style="background:{_BADGE.get(status, "#57606a")}">'
            f"{_cell(status)}</span></td>"
            f"<td>{_cell((period.get('start') or '')[:10])} → "
            f"{_cell((period.get('end') or '')[:10])}</td>"
            f"<td>{len(windows)}</td>"
            f"<td>{len(s.get('alerts') or [])}</td>"
            f"<td>{_cell((s.get('rows') or {}).get('current'))}</td>"
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
border-bottom: 1px solid #d0d7de; text-align: left; }}
.badge {{ color: white; border-radius: .6rem; padding: .1rem .5rem; font-size: .85em; }}
</style></head><body>
<h1>{title} — history</h1>
<p><a href="latest/index.html">Latest good report</a></p>
<table><thead><tr><th>Run</th><th>Status</th><th>Period</th><th>Windows</th><th>Alerts</th>
<th>Rows used</th></tr></thead><tbody>
{''.join(rows)}
</tbody></table></body></html>
"""
