"""What the API takes and gives for electronic signatures."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from qms.signatures.models import SignatureMeaning


class SignatureConfirmation(BaseModel):
    """The signer's confirmation of a signature: the meaning stated again, and the statement
    confirmed as read. A move that signs is refused (422, field `signature`) without it; that
    refusal names the meaning and gives the statement to show the signer first."""

    model_config = ConfigDict(extra="forbid")

    meaning: SignatureMeaning = Field(
        description="What the signature attests, stated by the signer: it must equal the move's "
        "meaning (verifying an action: verified; closing a deviation or an internal audit: "
        "closed; closing a management review and approving a procedure version: approved; a "
        "periodic review of a procedure: reviewed)"
    )
    statement_confirmed: Literal[True] = Field(
        description="true: the signer has read the statement that is signed (given in the 422 "
        "answer to the same request without `signature`) and signs it"
    )
    language: Literal["en", "nb", "sv"] | None = Field(
        default=None,
        description="The language the statement is signed in: en, nb or sv; default the "
        "request's Accept-Language",
    )


class SignatureRead(BaseModel):
    """A signature as it was given: who (by the name people read them by), when, meaning what,
    the statement they signed, and the SHA-256 of what was signed (the statement included)."""

    model_config = ConfigDict(from_attributes=True)

    meaning: SignatureMeaning
    signer: str = Field(description="The signer's login")
    signer_name: str | None = Field(description="The signer's name as printed when they signed")
    signed_at: datetime
    statement: str | None = Field(
        description="The statement signed, in the language it was signed in (none for a "
        "signature given before statements were kept)"
    )
    statement_language: str | None
    content_sha256: str
