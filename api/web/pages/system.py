"""The quality system at a glance: the parts of ISO 9001 beyond the programme records, each with
the clause it answers and where it is kept."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.web.core import Page, page_for, render
from qms.i18n import N_
from qms.permissions import Action

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Part:
    """One part of the quality system: its page, who may read it, and what it answers."""

    path: str
    needs: Action
    title: str
    clauses: str
    what: str


PARTS = (
    Part(
        "/context",
        Action.context_read,
        N_("Context, interested parties and scope"),
        "4.1, 4.2, 4.3",
        N_(
            "The issues inside and outside the organisation, who has a stake in the programmes "
            "and what they require, and what the quality system covers."
        ),
    ),
    Part(
        "/policy",
        Action.procedure_read,
        N_("Quality policy"),
        "5.2",
        N_("The policy as a controlled document, approved and versioned like the procedures."),
    ),
    Part(
        "/objectives",
        Action.objective_read,
        N_("Quality objectives"),
        "6.2",
        N_(
            "What the organisation aims at, by when, who owns it and the indicators that "
            "measure it."
        ),
    ),
    Part(
        "/risks",
        Action.risk_read,
        N_("Risks and opportunities"),
        "6.1",
        N_(
            "The register for each programme and for the organisation, rated before and after "
            "treatment, with the actions taken."
        ),
    ),
    Part(
        "/providers",
        Action.provider_read,
        N_("External providers"),
        "8.4",
        N_(
            "Partner organisations, training providers, funders and venues: what each provides "
            "and how it was evaluated."
        ),
    ),
    Part(
        "/competence",
        Action.competence_read,
        N_("Competence and awareness"),
        "7.2, 7.3",
        N_(
            "What each role must know, who has been trained, and who has read and understood "
            "the procedures and the policy."
        ),
    ),
    Part(
        "/complaints",
        Action.complaint_read,
        N_("Complaints"),
        "9.1.2, 10.2",
        N_("Complaints received, acknowledged and answered within the set time."),
    ),
)


@router.get("/quality-system")
def quality_system(
    request: Request, page: Annotated[Page, page_for(Action.context_read)]
) -> Response:
    """The parts of the quality system the reader may see, each with its ISO 9001 clauses."""
    parts = [part for part in PARTS if page.can(part.needs.value)]
    return render(page, request, "system/index.html", section="quality-system", parts=parts)
