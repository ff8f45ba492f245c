"""Imports: the batches with their rejected rows, uploading a file (checked first, or only
checked), rolling a batch back; the audit trail with its verification; retention: what each kind
of record is kept for, what is due, and disposing of it under a recorded decision."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, time
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from api.deps import get_database
from api.exporting import ExportFormat, page_export, trail_rows
from api.uploads import drop_pending, import_folder, keep_pending, mapping_of, pending, spool
from api.web.core import (
    Form,
    Page,
    Params,
    Refusal,
    attempt,
    form_values,
    page_for,
    perform,
    read,
    render,
    see_other,
)
from qms import exports, references, replay
from qms.access import repository as access_log
from qms.access import service as access
from qms.access.repository import ACCESS_READ
from qms.accounts import service as accounts
from qms.audit import repository as trail
from qms.audit import service as audit
from qms.audit.schemas import AuditEventRead
from qms.errors import FieldError, ValidationFailed
from qms.evaluations import mappings as import_mappings
from qms.evaluations import service as evaluations
from qms.evaluations.models import BatchKind
from qms.evaluations.readers import ImportFile, detect_format, read_rows
from qms.evaluations.schemas import BatchRead, MappingCreate, RollbackRequest
from qms.i18n import Either, Text, label, said, values
from qms.pagination import MAX_LIMIT, each
from qms.pairs.service import today
from qms.permissions import Action
from qms.retention import service as retention
from qms.retention.schemas import DispositionCreate

router = APIRouter(include_in_schema=False)


@router.get("/imports")
def imports(request: Request, page: Annotated[Page, page_for(Action.evaluation_read)]) -> Response:
    """The newest import batches: what came in, what was written, what was rejected; or every
    batch taken as a file (`?format=csv|xlsx|json`)."""
    wanted = Params(request.query_params).choice("format", ExportFormat)
    if wanted is not None:
        return page_export(
            request,
            wanted.value,
            language=page.lang,
            stem="imports",
            title=page.t("Imports"),
            columns=exports.BATCH_COLUMNS,
            records=lambda s: (
                evaluations.batch_to_read(b).model_dump(mode="json", exclude={"rejected"})
                for b in evaluations.list_batches(s, actor=page.actor, limit=None)
            ),
        )
    rows = read(
        request,
        lambda s: [
            evaluations.batch_to_read(b) for b in evaluations.list_batches(s, actor=page.actor)
        ],
    )
    return render(
        page,
        request,
        "imports/list.html",
        section="imports",
        rows=rows,
        shown_at_most=evaluations.BATCHES_SHOWN,
    )


def _upload_form(
    request: Request,
    page: Page,
    values: dict[str, Any],
    refusal: Refusal | None = None,
    checked: BatchRead | None = None,
    columns: dict[str, Any] | None = None,
) -> Response:
    instruments = read(
        request,
        lambda s: [
            (i.code, f"{i.code} · {i.name}")
            for i in evaluations.list_instruments(s, actor=page.actor)
        ],
    )
    saved = read(
        request,
        lambda s: [
            (m.name, f"{m.instrument.code} · {m.name}" + (f" ({m.source})" if m.source else ""))
            for i in evaluations.list_instruments(s, actor=page.actor)
            for m in import_mappings.list_for(s, actor=page.actor, instrument=i.code)
        ],
    )
    return render(
        page,
        request,
        "imports/new.html",
        section="imports",
        values=values,
        refusal=refusal,
        checked=checked,
        columns=columns,
        options={
            "saved_mapping": [("", page.t("(none)")), *saved],
            "delimiter": [
                ("", page.t("found in the file")),
                ("comma", page.t("comma")),
                ("semicolon", page.t("semicolon")),
                ("tab", page.t("tab")),
                ("bar", page.t("bar (|)")),
            ],
            "kind": [(k.value, page.t(k.value)) for k in BatchKind],
            "shape": [
                ("long", page.t("long: one answer per row")),
                ("wide", page.t("wide: one respondent per row")),
            ],
            "instrument": [("", page.t("(none)")), *instruments],
            "mode": [
                ("all", page.t("all or nothing: nothing is written if a row fails")),
                ("partial", page.t("partial: the good rows are written, the others listed")),
            ],
        },
    )


@router.get("/imports/new")
def new_import(
    request: Request, page: Annotated[Page, page_for(Action.evaluation_import)]
) -> Response:
    """The form to upload a file of evaluation answers or outcomes."""
    return _upload_form(request, page, {"kind": "evaluations", "shape": "long", "mode": "all"})


@router.post("/imports/new")
def upload(
    request: Request, page: Annotated[Page, page_for(Action.evaluation_import)], form: Form
) -> Response:
    """Check the file, and unless only checking, write it as one batch; every row's problem is
    named by row and column."""
    values = form_values(form, *UPLOAD_FIELDS)
    check_only = form.get("dry_run") == "true"
    values["dry_run"] = "true" if check_only else ""
    file = form.get("file")
    token = values.get("pending")
    if form.get("step") == "columns":
        return _read_columns(request, page, values, file)
    # The mapping picked column by column on the page: question (or participant, submitted_at)
    # -> the file's column.
    picks = {
        str(key)[4:]: value.strip()
        for key, value in form.items()
        if str(key).startswith("map-") and isinstance(value, str) and value.strip()
    }
    if token and values.get("save_as"):
        saved = perform(
            request,
            lambda s: (
                import_mappings.create(
                    s,
                    actor=page.actor,
                    instrument=values.get("instrument", ""),
                    data=MappingCreate.model_validate(
                        {
                            "name": values["save_as"],
                            "source": values.get("save_source"),
                            "columns": _picked(picks),
                        }
                    ),
                ).id
            ),
        )
        if isinstance(saved, Refusal):
            return _upload_form(
                request, page, values, saved, columns=_columns_again(request, page, values, picks)
            )
        values["saved_mapping"] = values.pop("save_as")

    def reader() -> AbstractContextManager[Session]:
        # The file is checked in a read unit of work: the change's session only writes.
        return get_database(request).unit_of_work(write=False)

    def change(session: Session) -> BatchRead:
        if token:
            path, name = pending(token, page.actor.user_id)
            return _run_upload(
                session, reader, page, values, path, name, check_only, _picked(picks)
            )
        if not isinstance(file, UploadFile) or not file.filename:
            raise ValidationFailed(
                Text("Choose a file to import."),
                [FieldError("file", Text("Choose a file to import."))],
            )
        with import_folder() as folder:
            path = spool(file, folder)
            return _run_upload(session, reader, page, values, path, file.filename, check_only, None)

    result = perform(request, change)
    if isinstance(result, Refusal):
        return _upload_form(
            request, page, values, result, columns=_columns_again(request, page, values, picks)
        )
    if result.dry_run or result.id is None:
        return _upload_form(
            request,
            page,
            values,
            checked=evaluations.in_language(result, page.lang),
            columns=_columns_again(request, page, values, picks),
        )
    if token:
        drop_pending(token)
    # The same file again is the batch already kept: nothing new is saved.
    return see_other(
        f"/imports/{result.id}" + ("?replayed=true" if result.replayed else ""),
        saved=not result.replayed,
    )


UPLOAD_FIELDS = (
    "kind",
    "shape",
    "instrument",
    "mapping",
    "saved_mapping",
    "sheet",
    "mode",
    "source",
    "delimiter",
    "encoding",
    "pending",
    "save_as",
    "save_source",
)
# Headers a survey tool gives the respondent's code and the moment sent, offered first.
LIKELY = {
    "participant": ("participant", "participant code", "deltaker", "deltagare", "token"),
    "submitted_at": (
        "submitted_at",
        "completion time",
        "timestamp",
        "submitdate",
        "$created",
        "end date",
    ),
}


def _source_of(values: dict[str, Any], path: Path, name: str) -> ImportFile:
    return ImportFile(
        path=path,
        name=name[:255],
        format=detect_format(name),
        sheet=values.get("sheet"),
        delimiter=values.get("delimiter"),
        encoding=values.get("encoding"),
    )


def _picked(picks: dict[str, str]) -> dict[str, str] | None:
    """Turn the picks (question -> column) into a mapping (column -> question), refusing a column
    picked twice."""
    if not picks:
        return None
    mapping: dict[str, str] = {}
    errors = []
    for target, column in picks.items():
        if column in mapping:
            errors.append(
                FieldError(
                    f"map-{target}",
                    Text(
                        "The column %(column)s is picked for %(first)s already: pick one "
                        "column for each.",
                        column=column,
                        first=mapping[column],
                    ),
                )
            )
        mapping[column] = target
    if errors:
        raise ValidationFailed(Text("A column is picked twice."), errors)
    return mapping


def _run_upload(
    session: Session,
    reader: Callable[[], AbstractContextManager[Session]],
    page: Page,
    values: dict[str, Any],
    path: Path,
    name: str,
    check_only: bool,
    picked: dict[str, str] | None,
) -> BatchRead:
    kind = values.get("kind", "evaluations")
    if kind not in {k.value for k in BatchKind}:
        raise ValidationFailed(
            Text("Choose what the file holds."),
            [
                FieldError(
                    "kind",
                    Text(
                        "Choose %(choices)s.",
                        choices=Either((BatchKind.evaluations, BatchKind.outcomes)),
                    ),
                )
            ],
        )
    shape, mode = values.get("shape", "long"), values.get("mode", "all")
    if shape not in ("long", "wide"):
        raise ValidationFailed(
            Text("Choose the file's shape."),
            [FieldError("shape", Text("Choose %(choices)s.", choices=Either(("long", "wide"))))],
        )
    if mode not in ("all", "partial"):
        raise ValidationFailed(
            Text("Choose how much of the file to write."),
            [FieldError("mode", Text("Choose %(choices)s.", choices=Either(("all", "partial"))))],
        )
    mapping = picked
    if mapping is None and values.get("saved_mapping"):
        with reader() as reading:
            mapping = dict(
                import_mappings.get_by_name(
                    reading, instrument=values.get("instrument"), name=values["saved_mapping"]
                ).columns
            )
    if mapping is None:
        mapping = mapping_of(values.get("mapping"))
    return evaluations.run_import(
        session,
        actor=page.actor,
        kind=BatchKind(kind),
        source=_source_of(values, path, name),
        shape=shape,
        instrument=values.get("instrument"),
        mapping=mapping,
        mode=mode,
        dry_run=check_only,
        client_source=(values.get("source") or "web")[:200],
        reader=reader,
    )


def _columns(
    request: Request, page: Page, values: dict[str, Any], path: Path, name: str
) -> dict[str, Any]:
    """Read the file's header and offer, for each of the instrument's questions, its columns."""
    header, rows = read_rows(_source_of(values, path, name))
    close = getattr(rows, "close", None)
    if close is not None:
        close()
    code = values.get("instrument")
    found = read(
        request,
        lambda s: [
            (q.code, q.text)
            for i in evaluations.list_instruments(s, actor=page.actor)
            if i.code == code
            for q in i.questions
        ],
    )
    if not found:
        raise ValidationFailed(
            Text("Choose the instrument the file answers."),
            [FieldError("instrument", Text("Name the instrument the file answers."))],
        )
    named = [h for h in header if h]
    by_name = {" ".join(h.split()).casefold(): h for h in named}

    def likely(*names: str) -> str:
        return next((by_name[n.casefold()] for n in names if n.casefold() in by_name), "")

    targets = [
        ("participant", page.t("Participant's code"), likely(*LIKELY["participant"])),
        ("submitted_at", page.t("Sent (date and time)"), likely(*LIKELY["submitted_at"])),
        *[(c, f"{c} · {text}", likely(c, " ".join(text.split()))) for c, text in found],
    ]
    return {
        "file_name": name,
        "header": [("", page.t("(not in the file)")), *[(h, h) for h in named]],
        "targets": targets,
    }


def _columns_again(
    request: Request, page: Page, values: dict[str, Any], picks: dict[str, str]
) -> dict[str, Any] | None:
    """The column picks shown again after a refusal, as they were picked."""
    token = values.get("pending")
    if not token:
        return None
    try:
        path, name = pending(token, page.actor.user_id)
        columns = _columns(request, page, values, path, name)
    except ValidationFailed:
        return None
    columns["targets"] = [
        (target, text, picks.get(target, "")) for target, text, _ in columns["targets"]
    ]
    return columns


def _read_columns(request: Request, page: Page, values: dict[str, Any], file: Any) -> Response:
    """Keep the uploaded file and show a choice of its columns for each question."""

    def prepare(_: object) -> dict[str, Any]:
        if not isinstance(file, UploadFile) or not file.filename:
            raise ValidationFailed(
                Text("Choose a file to import."),
                [FieldError("file", Text("Choose a file to import."))],
            )
        token, path = keep_pending(file, page.actor.user_id)
        values["pending"] = token
        return _columns(request, page, values, path, file.filename)

    columns = attempt(request, prepare)
    if isinstance(columns, Refusal):
        values.pop("pending", None)
        return _upload_form(request, page, values, columns)
    values["shape"] = "wide"
    return _upload_form(request, page, values, columns=columns)


def _batch(
    request: Request,
    page: Page,
    batch_id: int,
    refusal: Refusal | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    found = read(
        request,
        lambda s: evaluations.in_language(
            evaluations.batch_to_read(
                evaluations.get_batch(s, actor=page.actor, batch_id=batch_id)
            ),
            page.lang,
        ),
    )
    return render(
        page,
        request,
        "imports/batch.html",
        section="imports",
        batch=found,
        replayed=request.query_params.get("replayed") == "true",
        refusal=refusal,
        values=values or {},
    )


@router.get("/imports/{batch_id:id}")
def batch(
    request: Request, batch_id: int, page: Annotated[Page, page_for(Action.evaluation_read)]
) -> Response:
    """One import batch with its rejected rows, each with the column and the reason; or every
    problem of the batch taken as a file (`?format=csv|xlsx|json`), the page showing the first."""
    wanted = Params(request.query_params).choice("format", ExportFormat)
    if wanted is not None:

        def every(session: Session) -> Iterator[dict[str, Any]]:
            for p in each(
                lambda after: evaluations.list_problems(
                    session, actor=page.actor, batch_id=batch_id, limit=MAX_LIMIT, cursor=after
                )
            ):
                yield {"row": p.row, "column": p.column, "message": said(p.message, page.lang)}

        return page_export(
            request,
            wanted.value,
            language=page.lang,
            stem=f"import-{batch_id}-problems",
            title=page.t("Import problems"),
            columns=exports.PROBLEM_COLUMNS,
            records=every,
        )
    return _batch(request, page, batch_id)


@router.post("/imports/{batch_id:id}/rollback")
def rollback(
    request: Request,
    batch_id: int,
    page: Annotated[Page, page_for(Action.import_rollback)],
    form: Form,
) -> Response:
    """Take a whole batch back out, with the reason; the batch stays on record."""
    values = form_values(form, "reason")
    result = perform(
        request,
        lambda s: (
            evaluations.rollback(
                s,
                actor=page.actor,
                batch_id=batch_id,
                reason=RollbackRequest.model_validate(values).reason,
            ).id
        ),
    )
    if isinstance(result, Refusal):
        return _batch(request, page, batch_id, result, values)
    return see_other(f"/imports/{batch_id}")


def _pick_list(
    codes: dict[str, str], current: str | None, page: Page, label: Callable[[str], str]
) -> list[tuple[str, str]]:
    """The choices of a filter by their words in the reader's language, "(all)" first; a code a
    link carries that the list does not know is kept, so the filter still shows what it is."""
    known = [(code, label(code)) for code in codes]
    if current and current not in codes:
        known.append((current, label(current)))
    return [("", page.t("(all)")), *sorted(known, key=lambda option: option[1].casefold())]


# The findings of the records' replay the audit trail page lists; the rest are counted.
RECORD_FINDINGS = 50


def _records_verified(session: Session, language: str) -> dict[str, Any]:
    result = replay.check(session, keep=RECORD_FINDINGS)
    return {
        "ok": result.ok,
        "records": result.records,
        "events": result.events,
        "findings": result.findings,
        "said": [f.message(language) for f in result.first_findings],
    }


@router.get("/audit-trail")
def audit_trail(request: Request, page: Annotated[Page, page_for(Action.audit_read)]) -> Response:
    """The audit trail, newest first, filtered by kind of record and event from pick-lists, and
    by a record's number as people write it (DEV-2026-0012, PR-05, VIA-JOB); each event's record
    shown by its number and what happened as a sentence; and whether the chain verifies."""
    # The reads waiting in the access log's buffer are written first: the page lists them too.
    waiting = getattr(request.app.state, "access_log", None)
    if waiting is not None:
        waiting.flush()
    query = Params(request.query_params)
    since, until = query.day("since"), query.day("until")
    filters: dict[str, Any] = {
        "entity": query.text("entity", 64),
        "entity_id": query.text("entity_id", 64),
        "actor": query.text("actor", 200),
        "action": query.text("action", 64),
        "since": datetime.combine(since, time.min, UTC) if since else None,
        "until": datetime.combine(until, time.max, UTC) if until else None,
    }
    number = query.text("record", references.MAX_LENGTH)
    cursor = query.text("cursor")
    check = query.flag("verify")
    # The reader's own page views are left out unless asked for (or for that very event).
    mine = query.flag("mine") or filters["action"] == ACCESS_READ

    # Reads are in the access log, listed when they are asked for: everyone's by the event
    # "records read", the reader's own by "my own page views".
    reads = filters["action"] == ACCESS_READ or (query.flag("mine") and not filters["action"])

    wanted = query.choice("format", ExportFormat)
    if wanted is not None and not query.errors and not reads:

        def every(session: Session) -> Iterator[dict[str, Any]]:
            records = None
            if number is not None:
                records = references.find(session, number, programme_id=page.actor.programme_id)

            def fetch(after: str | None) -> Any:
                return trail.list_events(
                    session,
                    **filters,
                    programme_id=page.actor.programme_id,
                    records=records,
                    limit=MAX_LIMIT,
                    cursor=after,
                    newest_first=True,
                    views_left_out_of=None if mine else page.actor.name,
                )

            if wanted is ExportFormat.json:
                for event in each(fetch):
                    yield AuditEventRead.model_validate(event).model_dump(mode="json")
            else:
                yield from trail_rows(session, fetch, page.lang)

        return page_export(
            request,
            wanted.value,
            language=page.lang,
            stem="audit-trail",
            title=page.t("Audit trail"),
            columns=exports.AUDIT_EVENT_COLUMNS,
            records=every,
        )

    def load(session: Session) -> dict[str, Any]:
        records = None
        if number is not None:
            records = references.find(session, number, programme_id=page.actor.programme_id)
        if reads and records is None:
            return _reads(session, filters, cursor)
        found = trail.list_events(
            session,
            **filters,
            programme_id=page.actor.programme_id,
            records=records,
            limit=100,
            cursor=cursor,
            newest_first=True,
            views_left_out_of=None if mine else page.actor.name,
        )
        shown = references.numbers(
            session, [*(records or []), *((e.entity, e.entity_id or "") for e in found.items)]
        )
        return {
            "events": found.items,
            "next_cursor": found.next_cursor,
            "verified": audit.verify(session) if check else None,
            "reads_verified": access.verify(session) if check else None,
            # Each record held against its events too, the first findings said.
            "records_verified": _records_verified(session, page.lang) if check else None,
            # Who acted, by the name people read them by: one query for the page's actors.
            "people": accounts.display_names(session, {e.actor for e in found.items}),
            "numbers": shown,
            # The record the number names, as the records write it (dev-2026-1: DEV-2026-0001).
            "record": next((shown[k] for k in records or [] if k in shown), number),
            "unknown": number if records == [] else None,
        }

    def _reads(session: Session, filters: dict[str, Any], cursor: str | None) -> dict[str, Any]:
        actor = filters["actor"] if filters["action"] == ACCESS_READ else page.actor.name
        found = access_log.list_entries(
            session,
            actor=actor,
            since=filters["since"],
            until=filters["until"],
            programme_id=page.actor.programme_id,
            limit=100,
            cursor=cursor,
            newest_first=True,
        )
        # Each read shown as the trail showed it: "records read", by token or web session.
        events = [
            SimpleNamespace(
                seq=entry.id,
                at=entry.at,
                actor=entry.actor,
                action=ACCESS_READ,
                entity=entry.via,
                entity_id=None if entry.via_id is None else str(entry.via_id),
                changes={},
                reason=entry.request,
            )
            for entry in found.items
        ]
        return {
            "events": events,
            "next_cursor": found.next_cursor,
            "verified": audit.verify(session) if check else None,
            "reads_verified": access.verify(session) if check else None,
            "people": accounts.display_names(session, {e.actor for e in events}),
            "numbers": {},
            "record": None,
            "unknown": None,
        }

    kind = partial(values.record_kind, language=page.lang)
    return render(
        page,
        request,
        "audit.html",
        section="audit",
        values=query.values(),
        errors=query.errors,
        options={
            "entity": _pick_list(values.KINDS, filters["entity"], page, kind),
            "action": _pick_list(
                values.EVENTS, filters["action"], page, partial(label, language=page.lang)
            ),
        },
        kinds={code: kind(code) for code in values.KINDS},
        # Events may be taken as a file; the reads shown instead are the access log's.
        exportable=not reads,
        **read(request, load),
    )


def _retention(
    request: Request,
    page: Page,
    refusal: Refusal | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    def load(session: Session) -> dict[str, Any]:
        return {
            "report": retention.report(session, actor=page.actor, as_of=today()),
            "decisions": retention.decisions(session, actor=page.actor)[:50],
            "people": accounts.display_names(session),
        }

    return render(
        page,
        request,
        "retention.html",
        section="documents",
        refusal=refusal,
        values=values or {},
        **read(request, load),
    )


@router.get("/retention")
def retention_page(
    request: Request, page: Annotated[Page, page_for(Action.retention_read)]
) -> Response:
    """Each kind of record: how long it is kept, from when, and what is due for disposition."""
    return _retention(request, page)


@router.post("/retention")
def dispose(
    request: Request, page: Annotated[Page, page_for(Action.retention_dispose)], form: Form
) -> Response:
    """Dispose of every due record of a kind (removed or pseudonymised) under a decision."""
    values = form_values(form, "kind", "reason")
    result = perform(
        request,
        lambda s: (
            retention.dispose(
                s,
                actor=page.actor,
                data=DispositionCreate.model_validate(values),
                as_of=today(),
            ).id
        ),
    )
    if isinstance(result, Refusal):
        return _retention(request, page, result, values)
    return see_other("/retention")
