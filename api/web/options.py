"""The choices a page's select fields offer, read as the signed-in user."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.web.core import Page, Refusal, read, render
from qms.accounts import repository as users
from qms.permissions import Role
from qms.procedures import service as procedures_service
from qms.programmes import service as programmes_service
from qms.programmes.models import Cohort


def programmes(session: Session, page: Page) -> list[tuple[str, str]]:
    """The programmes the reader may see (first: none)."""
    rows = programmes_service.list_programmes(session, actor=page.actor, limit=200).items
    return [("", page.t("(none)"))] + [(str(p.id), f"{p.code} · {p.name}") for p in rows]


def procedures(session: Session, page: Page) -> list[tuple[str, str]]:
    """The procedures' effective versions (first: none)."""
    options = [("", page.t("(none)"))]
    for p in procedures_service.list_procedures(session, actor=page.actor):
        version = procedures_service.effective(p)
        if version is not None:
            options.append((str(version.id), f"{p.code} v{version.number} · {version.title}"))
    return options


def cohorts(session: Session, page: Page) -> list[tuple[str, str]]:
    """The cohorts of the programmes the reader may see, newest first."""
    options: list[tuple[Cohort, str]] = []
    for programme in programmes_service.list_programmes(session, actor=page.actor, limit=200).items:
        for cohort in programmes_service.list_cohorts(
            session, actor=page.actor, programme_id=programme.id
        ):
            options.append((cohort, f"{programme.code} · {cohort.name}"))
    options.sort(key=lambda o: o[0].start_on, reverse=True)
    return [(str(c.id), text) for c, text in options]


def owners(session: Session) -> list[tuple[str, str]]:
    """The users that can own a corrective action: their login, shown by their display name."""
    return [
        (u.name, u.display_name or u.name)
        for u in users.list_users(session)
        if u.is_active and u.role in (Role.quality_lead, Role.coordinator, Role.admin)
    ]


def plan_form(
    request: Request,
    page: Page,
    template: str,
    section: str,
    values: dict[str, Any],
    refusal: Refusal | None = None,
) -> Response:
    """Render a planning form whose one choice from the records is the programme (an internal
    audit's, a management review's): empty, or as sent back with the refusal's messages."""
    choices = read(request, lambda s: programmes(s, page))
    return render(
        page,
        request,
        template,
        section=section,
        values=values,
        refusal=refusal,
        options={"programme_id": choices},
    )
