"""The health section's probe table: golden requests sent and passed per window, their
pass rate, latency and why they failed (``sources.probes``). Every string is escaped."""

from __future__ import annotations

from obskit._format import fmt_int, fmt_ms, fmt_pct, fmt_time
from obskit._text import plural
from obskit.render.common import badge, escape, quarantine_examples, table
from obskit.results import Run

__all__ = ["probes_html"]


def probes_html(run: Run) -> str:
    """The health probes per window, with the probe lines read and quarantined.

    Parameters
    ----------
    run : Run
        The run (its ``probes`` and its windows' ``health.probes``).

    Returns
    -------
    str
        An HTML fragment; empty for a run without ``sources.probes``.
    """
    counts = run.probes
    if counts is None:
        return ""
    rows, idle = [], 0
    for w in run.windows:
        p = w.health.probes if w.health is not None else None
        if p is None or not p.sent:
            idle += 1
            continue
        failures = "; ".join(f"{reason} ({n:,})" for reason, n in (p.failures or {}).items())
        rows.append((fmt_time(w.start), fmt_int(p.sent), fmt_int(p.passed),
                     fmt_pct(p.pass_rate), fmt_ms(p.latency_p50_ms), fmt_ms(p.latency_p95_ms),
                     failures or "-"))
    parts = ['<div class="obskit obskit-probes"><h3>Health probes</h3>']
    if rows:
        failed = sum(1 for r in rows if r[-1] != "-")
        parts.append("<p>" + (badge(f"probes failed in {plural(failed, 'window')}", "alert")
                              if failed else badge("every probe passed", "ok"))
                     + " Golden requests sent by <code>obskit probe</code>: status, latency "
                       "budget and expected answers.</p>")
        parts.append(table(("Window", "Sent", "Passed", "Pass rate", "Latency p50",
                            "Latency p95", "Failures"), rows, frozenset({1, 2, 3, 4, 5})))
    else:
        parts.append("<p>No probe result falls in a window of this run.</p>")
    notes = [f"{fmt_int(counts.read)} probe result lines read from "
             f"{plural(len(counts.files or ()), 'file')}, {fmt_int(counts.used)} used, "
             f"{fmt_int(counts.quarantined)} quarantined"]
    if counts.outside_windows:
        notes.append(f"{fmt_int(counts.outside_windows)} outside the windows of the run")
    if idle and rows:
        notes.append(f"{plural(idle, 'window')} without probes")
    parts.append(f"<p>{escape('; '.join(notes))}.</p>")
    q = counts.quarantine
    examples = q.examples if q is not None else ()
    parts.append(quarantine_examples(
        examples, "quarantined probe line" + "s" * (len(examples) != 1)))
    return "".join(parts) + "</div>"
