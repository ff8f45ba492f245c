"""Accounts and tokens: stored hashed; expired, revoked and unknown tokens are turned away."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from qms.access.models import AccessEntry
from qms.accounts import service as accounts
from qms.accounts.models import ApiToken
from qms.audit.models import AuditEvent
from qms.db import utcnow
from qms.errors import Conflict, Forbidden, Unauthenticated, ValidationFailed
from qms.permissions import PERMISSIONS, Action, Actor, Role, can
from tests.conftest import make_client
from tests.factories import ADMIN, auth, make_programme, make_token
from tests.threads import at_once


class TestTokens:
    def test_only_the_hash_is_stored(self, session) -> None:
        secret = make_token(session, Role.auditor, name="ana")
        stored = session.scalars(select(ApiToken)).all()
        assert all(secret not in (t.token_hash, t.prefix) for t in stored)
        assert accounts.hash_token(secret) in {t.token_hash for t in stored}

    def test_a_token_authenticates_as_its_user(self, session) -> None:
        secret = make_token(session, Role.coordinator, name="coord")
        actor = accounts.authenticate(session, secret)
        assert (actor.name, actor.role) == ("coord", Role.coordinator)

    def test_an_expired_token_is_refused(self, session) -> None:
        secret = make_token(session, Role.auditor, expires_in_days=1)
        token = session.scalars(
            select(ApiToken).where(ApiToken.token_hash == accounts.hash_token(secret))
        ).one()
        token.expires_at = utcnow() - timedelta(seconds=1)
        with pytest.raises(Unauthenticated, match="expired"):
            accounts.authenticate(session, secret)

    def test_a_revoked_token_is_refused(self, session) -> None:
        secret = make_token(session, Role.auditor, name="gone")
        token_id = accounts.authenticate(session, secret).token_id
        assert token_id is not None
        accounts.revoke_token(session, actor=ADMIN, token_id=token_id, reason="left the team")
        with pytest.raises(Unauthenticated, match="revoked"):
            accounts.authenticate(session, secret)

    def test_duplicate_user_names_are_refused(self, session) -> None:
        make_token(session, Role.auditor, name="same")
        with pytest.raises(Conflict):
            accounts.create_user(session, actor=ADMIN, name="same", role=Role.importer)

    def test_an_unknown_programme_scope_names_the_field(self, session) -> None:
        accounts.create_user(session, actor=ADMIN, name="scoped", role=Role.auditor)
        with pytest.raises(ValidationFailed) as info:
            accounts.create_token(session, actor=ADMIN, user_name="scoped", programme_code="NOPE")
        assert info.value.errors[0].field == "programme"

    def test_only_admins_manage_users(self, session) -> None:
        lead = Actor(user_id=None, name="lead", role=Role.quality_lead)
        with pytest.raises(Forbidden):
            accounts.create_user(session, actor=lead, name="x", role=Role.admin)

    def test_creating_and_revoking_are_audited(self, session) -> None:
        secret = make_token(session, Role.auditor, name="traced")
        token_id = accounts.authenticate(session, secret).token_id
        accounts.revoke_token(session, actor=ADMIN, token_id=token_id or 0, reason="rotation")
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)).all()
        assert actions[-3:] == ["user.created", "token.created", "token.revoked"]
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        assert all(secret not in str(e.changes) for e in events)


class TestOverHttp:
    def test_expired_and_revoked_tokens_answer_401(self, client, session) -> None:
        expired = make_token(session, Role.auditor, expires_in_days=1)
        revoked = make_token(session, Role.auditor)
        for token in session.scalars(select(ApiToken)):
            if token.token_hash == accounts.hash_token(expired):
                token.expires_at = utcnow() - timedelta(minutes=1)
            if token.token_hash == accounts.hash_token(revoked):
                token.revoked_at = utcnow()
        session.flush()
        for secret, why in (
            (expired, "expired"),
            (revoked, "revoked"),
            ("qms_nonsense", "not known"),
        ):
            r = client.get("/api/v1/me", headers=auth(secret))
            assert r.status_code == 401
            assert r.headers["content-type"] == "application/problem+json"
            assert why in r.json()["detail"]
            assert r.headers["www-authenticate"] == "Bearer"

    def test_an_expired_token_is_turned_away_in_bokmal(self, client, session) -> None:
        expired = make_token(session, Role.coordinator)
        for token in session.scalars(select(ApiToken)):
            if token.token_hash == accounts.hash_token(expired):
                token.expires_at = utcnow() - timedelta(minutes=1)
        session.flush()
        r = client.get("/api/v1/me", headers={**auth(expired), "Accept-Language": "nb"})
        assert r.status_code == 401
        assert r.json()["title"] == "Unauthenticated"
        assert r.json()["detail"] == "Tokenet er utløpt: be en administrator om et nytt."

    def test_a_failed_login_is_in_the_audit_trail(self, fresh_db) -> None:
        client = make_client(fresh_db)
        r = client.get("/api/v1/programmes", headers=auth("qms_guessing-1234567890"))
        assert r.status_code == 401
        with fresh_db.unit_of_work(write=False) as session:
            event = session.scalars(
                select(AuditEvent).where(AuditEvent.action == "login.failed")
            ).one()
        assert event.reason.startswith("The token is not known")
        assert event.changes["failures"]["new"] == 1
        # Nothing of what was sent is kept: it might be a secret pasted in the wrong place.
        assert "qms_guess" not in str(event.changes) + str(event.reason)


class TestProgrammeScope:
    def test_a_scoped_auditor_sees_only_its_programme(self, client, session) -> None:
        mine = make_programme(session, code="MINE")
        other = make_programme(session, code="OTHER")
        token = make_token(session, Role.auditor, programme_code="MINE")
        listed = client.get("/api/v1/programmes", headers=auth(token)).json()["items"]
        assert [p["code"] for p in listed] == ["MINE"]
        assert client.get(f"/api/v1/programmes/{mine.id}", headers=auth(token)).status_code == 200
        r = client.get(f"/api/v1/programmes/{other.id}", headers=auth(token))
        assert r.status_code == 404
        assert (
            client.get(f"/api/v1/programmes/{other.id}/cohorts", headers=auth(token)).status_code
            == 404
        )

    def test_a_scoped_auditor_reads_only_its_programmes_events(self, client, session) -> None:
        make_programme(session, code="MINE")
        make_programme(session, code="OTHER")
        token = make_token(session, Role.auditor, programme_code="MINE")
        events = client.get("/api/v1/audit/events?limit=200", headers=auth(token)).json()["items"]
        assert events, "the programme's own events are visible"
        assert {e["entity"] for e in events} >= {"programme"}
        assert all(e["programme_id"] == events[0]["programme_id"] for e in events)
        assert not any(e["changes"].get("code", {}).get("new") == "OTHER" for e in events)


class TestPermissionTable:
    def test_auditors_and_importers_change_nothing(self) -> None:
        # An auditor reads, and issues documents of what it reads (kept, for the record).
        assert {a for a in PERMISSIONS[Role.auditor] if not a.is_read} == {Action.document_generate}
        # An importer reads its own batches and imports; it changes no other record.
        assert {a for a in PERMISSIONS[Role.importer] if not a.is_read} == {
            Action.evaluation_import
        }
        assert not Action.deviation_log.is_read

    def test_admin_may_do_everything(self) -> None:
        assert all(can(Role.admin, a) for a in Action)


class TestAuditorAccessLog:
    def test_every_use_of_an_auditors_token_is_in_the_access_log(self, fresh_db) -> None:
        with fresh_db.unit_of_work() as session:
            token = make_token(session, Role.auditor, name="cert-auditor")
            lead = make_token(session, Role.quality_lead, name="lead")
        with make_client(fresh_db) as client:  # stopped cleanly: the buffer is written
            assert (
                client.get("/api/v1/programmes?status=running", headers=auth(token)).status_code
                == 200
            )
            assert client.get("/api/v1/me", headers=auth(lead)).status_code == 200
        with fresh_db.unit_of_work(write=False) as session:
            reads = session.scalars(select(AccessEntry)).all()
            trail = session.scalars(
                select(AuditEvent).where(AuditEvent.action == "access.read")
            ).all()
        assert [(e.actor, e.request, e.client) for e in reads] == [
            ("cert-auditor", "GET /api/v1/programmes?status=running", "testclient")
        ]
        # The reads stay out of the trail's chain: a reader never waits for its lock.
        assert trail == []

    def test_a_refused_or_audited_write_does_not_wait_on_its_own_lock(self, fresh_db) -> None:
        # Recording the failure (or the auditor's use) must not queue behind the request's own
        # write transaction: on SQLite that ends in 'database is locked' (503) after the busy
        # timeout.
        with fresh_db.unit_of_work() as session:
            token = make_token(session, Role.auditor)
        body = {"code": "X", "name": "x", "organiser": "o"}
        with make_client(fresh_db) as client:
            assert (
                client.post("/api/v1/programmes", json=body, headers=auth("qms_bad")).status_code
                == 401
            )
            assert (
                client.post("/api/v1/programmes", json=body, headers=auth(token)).status_code == 403
            )
        with fresh_db.unit_of_work(write=False) as session:
            actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)).all()
            reads = session.scalars(select(AccessEntry.request)).all()
        assert actions[-1] == "login.failed"
        assert reads == ["POST /api/v1/programmes"]


def test_two_admins_deactivating_each_other_at_once_leave_one_admin(fresh_db) -> None:
    """The last active admin is never deactivated, not even by two admins at the same moment."""
    with fresh_db.unit_of_work() as session:
        admins = [
            accounts.create_user(session, actor=ADMIN, name=name, role=Role.admin)
            for name in ("ada", "bo")
        ]
        actors = [Actor(user_id=u.id, name=u.name, role=u.role) for u in admins]

    def deactivate(actor: Actor, other: str) -> str:
        try:
            with fresh_db.unit_of_work() as session:
                accounts.set_active(
                    session, actor=actor, user_name=other, active=False, reason="left"
                )
        except Conflict as refused:
            return str(refused)
        return "done"

    answers = at_once(lambda: deactivate(actors[0], "bo"), lambda: deactivate(actors[1], "ada"))
    assert answers.count("done") == 1, answers
    assert "last active admin" in next(a for a in answers if a != "done")
    with fresh_db.unit_of_work(write=False) as session:
        active = [u.name for u in accounts.list_users(session, actor=ADMIN) if u.is_active]
        assert len([name for name in active if name in ("ada", "bo")]) == 1


class TestDisplayNames:
    def test_a_user_is_created_with_the_name_people_read_them_by(self, session) -> None:
        user = accounts.create_user(
            session, actor=ADMIN, name="kari", role=Role.coordinator, display_name="Kari Nordmann"
        )
        assert (user.name, user.display_name) == ("kari", "Kari Nordmann")
        created = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "user.created")
        ).all()[-1]
        assert created.changes["display_name"] == {"old": None, "new": "Kari Nordmann"}

    def test_a_change_is_audited_in_the_same_unit_of_work(self, session) -> None:
        user = accounts.create_user(session, actor=ADMIN, name="sven", role=Role.auditor)
        assert user.display_name is None
        accounts.set_display_name(
            session, actor=ADMIN, user_name="sven", display_name="  Sven   Lindqvist "
        )
        accounts.set_display_name(
            session, actor=ADMIN, user_name="sven", display_name="Sven Lindqvist"
        )
        accounts.set_display_name(session, actor=ADMIN, user_name="sven", display_name="")
        # Not committed: the events are in the same transaction as the change.
        changed = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "user.display_name_changed")
            .order_by(AuditEvent.seq)
        ).all()
        # Spaces are tidied; the same name again is no change; empty shows the login again.
        assert [e.changes["display_name"] for e in changed] == [
            {"old": None, "new": "Sven Lindqvist"},
            {"old": "Sven Lindqvist", "new": None},
        ]
        assert {(e.entity, e.entity_id, e.actor) for e in changed} == {
            ("user", str(user.id), ADMIN.name)
        }
        assert user.display_name is None

    def test_only_admins_change_it_and_it_has_a_length(self, session) -> None:
        accounts.create_user(session, actor=ADMIN, name="olav", role=Role.coordinator)
        lead = Actor(user_id=None, name="lead", role=Role.quality_lead)
        with pytest.raises(Forbidden):
            accounts.set_display_name(session, actor=lead, user_name="olav", display_name="Olav")
        with pytest.raises(ValidationFailed) as info:
            accounts.set_display_name(
                session, actor=ADMIN, user_name="olav", display_name="O" * 201
            )
        assert info.value.errors[0].field == "display_name"

    def test_logins_map_to_display_names_and_other_actors_stay(self, session) -> None:
        accounts.create_user(
            session, actor=ADMIN, name="ingrid", role=Role.quality_lead, display_name="Ingrid Berg"
        )
        accounts.create_user(session, actor=ADMIN, name="nameless", role=Role.auditor)
        names = accounts.display_names(session, ["ingrid", "nameless", "cli:root"])
        assert names == {"ingrid": "Ingrid Berg"}
        assert [
            accounts.shown_name(names, who) for who in ("ingrid", "nameless", "cli:root", None)
        ] == ["Ingrid Berg", "nameless", "cli:root", ""]
        assert accounts.display_names(session, []) == {}

    def test_the_actor_and_me_carry_the_display_name_and_keep_the_login(
        self, client, session
    ) -> None:
        secret = make_token(session, Role.auditor, name="eva")
        accounts.set_display_name(session, actor=ADMIN, user_name="eva", display_name="Eva Holm")
        session.flush()
        actor = accounts.authenticate(session, secret)
        assert (actor.name, actor.display_name) == ("eva", "Eva Holm")
        body = client.get("/api/v1/me", headers=auth(secret)).json()
        assert (body["name"], body["display_name"]) == ("eva", "Eva Holm")
