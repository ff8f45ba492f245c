"""Date ranges: checking them, and turning days into the instants a timestamp column compares."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from qms.errors import FieldError, ValidationFailed
from qms.i18n import Text


def check_range(
    start: date | None,
    end: date | None,
    start_field: str = "period_start",
    end_field: str = "period_end",
) -> None:
    """Refuse a range that ends before it starts, naming the end's field."""
    if start is not None and end is not None and end < start:
        raise ValidationFailed(
            Text("The date range ends before it starts."),
            [FieldError(end_field, Text("Enter a date on or after the start date."))],
        )


def midnight(day: date) -> datetime:
    """The instant a day starts, in UTC."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The instants from the start of the first day to the end of the last (exclusive)."""
    return midnight(start), midnight(end + timedelta(days=1))
