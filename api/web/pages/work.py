"""My work: what waits for the signed-in person, and the reminders they get by e-mail."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.web.core import (
    Form,
    Page,
    Refusal,
    form_values,
    page_for,
    perform,
    read,
    render,
    see_other,
)
from qms import i18n, work
from qms.accounts.models import User
from qms.config import get_settings
from qms.db import utcnow
from qms.notifications import service as reminders
from qms.notifications.models import ReminderKind
from qms.permissions import Action

router = APIRouter(include_in_schema=False)


def _page(
    request: Request,
    page: Page,
    refusal: Refusal | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    horizon = get_settings().remind_days

    def load(session: Session) -> dict[str, Any]:
        user = session.get(User, page.actor.user_id) if page.actor.user_id else None
        return {
            "work": work.waiting_for(
                session, actor=page.actor, on=utcnow().date(), horizon_days=horizon
            ),
            "email": user.email if user else None,
            "language": user.language if user else None,
            "off": list(user.reminder_opt_outs or []) if user else [],
        }

    data = read(request, load)
    shown = values or {"email": data["email"] or "", "language": data["language"] or ""}
    if values is not None:
        off = [k.value for k in ReminderKind if k.value not in values.get("on", [])]
    else:
        off = data["off"]
    return render(
        page,
        request,
        "work/mine.html",
        status=refusal.status if refusal else 200,
        refusal=refusal,
        section="my-work",
        work=data["work"],
        values=shown,
        kinds=[(k.value, k.value not in off) for k in ReminderKind],
        may_set=reminders.may_set_own(page.actor),
        languages_offered=[("", page.t("(as the service writes: English)"))]
        + [(code, name) for code, name in i18n.NAMES.items()],
    )


@router.get("/my-work")
def my_work(request: Request, page: Annotated[Page, page_for(Action.self_read)]) -> Response:
    """What waits for the reader: their actions, approvals, reviews, follow-ups and procedure
    reviews, the overdue first; and the reminders they get by e-mail."""
    return _page(request, page)


@router.post("/my-work/reminders")
def set_reminders(
    request: Request, page: Annotated[Page, page_for(Action.self_write)], form: Form
) -> Response:
    """Set the reader's reminder address, language and the kinds of reminder they get."""
    values: dict[str, Any] = form_values(form, "email", "language")
    values["on"] = [str(v) for v in form.getlist("on")]

    def change(session: Session) -> None:
        reminders.set_contact(
            session,
            actor=page.actor,
            user_name=page.actor.name,
            email=values.get("email"),
            language=values.get("language") or None,
        )
        reminders.set_opt_outs(
            session,
            actor=page.actor,
            user_name=page.actor.name,
            opt_outs=[k.value for k in ReminderKind if k.value not in values["on"]],
        )

    result = perform(request, change)
    if isinstance(result, Refusal):
        return _page(request, page, result, values)
    return see_other("/my-work")
