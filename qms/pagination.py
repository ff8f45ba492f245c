"""Keyset pagination with an opaque cursor, stable under inserts."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from qms.errors import FieldError, ValidationFailed
from qms.i18n import Code, Either, Text
from qms.limits import DEFAULT_LIMIT as DEFAULT_LIMIT
from qms.limits import MAX_LIMIT as MAX_LIMIT

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list and the cursor of the next, if any."""

    items: Sequence[T]
    next_cursor: str | None


def encode_cursor(last_key: int) -> str:
    """Return the opaque cursor that continues after the given key."""
    raw = json.dumps({"after": last_key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """Return the key a cursor continues after, or raise a validation error naming `cursor`."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        after = data["after"]
        if isinstance(after, bool) or not isinstance(after, int):
            raise TypeError("not an integer key")
        # Keys are 32-bit integer columns (PostgreSQL's INTEGER); a larger number was never
        # issued, and beyond 64 bits it would overflow SQLite's driver.
        if not 0 <= after < 2**31:
            raise ValueError("a key out of range")
        return after
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            Text("The cursor is not one this service issued."),
            [FieldError("cursor", Text("Use the next_cursor of a previous page."))],
        ) from exc


def ordering(sort: str | None, columns: Mapping[str, Any]) -> list[Any] | None:
    """Return the ORDER BY of a list sorted by one of its named columns ("due", or "-due" for
    the other way round; empty places last either way), or None for the list's own order."""
    if not sort:
        return None
    name = sort.removeprefix("-")
    if name not in columns:
        raise ValidationFailed(
            Text("The list cannot be sorted that way."),
            [
                FieldError(
                    "sort",
                    Text(
                        "Sort by one of: %(choices)s (a minus sign before it for the other way "
                        "round).",
                        choices=Either(Code(c) for c in columns),
                    ),
                )
            ],
        )
    column = columns[name]
    return [(column.desc() if sort.startswith("-") else column.asc()).nulls_last()]


def paginate(
    session: Session,
    stmt: Select[Any],
    *,
    key: InstrumentedAttribute[int],
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
    descending: bool = False,
    order: Sequence[Any] | None = None,
) -> Page[Any]:
    """Run the statement ordered by the key (newest first if descending), a page at a time; with
    an `order` (see `ordering`), by that order first, then the key."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(
            Text("The page size is out of range."),
            [FieldError("limit", Text("Enter a number from 1 to %(max)s.", max=MAX_LIMIT))],
        )
    if order:
        # Sorted by another column, a page continues after the rows already shown.
        skip = decode_cursor(cursor) if cursor else 0
        tiebreak = key.desc() if descending else key
        rows = list(
            session.scalars(stmt.order_by(*order, tiebreak).offset(max(skip, 0)).limit(limit + 1))
        )
        more = len(rows) > limit
        return Page(rows[:limit], encode_cursor(max(skip, 0) + limit) if more else None)
    if cursor:
        after = decode_cursor(cursor)
        stmt = stmt.where(key < after if descending else key > after)
    by = key.desc() if descending else key
    rows = list(session.scalars(stmt.order_by(by).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(getattr(rows[-1], key.key)) if more and rows else None
    return Page(rows, next_cursor)


class PageRead(BaseModel, Generic[T]):
    """A page of a list, as the API returns it; pass next_cursor back as `cursor` for more."""

    items: list[T]
    next_cursor: str | None = None
