"""The values a complaint's channel, complainant category, status and outcome take."""

from __future__ import annotations

import enum


class ComplaintChannel(enum.StrEnum):
    """How the complaint came in."""

    email = "email"
    phone = "phone"
    letter = "letter"
    in_person = "in_person"
    web = "web"
    other = "other"


class ComplainantCategory(enum.StrEnum):
    """Who complained, as a kind of interested party (not who they are)."""

    mentee = "mentee"
    mentor = "mentor"
    employer = "employer"
    partner = "partner"
    funder = "funder"
    other = "other"


class ComplaintStatus(enum.StrEnum):
    """Where the complaint is in its workflow (see qms.workflow.COMPLAINT)."""

    received = "received"
    acknowledged = "acknowledged"
    answered = "answered"
    closed = "closed"
    withdrawn = "withdrawn"


class ComplaintOutcome(enum.StrEnum):
    """What the answer found."""

    upheld = "upheld"
    partly_upheld = "partly_upheld"
    not_upheld = "not_upheld"
