"""The audit trail: its events and the verification of its chain."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from api.deps import SessionDep, allowed
from api.exporting import EXPORT_RESPONSES, FormatQuery, exported, trail_rows, wanted
from api.problems import reader_language, responses
from qms import exports, references, replay
from qms.access import repository as access_repository
from qms.access import service as access
from qms.access.schemas import AccessEntryRead, AccessVerifyRead
from qms.audit import repository, service
from qms.audit.models import AuditEvent
from qms.audit.schemas import AuditEventRead, VerifyRead
from qms.errors import NotFound
from qms.fields import IsoDateTime
from qms.i18n import N_, Text, values
from qms.pagination import MAX_LIMIT, Page, PageRead, each
from qms.permissions import Action, Actor

router = APIRouter(prefix="/api/v1/audit", tags=["audit trail"])
# The findings of the records' replay an answer lists; the rest are counted.
RECORD_FINDINGS = 200


@router.get(
    "/events",
    response_model=PageRead[AuditEventRead],
    responses={**responses(401, 403, 404, 422), **EXPORT_RESPONSES},
)
def list_events(
    actor: Annotated[Actor, allowed(Action.audit_read)],
    session: SessionDep,
    request: Request,
    entity: Annotated[str | None, Query(max_length=64)] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    actor_name: Annotated[str | None, Query(alias="actor", max_length=200)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    record: Annotated[
        str | None,
        Query(
            max_length=references.MAX_LENGTH,
            description="a record's number or code as people write it: DEV-2026-0012, "
            "CA-2026-0002, PAIR-0015, P-0042, IA-2026-0001, MR-2026-0001, PR-05 (with its "
            "versions) or PR-05 v2, a programme's code; any case, spaces around it ignored",
        ),
    ] = None,
    since: Annotated[IsoDateTime | None, Query(description="events at or after")] = None,
    until: Annotated[IsoDateTime | None, Query(description="events before")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    format: FormatQuery = None,
) -> PageRead[AuditEventRead] | StreamingResponse:
    """List audit events in chain order; a programme-scoped token sees its programme's only.
    Auditors' reads are in the access log (`/api/v1/audit/access`).

    `record` keeps the events of the record a number names (DEV-2026-0012): a number no record
    carries answers 404, naming the number, so a script's typo is told apart from a record with
    no events in the window asked for; so does a record outside a scoped token's programme.

    Taken as a file (`format=csv|xlsx`), each event reads as the trail page shows it: who by
    name, the record by its number, what happened as a sentence and the changes by their labels,
    in the Accept-Language; JSON keeps the events as here.
    """
    records = None
    if record is not None and record.strip():
        records = references.find(session, record, programme_id=actor.programme_id)
        if not records:
            raise NotFound(Text("No record %(number)s", number=record.strip()))

    def fetch(after: str | None, size: int = limit) -> Page[AuditEvent]:
        return repository.list_events(
            session,
            entity=entity,
            entity_id=entity_id,
            actor=actor_name,
            action=action,
            since=_aware(since),
            until=_aware(until),
            programme_id=actor.programme_id,
            records=records,
            limit=size,
            cursor=after,
        )

    if fmt := wanted(request, format):
        rows: Iterator[dict[str, Any]] = (
            (
                AuditEventRead.model_validate(e).model_dump(mode="json")
                for e in each(lambda after: fetch(after, MAX_LIMIT))
            )
            if fmt == "json"
            else trail_rows(
                session, lambda after: fetch(after, MAX_LIMIT), reader_language(request)
            )
        )
        return exported(
            request,
            fmt,
            stem="audit-trail",
            title=N_("Audit trail"),
            columns=exports.AUDIT_EVENT_COLUMNS,
            records=rows,
        )
    page = fetch(cursor)
    return PageRead[AuditEventRead](
        items=[AuditEventRead.model_validate(e) for e in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/access",
    response_model=PageRead[AccessEntryRead],
    responses={**responses(401, 403, 422), **EXPORT_RESPONSES},
)
def list_access_log(
    actor: Annotated[Actor, allowed(Action.audit_read)],
    session: SessionDep,
    request: Request,
    actor_name: Annotated[str | None, Query(alias="actor", max_length=200)] = None,
    since: Annotated[IsoDateTime | None, Query(description="reads at or after")] = None,
    until: Annotated[IsoDateTime | None, Query(description="reads before")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    format: FormatQuery = None,
) -> PageRead[AccessEntryRead] | StreamingResponse:
    """List the access log (auditors' reads: who, when, what, from where) in the order written;
    a programme-scoped token sees the reads of tokens limited to its programme only.

    A read is written within QMS_ACCESS_LOG_FLUSH_MS (a second by default) of being made; the
    reads waiting when the list is asked for are written first, so that it lists them too.
    """
    waiting = getattr(request.app.state, "access_log", None)
    if waiting is not None:
        waiting.flush()

    def fetch(after: str | None, size: int = limit) -> Page[Any]:
        return access_repository.list_entries(
            session,
            actor=actor_name,
            since=_aware(since),
            until=_aware(until),
            programme_id=actor.programme_id,
            limit=size,
            cursor=after,
        )

    if fmt := wanted(request, format):
        every = each(lambda after: fetch(after, MAX_LIMIT))
        language = reader_language(request)
        return exported(
            request,
            fmt,
            stem="access-log",
            title=N_("Access log"),
            columns=exports.ACCESS_COLUMNS,
            records=(_read_as(AccessEntryRead.model_validate(e), fmt, language) for e in every),
        )
    page = fetch(cursor)
    return PageRead[AccessEntryRead](
        items=[AccessEntryRead.model_validate(e) for e in page.items], next_cursor=page.next_cursor
    )


@router.get("/access/verify", response_model=AccessVerifyRead, responses=responses(401, 403))
def verify_access_log(
    _actor: Annotated[Actor, allowed(Action.audit_verify)],
    session: SessionDep,
) -> AccessVerifyRead:
    """Walk the access log's batches and report OK or the first broken batch."""
    return AccessVerifyRead.model_validate(access.verify(session))


@router.get("/verify", response_model=VerifyRead, responses=responses(401, 403, 422))
def verify(
    _actor: Annotated[Actor, allowed(Action.audit_verify)],
    session: SessionDep,
    records: Annotated[
        bool,
        Query(
            description="also hold each record as stored against the state its events "
            "describe, naming the records changed behind the service's back (the first "
            f"{RECORD_FINDINGS} findings listed, all counted)"
        ),
    ] = False,
) -> VerifyRead:
    """Walk the hash chain and report OK or the first broken event; with `records`, replay each
    record's events too and report each record that is not as they describe it."""
    result = VerifyRead.model_validate(service.verify(session))
    if records:
        result.records = replay.to_read(replay.check(session, keep=RECORD_FINDINGS))
    return result


def _read_as(entry: AccessEntryRead, fmt: str, language: str) -> dict[str, Any]:
    """A read as a file holds it: JSON as the API answers; a spreadsheet says how the reader
    signed in (an access token, a web session) in words."""
    row = entry.model_dump(mode="json")
    if fmt != "json":
        row["via"] = values.record_kind(entry.via, language)
    return row


def _aware(value: datetime | None) -> datetime | None:
    # A time without an offset is read as UTC.
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
