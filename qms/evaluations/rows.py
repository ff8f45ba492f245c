"""Checking an import's rows: each row turned into the values to write, or every problem it has.

A row's problems are all named, each by the column as the file's header names it, and none quotes
a cell: a cell may hold someone's name or e-mail, and a problem is kept with its batch and shown
to whoever reads it ("there is no participant with this code", row 7, column "Participant").
Columns are found whatever their case and the spaces around them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date
from operator import itemgetter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qms.errors import FieldError, ValidationFailed
from qms.evaluations.cells import read_moment, read_number
from qms.evaluations.models import Instrument, OutcomeKind, QuestionType, Respondent
from qms.evaluations.readers import column_finder, text_of
from qms.fields import NOT_TEXT
from qms.i18n import Code, Either, Text
from qms.participants.models import Participant
from qms.permissions import Actor
from qms.programmes.models import Cohort

LONG_COLUMNS = ("participant", "instrument", "question", "answer", "submitted_at")
OUTCOME_COLUMNS = ("participant", "outcome", "date")
MAPPED = ("participant", "submitted_at")

# A good row's values as they wait to be written, each with the int that makes it unique (see
# answer_key and outcome_key): the table's values as the driver takes them, in the order of
# RESPONSE_COLUMNS (or NUMBER_COLUMNS, see spooled_answer) or OUTCOME_VALUES.
Spooled = tuple[int, tuple[Any, ...]]
# A row: its cells by column, or (a CSV file's) the list of its cells in the header's order.
Row = dict[str, Any] | list[Any]
Converter = Callable[[int, Row], list[Spooled]]
RESPONSE_COLUMNS = (
    "participant_id",
    "question_id",
    "value_number",
    "value_text",
    "submitted_on",
    "submitted_at",
)
# An answer that is a number on a day (no text, no moment) waits with these only.
NUMBER_COLUMNS = ("participant_id", "question_id", "value_number", "submitted_on")
OUTCOME_VALUES = ("participant_id", "outcome", "outcome_on", "note")
# A moment as it waits to be written: the day as ISO text, the moment in UTC as SQLite keeps it
# (None when the cell names a day only), and the day's ordinal for the row's key.
Moment = tuple[str, str | None, int]
# Cells read once per file and kept for the rows that repeat them (a file repeats the same few
# dates and answers): how many moments, how many answers to each question (a scale or a choice
# has a few; a wide file may have a hundred questions), and how long a cell may be to be kept.
KEPT_MOMENTS = 4096
KEPT_ANSWERS = 256
KEPT_CHARS = 64
# An answer's number or text.
Answer = tuple[float | None, str | None]
# An answer cell that is empty (kept as such: a wide file's skipped question).
_EMPTY: Answer = (None, None)


def answer_key(participant_id: int, question_id: int, day_ordinal: int) -> int:
    """Pack what makes an answer unique into one int: a million keys stay small."""
    return (participant_id << 44) | (question_id << 24) | day_ordinal


def outcome_key(participant_id: int, day_ordinal: int) -> int:
    """Pack what makes an outcome unique into one int."""
    return (participant_id << 24) | day_ordinal


def moment_of(value: Any) -> Moment:
    """Return a cell's moment as it is written (see Moment); raises ValueError with the problem."""
    day, moment = read_moment(value)
    return (
        day.isoformat(),
        None
        if moment is None
        else moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds"),
        day.toordinal(),
    )


def spooled_answer(
    participant_id: int, question_id: int, value: Answer, moment: Moment
) -> tuple[Any, ...]:
    """Return an answer as it waits to be written: a number on a day without a moment in the
    columns of NUMBER_COLUMNS, any other in those of RESPONSE_COLUMNS."""
    if value[1] is None and moment[1] is None:
        return (participant_id, question_id, value[0], moment[0])
    return (participant_id, question_id, value[0], value[1], moment[0], moment[1])


def _keeps(value: Any) -> bool:
    return type(value) is str and len(value) <= KEPT_CHARS


@dataclass(frozen=True)
class QuestionInfo:
    """What checking an answer needs of a question, as plain values (read per row)."""

    id: int
    type: QuestionType
    scale_min: int | None
    scale_max: int | None
    options: tuple[str, ...]
    number_min: float | None = None
    number_max: float | None = None


@dataclass
class Lookups:
    """What rows are checked against, loaded once per import."""

    participants: dict[str, int]
    instruments: dict[str, Instrument]
    questions: dict[tuple[str, str], QuestionInfo]
    # Each participant's role (mentor or mentee), by id, to check it against the instrument's.
    roles: dict[int, str]
    # Who answers each instrument, by its code (plain values: the rows are checked after the
    # reading session ends, when its objects can no longer be read).
    respondents: dict[str, Respondent]


class RowProblems(Exception):
    """Every problem of one row: (column as the file names it, message)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(problems)
        self.problems = problems


def load_lookups(session: Session, actor: Actor, programme_id: int | None) -> Lookups:
    """Load the participants (of the programme, if one is given or the actor is limited to one),
    the instruments and their questions."""
    stmt = select(Participant.code, Participant.id, Participant.role).join(
        Cohort, Cohort.id == Participant.cohort_id
    )
    for scope in {actor.programme_id, programme_id} - {None}:
        stmt = stmt.where(Cohort.programme_id == scope)
    participants: dict[str, int] = {}
    roles: dict[int, str] = {}
    for code, id_, role in session.execute(stmt):
        participants[code] = id_
        roles[id_] = str(getattr(role, "value", role))
    instruments = {i.code: i for i in session.scalars(select(Instrument))}
    questions = {
        (i.code, q.code): QuestionInfo(
            q.id,
            q.type,
            q.scale_min,
            q.scale_max,
            tuple(q.options),
            q.number_min,
            q.number_max,
        )
        for i in instruments.values()
        for q in i.questions
    }
    respondents = {code: i.respondent for code, i in instruments.items()}
    return Lookups(participants, instruments, questions, roles, respondents)


def answer(question: QuestionInfo, raw: Any) -> Answer:
    """Return an answer's number or text, or raise ValueError with the problem (never the cell)."""
    text = text_of(raw)
    if question.type is QuestionType.scale:
        low, high = question.scale_min, question.scale_max
        try:
            number = read_number(raw)
        except ValueError:
            raise ValueError(
                Text(
                    "The answer is not a number: enter a number from %(low)s to %(high)s.",
                    low=low,
                    high=high,
                )
            ) from None
        if low is not None and high is not None and not low <= number <= high:
            raise ValueError(
                Text(
                    "The answer is outside the scale: enter a number from %(low)s to %(high)s.",
                    low=low,
                    high=high,
                )
            )
        return number, None
    if question.type is QuestionType.number:
        try:
            number = read_number(raw)
        except ValueError:
            raise ValueError(
                Text("The answer is not a number: write it in digits, such as 12 or 2,5.")
            ) from None
        least, most = question.number_min, question.number_max
        if (least is not None and number < least) or (most is not None and number > most):
            if least is not None and most is not None:
                problem = Text(
                    "The answer is out of range: enter a number from %(low)s to %(high)s.",
                    low=least,
                    high=most,
                )
            elif least is not None:
                problem = Text(
                    "The answer is out of range: enter a number of at least %(low)s.", low=least
                )
            else:
                problem = Text(
                    "The answer is out of range: enter a number of at most %(high)s.", high=most
                )
            raise ValueError(problem)
        return number, None
    if question.type is QuestionType.choice:
        if text not in question.options:
            raise ValueError(
                Text(
                    "The answer is not one of the choices: enter %(choices)s.",
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


def missing(columns: list[str]) -> list[FieldError]:
    """Name each column the file lacks, on its header row."""
    return [
        FieldError(c, Text("The file has no column %(column)s: add it.", column=c), row=1)
        for c in columns
    ]


def no_participant(code: str) -> Text:
    """Say that a row's participant is not known, without repeating what the cell holds."""
    if not code:
        return Text("Enter the participant's code, such as P-0001.")
    return Text("There is no participant with this code.")


def _wrong_role(role: str, instrument: str, respondent: Respondent) -> Text:
    return Text(
        "The participant is a %(role)s; instrument %(instrument)s is answered by the role "
        "%(respondent)s only.",
        role=Code(role),
        instrument=instrument,
        respondent=Code(respondent.value),
    )


def evaluation_converter(
    lookups: Lookups,
    header: list[str],
    shape: str,
    instrument: str | None,
    mapping: dict[str, str] | None,
) -> Converter:
    """Return a function turning one row into response values, raising RowProblems with every
    problem of the row; the file's columns are checked first (ValidationFailed)."""
    find = column_finder(header)
    columns: dict[str, str] = {}
    questions: list[tuple[str, QuestionInfo]] = []
    if shape == "long":
        absent = [c for c in LONG_COLUMNS if find(c) is None]
        if absent:
            raise ValidationFailed(Text("The file lacks required columns."), missing(absent))
        columns = {c: find(c) or c for c in LONG_COLUMNS}
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
        named = dict(mapping or {})
        # A survey tool names its own columns: the mapping may point them at the two we need.
        wanted: dict[str, str] = {target: target for target in MAPPED}
        for column, code in list(named.items()):
            if code in MAPPED:
                wanted[code] = column
                del named[column]
        absent = [
            c for c in (wanted["participant"], wanted["submitted_at"], *named) if find(c) is None
        ]
        errors = missing(absent)
        errors += [
            FieldError(
                "mapping",
                Text(
                    "Instrument %(instrument)s has no question %(code)s.",
                    instrument=instrument,
                    code=q,
                ),
            )
            for q in named.values()
            if (instrument, q) not in lookups.questions
        ]
        if not named:
            errors.append(
                FieldError("mapping", Text("Map at least one column to a question code."))
            )
        if errors:
            raise ValidationFailed(Text("The file does not fit the mapping."), errors)
        columns = {target: find(column) or column for target, column in wanted.items()}
        questions = [
            (find(column) or column, lookups.questions[(instrument, q)])
            for column, q in named.items()
        ]

    def checked(number: int, cells: Row) -> list[Spooled]:
        # The row read cell by cell, every problem of it noted.
        row = dict(zip(header, cells, strict=False)) if isinstance(cells, list) else cells
        problems: list[tuple[str, str]] = []
        participant_column = columns["participant"]
        code = text_of(row.get(participant_column))
        participant_id = lookups.participants.get(code)
        if participant_id is None:
            problems.append((participant_column, no_participant(code)))
        moment: Moment | None = None
        try:
            moment = moment_of(row.get(columns["submitted_at"]))
        except ValueError as exc:
            problems.append((columns["submitted_at"], exc.args[0]))
        if shape == "long":
            instrument_code = text_of(row.get(columns["instrument"]))
            question_code = text_of(row.get(columns["question"]))
            question = lookups.questions.get((instrument_code, question_code))
            target = instrument_code
            pairs: list[tuple[str, QuestionInfo, Any]] = []
            if question is None:
                problems.append(
                    (
                        columns["question"],
                        Text(
                            "Instrument %(instrument)s has no question %(code)s.",
                            instrument=instrument_code,
                            code=question_code,
                        ),
                    )
                )
            elif not text_of(row.get(columns["answer"])):
                problems.append(
                    (
                        columns["answer"],
                        Text("The answer is empty: enter it, or leave the row out."),
                    )
                )
            else:
                pairs.append((columns["answer"], question, row.get(columns["answer"])))
        else:
            target = instrument or ""
            pairs = [
                (column, question, row.get(column))
                for column, question in questions
                if text_of(row.get(column))
            ]
        respondent = lookups.respondents.get(target)
        if (
            participant_id is not None
            and respondent is not None
            and respondent is not Respondent.both
            and lookups.roles.get(participant_id) != respondent.value
        ):
            role = lookups.roles.get(participant_id, "")
            problems.append((participant_column, _wrong_role(role, target, respondent)))
        values: list[Spooled] = []
        for column, question, raw in pairs:
            try:
                value_number, value_text = answer(question, raw)
            except ValueError as exc:
                problems.append((column, exc.args[0]))
                continue
            if participant_id is not None and moment is not None:
                values.append(
                    (
                        answer_key(participant_id, question.id, moment[2]),
                        spooled_answer(
                            participant_id, question.id, (value_number, value_text), moment
                        ),
                    )
                )
        if problems:
            raise RowProblems(problems)
        return values

    # Most rows are well formed and repeat the codes, dates and answers of the rows before: each
    # cell is looked up among those read already, and read afresh only when new (a workbook's
    # number or date, each time). A row with a problem, or with a cell that is a list or an
    # object, is read again cell by cell, above, so that every problem of it is named.
    people: dict[Any, int] = {
        code: id_ for code, id_ in lookups.participants.items() if code == code.strip()
    }
    participants, roles = lookups.participants, lookups.roles
    moments: dict[Any, Moment] = {}

    def fresh_moment(raw: Any) -> Moment | None:
        try:
            found = moment_of(raw)
        except ValueError:
            return None
        if _keeps(raw):
            if len(moments) >= KEPT_MOMENTS:
                moments.clear()
            moments[raw] = found
        return found

    def fresh_answer(question: QuestionInfo, kept: dict[Any, Answer], raw: Any) -> Answer | None:
        # An answer's values, or _EMPTY for an empty cell; None when the answer has a problem.
        found: Answer
        if not text_of(raw):
            found = _EMPTY
        else:
            try:
                found = answer(question, raw)
            except ValueError:
                return None
        # A text is kept only when empty: a text answer seldom repeats.
        if _keeps(raw) and (question.type is not QuestionType.text or found is _EMPTY):
            if len(kept) >= KEPT_ANSWERS:
                kept.clear()
            kept[raw] = found
        return found

    def role_needed(code: str) -> str | None:
        respondent = lookups.respondents.get(code)
        return None if respondent is None or respondent is Respondent.both else respondent.value

    participant_column, moment_column = columns["participant"], columns["submitted_at"]
    # A CSV file's row comes as the list of its cells (qms.evaluations.readers.Cells): each
    # column is read at its place, the last of two named alike, as a dict of the row holds it.
    places = {name: place for place, name in enumerate(header)}

    if shape != "long":
        needed = role_needed(instrument or "")
        wide = [(column, question, dict[Any, Answer]()) for column, question in questions]
        read = (participant_column, moment_column, *(column for column, _ in questions))
        take = itemgetter(*(places[column] for column in read))

        def convert_wide(number: int, row: Row) -> list[Spooled]:
            try:
                if isinstance(row, list):
                    raw_participant, raw_moment, *answers = take(row)
                else:
                    raw_participant, raw_moment, *answers = (row.get(c) for c in read)
            except IndexError:  # a row shorter than the header
                return checked(number, row)
            try:
                participant_id = people.get(raw_participant)
                if participant_id is None:
                    participant_id = participants.get(text_of(raw_participant))
                moment = moments.get(raw_moment) or fresh_moment(raw_moment)
                if (
                    participant_id is None
                    or moment is None
                    or (needed is not None and roles.get(participant_id) != needed)
                ):
                    return checked(number, row)
                day, at, ordinal = moment
                values: list[Spooled] = []
                narrow = at is None
                for (_, question, kept), raw in zip(wide, answers, strict=True):
                    value = kept.get(raw) or fresh_answer(question, kept, raw)
                    if value is _EMPTY:
                        continue
                    if value is None:
                        return checked(number, row)
                    values.append(
                        (
                            (participant_id << 44) | (question.id << 24) | ordinal,
                            (participant_id, question.id, value[0], day)
                            if narrow and value[1] is None
                            else (participant_id, question.id, value[0], value[1], day, at),
                        )
                    )
            except TypeError:  # a cell that is a list or an object (JSON)
                return checked(number, row)
            return values

        return convert_wide

    instrument_column, question_column = columns["instrument"], columns["question"]
    answer_column = columns["answer"]
    entries: dict[tuple[Any, Any], tuple[QuestionInfo, dict[Any, Answer], str | None]] = {
        (code, question_code): (
            question,
            dict[Any, Answer](),
            role_needed(code),
        )
        for (code, question_code), question in lookups.questions.items()
        if code == code.strip() and question_code == question_code.strip()
    }

    read = (participant_column, moment_column, instrument_column, question_column, answer_column)
    take = itemgetter(*(places[column] for column in read))

    def convert_long(number: int, row: Row) -> list[Spooled]:
        try:
            if isinstance(row, list):
                raw_participant, raw_moment, raw, code, raw_answer = take(row)
            else:
                get = row.get
                raw_participant, raw_moment, raw, code, raw_answer = (
                    get(participant_column),
                    get(moment_column),
                    get(instrument_column),
                    get(question_column),
                    get(answer_column),
                )
        except IndexError:  # a row shorter than the header
            return checked(number, row)
        try:
            participant_id = people.get(raw_participant)
            if participant_id is None:
                participant_id = participants.get(text_of(raw_participant))
            moment = moments.get(raw_moment) or fresh_moment(raw_moment)
            entry = entries.get((raw, code))
            if entry is None:
                entry = entries.get((text_of(raw), text_of(code)))
            if participant_id is None or moment is None or entry is None:
                return checked(number, row)
            question, kept, needed = entry
            if needed is not None and roles.get(participant_id) != needed:
                return checked(number, row)
            value = kept.get(raw_answer) or fresh_answer(question, kept, raw_answer)
            if value is None or value is _EMPTY:
                return checked(number, row)
        except TypeError:  # a cell that is a list or an object (JSON)
            return checked(number, row)
        return [
            (
                (participant_id << 44) | (question.id << 24) | moment[2],
                (participant_id, question.id, value[0], moment[0])
                if value[1] is None and moment[1] is None
                else (participant_id, question.id, value[0], value[1], moment[0], moment[1]),
            )
        ]

    return convert_long


def outcome_converter(lookups: Lookups, header: list[str]) -> Converter:
    """Return a function turning one row into an outcome's values, raising RowProblems with every
    problem of the row."""
    find = column_finder(header)
    absent = [c for c in OUTCOME_COLUMNS if find(c) is None]
    if absent:
        raise ValidationFailed(Text("The file lacks required columns."), missing(absent))
    columns = {c: find(c) or c for c in (*OUTCOME_COLUMNS, "note")}

    def convert(number: int, cells: Row) -> list[Spooled]:
        row = dict(zip(header, cells, strict=False)) if isinstance(cells, list) else cells
        problems: list[tuple[str, str]] = []
        code = text_of(row.get(columns["participant"]))
        if code not in lookups.participants:
            problems.append((columns["participant"], no_participant(code)))
        kind = text_of(row.get(columns["outcome"]))
        if kind not in OutcomeKind.__members__:
            problems.append(
                (
                    columns["outcome"],
                    Text(
                        "The outcome is not one we know: enter %(choices)s.",
                        choices=Either(k.value for k in OutcomeKind),
                    ),
                )
            )
        day: date | None = None
        try:
            day = read_moment(row.get(columns["date"]))[0]
        except ValueError as exc:
            problems.append((columns["date"], exc.args[0]))
        note = text_of(row.get(columns["note"])) or None
        if note is not None and (found := NOT_TEXT.search(note)) is not None:
            problems.append(
                (
                    columns["note"],
                    Text(
                        "The note holds a character that is not text (U+%(code)s at character "
                        "%(position)s): remove it.",
                        code=format(ord(found.group()), "04X"),
                        position=found.start() + 1,
                    ),
                )
            )
        if problems or day is None:
            raise RowProblems(problems)
        participant_id = lookups.participants[code]
        return [
            (
                outcome_key(participant_id, day.toordinal()),
                (participant_id, OutcomeKind(kind).value, day.isoformat(), note),
            )
        ]

    return convert
