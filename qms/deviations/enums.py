"""The values a deviation's kind, source, severity, state and root-cause method take."""

from __future__ import annotations

import enum


class DeviationKind(enum.StrEnum):
    """What kind of finding it is."""

    nonconformity = "nonconformity"
    deviation_from_plan = "deviation_from_plan"
    observation = "observation"


class DeviationSource(enum.StrEnum):
    """Where the finding came from."""

    follow_up = "follow_up"
    evaluation = "evaluation"
    meeting_rule = "meeting_rule"
    internal_audit = "internal_audit"
    complaint = "complaint"
    self_reported = "self_reported"
    indicator = "indicator"


class Severity(enum.StrEnum):
    """How serious it is."""

    minor = "minor"
    major = "major"
    critical = "critical"


class DeviationStatus(enum.StrEnum):
    """Where the deviation is in its workflow (see qms.workflow.DEVIATION)."""

    open = "open"
    investigating = "investigating"
    action_required = "action_required"
    closed = "closed"
    reopened = "reopened"


class RootCauseMethod(enum.StrEnum):
    """How the root cause was found."""

    five_whys = "five_whys"
    fishbone = "fishbone"
    other = "other"
