"""Field types shared by the schemas: bounded so that every database accepts what passes."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, Strict, StringConstraints

MAX_INT = 2**31 - 1


# What a stored text may not hold: the documents are XML 1.0, which has no place for the C0
# control characters but tab, line feed and carriage return, nor for lone surrogates, U+FFFE or
# U+FFFF; PostgreSQL has none for NUL. DEL and the C1 controls (U+0085 among them) are never
# text either, and the bidirectional embeddings, overrides and isolates (U+202A to U+202E,
# U+2066 to U+2069) make a title read otherwise than it is stored.
NOT_TEXT = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)


def unprintable(value: str) -> str | None:
    """Say which character a stored text may not hold and where, or None if there is none."""
    found = NOT_TEXT.search(value)
    if found is None:
        return None
    return (
        f"must not contain control or non-text characters (U+{ord(found.group()):04X} "
        f"at character {found.start() + 1})"
    )


def _printable(value: str) -> str:
    problem = unprintable(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _single_line(value: str) -> str:
    if any(ch in value for ch in "\r\n\t"):
        raise ValueError("must be a single line")
    return value


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_printable),
    AfterValidator(_single_line),
]
LongText = Annotated[str, StringConstraints(max_length=20_000), AfterValidator(_printable)]
Reason = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000),
    AfterValidator(_printable),
]
Code = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Z0-9][A-Z0-9-]{0,31}$"),
    Field(description="Upper-case letters, digits and '-', at most 32 characters"),
]
Id = Annotated[int, Strict(), Field(ge=1, le=MAX_INT)]
Count = Annotated[int, Strict(), Field(ge=0, le=10_000)]
Months = Annotated[int, Strict(), Field(ge=1, le=120)]
# A number as JSON gives it: true/false or "12.5" are refused, not read as 1, 0 or 12.5.
Figure = Annotated[float, Strict(), Field(ge=-1e9, le=1e9)]


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


# The dates a record can carry. Far beyond any programme, and far enough from the calendar's ends
# that a deadline counted on from any of them (a due date, the day after a period) still exists.
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)


def in_calendar(day: dt.date) -> dt.date:
    """Refuse a date outside the years 1900-2999."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"must be between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}")
    return day


def _datetime_in_calendar(moment: dt.datetime) -> dt.datetime:
    in_calendar(moment.date())
    return moment


def _iso_date_text(value: object) -> object:
    # Pydantic would also take a number as a Unix time; a date here is only ever ISO text.
    if isinstance(value, dt.date) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise ValueError("must be a date as YYYY-MM-DD")


def _iso_datetime_text(value: object) -> object:
    if isinstance(value, dt.datetime) or (isinstance(value, str) and _ISO_DATETIME.match(value)):
        return value
    raise ValueError("must be a date and time in ISO 8601, e.g. 2026-02-01T09:00:00Z")


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date_text), AfterValidator(in_calendar)]
IsoDateTime = Annotated[
    dt.datetime, BeforeValidator(_iso_datetime_text), AfterValidator(_datetime_in_calendar)
]
IsoClause = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^(4|5|6|7|8|9|10)(\.[0-9]{1,2}){0,3}$"),
    Field(description="An ISO 9001:2015 clause number, e.g. 8.7 or 7.5.3"),
]
RequiredText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000),
    AfterValidator(_printable),
]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
]
Phone = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=40, pattern=r"^\+?[0-9 ()\-]{3,40}$")
]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


# A document's text, kept exactly as written (no stripping): a controlled text is signed as is.
MarkdownText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200_000),
    AfterValidator(_printable),
    AfterValidator(_not_blank),
]


def _known_requirement(value: str) -> str:
    from qms.frameworks.catalogue import check_ref

    return check_ref(value)


RequirementRef = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=64),
    AfterValidator(_known_requirement),
    Field(
        description="A requirement of a shipped framework as FRAMEWORK:code, e.g. ISO9001:8.7, "
        "EMCC:selection-matching, MENTOR:monitoring (GET /api/v1/frameworks lists them)",
        examples=["MENTOR:monitoring"],
    ),
]
RequirementRefs = Annotated[list[RequirementRef], Field(max_length=30)]
