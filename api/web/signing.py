"""Electronic signatures on pages: the statement shown before signing, the password asked again."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from api.web.core import Form, Page, Refusal, attempt
from qms import i18n
from qms.accounts import web as web_accounts
from qms.db import Database
from qms.i18n import Text
from qms.signatures.models import SignatureMeaning
from qms.signatures.schemas import SignatureConfirmation

PASSWORD = "password"


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
