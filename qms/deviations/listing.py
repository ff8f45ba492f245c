"""What a deviation list is narrowed to and sorted by, for the ORM and without it.

The same filters narrow the API's and the pages' lists (through the ORM, qms.deviations.repository)
and the command line's (`rows`, with SQLAlchemy Core alone: a list prints without mapping every
model, so that `qms deviations list` starts as fast as its libraries import)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Date, Integer, Select, String, case, column, func, or_, select
from sqlalchemy import table as table_clause

from qms.deviations.enums import DeviationKind, DeviationSource, DeviationStatus, Severity
from qms.engine import UTCDateTime
from qms.errors import FieldError, ValidationFailed
from qms.i18n import Text
from qms.permissions import Action, Actor, require


@dataclass(frozen=True)
class DeviationFilter:
    """What a deviation list is narrowed to."""

    status: DeviationStatus | None = None
    severity: Severity | None = None
    kind: DeviationKind | None = None
    source: DeviationSource | None = None
    programme_id: int | None = None
    cohort_id: int | None = None
    pair_id: int | None = None
    procedure_id: int | None = None
    # The owner's user id (mine=true: the caller's own).
    owner_id: int | None = None
    detected_from: date | None = None
    detected_to: date | None = None
    q: str | None = None
    overdue: bool | None = None
    # True: not closed (whatever the state); False: closed.
    open: bool | None = None
    # A column of SORTS ("-due": the other way round); by default newest first.
    sort: str | None = None


# The tables as Core sees them, for the lists read without the ORM (their columns as the models').
DEVIATION = table_clause(
    "deviation",
    column("id", Integer),
    column("number", String),
    column("kind", String),
    column("source", String),
    column("severity", String),
    column("status", String),
    column("title", String),
    column("description", String),
    column("immediate_containment", String),
    column("root_cause", String),
    column("closure_summary", String),
    column("programme_id", Integer),
    column("cohort_id", Integer),
    column("pair_id", Integer),
    column("procedure_version_id", Integer),
    column("owner_id", Integer),
    column("detected_at", UTCDateTime()),
    column("due_on", Date),
)
PROCEDURE_VERSION = table_clause(
    "procedure_version", column("id", Integer), column("procedure_id", Integer)
)
PROGRAMME = table_clause("programme", column("id", Integer), column("code", String))
CORRECTIVE_ACTION = table_clause(
    "corrective_action", column("id", Integer), column("number", String)
)
DEVIATION_ACTION = table_clause(
    "deviation_action", column("deviation_id", Integer), column("action_id", Integer)
)


def sorts(deviation: Any) -> dict[str, Any]:
    """Return the columns a deviation list sorts by, of the model or of DEVIATION.c: severities
    from minor up, states in workflow order."""
    return {
        "number": deviation.id,
        "title": deviation.title,
        "severity": case({s.value: i for i, s in enumerate(Severity)}, value=deviation.severity),
        "status": case({s.value: i for i, s in enumerate(DeviationStatus)}, value=deviation.status),
        "detected": deviation.detected_at,
        "due": deviation.due_on,
    }


def like_pattern(text: str) -> str:
    """Return a LIKE pattern matching the text anywhere, with its wildcards taken literally."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _code(value: object) -> object:
    """A stored value as the column holds it (an enum's value; a string as it is)."""
    return getattr(value, "value", value)


def filtered(
    stmt: Select[Any], f: DeviationFilter, deviation: Any, *, scope: int | None, today: date
) -> Select[Any]:
    """Narrow a statement over deviations (the model, or DEVIATION.c) by the filter and the
    actor's programme (scope)."""
    closed = DeviationStatus.closed.value
    if scope is not None:
        stmt = stmt.where(deviation.programme_id == scope)
    if f.status is not None:
        stmt = stmt.where(deviation.status == _code(f.status))
    if f.severity is not None:
        stmt = stmt.where(deviation.severity == _code(f.severity))
    if f.kind is not None:
        stmt = stmt.where(deviation.kind == _code(f.kind))
    if f.source is not None:
        stmt = stmt.where(deviation.source == _code(f.source))
    if f.programme_id is not None:
        stmt = stmt.where(deviation.programme_id == f.programme_id)
    if f.cohort_id is not None:
        stmt = stmt.where(deviation.cohort_id == f.cohort_id)
    if f.pair_id is not None:
        stmt = stmt.where(deviation.pair_id == f.pair_id)
    if f.owner_id is not None:
        stmt = stmt.where(deviation.owner_id == f.owner_id)
    if f.procedure_id is not None:
        versions = PROCEDURE_VERSION.c
        stmt = stmt.where(
            deviation.procedure_version_id.in_(
                select(versions.id).where(versions.procedure_id == f.procedure_id)
            )
        )
    if f.detected_from is not None:
        stmt = stmt.where(deviation.detected_at >= datetime.combine(f.detected_from, time(), UTC))
    if f.detected_to is not None:
        end = datetime.combine(f.detected_to + timedelta(days=1), time(), UTC)
        stmt = stmt.where(deviation.detected_at < end)
    if f.q:
        pattern = like_pattern(f.q)
        stmt = stmt.where(
            or_(
                *(
                    func.lower(text).like(pattern, escape="\\")
                    for text in (
                        deviation.number,
                        deviation.title,
                        deviation.description,
                        deviation.immediate_containment,
                        deviation.root_cause,
                        deviation.closure_summary,
                    )
                )
            )
        )
    if f.open is not None:
        stmt = stmt.where(deviation.status != closed if f.open else deviation.status == closed)
    if f.overdue is True:
        stmt = stmt.where(deviation.due_on < today, deviation.status != closed)
    elif f.overdue is False:
        stmt = stmt.where(or_(deviation.due_on >= today, deviation.status == closed))
    return stmt


@dataclass(frozen=True)
class DeviationRow:
    """A deviation as its list shows it, with the numbers of its corrective actions."""

    id: int
    number: str
    status: DeviationStatus
    severity: Severity
    kind: DeviationKind
    title: str
    due_on: date
    actions: list[str]

    def overdue(self, on: date) -> bool:
        """Say whether it is past its due date and still not closed."""
        return self.status is not DeviationStatus.closed and self.due_on < on


def today() -> date:
    """Return today's date in UTC, against which due dates are judged."""
    return datetime.now(UTC).date()


def programme_id(connection: Connection, code: str | None, field: str = "programme") -> int | None:
    """Return the id of the programme with this code, or refuse the code naming the field."""
    if code is None:
        return None
    found = connection.scalar(select(PROGRAMME.c.id).where(PROGRAMME.c.code == code))
    if found is None:
        raise ValidationFailed(
            Text("The programme is not known."),
            [FieldError(field, Text("There is no programme %(code)s.", code=code))],
        )
    return int(found)


def rows(
    connection: Connection,
    *,
    actor: Actor,
    filters: DeviationFilter,
    today: date,
    limit: int,
) -> list[DeviationRow]:
    """Read the first deviations of a list the actor may see, newest first, without the ORM."""
    require(actor, Action.deviation_read)
    d = DEVIATION.c
    stmt = select(d.id, d.number, d.status, d.severity, d.kind, d.title, d.due_on)
    stmt = filtered(stmt, filters, d, scope=actor.programme_id, today=today)
    found = connection.execute(stmt.order_by(d.id.desc()).limit(limit)).all()
    links = DEVIATION_ACTION.c
    actions: dict[int, list[str]] = {}
    if found:
        numbers = connection.execute(
            select(links.deviation_id, CORRECTIVE_ACTION.c.number)
            .join(CORRECTIVE_ACTION, CORRECTIVE_ACTION.c.id == links.action_id)
            .where(links.deviation_id.in_([r.id for r in found]))
            .order_by(CORRECTIVE_ACTION.c.id)
        )
        for deviation_id, number in numbers:
            actions.setdefault(deviation_id, []).append(number)
    return [
        DeviationRow(
            id=r.id,
            number=r.number,
            status=DeviationStatus(r.status),
            severity=Severity(r.severity),
            kind=DeviationKind(r.kind),
            title=r.title,
            due_on=r.due_on,
            actions=actions.get(r.id, []),
        )
        for r in found
    ]
