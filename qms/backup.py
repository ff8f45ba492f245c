"""Back up a database to a file and restore it into an empty one.

SQLite uses its online backup API (a consistent copy while the service runs); PostgreSQL uses
pg_dump and pg_restore in their custom format, restored in one transaction. The password never
goes on a command line (where `ps` shows it): it is handed to the tools in their environment.
A restore whose audit trail does not verify leaves the target as empty as it found it.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, make_url

from qms.audit import checkpoints
from qms.audit.service import VerifyResult, verify
from qms.db import Database, make_engine, normalise_url
from qms.errors import Conflict, FieldError, ValidationFailed
from qms.i18n import Text


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """Return the address for pg_dump/pg_restore without its password, and the environment
    that carries the password (PGPASSWORD) instead."""
    parsed = make_url(url).set(drivername="postgresql")
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    # URL.set(password=None) keeps the password: the address is built again without it.
    address = URL.create(
        "postgresql",
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=parsed.query,
    )
    return address.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, check=False)
    if done.returncode != 0:
        raise Conflict(
            Text(
                "%(program)s failed: %(problem)s",
                program=Path(command[0]).name,
                problem=done.stderr.decode(errors="replace").strip()[-2000:],
            )
        )


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
            # One self-contained file: no write-ahead log beside it when it is opened later.
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
            source.close()
        _copy_checkpoints(url, target)
        return
    _copy_checkpoints(url, target)
    address, env = _libpq(url)
    _run(
        [
            _tool("pg_dump"),
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--file={target}",
            f"--dbname={address}",
        ],
        env,
    )


def _checkpoints_beside(backup_file: Path) -> Path:
    return backup_file.with_name(f"{backup_file.name}.checkpoints")


def _copy_checkpoints(url: str, target: Path) -> None:
    """Keep the trail's outside checkpoints with the backup, so a restore can be checked."""
    outside = checkpoints.checkpoint_file(url)
    if outside is not None and outside.is_file():
        shutil.copyfile(outside, _checkpoints_beside(target))


def _is_empty(url: str) -> bool:
    engine = make_engine(url)
    try:
        return not inspect(engine).get_table_names()
    finally:
        engine.dispose()


def restore(url: str, source: Path) -> VerifyResult:
    """Restore a backup file into an empty database (it refuses one that holds tables), then
    verify its audit trail; if the trail does not verify, empty the database again and say so
    (the result is not ok), so that a tampered backup is never left in place.

    An unclean SQLite shutdown of the target is not a concern here: the target file is made by
    the restore, and on any failure it is taken away again with its side files."""
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
    outside = checkpoints.checkpoint_file(url)
    kept = _checkpoints_beside(source)
    placed = outside is not None and kept.is_file() and not outside.exists()
    try:
        if placed:
            assert outside is not None
            shutil.copyfile(kept, outside)
        if sqlite:
            _restore_sqlite(url, source)
        else:
            address, env = _libpq(url)
            _run(
                [
                    _tool("pg_restore"),
                    "--no-owner",
                    "--no-privileges",
                    "--single-transaction",
                    "--exit-on-error",
                    f"--dbname={address}",
                    str(source),
                ],
                env,
            )
        result = _verify(url)
    except BaseException:
        _empty(url, outside if placed else None)
        raise
    if not result.ok:
        _empty(url, outside if placed else None)
    return result


def _restore_sqlite(url: str, source: Path) -> None:
    # Read-only and immutable: nothing (no -shm or -wal file) is written beside the backup.
    backup_db = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    target = sqlite3.connect(_sqlite_path(url))
    try:
        with target:
            backup_db.backup(target)
    finally:
        target.close()
        backup_db.close()


def _verify(url: str) -> VerifyResult:
    database = Database(make_engine(url))
    try:
        with database.unit_of_work(write=False) as session:
            return verify(session, database_url=url)
    finally:
        database.dispose()


def _empty(url: str, placed: Path | None) -> None:
    """Take away what a restore put into a database that was empty before it."""
    if placed is not None:
        placed.unlink(missing_ok=True)
    if make_url(url).get_backend_name() == "sqlite":
        path = Path(_sqlite_path(url))
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
            leftover.unlink(missing_ok=True)
        return
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            # The database held no table before the restore: everything in its schema came
            # from the backup.
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
