"""Who the token belongs to and what it may do."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import allowed
from api.problems import responses
from qms.permissions import PERMISSIONS, Action, Actor, Role

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
