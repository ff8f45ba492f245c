"""Who the token belongs to and what it may do."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import SessionDep, allowed
from api.problems import responses
from qms import work
from qms.config import get_settings
from qms.db import utcnow
from qms.permissions import PERMISSIONS, Action, Actor, Role
from qms.work import WorkRead

router = APIRouter(prefix="/api/v1", tags=["accounts"])


class MeRead(BaseModel):
    """The calling user, its role, scope and permitted actions."""

    name: str = Field(description="The login: what records and the audit trail keep")
    display_name: str | None = Field(
        description="The name people read them by; none means the login is shown"
    )
    role: Role
    programme_id: int | None
    permissions: list[str]


@router.get("/me", response_model=MeRead, responses=responses(401, 403))
def me(
    actor: Annotated[Actor, allowed(Action.self_read)],
) -> MeRead:
    """Return the calling user, its role, its scope and what it may do."""
    return MeRead(
        name=actor.name,
        display_name=actor.display_name,
        role=actor.role,
        programme_id=actor.programme_id,
        permissions=sorted(a.value for a in PERMISSIONS[actor.role]),
    )


@router.get("/me/work", response_model=WorkRead, responses=responses(401, 403))
def my_work(
    session: SessionDep,
    actor: Annotated[Actor, allowed(Action.self_read)],
) -> WorkRead:
    """List what waits for the caller: actions they own, approvals and reviews waiting for them,
    follow-ups and procedure reviews due, the overdue first, then by due date."""
    return work.waiting_for(
        session, actor=actor, on=utcnow().date(), horizon_days=get_settings().remind_days
    )
