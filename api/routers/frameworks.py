"""Requirement frameworks and the evidence map."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import SessionDep, allowed
from api.problems import responses
from qms.fields import MAX_INT, IsoDate
from qms.frameworks import catalogue
from qms.frameworks.coverage import coverage
from qms.frameworks.schemas import Coverage, FrameworkRead, FrameworkSummary, RequirementRead
from qms.pairs.service import today
from qms.permissions import Action, Actor

router = APIRouter(prefix="/api/v1/frameworks", tags=["frameworks"])
FrameworkCode = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]


def _summary(framework: catalogue.Framework) -> FrameworkSummary:
    return FrameworkSummary(
        code=framework.code,
        title=framework.title,
        publisher=framework.publisher,
        version=framework.version,
        requirements=len(framework.requirements),
    )


@router.get("", response_model=list[FrameworkSummary], responses=responses(401, 403, 422))
def list_frameworks(
    actor: Annotated[Actor, allowed(Action.framework_read)],
) -> list[FrameworkSummary]:
    """List the requirement frameworks the system ships."""
    return [_summary(f) for f in catalogue.frameworks().values()]


@router.get("/{code}", response_model=FrameworkRead, responses=responses(401, 403, 404, 422))
def get_framework(
    actor: Annotated[Actor, allowed(Action.framework_read)],
    code: FrameworkCode,
) -> FrameworkRead:
    """Return a framework with its requirements (titles only; the standards' text is theirs)."""
    framework = catalogue.get_framework(code)
    return FrameworkRead(
        **_summary(framework).model_dump(),
        items=[
            RequirementRead(
                ref=r.ref, code=r.code, title=r.title, guidance=r.guidance, depth=r.depth
            )
            for r in framework.requirements
        ],
    )


@router.get("/{code}/coverage", response_model=Coverage, responses=responses(401, 403, 404, 422))
def framework_coverage(
    actor: Annotated[Actor, allowed(Action.framework_read)],
    code: FrameworkCode,
    session: SessionDep,
    programme_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    period_start: Annotated[IsoDate | None, Query(description="Default: a year ago")] = None,
    period_end: Annotated[IsoDate | None, Query(description="Default: today")] = None,
) -> Coverage:
    """The evidence map: per requirement, the procedures serving it, the records evidencing it
    in the period, its open deviations, and a gap flag where something is missing."""
    end = period_end or today()
    return coverage(
        session,
        actor=actor,
        framework=code,
        programme_id=programme_id,
        period_start=period_start or end - timedelta(days=365),
        period_end=end,
    )
