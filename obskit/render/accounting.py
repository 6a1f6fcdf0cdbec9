"""Where every row went: unfinished log files skipped, quarantine counts by reason with
examples, the label and trace accounting and the files read (the report's data quality notes).
Every string is escaped."""

from __future__ import annotations

from obskit._format import finite, fmt_int, fmt_pct
from obskit._text import plural
from obskit.render.common import as_read, basename, complete, escape, quarantine_examples, table
from obskit.results import Run

__all__ = ["data_quality_html"]

#: label counts shown, in this order: field → text
_LABEL_COUNTS = (("read", "labels read"), ("quarantined", "quarantined"),
                 ("duplicates", "duplicates dropped"), ("used", "used"),
                 ("matched", "matched to a prediction"), ("unmatched", "matched no prediction"))

#: trace counts shown, in this order: field → text
_TRACE_COUNTS = (("read", "spans read"), ("quarantined", "quarantined"),
                 ("duplicates", "duplicates dropped"), ("used", "used"),
                 ("matched", "traces matched to a prediction"),
                 ("unmatched", "traces that matched no prediction"))


def _traces_html(run: Run) -> str:
    """The spans read (``traces``): counts, quarantine examples; empty without traces."""
    traces = run.traces
    if traces is None:
        return ""
    examples = traces.quarantine.examples
    return ("<h3>Spans read (traces)</h3>"
            + table(("Traces", "Count"),
                    [(text, fmt_int(getattr(traces, k))) for k, text in _TRACE_COUNTS],
                    frozenset({1}))
            + quarantine_examples(examples, "example" + "s" * (len(examples) != 1)
                                  + " of quarantined spans"))


def _unfinished_html(run: Run) -> str:
    """The unfinished log files each source skipped (``sources.unfinished``): a note per
    source and one table of the files with their sizes; empty without any."""
    skipped = {source: files for source, files in (run.sources.unfinished or {}).items()
               if files}
    if not skipped:
        return ""
    from obskit.io.paths import unfinished_note  # the io package: only with such files

    notes = "".join(
        f"<p>{escape(unfinished_note(source, [(f.path or '?', f.bytes) for f in files]))}</p>"
        for source, files in skipped.items())
    rows = [(source, basename(f.path), "n/a" if f.bytes is None else fmt_int(f.bytes))
            for source, files in skipped.items() for f in files]
    return ("<h3>Unfinished log files</h3>" + notes
            + table(("Source", "File", "Bytes"), rows, frozenset({2})))


def data_quality_html(run: Run) -> str:
    """Unfinished log files skipped, quarantine counts by reason, examples, label
    accounting and the files read.

    Parameters
    ----------
    run : Run
        The run (its ``rows``, ``quarantine``, ``labels``, ``traces`` and ``sources``).

    Returns
    -------
    str
        An HTML fragment.
    """
    run = complete(run)
    rows = run.rows
    by_reason = run.quarantine.by_reason
    read = finite(as_read(rows, "read"))
    parts = ['<div class="obskit">', _unfinished_html(run), "<h3>Quarantined rows</h3>"]
    if by_reason:
        reasons = sorted(by_reason.items(), key=lambda kv: -(finite(kv[1]) or 0))
        parts.append(table(("Reason", "Rows", "Share of rows read"),
                           [(r, fmt_int(c), fmt_pct((finite(c) or 0) / read) if read else
                             "n/a") for r, c in reasons], frozenset({1, 2})))
    else:
        parts.append(f"<p>No rows were quarantined ({escape(fmt_int(read))} rows read, "
                     f"{escape(fmt_int(as_read(rows, 'current')))} used).</p>")
    if finite(rows.reference_quarantined):
        parts.append(f"<p>{escape(fmt_int(rows.reference_quarantined))} reference rows "
                     "were quarantined.</p>")
    examples = run.quarantine.examples
    parts.append(quarantine_examples(
        examples, "example" + "s" * (len(examples) != 1) + " of quarantined rows"))

    parts.append("<h3>Labels</h3>")
    labels = run.labels
    if labels is not None:
        parts.append(table(("Labels", "Count"),
                           [(text, fmt_int(getattr(labels, k))) for k, text in _LABEL_COUNTS],
                           frozenset({1})))
    else:
        parts.append("<p>No label source was given: realized performance is not available."
                     "</p>")

    parts.append(_traces_html(run))
    sources = run.sources.to_dict()  # every role, in the document's order
    files = [(kind, basename(p)) for kind, paths in sources.items()
             if isinstance(paths, list) for p in paths]
    if files:
        parts.append(f"<details><summary>{plural(len(files), 'source file')} read</summary>"
                     + table(("Role", "File"), files) + "</details>")
    return "".join(parts) + "</div>"
