"""What the API gives for frameworks and the evidence map."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class RequirementRead(BaseModel):
    """One requirement: its reference, title, and a short description in our own words."""

    ref: str
    code: str
    title: str
    guidance: str
    depth: int


class FrameworkSummary(BaseModel):
    """A framework without its requirements."""

    code: str
    title: str
    publisher: str
    version: str
    requirements: int


class FrameworkRead(FrameworkSummary):
    """A framework with its requirements."""

    items: list[RequirementRead]


class EvidenceCount(BaseModel):
    """How many records of a kind evidence a requirement in the period."""

    kind: str
    count: int
    records: list[str] = Field(
        default_factory=list,
        description="The records counted, by number or code: deviations, actions, audits and "
        "reviews by number; pairs, participants and indicators by code; follow-ups and meetings "
        "by their pair's code and evaluation answers by instrument and participant (once "
        "each); issued documents by #issue number",
    )


class CoverageRow(BaseModel):
    """One requirement: what serves it, what evidences it, what is open against it."""

    ref: str
    code: str
    title: str
    depth: int
    procedures: list[str]
    evidence: list[EvidenceCount]
    open_deviations: list[str]
    gap: bool
    gaps: list[str]


class Coverage(BaseModel):
    """The evidence map of a framework for a programme (or the whole system) and a period."""

    framework: str
    programme_id: int | None
    period_start: date
    period_end: date
    covered: int
    gaps: int
    rows: list[CoverageRow]
