"""Optimistic concurrency: a change names the version it was made against."""

from __future__ import annotations

from qms.errors import PreconditionRequired, StaleVersion
from qms.i18n import Text


def check_if_match(*, current: int, if_match: int | None, what: str, required: bool = True) -> None:
    """Raise unless the client's If-Match version is the record's current one."""
    if if_match is None:
        if required:
            raise PreconditionRequired(
                Text("Send If-Match with the ETag of the record you are changing (its version).")
            )
        return
    if if_match != current:
        raise StaleVersion(
            Text(
                "The record has changed since version %(sent)s and is at version %(current)s now: "
                "read it again and make the change again.",
                sent=if_match,
                current=current,
            )
        )
