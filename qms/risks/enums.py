"""The values a risk's kind, treatment, state and level take."""

from __future__ import annotations

import enum


class RiskKind(enum.StrEnum):
    """A threat to the programme's results, or a chance to do better."""

    risk = "risk"
    opportunity = "opportunity"


class Treatment(enum.StrEnum):
    """How a risk or an opportunity is treated (ISO 9001 6.1.2)."""

    # A risk's
    reduce = "reduce"
    avoid = "avoid"
    share = "share"
    accept = "accept"
    # An opportunity's
    pursue = "pursue"
    decline = "decline"


class RiskStatus(enum.StrEnum):
    """Where the risk is (see qms.workflow.RISK)."""

    open = "open"
    treated = "treated"
    realised = "realised"
    closed = "closed"


class RiskLevel(enum.StrEnum):
    """How great the score is, by the organisation's thresholds."""

    low = "low"
    medium = "medium"
    high = "high"


TREATMENTS: dict[RiskKind, tuple[Treatment, ...]] = {
    RiskKind.risk: (Treatment.reduce, Treatment.avoid, Treatment.share, Treatment.accept),
    RiskKind.opportunity: (Treatment.pursue, Treatment.decline),
}
# The treatments that are a decision not to act: they are kept only with the reason.
NEEDS_REASON = {Treatment.accept, Treatment.decline}
