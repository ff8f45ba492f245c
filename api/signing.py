"""Electronic signatures sent to the API: the statement signed in the signer's language."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.problems import reader_language
from qms.signatures.schemas import SignatureConfirmation


def _language(request: Request) -> str:
    return reader_language(request)


# The language a client reads (Accept-Language), in which a signature's statement is signed
# unless the confirmation names another.
ReaderLanguage = Annotated[str, Depends(_language)]


def in_language(
    confirmation: SignatureConfirmation | None, language: str
) -> SignatureConfirmation | None:
    """Return the confirmation with the language its statement is signed in."""
    if confirmation is None or confirmation.language is not None:
        return confirmation
    return confirmation.model_copy(update={"language": language})
