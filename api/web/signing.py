"""Electronic signatures on pages: the statement shown before signing, the password asked again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from sqlalchemy.orm import Session

from api.web.core import Form, Page, Refusal, attempt, perform
from qms import i18n
from qms.accounts import web as web_accounts
from qms.db import Database
from qms.errors import SignatureRequired
from qms.i18n import Text
from qms.signatures.models import SignatureMeaning
from qms.signatures.schemas import SignatureConfirmation

PASSWORD = "password"
T = TypeVar("T")


def shown(
    session: Session, page: Page, statements: dict[str, tuple[SignatureMeaning, Text]]
) -> dict[str, dict[str, Any]]:
    """Return, by the move's target, what its form shows before signing: the meaning, the
    statement in the reader's language, and whether the reader can sign (has a password)."""
    can_sign = web_accounts.has_password(session, page.actor)
    return {
        target: {
            "meaning": meaning.value,
            "statement": statement.in_language(page.lang),
            "can_sign": can_sign,
        }
        for target, (meaning, statement) in statements.items()
    }


def confirmed(
    request: Request, page: Page, form: Form, meaning: SignatureMeaning
) -> SignatureConfirmation | Refusal:
    """Check the password the signer entered again; return their confirmation of the meaning,
    or the refusal beside the password field (the failure is kept, counted like a sign-in's)."""
    typed = form.get(PASSWORD)
    password = typed if isinstance(typed, str) else ""
    if not password:
        # Nothing typed is no attempt at a password: said beside the field, never counted.
        message = i18n.translate("Enter your password to sign.", page.lang)
        return Refusal(
            422,
            i18n.translate("check the fields marked below", page.lang),
            {PASSWORD: message},
            problems=[(i18n.translate("Your password, to sign", page.lang), message, PASSWORD)],
        )

    def work(database: Database) -> Text | None:
        with database.unit_of_work() as session:
            return web_accounts.check_signer(
                session,
                actor=page.actor,
                password=password,
                client=request.client.host if request.client else None,
            )

    refused = attempt(request, work)
    if isinstance(refused, Refusal):
        return refused
    if refused is not None:
        message = i18n.said(refused, page.lang)
        return Refusal(
            422,
            i18n.translate("check the fields marked below", page.lang),
            {PASSWORD: message},
            problems=[(i18n.translate("Your password, to sign", page.lang), message, PASSWORD)],
        )
    return SignatureConfirmation(meaning=meaning, statement_confirmed=True, language=page.lang)


@dataclass(frozen=True)
class _Unsigned:
    """A move that passed every other check and waits for its signature."""

    meaning: SignatureMeaning


def perform_signed(
    request: Request,
    page: Page,
    form: Form,
    change: Callable[[Session, SignatureConfirmation | None], T],
) -> T | Refusal:
    """Run a move from a form; when it is an electronic signature, check it first as it would
    run (nothing is kept, so what else it needs is said before the password is asked about),
    then the password entered again, then run it signed. A move that signs nothing just runs."""

    def unsigned(database: Database) -> T | _Unsigned:
        try:
            with database.unit_of_work() as session:
                return change(session, None)
        except SignatureRequired as exc:
            return _Unsigned(SignatureMeaning(exc.meaning))

    result = attempt(request, unsigned)
    if not isinstance(result, _Unsigned):
        return result
    confirmation = confirmed(request, page, form, result.meaning)
    if isinstance(confirmation, Refusal):
        return confirmation
    return perform(request, lambda session: change(session, confirmation))
