"""Attacks found by probing the service, each kept as a test so that none returns."""

from __future__ import annotations

import base64
import inspect
import io
import json
import re
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import DatabaseError, IntegrityError
from starlette.datastructures import UploadFile

from api import uploads
from api.app import create_app
from api.routing import api_routes, page_routes
from qms.accounts import failures
from qms.accounts import service as accounts
from qms.accounts.models import AuthFailure, User
from qms.audit import checkpoints
from qms.audit import service as audit
from qms.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent
from qms.config import get_settings
from qms.db import Database, make_engine, utcnow
from qms.errors import Conflict, ValidationFailed
from qms.permissions import Role
from tests.conftest import make_client
from tests.factories import ADMIN, make_token
from tests.web import sign_in, web_user


def _cursor(after: Any) -> str:
    raw = json.dumps({"after": after}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _lists_with_a_cursor() -> tuple[list[str], list[str]]:
    app = create_app()
    api = [
        route.path
        for route in api_routes(app)
        if "GET" in (route.methods or set())
        and any(p.name == "cursor" for p in route.dependant.query_params)
    ]
    pages = [
        route.path
        for route in page_routes(app)
        if "GET" in (route.methods or set()) and '"cursor"' in inspect.getsource(route.endpoint)
    ]
    return api, pages


API_LISTS, PAGE_LISTS = _lists_with_a_cursor()
# Integers no key column holds: past PostgreSQL's INTEGER, past 64 bits, below zero.
FORGED = [2**31, 2**63, 2**64 + 5, 10**40, -1, -(2**63) - 1]


def test_every_paginated_list_is_found() -> None:
    # The probe below covers what this finds; a list that reads its cursor another way would be
    # missed, so the known ones must all be here.
    assert {"/api/v1/deviations", "/api/v1/actions", "/api/v1/audit/events"} <= set(API_LISTS)
    assert {"/deviations", "/actions", "/audit-trail"} <= set(PAGE_LISTS)


class TestForgedCursors:
    """A cursor holding a number beyond a 64-bit key once answered 500 on SQLite."""

    @pytest.mark.parametrize("path", API_LISTS)
    def test_the_api_refuses_it_naming_the_cursor(self, client, session, path) -> None:
        headers = {"Authorization": f"Bearer {make_token(session, Role.auditor)}"}
        for after in FORGED:
            # A list under a record (a batch's problems) is asked of a record that may not
            # exist: the cursor is refused first.
            url = re.sub(r"\{[^}]+\}", "1", path)
            r = client.get(url, params={"cursor": _cursor(after)}, headers=headers)
            assert r.status_code == 422, (path, after, r.status_code, r.text[:300])
            assert [e["field"] for e in r.json()["errors"]] == ["cursor"]

    @pytest.mark.parametrize("path", PAGE_LISTS)
    def test_a_page_says_the_link_is_broken(self, client, session, path) -> None:
        assert sign_in(client, web_user(session, Role.auditor)).status_code == 303
        for after in FORGED:
            r = client.get(path, params={"cursor": _cursor(after)})
            assert r.status_code == 422, (path, after, r.status_code)
            assert "The cursor is not one this service issued." in r.text

    def test_the_largest_key_is_still_read(self, client, session) -> None:
        headers = {"Authorization": f"Bearer {make_token(session, Role.auditor)}"}
        r = client.get("/api/v1/deviations", params={"cursor": _cursor(2**31 - 1)}, headers=headers)
        assert r.status_code == 200, r.text


def _trail(database: Any, action: str) -> list[AuditEvent]:
    with database.unit_of_work(write=False) as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
            )
        )


class TestFailedAuthentication:
    """A failed sign-in kept the typed name for ever; each failure wrote an event and took the
    chain's lock; three failures kept the user out from everywhere."""

    def test_what_was_typed_as_a_name_is_never_kept(self, fresh_db) -> None:
        with fresh_db.unit_of_work() as session:
            name = web_user(session, Role.coordinator)
        client = make_client(fresh_db)
        typed = "my-Secret-passw0rd typed into the name field"
        assert sign_in(client, typed, "whatever").status_code == 401
        assert sign_in(client, name, "a wrong guess").status_code == 401
        events = _trail(fresh_db, "login.failed")
        assert len(events) == 2
        assert all(typed not in f"{e.changes} {e.reason} {e.entity_id}" for e in events)
        assert [e.entity for e in events] == ["session", "user"]
        # The audit pack and the trail page read the same events.
        with fresh_db.unit_of_work(write=False) as session:
            assert session.scalars(select(User).where(User.name == name)).one().id == int(
                events[1].entity_id or 0
            )

    def test_failures_are_summarised_not_written_one_by_one(self, fresh_db) -> None:
        client = make_client(fresh_db)
        before = len(_trail(fresh_db, "login.failed"))
        statuses = Counter(
            client.get(
                "/api/v1/programmes", headers={"Authorization": f"Bearer qms_bad{n}"}
            ).status_code
            for n in range(60)
        )
        # One event for the first failure of the minute; the rest wait for the summary.
        events = _trail(fresh_db, "login.failed")[before:]
        assert len(events) == 1
        assert events[0].changes["failures"]["new"] == 1
        with fresh_db.unit_of_work() as session:
            assert failures.summarise_all(session, now=utcnow()) == 1
        events = _trail(fresh_db, "login.failed")[before:]
        assert sum(e.changes["failures"]["new"] for e in events) == 60
        # The client was made to wait after its free failures (the waits are seconds long, so
        # a stalled machine may see a wait end and another 401 before the next).
        assert statuses[401] >= failures.FREE_FAILURES["api"]
        assert statuses[429] >= 1
        assert statuses[401] + statuses[429] == 60

    def test_a_summary_is_written_once_a_minute(self, fresh_db) -> None:
        start = utcnow()
        with fresh_db.unit_of_work() as session:
            for second in range(0, 150, 3):
                failures.note_failure(
                    session,
                    via="api",
                    subject=failures.UNKNOWN_TOKEN,
                    client="192.0.2.7",
                    reason="The token is not known.",
                    now=start + timedelta(seconds=second),
                )
        events = _trail(fresh_db, "login.failed")
        # At 0 s (the first), at 60 s and at 120 s, each counting those since the one before.
        assert [e.changes["failures"]["new"] for e in events] == [1, 20, 20]
        assert [e.changes["client"]["new"] for e in events] == ["192.0.2.7"] * 3

    def test_the_failing_client_waits_and_a_good_token_still_works(self, fresh_db) -> None:
        with fresh_db.unit_of_work() as session:
            good = make_token(session, Role.auditor)
        client = make_client(fresh_db)
        for n in range(failures.FREE_FAILURES["api"]):
            r = client.get("/api/v1/me", headers={"Authorization": f"Bearer qms_bad{n}"})
            assert r.status_code == 401
        r = client.get("/api/v1/me", headers={"Authorization": "Bearer qms_bad-again"})
        assert r.status_code == 429
        assert int(r.headers["Retry-After"]) == failures.FIRST_WAIT_SECONDS["api"]
        assert r.json()["title"] == "Too many requests"
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {good}"}).is_success

    def test_nobody_can_keep_a_user_out_by_failing_for_them(self, fresh_db) -> None:
        with fresh_db.unit_of_work() as session:
            name = web_user(session, Role.quality_lead)
        attacker = make_client(fresh_db, address="203.0.113.66")
        for _ in range(failures.FREE_FAILURES["web"]):
            assert sign_in(attacker, name, "guessing").status_code == 401
        assert sign_in(attacker, name, "guessing").status_code == 429
        # As if it had kept at it for a while: a wait of minutes, not seconds, from now.
        with fresh_db.unit_of_work() as session:
            row = session.scalars(select(AuthFailure).where(AuthFailure.via == "web")).one()
            row.in_a_row, row.last_failed_at = 10, utcnow()
        # The user, from their own address, signs in at once.
        assert sign_in(make_client(fresh_db, address="198.51.100.5"), name).status_code == 303
        # And the attacker still waits.
        assert sign_in(attacker, name).status_code == 429


DEVIATION = {
    "kind": "deviation_from_plan",
    "source": "follow_up",
    "severity": "minor",
    "title": "Pair meets less often than the programme rule",
    "description": "One meeting in two months.",
}


class TestTextRules:
    """DEL, C1 controls and bidirectional overrides were accepted in titles."""

    @pytest.mark.parametrize(
        ("character", "code"),
        [
            ("\x7f", "007F"),
            ("\x85", "0085"),
            ("\x9b", "009B"),
            ("\u202e", "202E"),
            ("\u2066", "2066"),
        ],
    )
    def test_a_title_refuses_it_naming_the_character(
        self, client, session, character, code
    ) -> None:
        lead = {"Authorization": f"Bearer {make_token(session, Role.quality_lead)}"}
        title = f"Invoice{character}fdp.exe"
        r = client.post("/api/v1/deviations", headers=lead, json={**DEVIATION, "title": title})
        assert r.status_code == 422, r.text
        [error] = r.json()["errors"]
        assert error["field"] == "title"
        assert f"U+{code} at character 8" in error["message"]

    def test_letters_of_every_language_and_line_ends_stay_text(self, client, session) -> None:
        lead = {"Authorization": f"Bearer {make_token(session, Role.quality_lead)}"}
        text = {"title": "Møte på svenska: Åsa, Ögonblick — «ja»", "description": "a\r\n\tb\nc"}
        r = client.post("/api/v1/deviations", headers=lead, json={**DEVIATION, **text})
        assert r.status_code == 201, r.text
        assert r.json()["title"] == text["title"]


class TestUserNames:
    """`Demo-Auditor` could be created beside `demo-auditor`."""

    def test_a_name_differing_only_in_case_is_refused(self, session) -> None:
        accounts.create_user(session, actor=ADMIN, name="demo-auditor", role=Role.auditor)
        with pytest.raises(Conflict) as refused:
            accounts.create_user(session, actor=ADMIN, name="Demo-Auditor", role=Role.admin)
        assert "demo-auditor" in str(refused.value.detail)
        names = session.scalars(select(User.name).where(User.name.ilike("demo-auditor"))).all()
        assert names == ["demo-auditor"]

    def test_the_database_holds_the_rule_too(self, session) -> None:
        accounts.create_user(session, actor=ADMIN, name="kari", role=Role.coordinator)
        with pytest.raises(IntegrityError), session.begin_nested():
            session.add(User(name="KARI", name_key="kari", role=Role.admin, is_active=True))


# What an attacker with the database's own credentials does first: every trigger that guards
# the trail taken away.
DROP_GUARDS = {
    "sqlite": [
        "DROP TRIGGER audit_event_no_update",
        "DROP TRIGGER audit_event_no_delete",
        "DROP TRIGGER audit_event_next_only",
        "DROP TRIGGER audit_checkpoint_no_update",
        "DROP TRIGGER audit_checkpoint_no_delete",
    ],
    "postgresql": [
        "DROP TRIGGER audit_event_no_update_delete ON audit_event",
        "DROP TRIGGER audit_event_next_only ON audit_event",
        "DROP TRIGGER audit_checkpoint_no_update_delete ON audit_checkpoint",
    ],
}


@pytest.fixture
def signed(fresh_db, tmp_path, monkeypatch):
    """A database whose trail is signed, with its key and checkpoint file outside it."""
    monkeypatch.setenv("QMS_SIGNING_KEY_FILE", str(tmp_path / "keys" / "trail.key"))
    monkeypatch.setenv("QMS_CHECKPOINT_FILE", str(tmp_path / "trail.checkpoints"))
    get_settings.cache_clear()
    checkpoints.create_key(tmp_path / "keys" / "trail.key")
    for n in range(3):
        # Three transactions, as three requests would write them.
        with fresh_db.unit_of_work() as session:
            for i in range(4):
                audit.record_event(
                    session, actor=ADMIN, action="note", entity="thing", entity_id=n * 4 + i
                )
    yield fresh_db
    get_settings.cache_clear()


def _verify(database: Any, public_key: str | None = None) -> audit.VerifyResult:
    with database.unit_of_work(write=False) as session:
        return audit.verify(session, public_key=public_key)


def _attack(database: Any, *statements: str, **params: Any) -> None:
    with database.engine.begin() as conn:
        for statement in DROP_GUARDS[conn.dialect.name]:
            conn.exec_driver_sql(statement)
        for statement in statements:
            conn.execute(text(statement), params)


def _rechain(database: Any, upto: int | None = None) -> None:
    """Recompute every hash after a change and move the head to match, as a careful attacker."""
    with database.engine.begin() as conn:
        running = GENESIS_HASH
        rows = conn.execute(select(AuditEvent.__table__).order_by(AuditEvent.seq)).all()
        for row in rows:
            fresh = audit.compute_hash(running, audit.event_payload(row))
            conn.execute(
                update(AuditEvent)
                .where(AuditEvent.seq == row.seq)
                .values(prev_hash=running, hash=fresh)
            )
            running = fresh
        conn.execute(update(AuditChainHead).values(count=len(rows), last_hash=running))


class TestTamperEvidence:
    """The chain had no key: anyone who could write to the database could rewrite it."""

    def test_a_signed_trail_verifies_and_each_transaction_reaches_the_outside_file(
        self, signed, tmp_path
    ) -> None:
        result = _verify(signed)
        assert result.ok, result.problem
        assert result.count == 12
        assert result.vouched_to == 12
        lines = (tmp_path / "trail.checkpoints").read_text().splitlines()
        assert [json.loads(line)["seq"] for line in lines] == [4, 8, 12]

        # A rolled-back transaction leaves no checkpoint outside.
        def failing_request() -> None:
            with signed.unit_of_work() as session:
                audit.record_event(session, actor=ADMIN, action="note", entity="thing")
                raise RuntimeError("the request failed")

        with pytest.raises(RuntimeError):
            failing_request()
        assert len((tmp_path / "trail.checkpoints").read_text().splitlines()) == 3
        assert _verify(signed).ok

    def test_a_forged_event_appended_with_a_correct_hash_is_found(self, signed) -> None:
        with signed.unit_of_work(write=False) as session:
            head = session.get(AuditChainHead, 1)
            assert head is not None
            count, last = head.count, head.last_hash
        forged = {
            "seq": count + 1,
            "at": utcnow(),
            "actor_id": None,
            "actor": "admin",
            "action": "deviation.closed",
            "entity": "deviation",
            "entity_id": "1",
            "programme_id": None,
            "changes": {},
            "reason": "forged",
            "prev_hash": last,
        }
        forged["hash"] = audit.compute_hash(last, audit.event_payload(SimpleNamespace(**forged)))
        # The next event, linked right: the database's own guards let it in.
        with signed.engine.begin() as conn:
            conn.execute(insert(AuditEvent).values(**forged))
            conn.execute(update(AuditChainHead).values(count=count + 1, last_hash=forged["hash"]))
        result = _verify(signed)
        assert not result.ok
        assert result.first_broken_seq == count + 1
        assert "no signed checkpoint" in (result.problem or "")

    def test_the_newest_events_removed_and_the_head_moved_back_are_found(self, signed) -> None:
        _attack(
            signed,
            "DELETE FROM audit_event WHERE seq > 6",
            "DELETE FROM audit_checkpoint WHERE seq > 6",
        )
        _rechain(signed)
        result = _verify(signed)
        assert not result.ok
        assert "vouches for event 8, but the chain ends at event 6" in (result.problem or "")

    def test_an_event_edited_and_the_rest_recomputed_is_found(self, signed) -> None:
        _attack(signed, "UPDATE audit_event SET reason = 'rewritten' WHERE seq = 5")
        _rechain(signed)
        result = _verify(signed)
        assert not result.ok
        assert result.first_broken_seq == 5
        assert "is not the one its signed checkpoint" in (result.problem or "")

    def test_a_checkpoint_signed_with_another_key_is_found(self, signed, tmp_path) -> None:
        _attack(signed, "UPDATE audit_event SET reason = 'rewritten' WHERE seq = 12")
        _rechain(signed)
        # Re-signed with a key of the attacker's own, in the database and outside.
        checkpoints.create_key(tmp_path / "attacker.key")
        attacker = checkpoints._load_key(str(tmp_path / "attacker.key"), 0)
        with signed.unit_of_work(write=False) as session:
            head = session.get(AuditChainHead, 1)
            assert head is not None
            fresh_hash = head.last_hash
        at = utcnow().replace(microsecond=0)
        signature = base64.b64encode(
            attacker.sign(checkpoints._message(12, fresh_hash, at))
        ).decode()
        with signed.engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE audit_checkpoint SET hash = :h, at = :at, signature = :s WHERE seq = 12"
                ),
                {"h": fresh_hash, "at": at, "s": signature},
            )
        result = _verify(signed)
        assert not result.ok
        assert "not signed by the trail's key" in (result.problem or "")

    def test_the_outside_file_removed_is_found(self, signed, tmp_path) -> None:
        (tmp_path / "trail.checkpoints").unlink()
        result = _verify(signed)
        assert not result.ok
        assert "is missing" in (result.problem or "")

    def test_the_auditor_verifies_with_the_public_half_only(self, signed, tmp_path) -> None:
        key = checkpoints.signing_key()
        assert key is not None
        public = checkpoints.public_text(key.public_key())
        (tmp_path / "keys" / "trail.key").unlink()
        assert _verify(signed).checkpoints is None  # no key here: nothing to check with
        result = _verify(signed, public_key=public)
        assert result.ok, result.problem
        assert result.checkpoints == 12 + 3
        wrong = checkpoints.public_text(checkpoints.create_key(tmp_path / "other.key"))
        assert not _verify(signed, public_key=wrong).ok

    def test_an_event_slipped_in_or_replaced_is_refused_by_the_database(self, signed) -> None:
        with signed.engine.begin() as conn:
            row = conn.execute(select(AuditEvent.__table__).where(AuditEvent.seq == 3)).one()
        values = {**row._mapping, "reason": "replaced"}
        statement = insert(AuditEvent).values(**values)
        if signed.engine.dialect.name == "sqlite":
            # REPLACE deletes the old row without firing the DELETE trigger.
            statement = statement.prefix_with("OR REPLACE")
        with pytest.raises(DatabaseError, match="append-only"), signed.engine.begin() as conn:
            conn.execute(statement)
        with pytest.raises(DatabaseError, match="append-only"), signed.engine.begin() as conn:
            conn.execute(insert(AuditEvent).values(**{**values, "seq": 99}))
        assert _verify(signed).ok


class TestLeftovers:
    """A killed import left its spool file (the whole upload) in the temporary folder."""

    def test_the_uploads_of_a_killed_process_are_removed_as_the_service_starts(
        self, fresh_db
    ) -> None:
        dead = subprocess.Popen(["true"])
        dead.wait()
        with uploads.import_folder() as live:
            left = live.parent / f"{dead.pid}-{'0' * 16}"
            left.mkdir()
            (left / "upload").write_bytes(b"participant_code,question_code\n" * 1000)
            with make_client(fresh_db):  # the application starts (and stops)
                pass
            assert not left.exists()
            # This process's own upload, still being imported, stays.
            assert live.exists()
        assert not live.exists()


def test_failures_not_yet_summarised_are_written_when_the_service_stops(fresh_db) -> None:
    with make_client(fresh_db) as client:
        for n in range(5):
            client.get("/api/v1/me", headers={"Authorization": f"Bearer qms_bad{n}"})
        assert [e.changes["failures"]["new"] for e in _trail(fresh_db, "login.failed")] == [1]
    # Stopped cleanly: the four after the first are in the trail too.
    assert [e.changes["failures"]["new"] for e in _trail(fresh_db, "login.failed")] == [1, 4]


def test_a_database_gone_before_the_service_stops_does_not_fail_the_stop(server) -> None:
    url = server.new_database()
    database = Database(make_engine(url))
    client = make_client(database)
    with client:
        server.drop(url)
        database.dispose()
    # Nothing raised: the summaries are logged as not written.


def test_a_file_read_for_its_columns_is_kept_an_hour_by_the_services_clock() -> None:
    upload = UploadFile(io.BytesIO(b"deltaker;fornoyd\nM-1;4\n"), filename="svar.csv")
    token, path = uploads.keep_pending(upload, owner=7)
    try:
        assert uploads.pending(token, owner=7) == (path, "svar.csv")
        with pytest.raises(ValidationFailed):
            uploads.pending(token, owner=8)  # another user's
        later = datetime.now(UTC) + timedelta(seconds=uploads.PENDING_SECONDS + 60)
        with time_machine.travel(later):
            with pytest.raises(ValidationFailed) as gone:
                uploads.pending(token, owner=7)
            assert gone.value.errors[0].field == "file"
    finally:
        uploads.drop_pending(token)
