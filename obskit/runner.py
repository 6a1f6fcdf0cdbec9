"""The report runner: analyse → parameterise → execute → check → render → publish.

A run is written to a hidden temporary folder beside its final place and renamed into
place when complete, so a reader never sees half a report and a failed run never replaces
the last good one. ``latest`` always points at the last good run.
"""

from __future__ import annotations

import html
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from obskit.analysis import Analysis, analyze
from obskit.config import Config
from obskit.exceptions import InputError, NotebookError
from obskit.history import history_html

__all__ = ["RunOutcome", "run_report", "notebook_path", "to_html", "NOTEBOOK"]

NOTEBOOK = "monitoring_report.ipynb"
#: Blocks every script, every network fetch and every plug-in in the published HTML.
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
       "script-src 'none'; base-uri 'none'; form-action 'none'")
CELL_TIMEOUT_S = 1800


@dataclass(frozen=True)
class RunOutcome:
    """Where a run went and how it ended."""

    run_dir: Path
    status: str  # ok / alert / failed
    summary: dict[str, Any]

    @property
    def html(self) -> Path:
        return self.run_dir / "index.html"


def notebook_path(name: str = NOTEBOOK) -> Path:
    """The report notebook shipped in the repository's ``notebooks/`` folder."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "notebooks" / name, here / "notebooks" / name):
        if candidate.is_file():
            return candidate
    raise InputError(f"report notebook {name!r} not found next to the obskit package",
                     path=name)


def _run_id(root: Path) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    run_id, n = stamp, 1
    while (root / run_id).exists() or (root / f"{run_id}-failed").exists():
        n += 1
        run_id = f"{stamp}-{n}"
    return run_id


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, allow_nan=False, default=str) + "\n")


def _execute(notebook: Path, output: Path, parameters: dict[str, Any]) -> None:
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    try:
        pm.execute_notebook(
            str(notebook), str(output), parameters=parameters, kernel_name="python3",
            cwd=str(output.parent), progress_bar=False, execution_timeout=CELL_TIMEOUT_S,
        )
    except PapermillExecutionError as exc:
        raise NotebookError(
            f"notebook cell {exc.cell_index} failed: {exc.ename}: {exc.evalue}",
            notebook=str(output),
        ) from exc


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
    body, _ = exporter.from_notebook_node(nb)
    body = _EXTERNAL.sub("", body)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_PAGE_CSS}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def _publish(tmp: Path, final: Path) -> None:
    os.replace(tmp, final)


def _point_latest(root: Path, run_id: str) -> None:
    link, tmp = root / "latest", root / ".latest.tmp"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(run_id, target_is_directory=True)
    os.replace(tmp, link)


def run_report(config: Config, *, out: str | Path | None = None,
               analysis: Analysis | None = None) -> RunOutcome:
    """Analyse, execute the report notebook, convert it and publish the run folder.

    Raises :class:`InputError` / :class:`ConfigError` (nothing written) for bad input and
    :class:`NotebookError` when the notebook fails (the run is kept as ``<id>-failed``).
    """
    if config.model and not Path(config.model).is_file():
        raise InputError(f"{config.model}: model file not found (config key 'model')",
                         path=config.model)
    analysis = analysis or analyze(config)
    summary = analysis.to_summary()
    summary["model"] = config.model
    root = Path(out or config.out)
    root.mkdir(parents=True, exist_ok=True)
    run_id = _run_id(root)
    tmp = root / f".tmp-{run_id}"
    tmp.mkdir()
    summary["run_id"] = run_id
    _write_json(tmp / "summary.json", summary)
    _write_json(tmp / "alerts.json", summary["alerts"])
    executed = tmp / NOTEBOOK
    try:
        _execute(notebook_path(), executed, {"summary_path": str(tmp / "summary.json")})
    except NotebookError as exc:
        summary["status"] = "failed"
        summary["error"] = str(exc)
        _write_json(tmp / "summary.json", summary)
        failed = root / f"{run_id}-failed"
        _publish(tmp, failed)
        exc.notebook = str(failed / NOTEBOOK)
        write_history(root)
        raise
    (tmp / "index.html").write_text(to_html(executed, title=config.title))
    final = root / run_id
    _publish(tmp, final)
    _point_latest(root, run_id)
    write_history(root)
    return RunOutcome(final, summary["status"], summary)


def write_history(root: Path) -> Path:
    """``<root>/index.html``: every run, newest first, with its status and key figures."""
    runs = []
    for child in sorted(root.iterdir(), reverse=True):
        summary_file = child / "summary.json"
        if child.name.startswith(".") or child.is_symlink() or not summary_file.is_file():
            continue
        try:
            runs.append((child.name, json.loads(summary_file.read_text())))
        except (OSError, ValueError):
            continue
    page = root / "index.html"
    tmp = root / ".index.html.tmp"
    tmp.write_text(history_html(runs))
    os.replace(tmp, page)
    return page
