"""What every `qms` command shares: the consoles, the operator, the unit of work."""

from __future__ import annotations

import enum
import getpass
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url

from qms import i18n, migrate
from qms.engine import environment_settings, make_engine, normalise_url
from qms.errors import FieldError, QMSError, ValidationFailed
from qms.permissions import Actor, Role

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from qms.db import Database
    from qms.exports import Column

# The ORM, the models, pydantic and the services are imported by the commands that use them (a
# unit of work), not here: a command that only lists (`qms deviations list`) reads its rows through
# `reading()` and starts without them.

AsOption = Annotated[
    str | None,
    typer.Option("--as", help="Act as this user (their role applies); default: the operator."),
]


class ListFormat(enum.StrEnum):
    """How a list is printed: a table for a person, JSON or CSV for a program or a spreadsheet."""

    table = "table"
    json = "json"
    csv = "csv"


FormatOption = Annotated[
    ListFormat,
    typer.Option(
        "--format",
        help="table; json (the codes, as the API gives them); csv (UTF-8, labels in the "
        "language, headed by the columns).",
    ),
]


def print_records(
    fmt: ListFormat, columns: Iterable[Column], records: Iterable[dict[str, Any]]
) -> None:
    """Print a list's records as JSON or CSV on stdout (see qms.exports), the columns those the
    records hold."""
    from qms.exports import write

    records = list(records)
    held = [c for c in columns if not records or c.key in records[0]]
    stream = typer.get_binary_stream("stdout")
    write(stream, fmt.value, held, records, language=_language[0], bom=False)
    if fmt is ListFormat.json:
        stream.write(b"\n")
    stream.flush()


# Messages go to stderr, so that stdout carries only what a script captures (a token, say).
err = Console(stderr=True)
out = Console()

# The language tables and messages are printed in: --language, else QMS_LANGUAGE, else the locale
# of the environment (LC_ALL, LC_MESSAGES, LANG), else English.
_language = [i18n.DEFAULT_LANGUAGE]


def environment_language() -> str:
    """Return the language the environment asks for, among ours."""
    for name in ("QMS_LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            # nb_NO.UTF-8 → nb_NO; C and POSIX name no language: English.
            return i18n.negotiate(value.split(".")[0].split("@")[0]) or i18n.DEFAULT_LANGUAGE
    return i18n.DEFAULT_LANGUAGE


def use_language(language: str | None) -> None:
    """Print in this language from now on (None: the environment's)."""
    if language is not None and language not in i18n.LANGUAGES:
        raise typer.BadParameter(f"one of: {', '.join(i18n.LANGUAGES)}", param_hint="--language")
    _language[0] = language or environment_language()


def language() -> str:
    """Return the language the command prints in."""
    return _language[0]


def t(text: str) -> str:
    """Translate a text of the command line."""
    return i18n.translate(text, _language[0])


def shown(value: str) -> str:
    """Return a stored value (a state, a severity) as a reader says it."""
    return i18n.label(value, _language[0])


def option_day(value: str | None, option: str) -> date | None:
    """Read a date given to an option (--due 2026-11-30), or refuse it naming the option."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            i18n.Text("%(value)r is not a date.", value=value),
            [FieldError(option, i18n.Text("Enter a date such as 2026-11-30."))],
        ) from None


def shown_day(value: date | None) -> str:
    """Return a date as the language writes it."""
    return i18n.format_day(value, _language[0])


def shown_moment(value: datetime | None) -> str:
    """Return a moment to the minute in the organisation's time zone."""
    return i18n.format_moment(value, _language[0])


def shown_number(value: float | int | None, digits: int = 0) -> str:
    """Return a figure as the language writes it (1 234 in nb and sv, 1,234 in en)."""
    return i18n.format_number(value, _language[0], digits=digits)


def failed(message: str) -> None:
    """Print that something failed, and why, on stderr."""
    said = escape(t("error:"))
    err.print(f"[red]{said}[/red] {escape(message)}")


def report(exc: QMSError) -> None:
    """Print a domain error and each field or row it names, on stderr."""
    language = _language[0]
    failed(i18n.said(exc.detail, language))
    for problem in getattr(exc, "errors", []):
        where = {
            "row": problem.row,
            # A row's field is a column of the reader's own file, named as the file names it.
            "field": problem.field if problem.row else i18n.field_label(problem.field, language),
            "message": i18n.said(problem.message, language),
        }
        line = t("row %(row)s, %(field)s: %(message)s") if problem.row else "%(field)s: %(message)s"
        err.print(f"  {line % where}", markup=False)


def operator() -> Actor:
    """Return the actor for someone at the command line (who has the database's keys)."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return Actor(user_id=None, name=f"cli:{who}", role=Role.admin)


def database_url() -> str:
    """Return the configured database URL."""
    return normalise_url(environment_settings().database_url)


def sqlite_file(url: str) -> Path | None:
    """Return the file a SQLite URL names, made absolute (None: another database, or memory)."""
    parsed = make_url(url)
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return None
    if name.startswith("file:"):  # a URI filename: SQLite reads it, not us
        return None
    return Path(name).expanduser().resolve()


def describe(url: str) -> str:
    """Name the database for a reader: a SQLite file by its full path, else its URL."""
    path = sqlite_file(url)
    return str(path) if path is not None else make_url(url).render_as_string(hide_password=True)


def require_database(url: str) -> None:
    """Refuse a SQLite database whose file is not there, instead of making an empty one."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise QMSError(
            i18n.Text(
                "There is no database at %(file)s: run `qms init` to make one there, or set "
                "QMS_DATABASE_URL to the database you mean.",
                file=str(path),
            )
        )


@contextmanager
def unit_of_work(*, write: bool = True) -> Iterator[Session]:
    """Open a unit of work on a migrated database; turn domain errors into a message and exit."""
    with database_of_work() as database, database.unit_of_work(write=write) as session:
        yield session


@contextmanager
def database_of_work() -> Iterator[Database]:
    """Open the migrated database for work done in several units of work (a document read
    from one snapshot, then issued in a short write); turn domain errors into a message and
    exit."""
    from pydantic import ValidationError as PydanticValidationError

    # Every model mapped before any is queried (their relationships name each other), whichever
    # command's module was imported.
    import qms.models  # noqa: F401
    from qms.db import Database

    try:
        require_database(database_url())
    except QMSError as exc:
        report(exc)
        raise typer.Exit(2) from exc
    database = Database(make_engine())
    try:
        _require_migrated(database.engine)
        yield database
    except QMSError as exc:
        report(exc)
        raise typer.Exit(2) from exc
    except PydanticValidationError as exc:
        failed(t("invalid input"))
        for problem in exc.errors():
            field = ".".join(str(p) for p in problem["loc"]) or t("input")
            err.print(f"  {field}: {problem['msg']}", markup=False)
        raise typer.Exit(2) from exc
    finally:
        database.dispose()


@contextmanager
def reading() -> Iterator[Connection]:
    """Open a connection that only reads, on a migrated database, without the ORM (a list's
    rows); turn domain errors into a message and exit, as a unit of work does."""
    try:
        require_database(database_url())
    except QMSError as exc:
        report(exc)
        raise typer.Exit(2) from exc
    engine = make_engine(database_url(), settings=environment_settings())
    try:
        _require_migrated(engine)
        with engine.connect() as connection:
            yield connection
    except QMSError as exc:
        report(exc)
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()


def reading_actor(as_user: str | None) -> Actor:
    """Return the actor a reading command acts as: the named user, else the operator."""
    if not as_user:
        return operator()
    with unit_of_work(write=False) as session:
        return actor_for(session, as_user)


def _require_migrated(engine: Engine) -> None:
    current = migrate.current_revision(engine)
    head = migrate.head_revision()
    if current != head:
        where = describe(database_url())
        raise QMSError(
            t("the database %(database)s is at revision %(current)s, not %(head)s: run `qms init`")
            % {"database": where, "current": current or t("none"), "head": head}
        )


def actor_for(session: Session, as_user: str | None) -> Actor:
    """Return the named user as the actor, or the operator when none is named."""
    from qms.accounts import service as accounts

    return accounts.actor_for(session, as_user) if as_user else operator()
