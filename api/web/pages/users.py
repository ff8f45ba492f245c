"""Users (admins only): each with the name people read them by, its role, whether it can sign in,
and its API tokens; adding a user, changing the name they are shown by, giving a password, issuing
a token (its secret shown once, never stored), revoking one, and deactivating or bringing back a
user."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.web import options
from api.web.core import (
    Form,
    Page,
    Refusal,
    choices,
    form_values,
    page_for,
    perform,
    read,
    render,
    see_other,
)
from qms.accounts import service as accounts
from qms.accounts import web as web_accounts
from qms.accounts.models import User
from qms.errors import FieldError, NotFound, ValidationFailed
from qms.i18n import Text
from qms.permissions import Action, Role
from qms.programmes import service as programmes

router = APIRouter(include_in_schema=False)


def _page(
    request: Request,
    page: Page,
    refusal: Refusal | None = None,
    values: dict[str, Any] | None = None,
    form_name: str | None = None,
    issued: tuple[str, str] | None = None,
    status: int = 200,
) -> Response:
    def load(session: Session) -> dict[str, Any]:
        users = accounts.list_users(session, actor=page.actor)
        tokens = accounts.list_tokens(session, actor=page.actor, user_name=None)
        programmes = options.programmes(session, page)
        return {
            "users": [
                {
                    "user": u,
                    "password": u.password_hash is not None,
                    "tokens": [t for t in tokens if t.user_id == u.id],
                }
                for u in users
            ],
            "programmes": programmes,
        }

    data = read(request, load)
    return render(
        page,
        request,
        "users.html",
        status=status,
        section="users",
        refusal=refusal,
        values=values or {},
        form_name=form_name,
        issued=issued,
        rows=data["users"],
        options={
            "role": choices(Role, page.lang),
            "programme": [("", page.t("(all)")), *data["programmes"][1:]],
        },
    )


@router.get("/users")
def users(request: Request, page: Annotated[Page, page_for(Action.user_manage)]) -> Response:
    """Every user, their role, whether they can sign in, and their tokens."""
    return _page(request, page)


def _after(
    request: Request,
    page: Page,
    form_name: str,
    values: dict[str, Any],
    result: object,
) -> Response:
    if isinstance(result, Refusal):
        return _page(request, page, result, values, form_name)
    return see_other("/users")


@router.post("/users")
def add_user(
    request: Request, page: Annotated[Page, page_for(Action.user_manage)], form: Form
) -> Response:
    """Add a user with one role (they sign in once given a password)."""
    values = form_values(form, "name", "display_name", "role")

    def change(session: Session) -> int:
        role = values.get("role")
        if role not in {r.value for r in Role}:
            raise ValidationFailed(
                Text("Choose the user's role."), [FieldError("role", Text("Choose a role."))]
            )
        return accounts.create_user(
            session,
            actor=page.actor,
            name=values.get("name", ""),
            role=Role(role),
            display_name=values.get("display_name"),
        ).id

    return _after(request, page, "add", values, perform(request, change))


def _user_name(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(Text("There is no user with the id %(id)s.", id=user_id))
    return user.name


@router.post("/users/{user_id:id}/display-name")
def set_display_name(
    request: Request,
    user_id: int,
    page: Annotated[Page, page_for(Action.user_manage)],
    form: Form,
) -> Response:
    """Change the name the user is shown by; empty shows their user name again."""
    values = form_values(form, "display_name")
    result = perform(
        request,
        lambda s: (
            accounts.set_display_name(
                s,
                actor=page.actor,
                user_name=_user_name(s, user_id),
                display_name=values.get("display_name"),
            ).id
        ),
    )
    return _after(request, page, f"display-name-{user_id}", values, result)


@router.post("/users/{user_id:id}/password")
def set_password(
    request: Request,
    user_id: int,
    page: Annotated[Page, page_for(Action.user_manage)],
    form: Form,
) -> Response:
    """Give the user a password (their open sessions end); they can change it from the command
    line or have an admin set a new one."""
    password = form.get("password")

    def change(session: Session) -> int:
        return web_accounts.set_password(
            session,
            actor=page.actor,
            user_name=_user_name(session, user_id),
            password=password if isinstance(password, str) else "",
        ).id

    # The password is never shown back.
    return _after(request, page, f"password-{user_id}", {}, perform(request, change))


@router.post("/users/{user_id:id}/tokens")
def issue_token(
    request: Request,
    user_id: int,
    page: Annotated[Page, page_for(Action.user_manage)],
    form: Form,
) -> Response:
    """Issue an API token for the user: its secret is on this answer alone."""
    values = form_values(form, "expires_in", "programme")

    def change(session: Session) -> tuple[str, str]:
        days = values.get("expires_in")
        if days is not None and not (days.isdigit() and 1 <= int(days) <= 3650):
            raise ValidationFailed(
                Text("Enter how many days the token stays valid."),
                [FieldError("expires_in", Text("Enter a whole number of days from 1 to 3650."))],
            )
        programme_code = None
        chosen = values.get("programme")
        if chosen is not None:
            if not (chosen.isdigit() and len(chosen) < 10):
                raise ValidationFailed(
                    Text("The token names a programme that does not exist."),
                    [FieldError("programme", Text("Choose a programme from the list."))],
                )
            programme_code = programmes.get_programme(
                session, actor=page.actor, programme_id=int(chosen)
            ).code
        name = _user_name(session, user_id)
        issued = accounts.create_token(
            session,
            actor=page.actor,
            user_name=name,
            expires_in_days=int(days) if days else None,
            programme_code=programme_code,
        )
        # The token is for whom people know by this name; the form keeps the login.
        user = accounts.get_user_or_raise(session, name)
        return user.display_name or name, issued.secret

    result = perform(request, change)
    if isinstance(result, Refusal):
        return _page(request, page, result, values, f"token-{user_id}")
    # Shown once, on a page that is not stored (no-store) and not redirected to.
    return _page(request, page, issued=result, status=201)


@router.post("/users/tokens/{token_id:id}/revoke")
def revoke_token(
    request: Request,
    token_id: int,
    page: Annotated[Page, page_for(Action.user_manage)],
    form: Form,
) -> Response:
    """Revoke a token: it answers 401 from then on."""
    values = form_values(form, "reason")
    result = perform(
        request,
        lambda s: (
            accounts.revoke_token(
                s, actor=page.actor, token_id=token_id, reason=values.get("reason")
            ).id
        ),
    )
    return _after(request, page, f"revoke-{token_id}", values, result)


@router.post("/users/{user_id:id}/active")
def set_active(
    request: Request,
    user_id: int,
    page: Annotated[Page, page_for(Action.user_manage)],
    form: Form,
) -> Response:
    """Deactivate the user (tokens revoked, sessions ended) or bring them back."""
    values = form_values(form, "active", "reason")
    result = perform(
        request,
        lambda s: (
            accounts.set_active(
                s,
                actor=page.actor,
                user_name=_user_name(s, user_id),
                active=values.get("active") == "true",
                reason=values.get("reason"),
            ).id
        ),
    )
    return _after(request, page, f"active-{user_id}", values, result)
