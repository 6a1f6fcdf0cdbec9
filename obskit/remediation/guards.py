"""The guards: which windows breached an alert rule, and whether a rule may act now.

A rule acts only when all hold, checked in this order (the first that fails is the
audited reason):

1. ``consecutive_windows``: the latest N judged windows breached the alert rule (counted
   over runs; windows an earlier action covered do not count again);
2. ``cooldown``: the rule's last action is older than the cooldown;
3. ``max_per_day``: the rule acted fewer times this UTC day;
4. ``max_actions_per_day``: all rules together acted fewer times this UTC day.

This is the shape of Argo Rollouts' analysis (act after ``failureLimit`` consecutive
failed measurements) with the cooldown and rate limits of a careful on-call runbook.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from obskit.config.remediation import RemediationConfig, RemediationRule
from obskit.remediation.state import RemediationState, until
from obskit.results import Run

__all__ = ["Verdict", "judged_windows", "verdict"]


@dataclass(frozen=True)
class Verdict:
    """Whether a rule may act (``go``), why, and the window streak behind it."""

    go: bool
    reason: str
    breaching: int
    required: int
    #: the start of the latest judged window (None: none judged yet)
    latest: str | None


def judged_windows(run: Run, alert: str) -> dict[str, bool]:
    """Window start → whether the window breached ``alert``, for the run's judged windows.

    Parameters
    ----------
    run : Run
        The run (its ``windows``, ``alerts`` and ``insufficient_data``).
    alert : str
        The alert rule's name.

    Returns
    -------
    dict of str to bool
        Windows with status ``ok`` (a window too small to judge, or one the rule could not
        judge, such as a window without labels for a performance rule, is left out: it
        neither counts nor breaks a streak), plus every window an alert of the rule names
        (a segment's breach counts for its window).
    """
    breached = {str(a.window_start) for a in run.alerts
                if a.rule == alert and a.window_start is not None}
    not_judged = {str(i.window_start) for i in run.insufficient_data
                  if i.window_start is not None and (i.rule is None or i.rule == alert)}
    judged = {str(w.start): False for w in run.windows
              if w.start is not None and w.status == "ok" and str(w.start) not in not_judged}
    judged.update(dict.fromkeys(breached, True))
    return judged


def verdict(rule: RemediationRule, config: RemediationConfig, state: RemediationState,
            *, now: datetime, dry_run: bool) -> Verdict:
    """Apply the guards to a rule, from the state (windows already recorded).

    Parameters
    ----------
    rule : RemediationRule
    config : RemediationConfig
        For ``max_actions_per_day``.
    state : RemediationState
        The windows judged so far and the actions taken in this mode.
    now : datetime
        The decision time (UTC).
    dry_run : bool
        Which mode's actions the cooldown and caps count.

    Returns
    -------
    Verdict
        ``go`` with ``"3 of 3 consecutive breaching windows"``, or not with the first
        guard that holds the rule back (``"cooldown until 2026-11-02T09:00:00Z"``,
        ``"daily cap 1 reached"``).
    """
    last = state.last_action(rule.key, dry_run=dry_run)
    count, latest = state.streak(rule.alert, after=(last or {}).get("window"))
    need = rule.consecutive_windows

    def result(go: bool, reason: str) -> Verdict:
        return Verdict(go, reason, count, need, latest)

    streak = (f"{count} of {need} consecutive breaching windows" if count <= need
              else f"{count} consecutive breaching windows ({need} needed)")
    if count < need:
        return result(False, streak)
    if last is not None and until(last, rule.cooldown) > now:
        ends = until(last, rule.cooldown).isoformat(timespec="seconds")
        return result(False, f"{streak}; cooldown {rule.cooldown_text} until "
                             f"{ends.replace('+00:00', 'Z')}")
    day = now.date().isoformat()
    if state.actions_on(day, dry_run=dry_run, rule=rule.key) >= rule.max_per_day:
        return result(False, f"{streak}; daily cap {rule.max_per_day} of this rule reached")
    cap = config.max_actions_per_day
    if cap is not None and state.actions_on(day, dry_run=dry_run) >= cap:
        return result(False, f"{streak}; daily cap {cap} of all rules reached")
    return result(True, streak)
