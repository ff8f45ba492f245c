"""`qms comments`: read and add the comments on a deviation, an action, an internal audit or a
management review, the record named by its number."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text as Styled
from sqlalchemy.orm import Session

from qms import references
from qms.cli.common import (
    AsOption,
    FormatOption,
    ListFormat,
    actor_for,
    err,
    out,
    print_records,
    shown_moment,
    t,
    unit_of_work,
)
from qms.comments import service
from qms.comments.models import CommentedRecord
from qms.comments.schemas import CommentCreate
from qms.errors import FieldError, NotFound, ValidationFailed
from qms.exports import COMMENT_COLUMNS
from qms.i18n import Text
from qms.pagination import each
from qms.permissions import Actor

comments_app = typer.Typer(
    help="Comments on records: list and add (a correction is a new comment).",
    no_args_is_help=True,
)

NumberArgument = Annotated[
    str,
    typer.Argument(
        help="The record by its number: DEV-2026-0001, CA-2026-0001, IA-2026-0001 or MR-2026-0001."
    ),
]


def _record(session: Session, actor: Actor, number: str) -> tuple[CommentedRecord, int]:
    """Return the kind and id of the record the number names, among those that take comments."""
    kinds = {kind.value: kind for kind in CommentedRecord}
    for kind, record_id in references.find(session, number, programme_id=actor.programme_id):
        if kind in kinds and record_id.isdigit():
            return kinds[kind], int(record_id)
    if references.find(session, number, programme_id=actor.programme_id):
        raise ValidationFailed(
            Text("%(number)s takes no comments.", number=number.strip()),
            [
                FieldError(
                    "number",
                    Text(
                        "Name a deviation, a corrective action, an internal audit or a "
                        "management review."
                    ),
                )
            ],
        )
    raise NotFound(Text("No record %(number)s", number=number.strip()))


@comments_app.command("list")
def comments_list(
    number: NumberArgument,
    as_user: AsOption = None,
    format: FormatOption = ListFormat.table,
) -> None:
    """List a record's comments, oldest first: who, when, what."""
    with unit_of_work(write=False) as session:
        actor = actor_for(session, as_user)
        record, record_id = _record(session, actor, number)
        comments = list(
            each(
                lambda after: service.list_comments(
                    session,
                    actor=actor,
                    record=record,
                    record_id=record_id,
                    limit=200,
                    cursor=after,
                )
            )
        )
        said = service.to_reads(session, comments)
    if format is not ListFormat.table:
        print_records(format, COMMENT_COLUMNS, (c.model_dump(mode="json") for c in said))
        return
    table = Table(t("When"), t("Who"), t("Comment"))
    for comment in said:
        table.add_row(
            shown_moment(comment.created_at),
            Styled(comment.author_display_name),
            Styled(comment.text),
        )
    out.print(table)


@comments_app.command("add")
def comments_add(
    number: NumberArgument,
    text: Annotated[str, typer.Argument(help="What is said; kept as written.")],
    as_user: AsOption = None,
) -> None:
    """Add a comment to a record; it is kept as written, in the audit trail."""
    with unit_of_work() as session:
        actor = actor_for(session, as_user)
        record, record_id = _record(session, actor, number)
        service.add(
            session,
            actor=actor,
            record=record,
            record_id=record_id,
            data=CommentCreate(text=text),
        )
    err.print(t("Comment added to %(record)s") % {"record": number.strip().upper()}, markup=False)
