"""Back up a database to a file and restore it into an empty one.

SQLite uses its online backup API (a consistent copy while the service runs); PostgreSQL uses
pg_dump and pg_restore in their custom format, restored in one transaction.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from qms.db import make_engine, normalise_url
from qms.errors import Conflict, FieldError, ValidationFailed
from qms.i18n import Text


def _libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_path(url: str) -> str:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise ValidationFailed(
            Text("The database is not a file."),
            [FieldError("database_url", Text("Give the address of a SQLite file."))],
        )
    return database


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise Conflict(
            Text(
                "%(program)s is not installed: install it to back up or restore PostgreSQL.",
                program=name,
            )
        )
    return path


def backup(url: str, target: Path) -> None:
    """Write a consistent copy of the database to the file."""
    url = normalise_url(url)
    if target.exists():
        raise Conflict(Text("%(file)s exists already: choose a new file.", file=str(target)))
    if make_url(url).get_backend_name() == "sqlite":
        source = sqlite3.connect(_sqlite_path(url))
        copy = sqlite3.connect(target)
        try:
            with copy:
                source.backup(copy)
        finally:
            copy.close()
            source.close()
        return
    subprocess.run(
        [
            _tool("pg_dump"),
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--file={target}",
            f"--dbname={_libpq_url(url)}",
        ],
        check=True,
        capture_output=True,
    )


def _is_empty(url: str) -> bool:
    engine = make_engine(url)
    try:
        return not inspect(engine).get_table_names()
    finally:
        engine.dispose()


def restore(url: str, source: Path) -> None:
    """Restore a backup file into an empty database (it refuses one that holds tables)."""
    url = normalise_url(url)
    if not source.is_file():
        raise ValidationFailed(
            Text("There is no such backup file."),
            [FieldError("file", Text("%(file)s is not a file.", file=str(source)))],
        )
    if not _is_empty(url):
        raise Conflict(
            Text("The target database is not empty: restore into a new, empty database.")
        )
    sqlite = make_url(url).get_backend_name() == "sqlite"
    with source.open("rb") as handle:
        magic = handle.read(16)
    wanted = b"SQLite format 3\x00" if sqlite else b"PGDMP"
    if not magic.startswith(wanted):
        problem = (
            Text("%(file)s is not a SQLite backup.", file=source.name)
            if sqlite
            else Text("%(file)s is not a PostgreSQL (pg_dump) backup.", file=source.name)
        )
        raise ValidationFailed(
            Text("The file is not a backup for this database."),
            [FieldError("file", problem)],
        )
    if sqlite:
        backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        target = sqlite3.connect(_sqlite_path(url))
        try:
            with target:
                backup_db.backup(target)
        finally:
            target.close()
            backup_db.close()
        return
    subprocess.run(
        [
            _tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={_libpq_url(url)}",
            str(source),
        ],
        check=True,
        capture_output=True,
    )
