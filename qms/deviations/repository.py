"""Queries over deviations."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Enum, RowMapping, Select, String, bindparam, select, type_coerce
from sqlalchemy.orm import Session, selectinload

from qms.accounts.models import User
from qms.actions.models import CorrectiveAction
from qms.deviations.listing import DeviationFilter as DeviationFilter
from qms.deviations.listing import filtered, sorts
from qms.deviations.listing import like_pattern as like_pattern
from qms.deviations.models import Deviation, deviation_action
from qms.pagination import Page, ordering, paginate, paginate_rows
from qms.risks.models import Risk

# The filters and sorts are shared with the command line's list, read without the ORM.
SORTS: dict[str, Any] = sorts(Deviation)

# The tables themselves (their columns typed as the models': enums, UTC times, JSON), for the
# API's list read as plain rows.
_DEVIATION = Deviation.__table__
_OWNER = User.__table__
_RISK = Risk.__table__
_ACTION = CorrectiveAction.__table__
_TABLE_SORTS: dict[str, Any] = sorts(_DEVIATION.c)
# Its columns as read for the list: an enumeration as the string stored (the list writes it so).
_COLUMNS = [
    type_coerce(c, String).label(c.key) if isinstance(c.type, Enum) else c for c in _DEVIATION.c
]
# The list's statement before its filters, built once: every column with the owner's names and
# the risk's number.
_PAGE = select(
    *_COLUMNS,
    _OWNER.c.name.label("owner"),
    _OWNER.c.display_name.label("owner_display_name"),
    _RISK.c.number.label("risk_number"),
).select_from(
    _DEVIATION.outerjoin(_OWNER, _OWNER.c.id == _DEVIATION.c.owner_id).outerjoin(
        _RISK, _RISK.c.id == _DEVIATION.c.risk_id
    )
)


def _filtered(
    stmt: Select[Any], f: DeviationFilter, *, scope: int | None, today: date
) -> Select[Any]:
    return filtered(stmt, f, Deviation, scope=scope, today=today)


def list_deviations(
    session: Session,
    f: DeviationFilter,
    *,
    scope: int | None,
    today: date,
    limit: int,
    cursor: str | None,
) -> Page[Deviation]:
    """List deviations, newest first, filtered."""
    stmt = _filtered(
        select(Deviation).options(selectinload(Deviation.actions), selectinload(Deviation.owner)),
        f,
        scope=scope,
        today=today,
    )
    return paginate(
        session,
        stmt,
        key=Deviation.id,
        limit=limit,
        cursor=cursor,
        descending=True,
        order=ordering(f.sort, SORTS),
    )


def page_rows(
    session: Session,
    f: DeviationFilter,
    *,
    scope: int | None,
    today: date,
    limit: int,
    cursor: str | None,
) -> Page[dict[str, Any]]:
    """One page of the list as plain rows, in the order and with the cursors of
    `list_deviations`: every column of the deviation (its enumerations as the values stored)
    with its owner's user and display names (owner, owner_display_name) and the number of the
    risk it realised (risk_number), in one query, no object mapped."""
    d = _DEVIATION.c
    return paginate_rows(
        session.connection(),
        filtered(_PAGE, f, d, scope=scope, today=today),
        key=d.id,
        limit=limit,
        cursor=cursor,
        descending=True,
        order=ordering(f.sort, _TABLE_SORTS),
    )


def action_rows(session: Session, deviation_ids: list[int]) -> list[RowMapping]:
    """The corrective actions of these deviations, as plain rows (deviation_id, id, number,
    status), in the order of their ids."""
    if not deviation_ids:
        return []
    return list(session.connection().execute(_ACTIONS, {"ids": deviation_ids}).mappings())


# The actions of the deviations whose ids are given as "ids", built once.
_ACTIONS = (
    select(deviation_action.c.deviation_id, _ACTION.c.id, _ACTION.c.number, _ACTION.c.status)
    .join(_ACTION, _ACTION.c.id == deviation_action.c.action_id)
    .where(deviation_action.c.deviation_id.in_(bindparam("ids", expanding=True)))
    .order_by(_ACTION.c.id)
)


def get_by_number(session: Session, number: str) -> Deviation | None:
    """Return the deviation with this number, if any."""
    return session.scalars(select(Deviation).where(Deviation.number == number)).one_or_none()
