"""Keyset pagination with an opaque cursor, stable under inserts."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Connection, Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from qms.errors import FieldError, ValidationFailed
from qms.i18n import Code, Either, Text
from qms.limits import DEFAULT_LIMIT as DEFAULT_LIMIT
from qms.limits import MAX_LIMIT as MAX_LIMIT

T = TypeVar("T")
# The label of the sort column's value added to a sorted page's rows (its cursor is made of it).
SORT_VALUE = "sort_value"


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


@dataclass(frozen=True)
class Order:
    """A list sorted by one column (empty places last either way), then by its key."""

    column: Any
    descending: bool


def sort_choices(columns: Mapping[str, Any]) -> list[str]:
    """Return every value a list's `sort` takes: each column, and each with a minus sign."""
    return [way for name in columns for way in (name, f"-{name}")]


def ordering(sort: str | None, columns: Mapping[str, Any]) -> list[Order] | None:
    """Return the order of a list sorted by one of its named columns ("due", or "-due" for
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
    return [Order(columns[name], sort.startswith("-"))]


def _encode_sorted(value: Any, key: int) -> str:
    """Return the cursor that continues after the row with this sort value and key."""
    kind = (
        "datetime" if isinstance(value, datetime) else "date" if isinstance(value, date) else None
    )
    shown = value.isoformat() if kind else value
    raw = json.dumps({"v": shown, "t": kind, "k": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_sorted(cursor: str) -> tuple[Any, int]:
    """Return the sort value and key a sorted list's cursor continues after, or refuse it."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        key, kind, value = data["k"], data.get("t"), data["v"]
        if isinstance(key, bool) or not isinstance(key, int) or not 0 <= key < 2**31:
            raise ValueError("not a key")
        if kind == "datetime":
            value = datetime.fromisoformat(value)
        elif kind == "date":
            value = date.fromisoformat(value)
        elif kind is not None or not (value is None or isinstance(value, str | int | float)):
            raise ValueError("not a sort value")
        if isinstance(value, bool) or (isinstance(value, int) and not -(2**63) <= value < 2**63):
            raise ValueError("a sort value out of range")
        return value, key
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError, AttributeError):
        raise ValidationFailed(
            Text("The cursor is not one this service issued."),
            [FieldError("cursor", Text("Use the next_cursor of a previous page."))],
        ) from None


def _after(order: Order, key: Any, descending: bool, value: Any, last: int) -> Any:
    """The rows that come after (value, last) in the order: keyset, so a page continues where
    the last ended whatever is added or removed meanwhile."""
    column = order.column
    beyond_key = key < last if descending else key > last
    if value is None:  # among the empty places, last either way: only the key goes on
        return and_(column.is_(None), beyond_key)
    beyond = column < value if order.descending else column > value
    return or_(beyond, column.is_(None), and_(column == value, beyond_key))


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(
            Text("The page size is out of range."),
            [FieldError("limit", Text("Enter a number from 1 to %(max)s.", max=MAX_LIMIT))],
        )


def paginate(
    session: Session,
    stmt: Select[Any],
    *,
    key: InstrumentedAttribute[int],
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
    descending: bool = False,
    order: Sequence[Order] | None = None,
) -> Page[Any]:
    """Run the statement ordered by the key (newest first if descending), a page at a time; with
    an `order` (see `ordering`), by that order first, then the key."""
    _check_limit(limit)
    by = key.desc() if descending else key
    if order:
        first = order[0]
        if cursor:
            value, last = _decode_sorted(cursor)
            stmt = stmt.where(_after(first, key, descending, value, last))
        column = first.column
        sorted_by = (column.desc() if first.descending else column.asc()).nulls_last()
        found = session.execute(
            stmt.add_columns(column.label("sort_value")).order_by(sorted_by, by).limit(limit + 1)
        ).all()
        rows = [row[0] for row in found[:limit]]
        more = len(found) > limit
        end = found[limit - 1] if more else None
        return Page(
            rows, _encode_sorted(end[-1], getattr(end[0], key.key)) if end is not None else None
        )
    if cursor:
        after = decode_cursor(cursor)
        stmt = stmt.where(key < after if descending else key > after)
    rows = list(session.scalars(stmt.order_by(by).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(getattr(rows[-1], key.key)) if more and rows else None
    return Page(rows, next_cursor)


def paginate_rows(
    connection: Connection,
    stmt: Select[Any],
    *,
    key: ColumnElement[int],
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
    descending: bool = False,
    order: Sequence[Order] | None = None,
) -> Page[dict[str, Any]]:
    """`paginate` over plain rows, read with SQLAlchemy Core (no objects mapped, none held by a
    session): the same order and the same cursors, each row a dict of its columns by name (the
    caller's to change), the key named as its column is."""
    _check_limit(limit)
    by = key.desc() if descending else key
    name = key.key
    if order:
        first = order[0]
        if cursor:
            value, last = _decode_sorted(cursor)
            stmt = stmt.where(_after(first, key, descending, value, last))
        column = first.column
        sorted_by = (column.desc() if first.descending else column.asc()).nulls_last()
        stmt = stmt.add_columns(column.label(SORT_VALUE)).order_by(sorted_by, by)
    else:
        if cursor:
            after = decode_cursor(cursor)
            stmt = stmt.where(key < after if descending else key > after)
        stmt = stmt.order_by(by)
    result = connection.execute(stmt.limit(limit + 1))
    names = tuple(result.keys())
    found = [dict(zip(names, row, strict=True)) for row in result.all()]
    if len(found) <= limit:
        return Page(found, None)
    end = found[limit - 1]
    return Page(
        found[:limit],
        _encode_sorted(end[SORT_VALUE], end[name]) if order else encode_cursor(end[name]),
    )


def each(fetch: Callable[[str | None], Page[T]]) -> Iterator[T]:
    """Yield every row of a list, a page at a time by its cursors (an export): only one page of
    rows is held at once, the session keeping none it no longer holds."""
    cursor: str | None = None
    while True:
        page = fetch(cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


class PageRead(BaseModel, Generic[T]):
    """A page of a list, as the API returns it; pass next_cursor back as `cursor` for more."""

    items: list[T]
    next_cursor: str | None = None
