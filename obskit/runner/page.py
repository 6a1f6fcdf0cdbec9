"""An executed notebook as one self-contained, offline HTML page (code hidden, images
embedded, no script allowed to run)."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

__all__ = ["CSP", "to_html"]

#: Blocks every script, every network fetch and every plug-in in the published HTML.
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
       "script-src 'none'; base-uri 'none'; form-action 'none'")

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
    """Convert an executed notebook to one self-contained HTML page.

    Parameters
    ----------
    notebook : Path
        An executed notebook.
    title : str
        The page title (escaped).

    Returns
    -------
    str
        The page: code hidden, images embedded, no stylesheet or script from the network,
        and a Content-Security-Policy (:data:`CSP`) that lets no script run.
    """
    from obskit.runner.execute import import_jsonschema

    import_jsonschema()
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
