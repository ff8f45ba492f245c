"""Instruments, and the unattended import of evaluation answers and outcomes.

An import reads its file twice: first every row is checked and every problem noted with its row
and column; then, unless problems stop it, the good rows are written in chunks inside one
transaction. Memory holds the keys needed to find duplicates, never the file.
"""

from __future__ import annotations

import functools
import hashlib
import marshal
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import CompoundSelect, Select, and_, delete, false, func, or_, select, union
from sqlalchemy.orm import Session

from qms.audit.service import created, record_event
from qms.db import utcnow
from qms.errors import Conflict, FieldError, NotFound, ValidationFailed
from qms.evaluations.models import (
    BatchKind,
    EvaluationBatch,
    EvaluationResponse,
    Instrument,
    Outcome,
    OutcomeKind,
    Question,
    QuestionType,
)
from qms.evaluations.readers import ImportFile, read_rows, text_of
from qms.evaluations.schemas import BatchRead, InstrumentCreate, RejectedRow
from qms.fields import FIRST_DAY, LAST_DAY, NOT_TEXT, in_calendar
from qms.i18n import Either, Text
from qms.participants.models import Participant
from qms.permissions import Action, Actor, Role, require
from qms.programmes.models import Cohort

CHUNK = 5000
LONG_COLUMNS = ("participant", "instrument", "question", "answer", "submitted_at")
OUTCOME_COLUMNS = ("participant", "outcome", "date")


# Instruments ------------------------------------------------------------------------------------


def create_instrument(session: Session, *, actor: Actor, data: InstrumentCreate) -> Instrument:
    """Define an instrument and its questions."""
    require(actor, Action.instrument_write)
    if session.scalars(select(Instrument).where(Instrument.code == data.code)).first():
        raise Conflict(
            Text(
                "An instrument with the code %(code)s exists already: choose another code.",
                code=data.code,
            )
        )
    codes = [q.code for q in data.questions]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise ValidationFailed(
            Text("Question codes repeat."),
            [
                FieldError(
                    "questions",
                    Text(
                        "The question code %(code)s is used more than once: give each question "
                        "its own code.",
                        code=c,
                    ),
                )
                for c in duplicates
            ],
        )
    instrument = Instrument(code=data.code, name=data.name, respondent=data.respondent)
    instrument.questions = [Question(**q.model_dump()) for q in data.questions]
    session.add(instrument)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="instrument.created",
        entity="instrument",
        entity_id=instrument.id,
        changes=created({"code": data.code, "name": data.name, "questions": codes}),
    )
    return instrument


def list_instruments(session: Session, *, actor: Actor) -> list[Instrument]:
    """List instruments by code."""
    require(actor, Action.evaluation_read)
    return list(session.scalars(select(Instrument).order_by(Instrument.code)))


# Parsing of values ------------------------------------------------------------------------------


def parse_number(text: str) -> float:
    """Read a number written with a decimal point or a decimal comma (3.5 or 3,5)."""
    try:
        return float(text)
    except ValueError:
        pass
    cleaned = text.replace("\u00a0", "").replace(" ", "")
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    return float(cleaned)


def parse_day(value: Any) -> date:
    """Read a date: a spreadsheet date, ISO 8601 (with or without a time), or DD.MM.YYYY."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return _parse_day_text(text_of(value))


@functools.lru_cache(maxsize=4096)
def _parse_day_text(text: str) -> date:
    # Files repeat the same few dates on many rows: each is parsed once.
    if not text:
        raise ValueError(Text("The date is empty: enter it as YYYY-MM-DD or DD.MM.YYYY."))
    try:
        if "." in text and text.count(".") == 2 and len(text) <= 10:
            day, month, year = (int(p) for p in text.split("."))
            parsed = date(year, month, day)
        elif len(text) > 10:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00")).date()
        else:
            parsed = date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            Text("%(value)s is not a date: enter it as YYYY-MM-DD or DD.MM.YYYY.", value=text)
        ) from None
    try:
        return in_calendar(parsed)
    except ValueError:
        raise ValueError(
            Text("Enter a date from %(first)s to %(last)s.", first=FIRST_DAY, last=LAST_DAY)
        ) from None


# The import itself -------------------------------------------------------------------------------


@dataclass
class Lookups:
    """What rows are checked against, loaded once per import."""

    participants: dict[str, int]
    instruments: dict[str, Instrument]
    questions: dict[tuple[str, str], QuestionInfo]


@dataclass(frozen=True)
class QuestionInfo:
    """What checking an answer needs of a question, as plain values (read per row)."""

    id: int
    type: QuestionType
    scale_min: int | None
    scale_max: int | None
    options: tuple[str, ...]


@dataclass
class Check:
    """What the first reading found."""

    rows_total: int = 0
    problems: list[RejectedRow] = field(default_factory=list)
    rejected_rows: set[int] = field(default_factory=set)


def _lookups(session: Session, actor: Actor, programme_id: int | None) -> Lookups:
    stmt = select(Participant.code, Participant.id).join(Cohort, Cohort.id == Participant.cohort_id)
    for scope in {actor.programme_id, programme_id} - {None}:
        stmt = stmt.where(Cohort.programme_id == scope)
    participants: dict[str, int] = {row[0]: row[1] for row in session.execute(stmt)}
    instruments = {i.code: i for i in session.scalars(select(Instrument))}
    questions = {
        (i.code, q.code): QuestionInfo(q.id, q.type, q.scale_min, q.scale_max, tuple(q.options))
        for i in instruments.values()
        for q in i.questions
    }
    return Lookups(participants, instruments, questions)


def _answer(question: QuestionInfo, raw: Any) -> tuple[float | None, str | None]:
    text = text_of(raw)
    if question.type is QuestionType.scale:
        try:
            number = float(raw) if isinstance(raw, int | float) else parse_number(text)
        except ValueError:
            raise ValueError(Text("Enter a number, not %(value)s.", value=text)) from None
        low, high = question.scale_min, question.scale_max
        if low is not None and high is not None and not low <= number <= high:
            raise ValueError(
                Text(
                    "%(value)s is outside the scale: enter a number from %(low)s to %(high)s.",
                    value=text,
                    low=low,
                    high=high,
                )
            )
        return number, None
    if question.type is QuestionType.choice:
        if text not in question.options:
            raise ValueError(
                Text(
                    "%(value)s is not one of the choices: enter %(choices)s.",
                    value=text,
                    choices=Either(question.options),
                )
            )
        return None, text
    found = NOT_TEXT.search(text)
    if found is not None:
        raise ValueError(
            Text(
                "The answer holds a character that is not text (U+%(code)s at character "
                "%(position)s): remove it.",
                code=format(ord(found.group()), "04X"),
                position=found.start() + 1,
            )
        )
    return None, text


Item = tuple[int, dict[str, Any]]
Converter = Callable[[int, dict[str, Any]], Iterator[dict[str, Any]]]


def _evaluation_converter(
    lookups: Lookups,
    header: list[str],
    shape: str,
    instrument: str | None,
    mapping: dict[str, str] | None,
) -> Converter:
    """Return a function turning one row into response values, raising _RowProblem on a problem."""
    columns = {"participant": "participant", "submitted_at": "submitted_at"}
    if shape == "long":
        missing = [c for c in LONG_COLUMNS if c not in header]
        if missing:
            raise ValidationFailed(Text("The file lacks required columns."), _missing(missing))
    else:
        if instrument is None or instrument not in lookups.instruments:
            raise ValidationFailed(
                Text("A wide file needs its instrument."),
                [
                    FieldError(
                        "instrument",
                        Text("Name the instrument the file answers.")
                        if not instrument
                        else Text("There is no instrument %(code)s.", code=instrument),
                    )
                ],
            )
        mapping = dict(mapping or {})
        # A survey tool names its own columns: the mapping may point them at the two we need.
        for target in ("participant", "submitted_at"):
            for column, code in list(mapping.items()):
                if code == target:
                    columns[target] = column
                    del mapping[column]
        missing = [
            c
            for c in (columns["participant"], columns["submitted_at"], *mapping)
            if c not in header
        ]
        unknown = [q for q in mapping.values() if (instrument, q) not in lookups.questions]
        errors = _missing(missing)
        errors += [
            FieldError(
                "mapping",
                Text(
                    "Instrument %(instrument)s has no question %(code)s.",
                    instrument=instrument,
                    code=q,
                ),
            )
            for q in unknown
        ]
        if not mapping:
            errors.append(
                FieldError("mapping", Text("Map at least one column to a question code."))
            )
        if errors:
            raise ValidationFailed(Text("The file does not fit the mapping."), errors)

    def participant_of(row: dict[str, Any]) -> int:
        code = text_of(row.get(columns["participant"]))
        if code not in lookups.participants:
            raise _RowProblem(columns["participant"], _no_participant(code))
        return lookups.participants[code]

    def day_of(row: dict[str, Any]) -> date:
        try:
            return parse_day(row.get(columns["submitted_at"]))
        except ValueError as exc:
            raise _RowProblem(columns["submitted_at"], exc.args[0]) from None

    def convert(number: int, row: dict[str, Any]) -> Iterator[dict[str, Any]]:
        participant_id = participant_of(row)
        day = day_of(row)
        if shape == "long":
            code = (text_of(row.get("instrument")), text_of(row.get("question")))
            question = lookups.questions.get(code)
            if question is None:
                raise _RowProblem(
                    "question",
                    Text(
                        "Instrument %(instrument)s has no question %(code)s.",
                        instrument=code[0],
                        code=code[1],
                    ),
                )
            if not text_of(row.get("answer")):
                raise _RowProblem(
                    "answer", Text("The answer is empty: enter it, or leave the row out.")
                )
            pairs = [(question, row.get("answer"), "answer")]
        else:
            assert mapping is not None
            assert instrument is not None
            pairs = [
                (lookups.questions[(instrument, q)], row.get(column), column)
                for column, q in mapping.items()
                if text_of(row.get(column))
            ]
        for question, raw, column in pairs:
            try:
                value_number, value_text = _answer(question, raw)
            except ValueError as exc:
                raise _RowProblem(column, exc.args[0]) from None
            yield {
                "participant_id": participant_id,
                "question_id": question.id,
                "value_number": value_number,
                "value_text": value_text,
                "submitted_on": day,
            }

    return convert


def _outcome_converter(lookups: Lookups, header: list[str]) -> Converter:
    missing = [c for c in OUTCOME_COLUMNS if c not in header]
    if missing:
        raise ValidationFailed(Text("The file lacks required columns."), _missing(missing))

    def convert(number: int, row: dict[str, Any]) -> Iterator[dict[str, Any]]:
        code = text_of(row.get("participant"))
        if code not in lookups.participants:
            raise _RowProblem("participant", _no_participant(code))
        kind = text_of(row.get("outcome"))
        if kind not in OutcomeKind.__members__:
            raise _RowProblem(
                "outcome",
                Text(
                    "%(value)s is not an outcome: enter %(choices)s.",
                    value=kind,
                    choices=Either(k.value for k in OutcomeKind),
                ),
            )
        try:
            day = parse_day(row.get("date"))
        except ValueError as exc:
            raise _RowProblem("date", exc.args[0]) from None
        note = text_of(row.get("note")) or None
        if note is not None and (found := NOT_TEXT.search(note)) is not None:
            raise _RowProblem(
                "note",
                Text(
                    "The note holds a character that is not text (U+%(code)s at character "
                    "%(position)s): remove it.",
                    code=format(ord(found.group()), "04X"),
                    position=found.start() + 1,
                ),
            )
        yield {
            "participant_id": lookups.participants[code],
            "outcome": OutcomeKind(kind),
            "outcome_on": day,
            "note": note,
        }

    return convert


def _missing(columns: list[str]) -> list[FieldError]:
    return [
        FieldError(c, Text("The file has no column %(column)s: add it.", column=c), row=1)
        for c in columns
    ]


def _no_participant(code: str) -> Text:
    if not code:
        return Text("Enter the participant's code, such as P-0001.")
    return Text("There is no participant %(code)s.", code=code)


class _RowProblem(Exception):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column, self.message = column, message


def _existing_keys(session: Session, kind: BatchKind) -> set[int]:
    if kind is BatchKind.outcomes:
        return {
            _key(kind, {"participant_id": p, "outcome_on": on})
            for p, on in session.execute(select(Outcome.participant_id, Outcome.outcome_on))
        }
    stmt = select(
        EvaluationResponse.participant_id,
        EvaluationResponse.question_id,
        EvaluationResponse.submitted_on,
    )
    return {
        _key(kind, {"participant_id": p, "question_id": q, "submitted_on": on})
        for p, q, on in session.execute(stmt)
    }


def _key(kind: BatchKind, values: dict[str, Any]) -> int:
    """Pack what makes an answer (or outcome) unique into one int: a million keys stay small."""
    participant: int = values["participant_id"]
    if kind is BatchKind.outcomes:
        day: date = values["outcome_on"]
        return (participant << 24) | day.toordinal()
    question: int = values["question_id"]
    submitted: date = values["submitted_on"]
    return (participant << 44) | (question << 24) | submitted.toordinal()


def _row_tuple(kind: BatchKind, values: dict[str, Any]) -> tuple[Any, ...]:
    if kind is BatchKind.outcomes:
        return (
            values["participant_id"],
            values["outcome"].value,
            values["outcome_on"].toordinal(),
            values["note"],
        )
    return (
        values["participant_id"],
        values["question_id"],
        values["value_number"],
        values["value_text"],
        values["submitted_on"].toordinal(),
    )


def _check(
    source: ImportFile,
    kind: BatchKind,
    convert_for: Callable[[list[str]], Converter],
    existing: set[int],
    spool: BinaryIO,
    progress: Callable[[int], None] | None = None,
) -> Check:
    """Read the file once: check every row, and spool the good rows' values for writing."""
    header, rows = read_rows(source)
    convert = convert_for(header)
    check = Check()
    seen: dict[int, int] = {}
    column = "answer" if kind is BatchKind.evaluations else "date"
    pending: list[tuple[Any, ...]] = []
    for number, row in rows:
        check.rows_total += 1
        if progress is not None and check.rows_total % 1000 == 0:
            progress(check.rows_total)
        try:
            row_values = []
            for values in convert(number, row):
                key = _key(kind, values)
                if key in existing:
                    raise _RowProblem(
                        column, Text("This row was imported already, in an earlier batch.")
                    )
                if key in seen:
                    raise _RowProblem(column, Text("This row repeats row %(row)s.", row=seen[key]))
                seen[key] = number
                row_values.append(_row_tuple(kind, values))
            pending.extend(row_values)
            if len(pending) >= CHUNK:
                marshal.dump(pending, spool)
                pending = []
        except _RowProblem as problem:
            # Built without validation: the message stays a Text, said in the reader's language.
            check.problems.append(
                RejectedRow.model_construct(
                    row=number, column=problem.column, message=problem.message
                )
            )
            check.rejected_rows.add(number)
    if pending:
        marshal.dump(pending, spool)
    return check


def _write(session: Session, kind: BatchKind, batch_id: int, spool: BinaryIO) -> None:
    """Insert the spooled rows in chunks, straight through the driver: they are checked already."""
    connection = session.connection()
    sqlite = connection.dialect.name == "sqlite"
    columns: tuple[str, ...]
    if kind is BatchKind.outcomes:
        table, columns, day = "outcome", ("participant_id", "outcome", "outcome_on", "note"), 2
    else:
        table = "evaluation_response"
        columns = ("participant_id", "question_id", "value_number", "value_text", "submitted_on")
        day = 4
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {table} (batch_id, {', '.join(columns)}) "
        f"VALUES ({', '.join([mark] * (len(columns) + 1))})"
    )
    spool.seek(0)
    while True:
        try:
            chunk = marshal.load(spool)
        except EOFError:
            return
        rows = []
        for values in chunk:
            on = date.fromordinal(values[day])
            row = list(values)
            row[day] = on.isoformat() if sqlite else on
            rows.append((batch_id, *row))
        connection.exec_driver_sql(sql, rows)


def _sha256(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def batch_to_read(batch: EvaluationBatch, **flags: bool) -> BatchRead:
    """Shape a batch for the API."""
    return BatchRead(
        id=batch.id,
        kind=batch.kind,
        sha256=batch.sha256,
        file_name=batch.file_name,
        size_bytes=batch.size_bytes,
        file_format=batch.file_format,
        shape=batch.shape,
        mode=batch.mode,
        rows_total=batch.rows_total,
        rows_written=batch.rows_written,
        rows_rejected=batch.rows_rejected,
        rejected=[RejectedRow.model_validate(r) for r in batch.rejected],
        importer=batch.importer,
        source=batch.source,
        idempotency_key=batch.idempotency_key,
        started_at=batch.started_at,
        finished_at=batch.finished_at,
        rolled_back_at=batch.rolled_back_at,
        rolled_back_by=batch.rolled_back_by,
        rollback_reason=batch.rollback_reason,
        **flags,
    )


def run_import(
    session: Session,
    *,
    actor: Actor,
    kind: BatchKind,
    source: ImportFile,
    shape: str = "long",
    instrument: str | None = None,
    mapping: dict[str, str] | None = None,
    mode: str = "all",
    dry_run: bool = False,
    client_source: str | None = None,
    idempotency_key: str | None = None,
    programme_id: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> BatchRead:
    """Check a file and, unless its problems stop it, write it as one batch.

    With a programme, participants are looked up in that programme only.
    """
    require(actor, Action.evaluation_import)
    started = utcnow()
    sha256, size = _sha256(source.path)
    if idempotency_key is not None:
        earlier = session.scalars(
            select(EvaluationBatch).where(EvaluationBatch.idempotency_key == idempotency_key)
        ).first()
        if earlier is not None:
            if earlier.sha256 != sha256:
                raise Conflict(
                    Text(
                        "This Idempotency-Key was used for other content: send a new key with "
                        "a new file."
                    )
                )
            return batch_to_read(earlier, replayed=True)
    if not dry_run:
        earlier = session.scalars(
            select(EvaluationBatch).where(
                EvaluationBatch.kind == kind,
                EvaluationBatch.sha256 == sha256,
                EvaluationBatch.rolled_back_at.is_(None),
            )
        ).first()
        if earlier is not None:
            return batch_to_read(earlier, replayed=True)
    lookups = _lookups(session, actor, programme_id)

    def convert_for(header: list[str]) -> Converter:
        if kind is BatchKind.outcomes:
            return _outcome_converter(lookups, header)
        return _evaluation_converter(lookups, header, shape, instrument, mapping)

    with tempfile.TemporaryFile() as spool:
        return _finish(
            session,
            actor=actor,
            kind=kind,
            source=source,
            shape=shape,
            mode=mode,
            dry_run=dry_run,
            client_source=client_source,
            idempotency_key=idempotency_key,
            started=started,
            sha256=sha256,
            size=size,
            spool=spool,
            check=_check(source, kind, convert_for, _existing_keys(session, kind), spool, progress),
        )


def _finish(
    session: Session,
    *,
    actor: Actor,
    kind: BatchKind,
    source: ImportFile,
    shape: str,
    mode: str,
    dry_run: bool,
    client_source: str | None,
    idempotency_key: str | None,
    started: datetime,
    sha256: str,
    size: int,
    spool: BinaryIO,
    check: Check,
) -> BatchRead:
    if check.problems and mode == "all":
        raise ValidationFailed(
            Text(
                "Rows with problems: %(rejected)s of %(total)s. Nothing was written: correct "
                "them, or import with mode=partial to write the good rows.",
                rejected=len(check.rejected_rows),
                total=check.rows_total,
            ),
            [FieldError(p.column, p.message, row=p.row) for p in check.problems],
        )
    batch = EvaluationBatch(
        kind=kind,
        sha256=sha256,
        file_name=source.name[:255],
        size_bytes=size,
        file_format=source.format,
        shape=shape if kind is BatchKind.evaluations else "long",
        mode=mode,
        rows_total=check.rows_total,
        rows_written=check.rows_total - len(check.rejected_rows),
        rows_rejected=len(check.rejected_rows),
        rejected=[p.model_dump() for p in check.problems[:10_000]],
        importer=actor.name,
        importer_id=actor.user_id,
        source=client_source,
        idempotency_key=idempotency_key,
        started_at=started,
        finished_at=started,
    )
    if dry_run:
        batch.finished_at = utcnow()
        return batch_to_read(batch, dry_run=True)
    session.add(batch)
    session.flush()
    _write(session, kind, batch.id, spool)
    batch.finished_at = utcnow()
    session.flush()
    record_event(
        session,
        actor=actor,
        action="import.completed",
        entity="evaluation_batch",
        entity_id=batch.id,
        programme_id=actor.programme_id,
        changes=created(
            {
                "kind": kind,
                "file_name": batch.file_name,
                "sha256": sha256,
                "rows_total": batch.rows_total,
                "rows_written": batch.rows_written,
                "rows_rejected": batch.rows_rejected,
                "source": client_source,
            }
        ),
    )
    return batch_to_read(batch)


def get_batch(session: Session, *, actor: Actor, batch_id: int) -> EvaluationBatch:
    """Return a batch; an importer sees only the batches it brought in."""
    require(actor, Action.evaluation_read)
    stmt = _visible(select(EvaluationBatch).where(EvaluationBatch.id == batch_id), actor)
    batch: EvaluationBatch | None = session.scalars(stmt).one_or_none()
    if batch is None:
        raise NotFound(Text("There is no import batch with the id %(id)s.", id=batch_id))
    return batch


def list_batches(session: Session, *, actor: Actor) -> list[EvaluationBatch]:
    """List batches, newest first; an importer sees its own."""
    require(actor, Action.evaluation_read)
    stmt = select(EvaluationBatch).order_by(EvaluationBatch.id.desc()).limit(200)
    return list(session.scalars(_visible(stmt, actor)))


def _batches_with_rows(*, programme_id: int, inside: bool) -> CompoundSelect[Any]:
    """Select the batches with a row of a participant inside (or outside) the programme."""
    parts = []
    for table in (EvaluationResponse, Outcome):
        in_programme = Cohort.programme_id == programme_id
        parts.append(
            select(table.batch_id)
            .join(Participant, Participant.id == table.participant_id)
            .join(Cohort, Cohort.id == Participant.cohort_id)
            .where(table.batch_id.is_not(None), in_programme if inside else ~in_programme)
        )
    return union(*parts)


def _visible(stmt: Select[Any], actor: Actor) -> Select[Any]:
    """Keep the batches the actor may see: an importer its own; a scoped token its programme's.

    A batch has no programme of its own (one file may answer for several), so a token limited to
    one programme sees a batch whose rows are all of that programme, or one it brought in itself.
    """
    own = EvaluationBatch.importer_id == actor.user_id if actor.user_id is not None else false()
    if actor.role is Role.importer:
        stmt = stmt.where(own)
    if actor.programme_id is not None:
        inside = _batches_with_rows(programme_id=actor.programme_id, inside=True)
        outside = _batches_with_rows(programme_id=actor.programme_id, inside=False)
        stmt = stmt.where(
            or_(own, and_(EvaluationBatch.id.in_(inside), EvaluationBatch.id.not_in(outside)))
        )
    return stmt


def rollback(session: Session, *, actor: Actor, batch_id: int, reason: str) -> EvaluationBatch:
    """Take a whole batch back out: its rows go, the batch stays on record as rolled back."""
    require(actor, Action.import_rollback)
    batch = get_batch(session, actor=actor, batch_id=batch_id)
    if batch.rolled_back_at is not None:
        raise Conflict(
            Text(
                "Import batch %(id)s was rolled back already, on %(day)s.",
                id=batch.id,
                day=batch.rolled_back_at.date(),
            )
        )
    table = Outcome if batch.kind is BatchKind.outcomes else EvaluationResponse
    removed = session.scalar(
        select(func.count()).select_from(table).where(table.batch_id == batch.id)
    )
    session.execute(delete(table).where(table.batch_id == batch.id))
    batch.rolled_back_at = utcnow()
    batch.rolled_back_by = actor.name
    batch.rollback_reason = reason
    session.flush()
    record_event(
        session,
        actor=actor,
        action="import.rolled_back",
        entity="evaluation_batch",
        entity_id=batch.id,
        changes={
            "rows_removed": {"old": None, "new": removed},
            "rolled_back_at": {"old": None, "new": batch.rolled_back_at.isoformat()},
        },
        reason=reason,
    )
    return batch
