"""Short notes under the report's figures: the health series the logs lack (and what is
off without them), and how performance was estimated without labels."""

from __future__ import annotations

from obskit.render.common import complete, escape, logged
from obskit.results import Run

__all__ = ["estimation_html", "health_notes_html"]

#: a health series, the log roles it comes from (any one), and what is off without them
_HEALTH_SERIES = (
    ("Latency", ("latency_ms",), "the latency panel and tile"),
    ("Errors", ("status", "error"), "the error-rate panel and tile"),
)


def health_notes_html(run: Run) -> str:
    """One line per health series the logs cannot have, saying why and what is off, e.g.
    "Latency not logged (no latency_ms column): the latency panel and tile and the
    latency_p95 rule are off."

    Parameters
    ----------
    run : Run
        The run (its ``roles`` and ``alert_rules_not_applicable``).

    Returns
    -------
    str
        An HTML fragment (empty when every series is logged).
    """
    run = complete(run)
    lines = []
    for name, roles, what in _HEALTH_SERIES:
        if logged(run, *roles):
            continue
        rules = [str(r.rule) for r in run.alert_rules_not_applicable
                 if set(map(str, r.missing_roles or ())) & set(roles)]
        rule_text = (f" and the {', '.join(rules)} rule{'s' * (len(rules) > 1)}"
                     if rules else "")
        lines.append(f"<p><em>{name} not logged (no {' or '.join(roles)} column): {what}"
                     f"{escape(rule_text)} are off.</em></p>")
    return '<div class="obskit">' + "".join(lines) + "</div>" if lines else ""


_ESTIMATION_TEXT = {
    "CBPE": "Estimated without labels by CBPE (NannyML's confidence-based performance "
            "estimation): the scores are calibrated on the labelled reference, and each "
            "window's expected confusion matrix and expected ROC curve give the estimate.",
    "CBPE (one-vs-rest)": "Estimated without labels by CBPE for multiclass (NannyML's "
                          "one-vs-rest method): each class's probability is calibrated on the "
                          "labelled reference, and the expected per-class confusion counts "
                          "give the estimated accuracy, macro f1 and macro ROC AUC.",
    "DLE": "Estimated without labels by DLE (direct loss estimation): models learnt on the "
           "labelled reference predict each row's absolute and squared error.",
}


def estimation_html(run: Run) -> str:
    """One paragraph on the performance estimated without labels: the method in use and
    its assumption, or why nothing was estimated.

    Parameters
    ----------
    run : Run
        The run (its ``estimation``).

    Returns
    -------
    str
        An HTML fragment (empty for a run without an estimation method or reason).
    """
    run = complete(run)
    method, reason = run.estimation.method, run.estimation.reason
    if method:
        text = _ESTIMATION_TEXT.get(str(method), f"Estimated without labels by {method}.")
        text += (" The band is ± 3 standard errors of the realized metric on a window of that "
                 "size; the estimate assumes no concept drift (inputs relate to outcomes as in "
                 "the reference).")
    elif reason:
        text = f"Performance is not estimated without labels: {reason}."
    else:
        return ""
    return f'<div class="obskit"><p>{escape(text)}</p></div>'
