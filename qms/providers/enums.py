"""The values an external provider's kind and status and an evaluation's decision take."""

from __future__ import annotations

import enum


class ProviderKind(enum.StrEnum):
    """What kind of organisation the provider is."""

    partner_organisation = "partner_organisation"
    training_provider = "training_provider"
    funder = "funder"
    # The public employment service that refers mentees (NAV, Arbetsförmedlingen).
    referrer = "referrer"
    venue = "venue"
    other = "other"


class ProviderStatus(enum.StrEnum):
    """Whether the programme may rely on the provider."""

    approved = "approved"
    conditional = "conditional"
    suspended = "suspended"
    ended = "ended"


class EvaluationDecision(enum.StrEnum):
    """What an evaluation decides about the provider."""

    keep_approved = "keep_approved"
    conditional = "conditional"
    suspend = "suspend"
    end = "end"


# The status each decision leaves the provider in.
STATUS_AFTER = {
    EvaluationDecision.keep_approved: ProviderStatus.approved,
    EvaluationDecision.conditional: ProviderStatus.conditional,
    EvaluationDecision.suspend: ProviderStatus.suspended,
    EvaluationDecision.end: ProviderStatus.ended,
}
