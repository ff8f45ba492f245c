"""The audit trail: a hash chain that verifies, refuses edits, and detects tampering."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from qms.audit import service as audit
from qms.audit.models import AuditEvent
from qms.db import Database
from qms.permissions import Actor, Role
from tests.factories import make_programme

ACTOR = Actor(user_id=7, name="quality-lead", role=Role.quality_lead)


def _append(database: Database, n: int) -> None:
    with database.unit_of_work() as session:
        for i in range(n):
            audit.record_event(
                session,
                actor=ACTOR,
                action="test.event",
                entity="thing",
                entity_id=i,
                changes={"field": {"old": i, "new": i + 1}},
                reason=f"reason {i}",
            )


def _verify(database: Database) -> audit.VerifyResult:
    with database.unit_of_work(write=False) as session:
        return audit.verify(session)


def _drop_append_only_triggers(database: Database) -> None:
    # What an attacker with database rights would do first.
    with database.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER audit_event_no_update"))
            conn.execute(text("DROP TRIGGER audit_event_no_delete"))
        else:
            conn.execute(text("DROP TRIGGER audit_event_no_update_delete ON audit_event"))


class TestChain:
    def test_events_link_to_their_predecessor(self, session) -> None:
        first = audit.record_event(session, actor=ACTOR, action="a", entity="x", entity_id=1)
        second = audit.record_event(session, actor=ACTOR, action="b", entity="x", entity_id=1)
        assert second.seq == first.seq + 1
        assert second.prev_hash == first.hash
        assert second.hash == audit.compute_hash(first.hash, audit.event_payload(second))

    def test_a_whole_chain_verifies(self, fresh_db) -> None:
        _append(fresh_db, 25)
        result = _verify(fresh_db)
        assert result.ok, result.problem
        assert result.count == result.head_count == 25

    def test_an_empty_chain_verifies(self, fresh_db) -> None:
        result = _verify(fresh_db)
        assert result.ok
        assert result.count == 0

    def test_the_event_is_written_in_the_callers_transaction(self, fresh_db) -> None:
        def failing_request() -> None:
            with fresh_db.unit_of_work() as session:
                make_programme(session, code="ROLLED-BACK")
                raise RuntimeError("the request failed after the change")

        with pytest.raises(RuntimeError):
            failing_request()
        with fresh_db.unit_of_work(write=False) as session:
            assert session.scalars(select(AuditEvent)).all() == []
            assert audit.verify(session).ok


class TestDatabaseRefusesChanges:
    def test_update_is_refused(self, fresh_db) -> None:
        _append(fresh_db, 2)
        with pytest.raises(DatabaseError, match="append-only"), fresh_db.engine.begin() as conn:
            conn.execute(text("UPDATE audit_event SET reason = 'rewritten' WHERE seq = 1"))
        assert _verify(fresh_db).ok

    def test_delete_is_refused(self, fresh_db) -> None:
        _append(fresh_db, 2)
        with pytest.raises(DatabaseError, match="append-only"), fresh_db.engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_event WHERE seq = 2"))
        assert _verify(fresh_db).count == 2


class TestTamperingIsDetected:
    @pytest.fixture
    def chain(self, fresh_db) -> Database:
        _append(fresh_db, 10)
        _drop_append_only_triggers(fresh_db)
        return fresh_db

    def test_an_edited_field(self, chain) -> None:
        with chain.engine.begin() as conn:
            conn.execute(text("UPDATE audit_event SET reason = 'nothing happened' WHERE seq = 4"))
        result = _verify(chain)
        assert not result.ok
        assert result.first_broken_seq == 4
        assert "altered" in (result.problem or "")

    def test_an_edited_event_with_its_hash_recomputed(self, chain) -> None:
        # The attacker recomputes the edited event's own hash; the next event no longer links.
        with chain.unit_of_work() as session:
            event = session.get(AuditEvent, 4)
            assert event is not None
            event.actor = "someone-else"
            event.hash = audit.compute_hash(event.prev_hash, audit.event_payload(event))
        result = _verify(chain)
        assert not result.ok
        assert result.first_broken_seq == 5

    def test_a_deleted_event_in_the_middle(self, chain) -> None:
        with chain.engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_event WHERE seq = 6"))
        result = _verify(chain)
        assert not result.ok
        assert result.first_broken_seq == 6
        assert "missing" in (result.problem or "")

    def test_the_newest_events_deleted(self, chain) -> None:
        with chain.engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_event WHERE seq > 7"))
        result = _verify(chain)
        assert not result.ok
        assert result.count == 7
        assert result.head_count == 10
        assert result.first_broken_seq == 8

    def test_an_inserted_event(self, chain) -> None:
        with chain.engine.begin() as conn:
            last = conn.execute(text("SELECT hash FROM audit_event WHERE seq = 10")).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO audit_event (seq, at, actor, action, entity, changes, prev_hash,"
                    " hash) VALUES (11, :at, 'intruder', 'user.created', 'user', '{}', :prev,"
                    " :hash)"
                ),
                {"at": "2026-01-01 00:00:00", "prev": last, "hash": "f" * 64},
            )
        result = _verify(chain)
        assert not result.ok
        assert result.first_broken_seq == 11

    def test_a_well_forged_event_appended_is_caught_by_the_head(self, chain) -> None:
        # Even with a correct hash, an event appended behind the service's back leaves the head
        # (count and last hash) behind.
        with chain.unit_of_work() as session:
            last = session.get(AuditEvent, 10)
            assert last is not None
            forged = AuditEvent(
                seq=11,
                at=last.at,
                actor_id=None,
                actor="intruder",
                action="user.created",
                entity="user",
                entity_id="99",
                programme_id=None,
                changes={},
                reason=None,
                prev_hash=last.hash,
            )
            forged.hash = audit.compute_hash(last.hash, audit.event_payload(forged))
            session.add(forged)
        result = _verify(chain)
        assert not result.ok
        assert result.first_broken_seq == 11
        assert "head" in (result.problem or "")


class TestConcurrentAppends:
    def test_many_writers_leave_one_chain(self, fresh_db) -> None:
        writers, each = 8, 15
        failures: list[BaseException] = []

        def work() -> None:
            try:
                for _ in range(each):
                    _append(fresh_db, 1)
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=work) for _ in range(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failures == []
        result = _verify(fresh_db)
        assert result.ok, result.problem
        assert result.count == writers * each


class TestPersonalData:
    def test_a_personal_field_is_recorded_as_changed_without_values(self) -> None:
        changes = audit.diff(
            {"email": "ana@example.org", "field": "engineering"},
            {"email": "ana.b@example.org", "field": "environment"},
            personal=["email"],
        )
        assert changes == {
            "email": {"changed": True},
            "field": {"old": "engineering", "new": "environment"},
        }
        assert "example.org" not in audit.canonical_json(changes)

    def test_values_are_stored_as_plain_json(self) -> None:
        import datetime as dt

        changes = audit.diff({}, {"start_on": dt.date(2026, 2, 2), "role": Role.auditor})
        assert changes == {
            "role": {"old": None, "new": "auditor"},
            "start_on": {"old": None, "new": "2026-02-02"},
        }
