"""Record numbers without gaps or duplicates: DEV-2026-0001, CA-2026-0001, ...

The counter row is taken under a lock in the transaction that creates the record, so a rolled-back
creation gives its number back and two concurrent creations queue for the next one.
"""

from __future__ import annotations

from sqlalchemy import Integer, String, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from qms.db import Base


class NumberSequence(Base):
    """The last number issued in a series for a year."""

    __tablename__ = "number_sequence"

    series: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer)


def next_number(session: Session, *, series: str, year: int) -> tuple[int, str]:
    """Take the next number of the series for the year; return it and its display form.

    Year 0 is a series that never restarts: P-0042 rather than DEV-2026-0042.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(NumberSequence)
        .values(series=series, year=year, last=0)
        .on_conflict_do_nothing(index_elements=["series", "year"])
    )
    row = session.execute(
        select(NumberSequence)
        .where(NumberSequence.series == series, NumberSequence.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    row.last += 1
    session.flush()
    display = f"{series}-{row.last:04d}" if year == 0 else f"{series}-{year}-{row.last:04d}"
    return row.last, display
