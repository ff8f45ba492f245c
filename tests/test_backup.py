"""Backup and restore: the round trip keeps every record, and the audit chain verifies after it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, inspect, select

from qms import migrate
from qms.audit import service as audit
from qms.audit.models import GENESIS_HASH
from qms.backup import backup, restore
from qms.db import Database, make_engine
from qms.demo import load
from qms.errors import Conflict
from qms.models import Base
from tests.factories import ADMIN


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
