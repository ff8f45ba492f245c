"""The access log: auditors' reads written in chained batches, off the writers' turn."""

from __future__ import annotations

import os
import threading
import time

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from qms.access import service as access
from qms.access.models import AccessBatch, AccessEntry
from qms.access.service import AccessLog, entry_for
from qms.audit.models import AuditEvent
from qms.cli import app as cli
from qms.db import Database
from qms.permissions import Actor, Role
from tests import busy
from tests.conftest import make_client
from tests.factories import auth, make_programme, make_token

AUDITOR = Actor(user_id=None, name="cert-auditor", role=Role.auditor, token_id=7)


def _count(database: Database, model: type) -> int:
    with database.unit_of_work(write=False) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _verify(database: Database) -> access.AccessVerifyResult:
    with database.unit_of_work(write=False) as session:
        return access.verify(session)


def _write(database: Database, reads: int, *, batch: int = 1000) -> None:
    log = AccessLog(database, batch=batch)
    for n in range(reads):
        log.record(
            entry_for(AUDITOR, request=f"GET /api/v1/deviations?page={n}", client="10.0.0.9")
        )
    log.close()


class TestWritten:
    def test_reads_are_written_by_the_flusher_while_the_service_runs(self, fresh_db) -> None:
        with fresh_db.unit_of_work() as session:
            token = make_token(session, Role.auditor, name="cert-auditor")
        client = make_client(fresh_db)
        client.app.state.access_log.interval = 0.05
        with client:
            for n in range(3):
                assert client.get(
                    f"/api/v1/deviations?limit={n + 1}", headers=auth(token)
                ).is_success
            deadline = time.monotonic() + 10
            while _count(fresh_db, AccessEntry) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            # Written while the service still runs, without a read or a stop to push them.
            assert _count(fresh_db, AccessEntry) == 3
            page = client.get("/api/v1/audit/access", headers=auth(token)).json()
        requests = [item["request"] for item in page["items"]]
        assert requests[:3] == [f"GET /api/v1/deviations?limit={n}" for n in (1, 2, 3)]
        assert {item["client"] for item in page["items"]} == {"testclient"}

    def test_what_waits_is_written_on_a_clean_shutdown(self, fresh_db) -> None:
        with fresh_db.unit_of_work() as session:
            token = make_token(session, Role.auditor, name="cert-auditor")
        client = make_client(fresh_db)
        client.app.state.access_log.interval = 3600  # the flusher would not come round
        with client:
            for _ in range(5):
                assert client.get("/api/v1/programmes", headers=auth(token)).is_success
            assert _count(fresh_db, AccessEntry) == 0
            assert client.app.state.access_log.waiting == 5
        assert _count(fresh_db, AccessEntry) == 5
        assert _verify(fresh_db).ok

    def test_the_reader_sees_their_reads_on_the_trail_page_and_over_rest(self, fresh_db) -> None:
        with fresh_db.unit_of_work() as session:
            token = make_token(session, Role.auditor, name="cert-auditor")
        with make_client(fresh_db) as client:
            client.get("/api/v1/deviations?severity=major", headers=auth(token))
            client.app.state.access_log.flush()
            listed = client.get("/api/v1/audit/access?actor=cert-auditor", headers=auth(token))
            checked = client.get("/api/v1/audit/access/verify", headers=auth(token)).json()
        assert listed.json()["items"][0]["request"] == "GET /api/v1/deviations?severity=major"
        assert checked["ok"] is True
        assert checked["entries"] >= 1
        with fresh_db.unit_of_work(write=False) as session:
            trail = session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.actor == "cert-auditor")
            )
        assert trail == 0  # the trail's chain is never touched by a read

    def test_batches_chain_when_several_processes_write_at_once(self, fresh_db) -> None:
        logs = [AccessLog(fresh_db, batch=7) for _ in range(4)]

        def write(log: AccessLog) -> None:
            for n in range(50):
                log.record(entry_for(AUDITOR, request=f"GET /x?{n}", client=None))
            log.close()

        threads = [threading.Thread(target=write, args=(log,)) for log in logs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        result = _verify(fresh_db)
        assert result.ok, result.problem
        assert result.entries == 200


class TestAppendOnly:
    @pytest.mark.parametrize(
        "statement",
        [
            "UPDATE access_entry SET request = 'GET /nothing' WHERE id = 1",
            "DELETE FROM access_entry WHERE id = 1",
            "UPDATE access_batch SET count = 0 WHERE seq = 1",
            "DELETE FROM access_batch WHERE seq = 1",
        ],
    )
    def test_the_database_refuses_to_change_or_remove(self, fresh_db, statement) -> None:
        _write(fresh_db, 3)
        with pytest.raises(DBAPIError, match="append-only"), fresh_db.engine.begin() as conn:
            conn.execute(text(statement))
        assert _count(fresh_db, AccessEntry) == 3


def _without_triggers(database: Database) -> None:
    with database.engine.begin() as conn:
        if database.engine.dialect.name == "sqlite":
            for table in ("access_entry", "access_batch"):
                conn.execute(text(f"DROP TRIGGER {table}_no_update"))
                conn.execute(text(f"DROP TRIGGER {table}_no_delete"))
        else:
            for table in ("access_entry", "access_batch"):
                conn.execute(text(f"DROP TRIGGER {table}_no_update_delete ON {table}"))


class TestVerify:
    def test_a_whole_log_verifies(self, fresh_db) -> None:
        _write(fresh_db, 25, batch=10)
        result = _verify(fresh_db)
        assert (result.ok, result.batches, result.entries) == (True, 3, 25)

    def test_a_changed_entry_is_found(self, fresh_db) -> None:
        _write(fresh_db, 25, batch=10)
        _without_triggers(fresh_db)
        with fresh_db.engine.begin() as conn:
            conn.execute(text("UPDATE access_entry SET request = 'GET /harmless' WHERE id = 14"))
        result = _verify(fresh_db)
        assert not result.ok
        assert result.first_broken_batch == 2
        assert "altered" in (result.problem or "")

    def test_a_removed_entry_is_found(self, fresh_db) -> None:
        _write(fresh_db, 25, batch=10)
        _without_triggers(fresh_db)
        with fresh_db.engine.begin() as conn:
            conn.execute(text("DELETE FROM access_entry WHERE id = 25"))
        result = _verify(fresh_db)
        assert not result.ok
        assert result.first_broken_batch == 3

    def test_a_removed_batch_is_found(self, fresh_db) -> None:
        _write(fresh_db, 25, batch=10)
        _without_triggers(fresh_db)
        with fresh_db.engine.begin() as conn:
            conn.execute(text("DELETE FROM access_entry WHERE batch_seq = 2"))
            conn.execute(text("DELETE FROM access_batch WHERE seq = 2"))
        result = _verify(fresh_db)
        assert not result.ok
        assert result.first_broken_batch == 2
        assert "missing" in (result.problem or "")

    def test_the_newest_batch_removed_is_found_by_the_head(self, fresh_db) -> None:
        _write(fresh_db, 25, batch=10)
        _without_triggers(fresh_db)
        with fresh_db.engine.begin() as conn:
            conn.execute(text("DELETE FROM access_entry WHERE batch_seq = 3"))
            conn.execute(text("DELETE FROM access_batch WHERE seq = 3"))
        result = _verify(fresh_db)
        assert not result.ok
        assert "removed" in (result.problem or "")

    def test_batches_are_signed_with_the_trails_key_and_a_forged_one_is_found(
        self, fresh_db, tmp_path, monkeypatch
    ) -> None:
        from qms.audit import checkpoints
        from qms.config import get_settings

        key = tmp_path / "signing-key"
        monkeypatch.setenv("QMS_SIGNING_KEY_FILE", str(key))
        get_settings.cache_clear()
        try:
            public = checkpoints.public_text(checkpoints.create_key(key))
            _write(fresh_db, 12, batch=5)
            with fresh_db.unit_of_work(write=False) as session:
                signed = access.verify(session, public_key=public)
            assert (signed.ok, signed.signed) == (True, 3)
            # Rewritten whole (entry, hash and every link after it), but not signed again.
            _without_triggers(fresh_db)
            with fresh_db.unit_of_work() as session:
                batches = session.scalars(select(AccessBatch).order_by(AccessBatch.seq)).all()
                entries = session.scalars(select(AccessEntry).order_by(AccessEntry.id)).all()
                entries[0].request = "GET /harmless"
                running = batches[0].prev_hash
                for batch in batches:
                    mine = [access.entry_payload(e) for e in entries if e.batch_seq == batch.seq]
                    batch.prev_hash = running
                    batch.hash = access.batch_hash(running, batch.seq, mine)
                    running = batch.hash
                session.execute(text("UPDATE access_log_head SET last_hash = :h"), {"h": running})
            with fresh_db.unit_of_work(write=False) as session:
                forged = access.verify(session, public_key=public)
            assert not forged.ok
            assert forged.first_broken_batch == 1
            assert "signature" in (forged.problem or "")
        finally:
            get_settings.cache_clear()

    def test_qms_audit_verify_checks_the_access_log_too(self, fresh_db, monkeypatch) -> None:
        from qms.config import get_settings

        _write(fresh_db, 4)
        monkeypatch.setenv(
            "QMS_DATABASE_URL", fresh_db.engine.url.render_as_string(hide_password=False)
        )
        monkeypatch.setenv("QMS_LANGUAGE", "en")
        get_settings.cache_clear()
        try:
            fine = CliRunner().invoke(cli, ["audit", "verify"])
            assert fine.exit_code == 0, fine.output
            assert "access log OK: 4 reads in 1 batches" in fine.stdout
            _without_triggers(fresh_db)
            with fresh_db.engine.begin() as conn:
                conn.execute(text("UPDATE access_entry SET client = '10.9.9.9' WHERE id = 2"))
            broken = CliRunner().invoke(cli, ["audit", "verify"])
            assert broken.exit_code == 1
            assert "access log BROKEN at batch 1" in broken.stdout
        finally:
            get_settings.cache_clear()


class TestAuditPack:
    def test_the_pack_carries_the_programmes_reads(self, fresh_db) -> None:
        import io
        import json
        import zipfile

        with fresh_db.unit_of_work() as session:
            programme = make_programme(session)
            scoped = make_token(
                session, Role.auditor, name="scoped-auditor", programme_code=programme.code
            )
            lead = make_token(session, Role.quality_lead)
            programme_id = programme.id
        with make_client(fresh_db) as client:
            client.get("/api/v1/deviations?severity=minor", headers=auth(scoped))
            client.app.state.access_log.flush()
            pack = client.get(
                f"/api/v1/documents/audit-pack?programme_id={programme_id}", headers=auth(lead)
            )
        assert pack.status_code == 200, pack.text
        with zipfile.ZipFile(io.BytesIO(pack.content)) as archive:
            named = {name: archive.read(name) for name in archive.namelist()}
        lines = [json.loads(line) for line in named["Access log.jsonl"].splitlines()]
        assert [(r["actor"], r["request"]) for r in lines] == [
            ("scoped-auditor", "GET /api/v1/deviations?severity=minor")
        ]
        verification = json.loads(named["Audit trail verification.json"])
        assert verification["access_log"]["ok"] is True
        assert verification["access_log"]["count"] == 1


class TestRuleCheckOutsideTheWritersTurn:
    def test_people_write_while_the_rule_check_reads(self, fresh_db, monkeypatch) -> None:
        """The rules are evaluated on a read-only snapshot: a write made meanwhile does not
        wait for them, and the check still opens its findings after it."""
        from qms.checks import service as checks
        from qms.checks.schemas import CheckResult
        from tests.factories import ADMIN
        from tests.test_followups import _cohort_with_pairs

        with fresh_db.unit_of_work() as session:
            _cohort_with_pairs(session, 3, min_meetings_per_month=2, min_minutes_per_month=120)
        reading, release = threading.Event(), threading.Event()
        real_find = checks.find

        def held_after_reading(session, **kwargs):
            found = real_find(session, **kwargs)
            reading.set()
            release.wait(60)
            return found

        monkeypatch.setattr(checks, "find", held_after_reading)
        results: list[CheckResult] = []
        thread = threading.Thread(
            target=lambda: results.append(checks.run_from_snapshot(fresh_db, actor=ADMIN))
        )
        thread.start()
        try:
            assert reading.wait(30)
            start = time.monotonic()
            with fresh_db.unit_of_work() as session:
                make_programme(session)  # a write, with its event in the trail
            waited = time.monotonic() - start
        finally:
            release.set()
            thread.join()
        assert waited < 5, f"a write waited {waited:.1f} s for the rule check's reading"
        assert len(results) == 1
        assert results[0].opened


# During the import of this many answers and the issue of a register of this many deviations (the
# issue's million rows and 10,000 deviations are bench/bench_read_during_write.py's).
ANSWERS, DEVIATIONS = 400_000, 8_000


@pytest.mark.slow(
    reason="imports 400,000 answers and issues an 8,000-row register while four auditors read "
    "2.5 times a second each, after and before the same reads on the idle service: 30-45 s"
)
def test_an_auditors_reads_do_not_wait_for_an_import_or_a_register(fresh_db, tmp_path) -> None:
    """The p99 of an auditor's reads during a large import and a register being issued is
    within 3x of the same reads' p99 on the idle service (issue #24: 8.7 s against 30 ms)."""
    if os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") != "1":
        # Beside other workers' tests the machine's cores are timed too, not the writers' turn.
        pytest.skip("timed alone: .ci/run runs it by itself on SQLite and PostgreSQL")
    path, token = busy.prepare(fresh_db, tmp_path, answers=ANSWERS, deviations=DEVIATIONS)
    url = fresh_db.engine.url.render_as_string(hide_password=False)
    fresh_db.dispose()
    idle, during, _ = busy.idle_and_busy(
        url, path, token, tmp_path / "register.docx", idle_reads=20
    )
    with fresh_db.unit_of_work(write=False) as session:
        answers = session.scalar(text("SELECT count(*) FROM evaluation_response"))
        logged = session.scalar(select(func.count()).select_from(AccessEntry))
        registers = session.scalar(
            text("SELECT count(*) FROM issued_document WHERE kind = 'deviation-register'")
        )
    assert (answers, registers) == (ANSWERS, 1)
    assert len(during) >= 60, "too few reads while the writers worked to judge"
    # Every read is in the log, the last ones written as the service stopped.
    assert logged == busy.WARM * busy.READERS + len(idle) + len(during)
    ratio = busy.p99(during) / busy.p99(idle)
    assert ratio <= 3, (
        f"p99 busy {busy.p99(during) * 1000:.0f} ms against idle {busy.p99(idle) * 1000:.0f} ms "
        f"({len(during)} reads while busy)"
    )
