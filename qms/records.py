"""Small helpers every record service shares."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from qms.errors import FieldError, ValidationFailed
from qms.i18n import Text


def snapshot(record: object, fields: Iterable[str]) -> dict[str, Any]:
    """Return the named fields of a record, for diffing before and after a change."""
    return {f: getattr(record, f) for f in fields}


def reject_nulls(changes: Mapping[str, Any], required: Iterable[str]) -> None:
    """Refuse a change that clears a required field, naming each such field."""
    wanted = set(required)
    errors = [
        FieldError(f, Text("This cannot be left empty."))
        for f, v in changes.items()
        if v is None and f in wanted
    ]
    if errors:
        raise ValidationFailed(Text("Required fields cannot be emptied."), errors)
