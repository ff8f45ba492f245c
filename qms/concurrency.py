"""Optimistic concurrency: a change names the version it was made against."""

from __future__ import annotations

from qms.errors import PreconditionRequired, StaleVersion


def check_if_match(*, current: int, if_match: int | None, what: str, required: bool = True) -> None:
    """Raise unless the client's If-Match version is the record's current one."""
    if if_match is None:
        if required:
            raise PreconditionRequired(
                f"send If-Match with the ETag of the {what} you are changing (its version)"
            )
        return
    if if_match != current:
        raise StaleVersion(
            f"the {what} has changed since version {if_match}; it is at version {current} now: "
            "read it again and reapply the change"
        )
