"""Backup and restore: the round trip keeps every record, and the audit chain verifies after it."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import make_url

from qms import migrate
from qms.audit import service as audit
from qms.audit.models import GENESIS_HASH
from qms.backup import backup, restore
from qms.db import Database, make_engine
from qms.demo import load
from qms.errors import Conflict
from qms.models import Base
from tests.conftest import TEST_DATABASE_URL
from tests.factories import ADMIN
from tests.test_audit import _drop_append_only_triggers


def _counts(database: Database) -> dict[str, int]:
    with database.unit_of_work(write=False) as session:
        return {
            name: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for name, table in Base.metadata.tables.items()
        }


def _url(database: Database) -> str:
    return database.engine.url.render_as_string(hide_password=False)


def test_a_backup_restores_every_record_into_an_empty_database(fresh_db, server, tmp_path) -> None:
    with fresh_db.unit_of_work() as session:
        load(session, operator=ADMIN)
    before = _counts(fresh_db)
    assert before["audit_event"] > 500
    file = tmp_path / "qms.backup"
    backup(_url(fresh_db), file)

    empty_url = server.new_database()
    try:
        restore(empty_url, file)
        restored = Database(make_engine(empty_url))
        try:
            assert _counts(restored) == before
            with restored.unit_of_work(write=False) as session:
                result = audit.verify(session)
            assert result.ok, result.problem
            assert result.count == before["audit_event"]
            assert migrate.current_revision(restored.engine) == migrate.head_revision()
            # The restored database keeps refusing edits of the trail.
            with pytest.raises(Exception, match="append-only"), restored.engine.begin() as conn:
                conn.exec_driver_sql("DELETE FROM audit_event WHERE seq = 1")
        finally:
            restored.dispose()
    finally:
        server.drop(empty_url)


def test_restore_refuses_a_database_that_holds_tables(fresh_db, tmp_path) -> None:
    file = tmp_path / "qms.backup"
    backup(_url(fresh_db), file)
    with pytest.raises(Conflict, match="not empty"):
        restore(_url(fresh_db), file)
    assert inspect(fresh_db.engine).get_table_names()


def test_the_trail_exports_as_json_lines_that_verify(fresh_db, tmp_path) -> None:
    with fresh_db.unit_of_work() as session:
        load(session, operator=ADMIN)
    path = tmp_path / "trail.jsonl"
    with fresh_db.unit_of_work(write=False) as session, path.open("w") as handle:
        count = audit.export_jsonl(session, handle)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == count
    previous = GENESIS_HASH
    for line in lines:
        payload = {k: v for k, v in line.items() if k not in ("prev_hash", "hash")}
        assert line["prev_hash"] == previous
        assert audit.compute_hash(previous, payload) == line["hash"]
        previous = line["hash"]


def test_a_tampered_backup_is_not_left_in_place(fresh_db, server, tmp_path) -> None:
    with fresh_db.unit_of_work() as session:
        for n in range(3):
            audit.record_event(session, actor=ADMIN, action="note", entity="x", entity_id=n)
    _drop_append_only_triggers(fresh_db)
    with fresh_db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET reason = 'rewritten' WHERE seq = 2"))
    file = tmp_path / "tampered.backup"
    backup(_url(fresh_db), file)

    empty_url = server.new_database()
    try:
        result = restore(empty_url, file)
        assert not result.ok
        assert result.first_broken_seq == 2
        # Nothing of the backup is left: the database is as empty as it was.
        engine = make_engine(empty_url)
        try:
            assert inspect(engine).get_table_names() == []
        finally:
            engine.dispose()
    finally:
        server.drop(empty_url)


def test_a_sqlite_backup_is_one_file_and_restoring_writes_nothing_beside_it(
    tmp_path,
) -> None:
    live = tmp_path / "live.db"
    migrate.upgrade(f"sqlite:///{live}")
    database = Database(make_engine(f"sqlite:///{live}"))
    try:
        with database.unit_of_work() as session:
            load(session, operator=ADMIN)
        folder = tmp_path / "backups"
        folder.mkdir()
        backup(f"sqlite:///{live}", folder / "qms.backup")
        result = restore(f"sqlite:///{tmp_path / 'restored.db'}", folder / "qms.backup")
        assert result.ok, result.problem
        assert sorted(p.name for p in folder.iterdir()) == ["qms.backup"]
    finally:
        database.dispose()


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs PostgreSQL (QMS_TEST_DATABASE_URL)")
def test_the_postgresql_password_never_goes_on_a_command_line(server, tmp_path) -> None:
    # pg_dump and pg_restore, each behind a shim that writes down what it was started with
    # (what `ps` would show) before handing over to the real program.
    shims = tmp_path / "bin"
    shims.mkdir()
    for tool in ("pg_dump", "pg_restore"):
        real = shutil.which(tool)
        assert real
        shim = shims / tool
        shim.write_text(
            f'#!/bin/sh\necho "$@" >> {tmp_path}/argv\necho "$PGPASSWORD" >> {tmp_path}/env\n'
            f'exec {real} "$@"\n'
        )
        shim.chmod(0o755)
    source = server.new_database()
    target = server.new_database()
    secret = "s3cret-Not-For-ps"
    with_password = make_url(source).set(password=secret)
    try:
        migrate.upgrade(source)
        file = tmp_path / "qms.backup"
        path = os.environ["PATH"]
        os.environ["PATH"] = f"{shims}:{path}"
        try:
            backup(with_password.render_as_string(hide_password=False), file)
            target_url = make_url(target).set(password=secret)
            assert restore(target_url.render_as_string(hide_password=False), file).ok
        finally:
            os.environ["PATH"] = path
        argv = (tmp_path / "argv").read_text()
        assert argv.count("--dbname=") == 2
        assert secret not in argv
        # The password reached the programs in their environment (trust auth ignores it here).
        assert (tmp_path / "env").read_text().split() == [secret, secret]
    finally:
        server.drop(source)
        server.drop(target)
