"""Findings about what the logs let the run measure: unfinished log files skipped,
quarantined rows, performance that cannot be measured or judged, predictions without a
score, partly labelled windows."""

from __future__ import annotations

from obskit._text import plural, word
from obskit.findings.wording import day, finding
from obskit.io.checks import EMPTY_FILES_NOTE
from obskit.io.paths import unfinished_note
from obskit.results import Finding, Run
from obskit.schema import measures_performance

__all__ = ["data_findings"]


def _unfinished(run: Run) -> list[Finding]:
    """Unfinished log files (``.part``) a source skipped: rows the run never read."""
    skipped = {source: files for source, files in (run.sources.unfinished or {}).items()
               if files}
    if not skipped:
        return []
    return [finding(
        severity="warning", kind="unfinished_files",
        text=" ".join(unfinished_note(source, [(f.path or "?", f.bytes) for f in files])
                      for source, files in skipped.items()),
        section="data-quality",
        next_step="Re-run once the writer has finished them (it renames a finished file "
                  "without .part); a file left by a stopped process can be renamed by hand "
                  "to read what it holds.")]


def _empty_files(run: Run) -> list[Finding]:
    """Log files without a row among files with rows: a logger that died is not "ok"."""
    return [finding(severity="warning", kind="empty_files", text=note, section="data-quality",
                    next_step="Check the producer of these files (did it stop, or was the "
                              "file cut short?), then re-run.")
            for note in run.notes if EMPTY_FILES_NOTE in note]


def _quarantine(run: Run) -> list[Finding]:
    rows = run.rows
    if not rows.quarantined:
        return []
    top = run.quarantine.top_reason
    share = rows.quarantined / rows.read if rows.read else 0
    return [finding(severity="warning" if share > 0.01 else "info", kind="quarantine",
                    text=f"{rows.quarantined:,} of {rows.read:,} rows read "
                         f"({share:.2%}) were quarantined; most often: {top}.",
                    section="data-quality",
                    next_step="Fix the producer of the logs; the examples below show "
                              "file and line.")]


def _performance(run: Run) -> list[Finding]:
    out = []
    roles = run.roles
    if "label" in roles and not measures_performance(
            run.task or "", roles, class_scores=bool(run.class_scores)):
        out.append(finding(
            severity="info", kind="performance_not_measured",
            text="Performance is not measured: the logs have labels but no "
                 + ("prediction or score" if run.task == "binary" else "prediction")
                 + " to compare them with.",
            section="performance",
            next_step="Map the model's output with --column prediction=NAME "
                      "(or score=NAME) in the next run."))
    unjudged = [r for r in run.alert_rules_not_applicable if r.needs_reference]
    if unjudged:
        no_ref = "there is no reference" in unjudged[0].reason
        out.append(finding(
            severity="info" if no_ref else "warning", kind="performance_not_judged",
            text=f"Performance is not compared with the reference: rule "
                 f"{', '.join(str(r.rule) for r in unjudged)} cannot be judged "
                 f"({unjudged[0].reason}).",
            section="performance",
            next_step="Use a labelled reference (or a label source that covers "
                      "it) to judge performance drops."))
    return out


def _scores_and_labels(run: Run) -> list[Finding]:
    out = []
    windows = run.windows
    null_scores = sum(int(w.null_scores or 0) for w in windows)
    if null_scores:
        total = sum(int(w.rows) for w in windows)
        share = null_scores / total if total else 0
        worst = max(windows, key=lambda w: int(w.null_scores or 0))
        out.append(finding(
            severity="warning" if share > 0.01 else "info", kind="null_scores",
            text=f"{null_scores:,} of {total:,} rows ({share:.2%}) have no score "
                 f"(most on {day(worst.start)}: {worst.null_scores:,}); "
                 "they are left out of ROC AUC, PR AUC, log loss, Brier, ECE, "
                 "CBPE and confident mistakes.",
            section="performance",
            next_step="Find why the model logged no score for these requests."))
    partial = [(w, w.label_coverage) for w in windows
               if w.label_coverage is not None and w.label_coverage < 0.95 and w.rows]
    if partial:
        lowest, coverage = min(partial, key=lambda wc: wc[1])
        out.append(finding(
            severity="info", kind="label_coverage",
            text=f"{plural(len(partial), 'window')} {word(len(partial), 'is', 'are')} "
                 "partly labelled (lowest coverage "
                 f"{coverage:.0%} on {day(lowest.start)}); "
                 "their realized performance rests on fewer rows.",
            section="performance", next_step="Re-run when more labels arrive."))
    return out


def data_findings(run: Run) -> list[Finding]:
    """Findings about what the logs let the run measure.

    Parameters
    ----------
    run : Run
        The run; its unfinished files skipped (``sources.unfinished``), row counts,
        quarantine, roles, task, rules not applicable and windows are read.

    Returns
    -------
    list of Finding
        Kinds ``unfinished_files`` (``warning``: rows the run never read), ``quarantine``,
        ``performance_not_measured``, ``performance_not_judged``, ``null_scores`` and
        ``label_coverage``, in this order.
    """
    return (_unfinished(run) + _empty_files(run) + _quarantine(run) + _performance(run)
            + _scores_and_labels(run))
