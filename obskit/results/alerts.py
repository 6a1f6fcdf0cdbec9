"""Alerts, the rules that raise them, and the findings of a run (``alerts``,
``insufficient_data``, ``alert_rules``, ``alert_rules_not_applicable`` and ``findings``
of ``summary.json``)."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from obskit.results.record import Record
from obskit.results.windows import Interval

__all__ = ["Alert", "AlertRule", "Finding", "InsufficientData", "RuleNotApplicable"]

#: the segment a record belongs to (``{column: value}``); None: the whole log
SegmentTag = Mapping[str, Any] | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Alert(Record):
    """A rule that fired in a window: ``metric`` ``op`` ``threshold`` held for ``value``.

    ``reference`` is the reference's value of a relative rule; a ``significant_drop``
    adds the window's ``interval`` and the ``reference_interval`` (95%), and
    ``instead_of`` when it judged a fallback metric.
    """

    rule: str | None = None
    metric: str | None = None
    window: int | None = None
    window_start: str | None = None
    window_end: str | None = None
    op: str | None = None
    value: Any = None
    threshold: float | None = None
    severity: str = "warning"
    reference: float | None = None
    #: the command run when the rule fires (argv)
    action: tuple[str, ...] | None = None
    segment: SegmentTag = None
    instead_of: str | None = None
    interval: Interval | None = None
    reference_interval: Interval | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class InsufficientData(Record):
    """A rule and window that could not be judged (``reason``; ``rule`` None: the window
    itself has too few rows)."""

    rule: str | None = None
    metric: str | None = None
    window: int | None = None
    window_start: str | None = None
    window_end: str | None = None
    reason: str | None = None
    segment: SegmentTag = None


@dataclass(frozen=True, kw_only=True, slots=True)
class AlertRule(Record):
    """A rule in force (see :class:`obskit.config.AlertRuleConfig`)."""

    name: str = ""
    metric: str = ""
    op: str = ">"
    value: float = 0.0
    severity: str = "warning"
    persistence: int = 1
    segment: SegmentTag = None
    action: tuple[str, ...] | None = None
    #: seconds
    action_timeout_s: float = 60.0


@dataclass(frozen=True, kw_only=True, slots=True)
class RuleNotApplicable(Record):
    """A rule never evaluated: its metric needs a role the log lacks, or a reference
    performance there is none of (``needs_reference``)."""

    rule: str | None = None
    metric: str | None = None
    missing_roles: tuple[str, ...] = ()
    needs_reference: bool | None = None
    reason: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class Finding(Record):
    """One sentence of the report's summary: what happened, where, and the next step.

    ``severity`` is ``critical``, ``warning`` or ``info``; ``section`` the report section
    it points to; ``command`` the deep-dive command (added when the run is written).
    """

    severity: str = "info"
    kind: str = ""
    text: str = ""
    section: str | None = None
    next_step: str | None = None
    segment: SegmentTag = None
    feature: str | None = None
    measure: str | None = None
    request_id: Any = None
    windows: tuple[int, ...] | None = None
    window_start: str | None = None
    command: str | None = None
