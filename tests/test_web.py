"""The web front over HTTP: sign-in, sessions, CSRF, the pages per role, forms and their errors."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import docx
import pytest
from sqlalchemy import func, select

from api.routing import page_routes
from api.web.markdown import to_html
from qms.access.models import AccessEntry
from qms.accounts import passwords
from qms.accounts import web as web_accounts
from qms.accounts.models import AuthFailure, User, WebSession
from qms.audit.models import AuditEvent
from qms.db import utcnow
from qms.deviations.models import (
    Deviation,
    DeviationStatus,
    Severity,
)
from qms.errors import ValidationFailed
from qms.followups.models import FollowUpOutcome
from qms.permissions import Role
from tests.conftest import make_client
from tests.factories import ADMIN, make_action, make_deviation
from tests.threads import at_once
from tests.web import PASSWORD, csrf_of, error_beside, read_page, sign_in, web_user

TEMPLATES = Path(__file__).parent.parent / "api" / "web" / "templates"


def _events(session, action: str) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
        )
    )


def _events_after(session, count: int) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.seq > count)))


def make_client_for(client):
    """Another browser on the same app and database."""
    from fastapi.testclient import TestClient

    return TestClient(client.app, raise_server_exceptions=False)


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


class TestPasswords:
    def test_a_hash_verifies_its_password_only(self) -> None:
        stored = passwords.hash_password(PASSWORD)
        assert stored.startswith("scrypt$16384$8$1$")
        assert passwords.verify_password(PASSWORD, stored)
        assert not passwords.verify_password(PASSWORD + "!", stored)
        assert passwords.hash_password(PASSWORD) != stored  # salted

    def test_weak_passwords_are_refused_by_field(self) -> None:
        with pytest.raises(ValidationFailed) as short:
            passwords.check_strength("short", user_name="kari")
        assert short.value.errors[0].field == "password"
        assert "at least 12" in short.value.errors[0].message
        with pytest.raises(ValidationFailed) as named:
            passwords.check_strength("kari-nordmann-2026", user_name="kari-nordmann")
        assert "user name" in named.value.errors[0].message

    def test_setting_a_password_is_audited_without_the_hash(self, session) -> None:
        name = web_user(session, Role.coordinator)
        event = _events(session, "user.password_set")[-1]
        assert event.changes == {"password": {"old": None, "new": "set"}}
        user = session.scalars(select(User).where(User.name == name)).one()
        assert user.password_hash
        assert user.password_hash not in str(event.changes)


class TestSignIn:
    def test_signing_in_sets_a_guarded_cookie_and_opens_the_overview(self, client, session) -> None:
        name = web_user(session, Role.quality_lead)
        r = sign_in(client, name)
        assert r.status_code == 303
        assert r.headers["location"] == "/"
        cookie = r.headers["set-cookie"]
        assert "qms_session=" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        assert "Secure" not in cookie  # plain HTTP
        page = client.get("/")
        assert page.status_code == 200
        assert name in page.text
        assert "Open deviations by severity" in page.text
        started = _events(session, "session.started")[-1]
        assert started.actor == name

    def test_the_cookie_is_secure_over_https(self, bound_db, session) -> None:
        from fastapi.testclient import TestClient

        from api.app import create_app

        name = web_user(session, Role.auditor)
        client = TestClient(create_app(bound_db), base_url="https://testserver")
        r = sign_in(client, name)
        assert r.status_code == 303
        assert "Secure" in r.headers["set-cookie"]

    def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(
        self, client, session
    ) -> None:
        name = web_user(session, Role.coordinator)
        wrong = sign_in(client, name, "not the password at all")
        unknown = sign_in(client, "nobody-here", "not the password at all")
        for r in (wrong, unknown):
            assert r.status_code == 401
            assert "wrong user name or password" in r.text
            assert "qms_session" not in r.headers.get("set-cookie", "")
        # Each is summarised in the trail: for the user by id, for the name that is no user's
        # by no name at all.
        events = _events(session, "login.failed")[-2:]
        assert [e.reason for e in events] == ["wrong password", "unknown user"]
        user = session.scalars(select(User).where(User.name == name)).one()
        assert [(e.entity, e.entity_id) for e in events] == [
            ("user", str(user.id)),
            ("session", None),
        ]
        assert all(e.changes["via"]["new"] == "web" for e in events)
        assert "nobody-here" not in str([e.changes for e in events])

    def test_failures_in_a_row_make_the_next_attempt_wait(self, client, session) -> None:
        name = web_user(session, Role.coordinator)
        for _ in range(web_accounts.FREE_FAILURES):
            assert sign_in(client, name, "a wrong guess, again").status_code == 401
        # Even the right password is refused from this client while the wait lasts.
        throttled = sign_in(client, name)
        assert throttled.status_code == 429
        assert int(throttled.headers["Retry-After"]) == web_accounts.FIRST_WAIT_SECONDS
        assert "Too many failed attempts" in throttled.text
        # Once the wait is over, the right password opens a session and clears the count.
        row = session.scalars(select(AuthFailure).where(AuthFailure.via == "web")).one()
        assert row.in_a_row == web_accounts.FREE_FAILURES
        row.last_failed_at = utcnow() - timedelta(seconds=60)
        session.flush()
        assert sign_in(client, name).status_code == 303
        session.refresh(row)
        assert row.in_a_row == 0

    def test_each_further_failure_doubles_the_wait(self) -> None:
        waits = [web_accounts.wait_after(n) for n in range(7)]
        assert waits == [0, 0, 0, 5, 10, 20, 40]
        assert web_accounts.wait_after(50) == web_accounts.MAX_WAIT_SECONDS

    def test_a_deactivated_user_cannot_sign_in(self, client, session) -> None:
        name = web_user(session, Role.coordinator)
        session.scalars(select(User).where(User.name == name)).one().is_active = False
        session.flush()
        assert sign_in(client, name).status_code == 401
        assert _events(session, "login.failed")[-1].reason == "the user is deactivated"

    def test_the_sign_in_form_needs_its_csrf_cookie(self, client, session) -> None:
        name = web_user(session, Role.coordinator)
        r = client.post(
            "/sign-in",
            data={"csrf_token": "made-up", "name": name, "password": PASSWORD},
            follow_redirects=False,
        )
        assert r.status_code == 403
        assert _count(session, WebSession) == 0

    def test_next_stays_on_this_site(self, client, session) -> None:
        name = web_user(session, Role.coordinator)
        form = client.get("/sign-in?next=https://evil.example/")
        assert 'name="next" value="/"' in form.text
        page = client.get("/sign-in?next=/deviations")
        token = csrf_of(page.text)
        r = client.post(
            "/sign-in",
            data={"csrf_token": token, "name": name, "password": PASSWORD, "next": "//evil"},
            follow_redirects=False,
        )
        assert r.headers["location"] == "/"

    def test_pages_send_strangers_to_sign_in(self, client) -> None:
        r = client.get("/deviations?severity=major", follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"] == "/sign-in?next=/deviations%3Fseverity%3Dmajor"
        htmx = client.get("/deviations", headers={"HX-Request": "true"}, follow_redirects=False)
        assert htmx.status_code == 401
        assert htmx.headers["HX-Redirect"].startswith("/sign-in")

    def test_signing_out_ends_the_session(self, client, session) -> None:
        name = web_user(session, Role.quality_lead)
        sign_in(client, name)
        cookie = client.cookies.get("qms_session")
        token = csrf_of(client.get("/").text)
        r = client.post("/sign-out", data={"csrf_token": token}, follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"] == "/sign-in"
        assert _events(session, "session.ended")[-1].actor == name
        # The old cookie is dead even if a copy of it is replayed.
        client.cookies.set("qms_session", cookie)
        assert client.get("/", follow_redirects=False).status_code == 303

    def test_a_new_password_ends_open_sessions(self, client, session) -> None:
        name = web_user(session, Role.quality_lead)
        sign_in(client, name)
        web_accounts.set_password(
            session, actor=ADMIN, user_name=name, password="another long passphrase"
        )
        session.flush()
        assert client.get("/", follow_redirects=False).status_code == 303

    def test_rest_keeps_bearer_tokens_and_ignores_the_cookie(self, client, session) -> None:
        name = web_user(session, Role.quality_lead)
        sign_in(client, name)
        r = client.get("/api/v1/deviations")
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"


class TestCsrf:
    def test_a_form_without_the_token_changes_nothing(self, client, session) -> None:
        sign_in(client, web_user(session, Role.quality_lead))
        before = _count(session, Deviation)
        form = {"title": "x", "description": "y", "severity": "minor", "kind": "observation"}
        r = client.post("/deviations/new", data=form)
        assert r.status_code == 403
        assert "did not come from this site" in r.text
        r = client.post("/deviations/new", data={**form, "csrf_token": "forged"})
        assert r.status_code == 403
        assert _count(session, Deviation) == before

    def test_another_sessions_token_is_refused(self, client, session, bound_db) -> None:
        from fastapi.testclient import TestClient

        from api.app import create_app

        other = TestClient(create_app(bound_db))
        sign_in(other, web_user(session, Role.quality_lead))
        their_token = csrf_of(other.get("/deviations/new").text)
        sign_in(client, web_user(session, Role.quality_lead))
        r = client.post(
            "/deviations/new",
            data={"csrf_token": their_token, "title": "x", "description": "y"},
        )
        assert r.status_code == 403


class TestDeviationPages:
    def _lead(self, client, session) -> str:
        name = web_user(session, Role.quality_lead)
        sign_in(client, name)
        return name

    def test_logging_with_errors_shows_them_beside_the_fields_and_keeps_nothing(
        self, client, session
    ) -> None:
        self._lead(client, session)
        token = csrf_of(client.get("/deviations/new").text)
        before = _count(session, Deviation)
        r = client.post(
            "/deviations/new",
            data={
                "csrf_token": token,
                "title": "",
                "description": "Met once in March.",
                "severity": "grave",
                "kind": "nonconformity",
                "source": "self_reported",
                "requirements": "EMCC:mentoring",
            },
        )
        assert r.status_code == 422
        assert error_beside(r.text, "title") == "Fill in this field."
        assert error_beside(r.text, "severity") == "Choose one of: minor, major or critical."
        assert 'value="Met once in March."' not in r.text  # a textarea keeps its text inside
        assert "Met once in March." in r.text
        assert _count(session, Deviation) == before

    def test_an_unknown_requirement_is_named_beside_its_field(self, client, session) -> None:
        self._lead(client, session)
        token = csrf_of(client.get("/deviations/new").text)
        r = client.post(
            "/deviations/new",
            data={
                "csrf_token": token,
                "title": "Pair met once in March",
                "description": "Against a rule of two a month.",
                "severity": "minor",
                "kind": "nonconformity",
                "source": "self_reported",
                "requirements": "EMCC:ethics, EMCC:mentoring",
            },
        )
        assert r.status_code == 422
        assert "EMCC has no requirement mentoring" in error_beside(r.text, "requirements")

    def test_logging_and_moving_a_deviation(self, client, session) -> None:
        from tests.factories import make_programme

        programme = make_programme(session)
        name = self._lead(client, session)
        token = csrf_of(client.get("/deviations/new").text)
        r = client.post(
            "/deviations/new",
            data={
                "csrf_token": token,
                "title": "Pair met once in March",
                "description": "Against a rule of two a month.",
                "severity": "minor",
                "kind": "nonconformity",
                "source": "self_reported",
                "requirements": "EMCC:ethics",
                "programme_id": str(programme.id),
            },
            follow_redirects=False,
        )
        assert r.status_code == 303
        deviation_id = int(r.headers["location"].rsplit("/", 1)[1])
        deviation = session.get(Deviation, deviation_id)
        assert deviation.reported_by == name
        assert deviation.requirements == ["EMCC:ethics"]
        page = client.get(f"/deviations/{deviation_id}")
        assert deviation.number in page.text
        assert "Move to investigating" in page.text
        assert f"Deviation {deviation.number} logged" in page.text
        # A stale version is refused and says so; nothing moves.
        stale = client.post(
            f"/deviations/{deviation_id}/move",
            data={"csrf_token": token, "to": "investigating", "version": "99"},
        )
        assert stale.status_code == 412
        assert "has changed since version 99" in stale.text
        session.refresh(deviation)
        assert deviation.status is DeviationStatus.open
        moved = client.post(
            f"/deviations/{deviation_id}/move",
            data={"csrf_token": token, "to": "investigating", "version": str(deviation.version)},
            follow_redirects=False,
        )
        assert moved.status_code == 303
        session.refresh(deviation)
        assert deviation.status is DeviationStatus.investigating
        # Closing without its required fields names them beside the fields.
        closing = client.post(
            f"/deviations/{deviation_id}/move",
            data={"csrf_token": token, "to": "closed", "version": str(deviation.version)},
        )
        assert closing.status_code == 422
        assert error_beside(closing.text, "closed-closure_summary")
        assert '<details class="move" open>' in closing.text

    def test_people_are_named_by_their_display_names_not_their_logins(
        self, client, session
    ) -> None:
        from qms.accounts import service as accounts

        name = web_user(session, Role.quality_lead, "kari-n")
        accounts.set_display_name(
            session, actor=ADMIN, user_name=name, display_name="Kari Nordmann"
        )
        session.flush()
        sign_in(client, name)
        # The header says who is signed in by the name people read them by.
        who = re.search(r'<div class="who">\s*<span>([^<]*)</span>', client.get("/").text)
        assert who is not None
        assert who.group(1).startswith("Kari Nordmann ·")
        deviation = make_deviation(session, title="Pair met once in March")
        kari = session.scalars(select(User).where(User.name == name)).one()
        action = make_action(session, [deviation], owner=kari)
        session.flush()
        token = csrf_of(client.get(f"/deviations/{deviation.id}").text)
        assert client.post(
            f"/deviations/{deviation.id}/move",
            data={"csrf_token": token, "to": "investigating", "version": str(deviation.version)},
            follow_redirects=False,
        ).is_redirect
        page = client.get(f"/deviations/{deviation.id}").text
        timeline = re.search(r'<ol class="timeline">(.*?)</ol>', page, re.S)
        assert timeline is not None
        # The move is Kari's, by her display name; the logging is by an actor that is no user.
        assert "Kari Nordmann" in timeline.group(1)
        assert name not in timeline.group(1)
        assert ADMIN.name in timeline.group(1)
        # The action she owns, in the list and in the change that planned it.
        assert f"{action.title} · Kari Nordmann ·" in page
        assert "owner: Kari Nordmann" in timeline.group(1).replace("\n", " ")
        # The audit trail keeps the login; its page shows the display name.
        moved = _events(session, "deviation.transitioned")[-1]
        assert moved.actor == name
        trail = client.get("/audit-trail").text
        assert "<td>Kari Nordmann</td>" in trail
        assert f"<td>{name}</td>" not in trail

    def test_the_timeline_names_people_in_the_fields_the_service_names(self) -> None:
        from qms.accounts.service import PERSON_FIELDS

        macros = (TEMPLATES / "macros.html").read_text()
        listed = re.search(r"macro changed_value.*?if name in \(([^)]*)\)", macros, re.S)
        assert listed is not None
        assert set(re.findall(r'"([^"]+)"', listed.group(1))) == set(PERSON_FIELDS)

    def test_the_list_filters_like_the_api(self, client, session) -> None:
        self._lead(client, session)
        major = make_deviation(session, severity="major", title="Mentor absent for months")
        minor = make_deviation(session, severity="minor", title="Late meeting log")
        session.flush()
        r = client.get("/deviations?severity=major&open=true")
        assert major.number in r.text
        assert minor.number not in r.text
        bad = client.get("/deviations?severity=grave&detected_from=yesterday")
        assert bad.status_code == 200
        assert "Choose one of: minor, major or critical." in error_beside(bad.text, "severity")
        assert "Enter a date such as 2026-06-30." in error_beside(bad.text, "detected_from")

    def test_a_missing_deviation_is_a_404_page(self, client, session) -> None:
        self._lead(client, session)
        r = client.get("/deviations/999999")
        assert r.status_code == 404
        assert "text/html" in r.headers["content-type"]


class TestAuditorSeesAndChangesNothing:
    def test_no_edit_controls_and_403_on_a_post(self, client, session) -> None:
        deviation = make_deviation(session)
        session.flush()
        sign_in(client, web_user(session, Role.auditor))
        for path in ("/", "/deviations", f"/deviations/{deviation.id}", "/actions", "/documents"):
            page = client.get(path)
            assert page.status_code == 200, path
            forms = re.findall(r'<form[^>]*method="post"[^>]*action="([^"]+)"', page.text)
            # Issuing a document only reads the records; nothing else may be posted.
            assert set(forms) <= {"/sign-out", "/documents/issue"}, (path, forms)
        token = csrf_of(client.get("/").text)
        before = _count(session, Deviation)
        r = client.post(
            "/deviations/new",
            data={
                "csrf_token": token,
                "title": "Auditor writes",
                "description": "Should not be possible.",
                "severity": "minor",
                "kind": "observation",
                "source": "self_reported",
            },
        )
        assert r.status_code == 403
        assert "does not allow you to log deviations" in r.text
        assert _count(session, Deviation) == before
        moved = client.post(
            f"/deviations/{deviation.id}/move",
            data={"csrf_token": token, "to": "investigating", "version": "1"},
        )
        assert moved.status_code == 403

    def test_every_change_a_page_posts_is_refused_to_an_auditor(self, client, session) -> None:
        sign_in(client, web_user(session, Role.auditor))
        token = csrf_of(client.get("/").text)
        posts = sorted(
            route.path
            for route in page_routes(client.app)
            if "POST" in (route.methods or ())
            and route.path not in ("/sign-in", "/sign-out", "/documents/issue")
        )
        assert len(posts) >= 6
        events = _count(session, AuditEvent)
        for path in posts:
            r = client.post(re.sub(r"\{[^}]+\}", "1", path), data={"csrf_token": token})
            assert r.status_code == 403, (path, r.status_code)
        # Nothing went into the trail (the auditor's reads are in the access log).
        assert _events_after(session, events) == []

    def test_auditors_reads_are_in_the_access_log_and_listed_in_the_trail_page(
        self, client, session
    ) -> None:
        name = web_user(session, Role.auditor)
        sign_in(client, name)
        client.get("/deviations?severity=minor")
        client.app.state.access_log.flush()
        entry = session.scalars(select(AccessEntry).order_by(AccessEntry.id.desc())).first()
        assert entry is not None
        assert entry.actor == name
        assert entry.via == "web_session"
        assert entry.request == "GET /deviations?severity=minor"
        # The auditor finds their reads on the trail's page, as "records read".
        page = client.get("/audit-trail?mine=true")
        assert page.status_code == 200
        assert "GET /deviations?severity=minor" in page.text
        assert "records read" in page.text


PAGES = {
    "/": "self.read",
    "/my-work": "self.read",
    "/quality-system": "context.read",
    "/context": "context.read",
    "/context/issues/new": "context.write",
    "/context/parties/new": "context.write",
    "/context/scope": "context.read",
    "/policy": "procedure.read",
    "/complaints": "complaint.read",
    "/complaints/new": "complaint.write",
    "/objectives": "objective.read",
    "/objectives/new": "objective.write",
    "/providers": "provider.read",
    "/providers/new": "provider.write",
    "/competence": "competence.read",
    "/competence/records": "competence.read",
    "/risks": "risk.read",
    "/risks/new": "risk.write",
    "/deviations": "deviation.read",
    "/deviations/new": "deviation.log",
    "/actions": "action.read",
    "/procedures": "procedure.read",
    "/procedures/new": "procedure.write",
    "/follow-ups": "followup.read",
    "/imports": "evaluation.read",
    "/imports/new": "evaluation.import",
    "/instruments": "evaluation.read",
    "/instruments/new": "instrument.write",
    "/users": "user.manage",
    "/retention": "retention.read",
    "/audits": "internal_audit.read",
    "/audits/new": "internal_audit.manage",
    "/reviews": "review.read",
    "/reviews/new": "review.manage",
    "/pairs": "pair.read",
    "/pairs/new": "pair.write",
    "/participants": "participant.read",
    "/participants/new": "participant.write",
    "/programmes": "programme.read",
    "/programmes/new": "programme.write",
    "/documents": "document.read",
    "/audit-trail": "audit.read",
}


class TestPagesPerRole:
    @pytest.mark.parametrize("role", [r for r in Role if r is not Role.importer])
    def test_each_page_answers_as_the_permission_table_says(self, client, session, role) -> None:
        from qms.permissions import Action, can

        sign_in(client, web_user(session, role))
        for path, action in PAGES.items():
            r = client.get(path)
            expected = 200 if can(role, Action(action)) else 403
            assert r.status_code == expected, (role, path, r.status_code)
            if expected == 200:
                # Every field has its label.
                ids = re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', r.text)
                labels = set(re.findall(r'<label for="([^"]+)"', r.text))
                assert [i for i in ids if i not in labels] == [], (role, path)

    def test_every_page_route_is_in_the_table(self, client) -> None:
        paths = {
            route.path
            for route in page_routes(client.app)
            if "GET" in (route.methods or ()) and "{" not in route.path
        }
        assert paths - {"/sign-in", "/language"} == set(PAGES)


class TestFollowUpForm:
    def test_scheduling_a_cohorts_follow_ups(self, client, session) -> None:
        from datetime import date

        from qms.followups.models import FollowUp
        from tests.factories import make_cohort, make_pair, make_participant, make_programme

        today = date.today()
        cohort = make_cohort(
            session,
            make_programme(session),
            start_on=today - timedelta(days=120),
            end_on=today + timedelta(days=200),
        )
        for _ in range(2):
            make_pair(
                session,
                make_participant(session, cohort, "mentor"),
                make_participant(session, cohort, "mentee"),
                started_on=cohort.start_on + timedelta(days=7),
            )
        session.flush()
        sign_in(client, web_user(session, Role.coordinator))
        board = f"/follow-ups/cohorts/{cohort.id}"
        token = csrf_of(client.get(board).text)
        outside = client.post(board, data={"csrf_token": token, "on": "2001-01-01"})
        assert outside.status_code == 422
        assert error_beside(outside.text, "on").startswith("Enter a date within the cohort, from ")
        assert _count(session, FollowUp) == 0
        assert client.post(board, data={"csrf_token": token}, follow_redirects=False).is_redirect
        scheduled = session.scalars(select(FollowUp)).all()
        assert [f.scheduled_on for f in scheduled] == [cohort.midpoint_on] * 2
        # Scheduling again adds none: each pair has its follow-up.
        client.post(board, data={"csrf_token": token})
        assert _count(session, FollowUp) == 2

    def test_recording_a_follow_up(self, client, session) -> None:
        from datetime import date

        from qms.followups import service as followups
        from qms.followups.models import FollowUp
        from tests.factories import make_cohort, make_pair, make_participant, make_programme

        today = date.today()
        programme = make_programme(session)
        cohort = make_cohort(
            session,
            programme,
            start_on=today - timedelta(days=120),
            end_on=today + timedelta(days=200),
        )
        pair = make_pair(
            session,
            make_participant(session, cohort, "mentor"),
            make_participant(session, cohort, "mentee"),
            started_on=cohort.start_on + timedelta(days=7),
        )
        follow_up = followups.schedule_pair(session, actor=ADMIN, pair_id=pair.id, on=today)
        session.flush()
        sign_in(client, web_user(session, Role.coordinator))
        page = client.get(f"/follow-ups/{follow_up.id}")
        token = csrf_of(page.text)
        incomplete = client.post(
            f"/follow-ups/{follow_up.id}",
            data={
                "csrf_token": token,
                "version": str(follow_up.version),
                "held_on": today.isoformat(),
                "outcome": "at_risk",
            },
        )
        assert incomplete.status_code == 422
        assert error_beside(incomplete.text, "goal_progress") == "Fill in this field."
        assert "Fill in this field." in incomplete.text  # the yes/no questions too
        r = client.post(
            f"/follow-ups/{follow_up.id}",
            data={
                "csrf_token": token,
                "version": str(follow_up.version),
                "held_on": today.isoformat(),
                "expectations_clarified": "yes",
                "goal_progress": "4",
                "meeting_frequency_kept": "no",
                "relationship": "5",
                "extra_support_needed": "no",
                "outcome": "concern",
                "notes": "Meetings slipped in the summer; a fixed day agreed.",
            },
            follow_redirects=False,
        )
        assert r.status_code == 303
        held = session.get(FollowUp, follow_up.id)
        session.refresh(held)
        assert held.held_on == today
        assert held.goal_progress == 4
        assert held.meeting_frequency_kept is False
        assert held.outcome is FollowUpOutcome.concern
        board = client.get(f"/follow-ups/cohorts/{cohort.id}")
        assert pair.code in board.text
        assert "held" in board.text


class TestProcedurePages:
    def _write(self, client, token: str, **fields: str):
        data = {
            "csrf_token": token,
            "code": "PR-40",
            "title": "Matching mentors and mentees",
            "owner_role": "coordinator",
            "review_months": "12",
            "iso_clauses": "8.2.2, 8.5.1",
            "requirements": "EMCC:selection-matching",
            "content": "# Matching\r\n\r\n1. Read both applications.\r\n2. Meet the mentee.\r\n",
            "change_summary": "First issue",
        }
        return client.post("/procedures/new", data={**data, **fields}, follow_redirects=False)

    def test_writing_reviewing_and_approving_a_procedure(self, client, session) -> None:
        from qms.procedures.models import Procedure, ProcedureVersion

        lead = web_user(session, Role.quality_lead)
        sign_in(client, lead)
        token = csrf_of(client.get("/procedures/new").text)
        # A missing code and a bad clause are named beside their fields, and nothing is kept.
        refused = self._write(client, token, code="", iso_clauses="8.2.2, 42")
        assert refused.status_code == 422
        assert error_beside(refused.text, "code")
        assert error_beside(refused.text, "iso_clauses")
        assert "Matching mentors and mentees" in refused.text  # what was typed stays
        assert _count(session, Procedure) == 0

        created = self._write(client, token)
        assert created.status_code == 303
        procedure = session.scalars(select(Procedure)).one()
        assert created.headers["location"] == f"/procedures/{procedure.id}?version=1"
        draft = session.scalars(select(ProcedureVersion)).one()
        # The browser's CRLF line breaks are kept as LF, as the library's files have them.
        assert draft.content == "# Matching\n\n1. Read both applications.\n2. Meet the mentee.\n"
        assert draft.iso_clauses == ["8.2.2", "8.5.1"]
        assert draft.author == lead

        page = client.get(f"/procedures/{procedure.id}?version=1").text
        assert "Edit the draft" in page
        edited = client.post(
            f"/procedures/{procedure.id}/versions/1",
            data={"csrf_token": token, "version": str(draft.version), "title": "Matching pairs"},
            follow_redirects=False,
        )
        assert edited.status_code == 303
        session.refresh(draft)
        assert draft.title == "Matching pairs"
        assert draft.content.startswith("# Matching\n")  # fields left out stay as they were

        def move(to: str, **fields: str):
            session.refresh(draft)
            return client.post(
                f"/procedures/{procedure.id}/versions/1/move",
                data={"csrf_token": token, "to": to, "version": str(draft.version), **fields},
                follow_redirects=False,
            )

        assert move("in_review").status_code == 303
        # The author is not offered the approval, and is refused it when they post it anyway.
        page = client.get(f"/procedures/{procedure.id}?version=1").text
        assert "another person approves it" in page
        assert 'value="approved"' not in page
        refused = move("approved")
        assert refused.status_code == 403
        assert "another person approves it" in refused.text

        client.post("/sign-out", data={"csrf_token": token})
        sign_in(client, web_user(session, Role.admin))
        token = csrf_of(client.get(f"/procedures/{procedure.id}").text)
        past = move("approved", effective_from="2020-01-01")
        assert past.status_code == 422
        assert error_beside(past.text, "approved-effective_from") == (
            "Enter today or a later date."
        )
        # Approving signs: the form shows the statement and takes the password again.
        page = client.get(f"/procedures/{procedure.id}?version=1").text
        assert f"I approve {procedure.code} version 1 (" in page
        unsigned = move("approved")
        assert unsigned.status_code == 422
        assert error_beside(unsigned.text, "approved-password") == "Enter your password to sign."
        wrong = move("approved", password="not the password at all")
        assert error_beside(wrong.text, "approved-password") == (
            "The password is not right: nothing was signed."
        )
        assert move("approved", password=PASSWORD).status_code == 303
        session.refresh(draft)
        assert draft.status.value == "approved"
        assert draft.approved_by != lead
        page = client.get(f"/procedures/{procedure.id}").text
        assert "Reviewed, no change" in page
        assert "Start the next version" in page

        reviewed = client.post(
            f"/procedures/{procedure.id}/review",
            data={
                "csrf_token": token,
                "comment": "Checked against the 2026 intake",
                "password": PASSWORD,
            },
            follow_redirects=False,
        )
        assert reviewed.status_code == 303
        session.refresh(draft)
        assert draft.last_reviewed_on is not None

        second = client.post(
            f"/procedures/{procedure.id}/drafts",
            data={
                "csrf_token": token,
                "title": "Matching pairs",
                "owner_role": "coordinator",
                "review_months": "12",
                "iso_clauses": "8.2.2",
                "content": "# Matching\n\n1. Read both applications.\n2. Meet both.\n",
                "change_summary": "Meet the mentor too",
            },
            follow_redirects=False,
        )
        assert second.status_code == 303
        assert second.headers["location"].endswith("?version=2")
        diff = client.get(f"/procedures/{procedure.id}?from=1&to=2").text
        assert '<span class="visually-hidden">Added: </span>both</ins>.' in diff
        # Version 1 stays in force while version 2 is written.
        assert "is being written or reviewed" in client.get(f"/procedures/{procedure.id}").text
        actions = [e.action for e in _events_after(session, 0) if e.action != "access.read"]
        assert {
            "procedure.created",
            "procedure_version.updated",
            "procedure_version.transitioned",
            "procedure_version.reviewed",
        } <= set(actions)

    def test_a_stale_form_is_refused_and_changes_nothing(self, client, session) -> None:
        from qms.procedures.models import ProcedureVersion

        sign_in(client, web_user(session, Role.quality_lead))
        token = csrf_of(client.get("/procedures/new").text)
        location = self._write(client, token).headers["location"]
        draft = session.scalars(select(ProcedureVersion)).one()
        r = client.post(
            location.split("?")[0] + "/versions/1",
            data={"csrf_token": token, "version": str(draft.version + 5), "title": "Other"},
        )
        assert r.status_code == 412
        session.refresh(draft)
        assert draft.title == "Matching mentors and mentees"

    def test_auditors_and_coordinators_see_no_document_control(self, client, session) -> None:
        sign_in(client, web_user(session, Role.quality_lead))
        token = csrf_of(client.get("/procedures/new").text)
        location = self._write(client, token).headers["location"]
        client.post("/sign-out", data={"csrf_token": token})
        for role in (Role.auditor, Role.coordinator):
            sign_in(client, web_user(session, role))
            page = client.get(location)
            assert page.status_code == 200
            assert "Next steps" not in page.text
            assert "Write a procedure" not in client.get("/procedures").text
            assert client.get("/procedures/new").status_code == 403
            client.post("/sign-out", data={"csrf_token": csrf_of(page.text)})


class TestImportPages:
    @pytest.fixture
    def people(self, client, session) -> list[str]:
        from qms.evaluations import service as evaluations
        from qms.evaluations.schemas import InstrumentCreate
        from tests.factories import make_cohort, make_participant, make_programme

        evaluations.create_instrument(
            session,
            actor=ADMIN,
            data=InstrumentCreate.model_validate(
                {
                    "code": "FINAL",
                    "name": "Final survey",
                    "respondent": "mentee",
                    "questions": [
                        {
                            "code": "SAT",
                            "text": "How satisfied are you?",
                            "type": "scale",
                            "scale_min": 1,
                            "scale_max": 5,
                        }
                    ],
                }
            ),
        )
        cohort = make_cohort(session, make_programme(session))
        return [make_participant(session, cohort).code for _ in range(2)]

    def _upload(self, client, token: str, content: bytes, **fields: str):
        return client.post(
            "/imports/new",
            data={"csrf_token": token, "kind": "evaluations", "mode": "all", **fields},
            files={"file": ("final.csv", io.BytesIO(content), "text/csv")},
            follow_redirects=False,
        )

    def test_uploading_checking_and_rolling_back(self, client, session, people) -> None:
        from qms.evaluations.models import EvaluationBatch, EvaluationResponse

        a, b = people
        sign_in(client, web_user(session, Role.quality_lead))
        form = client.get("/imports/new")
        assert form.status_code == 200
        token = csrf_of(form.text)
        content = (
            "participant,instrument,question,answer,submitted_at\n"
            f"{a},FINAL,SAT,4,2026-06-01\nP-404,FINAL,SAT,4,2026-06-01\n{b},FINAL,SAT,9,2026-06-01\n"
        ).encode()
        # All or nothing: the problems are listed by row and column, and nothing is written.
        refused = self._upload(client, token, content)
        assert refused.status_code == 422
        rows = re.findall(r"<tr><td>(\d+)</td><td>(\w+)</td>", refused.text)
        assert rows == [("3", "participant"), ("4", "answer")]
        assert _count(session, EvaluationBatch) == 0

        checked = self._upload(client, token, content, mode="partial", dry_run="true")
        assert checked.status_code == 200
        assert "Checked, nothing written" in checked.text
        assert "would be written 1" in checked.text
        assert _count(session, EvaluationBatch) == 0

        written = self._upload(client, token, content, mode="partial")
        assert written.status_code == 303
        batch = session.scalars(select(EvaluationBatch)).one()
        assert written.headers["location"] == f"/imports/{batch.id}"
        assert (batch.rows_written, batch.rows_rejected, batch.source) == (1, 2, "web")
        assert _count(session, EvaluationResponse) == 1
        page = client.get(written.headers["location"]).text
        assert "P-404" in page or "participant" in page

        again = self._upload(client, token, content, mode="partial")
        assert again.headers["location"] == f"/imports/{batch.id}?replayed=true"
        assert "nothing was written twice" in client.get(again.headers["location"]).text
        assert _count(session, EvaluationBatch) == 1

        no_reason = client.post(f"/imports/{batch.id}/rollback", data={"csrf_token": token})
        assert no_reason.status_code == 422
        assert error_beside(no_reason.text, "reason")
        rolled = client.post(
            f"/imports/{batch.id}/rollback",
            data={"csrf_token": token, "reason": "Wrong survey round"},
            follow_redirects=False,
        )
        assert rolled.status_code == 303
        session.refresh(batch)
        assert batch.rollback_reason == "Wrong survey round"
        assert _count(session, EvaluationResponse) == 0

    def test_a_missing_file_and_an_unknown_format_are_named(self, client, session, people):
        sign_in(client, web_user(session, Role.quality_lead))
        token = csrf_of(client.get("/imports/new").text)
        r = client.post("/imports/new", data={"csrf_token": token, "kind": "evaluations"})
        assert r.status_code == 422
        assert error_beside(r.text, "file") == "Choose a file to import."
        nb = client.post(
            "/imports/new",
            data={"csrf_token": token, "kind": "evaluations"},
            headers={"Accept-Language": "nb"},
        )
        assert nb.status_code == 422
        assert error_beside(nb.text, "file") == "Velg en fil som skal importeres."
        r = client.post(
            "/imports/new",
            data={"csrf_token": token, "kind": "evaluations"},
            files={"file": ("answers.pdf", io.BytesIO(b"%PDF"), "application/pdf")},
        )
        assert r.status_code == 422
        assert "csv" in r.text

    def test_the_page_takes_files_up_to_the_import_limit(
        self, client, session, people, monkeypatch
    ):
        from qms.config import get_settings

        a, _ = people
        sign_in(client, web_user(session, Role.quality_lead))
        token = csrf_of(client.get("/imports/new").text)
        # Over the limit for forms (1 MB), within the one for imports: it goes through.
        line = f"{a},FINAL,SAT,4,2026-06-01\n".encode()
        header = b"participant,instrument,question,answer,submitted_at\n"
        big = header + line * (1_200_000 // len(line))
        r = self._upload(client, token, big, mode="partial")
        assert r.status_code == 303, r.text[:500]
        monkeypatch.setenv("QMS_IMPORT_MAX_BYTES", str(256 * 1024))
        get_settings.cache_clear()
        try:
            assert self._upload(client, token, big, mode="partial").status_code == 413
        finally:
            get_settings.cache_clear()

    def test_who_may_upload_and_roll_back(self, client, session, people) -> None:
        for role, upload in ((Role.coordinator, 403), (Role.auditor, 403)):
            sign_in(client, web_user(session, role))
            listed = client.get("/imports")
            assert "Upload a file" not in listed.text
            assert client.get("/imports/new").status_code == upload
            client.post("/sign-out", data={"csrf_token": csrf_of(listed.text)})


class TestInstrumentPages:
    def test_defining_an_instrument_with_questions_typed_a_line_each(self, client, session):
        from qms.evaluations.models import Instrument, Question

        sign_in(client, web_user(session, Role.quality_lead))
        token = csrf_of(client.get("/instruments/new").text)
        define = {
            "csrf_token": token,
            "code": "FINAL",
            "name": "Final survey",
            "respondent": "mentee",
            "questions": "SAT | How satisfied are you? | 1-5\n"
            "MET | How did you mostly meet? | in person\n"
            "NOTE | Anything else?\n"
            "HOURS | Hours of mentoring | number 0-200,5\n",
        }
        refused = client.post("/instruments/new", data=define)
        assert refused.status_code == 422
        assert error_beside(refused.text, "questions").startswith("line 2: ")
        assert _count(session, Instrument) == 0
        defined = client.post(
            "/instruments/new",
            data={
                **define,
                "questions": define["questions"].replace("in person", "in person, video, phone"),
            },
            follow_redirects=False,
        )
        assert defined.status_code == 303
        questions = session.scalars(select(Question).order_by(Question.id)).all()
        assert [(q.code, q.type.value) for q in questions] == [
            ("SAT", "scale"),
            ("MET", "choice"),
            ("NOTE", "text"),
            ("HOURS", "number"),
        ]
        assert (questions[0].scale_min, questions[0].scale_max) == (1, 5)
        assert (questions[3].number_min, questions[3].number_max) == (0, 200.5)
        assert questions[1].options == ["in person", "video", "phone"]
        listed = client.get("/instruments").text
        assert "How did you mostly meet?" in listed
        assert "in person, video, phone" in listed
        assert "a number (0\u2013200.5)" in listed


class TestUserPages:
    def test_an_admin_adds_a_user_gives_a_password_a_token_and_deactivates(
        self, client, session
    ) -> None:
        from qms.accounts.models import ApiToken, User

        sign_in(client, web_user(session, Role.admin, "root-admin"))
        token = csrf_of(client.get("/users").text)
        bad = client.post("/users", data={"csrf_token": token, "name": "-bad name", "role": "x"})
        assert bad.status_code == 422
        assert error_beside(bad.text, "role") == "Choose a role."
        bad = client.post("/users", data={"csrf_token": token, "name": "-bad", "role": "auditor"})
        assert error_beside(bad.text, "name")
        assert client.post(
            "/users",
            data={"csrf_token": token, "name": "eva-auditor", "role": "auditor"},
            follow_redirects=False,
        ).is_redirect
        eva = session.scalars(select(User).where(User.name == "eva-auditor")).one()

        weak = client.post(
            f"/users/{eva.id}/password", data={"csrf_token": token, "password": "eva-auditor1234"}
        )
        assert weak.status_code == 422
        assert error_beside(weak.text, f"password-{eva.id}-password")
        assert "eva-auditor1234" not in weak.text  # a password is never shown back
        assert client.post(
            f"/users/{eva.id}/password",
            data={"csrf_token": token, "password": "a long passphrase"},
            follow_redirects=False,
        ).is_redirect

        issued = client.post(f"/users/{eva.id}/tokens", data={"csrf_token": token})
        assert issued.status_code == 201
        assert issued.headers["cache-control"] == "no-store"
        secret = re.search(r'<code class="secret">(qms_[^<]+)</code>', issued.text).group(1)
        assert (
            client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).json()["name"]
            == "eva-auditor"
        )
        # The secret is on that answer alone: the list shows its prefix only.
        assert secret not in client.get("/users").text
        from tests.factories import make_programme

        programme = make_programme(session)
        scoped = client.post(
            f"/users/{eva.id}/tokens",
            data={"csrf_token": token, "programme": str(programme.id), "expires_in": "30"},
        )
        assert scoped.status_code == 201
        newest = session.scalars(select(ApiToken).order_by(ApiToken.id.desc())).first()
        assert newest.programme_id == programme.id
        assert newest.expires_at is not None
        never = client.post(
            f"/users/{eva.id}/tokens", data={"csrf_token": token, "expires_in": "0"}
        )
        assert never.status_code == 422
        assert error_beside(never.text, f"token-{eva.id}-expires_in")

        other = make_client_for(client)
        assert sign_in(other, "eva-auditor", "a long passphrase").status_code == 303
        assert client.post(
            f"/users/{eva.id}/active",
            data={"csrf_token": token, "active": "false", "reason": "left"},
            follow_redirects=False,
        ).is_redirect
        session.expire_all()
        assert not eva.is_active
        assert all(t.revoked_at is not None for t in session.scalars(select(ApiToken)))
        assert other.get("/", follow_redirects=False).status_code == 303  # signed out
        me = session.scalars(select(User).where(User.name == "root-admin")).one()
        itself = client.post(
            f"/users/{me.id}/active", data={"csrf_token": token, "active": "false"}
        )
        assert itself.status_code == 409
        assert "You cannot deactivate yourself" in itself.text

    def test_an_admin_gives_and_changes_display_names(self, client, session) -> None:
        from qms.accounts.models import User

        sign_in(client, web_user(session, Role.admin, "root-admin"))
        token = csrf_of(client.get("/users").text)
        assert client.post(
            "/users",
            data={
                "csrf_token": token,
                "name": "kari-n",
                "display_name": "Kari Nordmann",
                "role": "coordinator",
            },
            follow_redirects=False,
        ).is_redirect
        kari = session.scalars(select(User).where(User.name == "kari-n")).one()
        assert kari.display_name == "Kari Nordmann"
        assert "<td>Kari Nordmann</td>" in client.get("/users").text
        too_long = client.post(
            f"/users/{kari.id}/display-name",
            data={"csrf_token": token, "display_name": "K" * 201},
        )
        assert too_long.status_code == 422
        assert error_beside(too_long.text, f"display-name-{kari.id}-display_name")
        assert client.post(
            f"/users/{kari.id}/display-name",
            data={"csrf_token": token, "display_name": "Kari Nordmann Berg"},
            follow_redirects=False,
        ).is_redirect
        session.refresh(kari)
        assert kari.display_name == "Kari Nordmann Berg"
        changed = _events(session, "user.display_name_changed")
        assert [(e.actor, e.entity_id, e.changes) for e in changed] == [
            (
                "root-admin",
                str(kari.id),
                {"display_name": {"old": "Kari Nordmann", "new": "Kari Nordmann Berg"}},
            )
        ]
        # Emptied, the user name is shown again.
        assert client.post(
            f"/users/{kari.id}/display-name",
            data={"csrf_token": token, "display_name": ""},
            follow_redirects=False,
        ).is_redirect
        session.refresh(kari)
        assert kari.display_name is None
        assert len(_events(session, "user.display_name_changed")) == 2

    def test_only_admins_see_users(self, client, session) -> None:
        sign_in(client, web_user(session, Role.quality_lead))
        assert client.get("/users").status_code == 403
        assert 'href="/users"' not in client.get("/").text


class TestRetentionPage:
    def test_disposing_of_due_personal_data_under_a_recorded_decision(self, client, session):
        from datetime import date

        from qms.participants.models import ParticipantPersonal
        from qms.retention.models import RetentionDecision
        from tests.factories import make_cohort, make_participant, make_programme

        old = make_cohort(
            session, make_programme(session), start_on=date(2012, 2, 1), end_on=date(2013, 1, 31)
        )
        person = make_participant(session, old, personal={"name": "Gone Long Ago"})
        session.flush()
        sign_in(client, web_user(session, Role.quality_lead))
        page = client.get("/retention")
        assert page.status_code == 200
        token = csrf_of(page.text)
        refused = client.post("/retention", data={"csrf_token": token, "kind": "personal_data"})
        assert refused.status_code == 422
        assert error_beside(refused.text, "dispose-personal_data-reason")
        assert _count(session, RetentionDecision) == 0
        done = client.post(
            "/retention",
            data={
                "csrf_token": token,
                "kind": "personal_data",
                "reason": "Retention period passed; decided at the quality meeting",
            },
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text[:500]
        session.expire_all()
        assert session.get(ParticipantPersonal, person.id).name is None
        assert "decided at the quality meeting" in client.get("/retention").text


class TestAuditPages:
    def _plan(self, client, token: str, **fields: str):
        data = {
            "csrf_token": token,
            "title": "Matching and follow-up, intake 2026",
            "scope": "How pairs are matched and followed up mid-programme",
            "criteria": "MENTOR:monitoring, EMCC:selection-matching",
            "auditors": "ingrid-auditor",
            "auditees": "coordinators",
            "start_on": "2026-12-01",
            "end_on": "2026-12-02",
            "checklist": (
                "Is every match's rationale recorded? | EMCC:selection-matching\n"
                "\n"
                "Is every pair followed up by mid-programme? | MENTOR:monitoring\n"
            ),
        }
        return client.post("/audits/new", data={**data, **fields}, follow_redirects=False)

    def test_planning_answering_and_closing_an_audit(self, client, session) -> None:
        from qms.audits.models import InternalAudit

        web_user(session, Role.quality_lead, "ingrid-auditor")
        sign_in(client, web_user(session, Role.quality_lead, "per-lead"))
        token = csrf_of(client.get("/audits/new").text)
        # No one audits themselves; a checklist line without its question is named.
        refused = self._plan(client, token, auditees="ingrid-auditor")
        assert refused.status_code == 422
        assert "is also an auditee" in error_beside(refused.text, "auditors")
        refused = self._plan(client, token, checklist="| PR-03")
        assert refused.status_code == 422
        assert "write the question first" in error_beside(refused.text, "checklist")
        assert _count(session, InternalAudit) == 0

        planned = self._plan(client, token)
        assert planned.status_code == 303
        audit = session.scalars(select(InternalAudit)).one()
        assert planned.headers["location"] == f"/audits/{audit.id}"
        assert [line.requirement for line in audit.lines] == [
            "EMCC:selection-matching",
            "MENTOR:monitoring",
        ]

        def move(to: str, **fields: str):
            session.refresh(audit)
            return client.post(
                f"/audits/{audit.id}/move",
                data={"csrf_token": token, "to": to, "version": str(audit.version), **fields},
                follow_redirects=False,
            )

        assert move("in_progress").status_code == 303
        first, second = audit.lines

        def answer(line, **fields: str):
            session.refresh(line)
            return client.post(
                f"/audits/{audit.id}/lines/{line.id}",
                data={"csrf_token": token, "version": str(line.version), **fields},
                follow_redirects=False,
            )

        assert answer(
            first, conforms="yes", evidence="Rationale in 12 of 12 pair records"
        ).is_redirect
        missing = answer(second, conforms="no")
        assert missing.status_code == 422
        assert error_beside(missing.text, f"line-{second.id}-evidence")
        assert answer(
            second, conforms="no", evidence="3 of 12 pairs had no follow-up", severity="major"
        ).is_redirect
        session.refresh(second)
        assert second.deviation_id is not None
        page = client.get(f"/audits/{audit.id}").text
        deviation = session.get(Deviation, second.deviation_id)
        assert deviation.severity is Severity.major
        assert f'href="/deviations/{deviation.id}"' in page

        early = move("reported")
        assert early.status_code == 422
        assert (
            error_beside(early.text, "conclusion")
            == "Write the conclusion before reporting the audit."
        )
        session.refresh(audit)
        findings = client.post(
            f"/audits/{audit.id}/findings",
            data={
                "csrf_token": token,
                "version": str(audit.version),
                "strong_points": "Matching is well documented",
                "improvement_points": "",
                "conclusion": "Follow-up at mid-programme is not yet reliable",
            },
            follow_redirects=False,
        )
        assert findings.status_code == 303
        assert move("reported").status_code == 303
        # Closing signs the report: the form shows what is signed and takes the password again.
        assert "I close the internal audit" in client.get(f"/audits/{audit.id}").text
        assert move("closed", password="not it").status_code == 422
        assert move("closed", password=PASSWORD).status_code == 303
        session.refresh(audit)
        assert audit.status.value == "closed"
        closed = client.get(f"/audits/{audit.id}").text
        assert "Next steps" not in closed
        assert "Follow-up at mid-programme is not yet reliable" in closed

    def test_an_auditor_reads_audits_and_changes_nothing(self, client, session) -> None:
        web_user(session, Role.quality_lead, "ingrid-auditor")
        sign_in(client, web_user(session, Role.quality_lead))
        token = csrf_of(client.get("/audits/new").text)
        location = self._plan(client, token).headers["location"]
        client.post("/sign-out", data={"csrf_token": token})
        sign_in(client, web_user(session, Role.auditor))
        page = client.get(location)
        assert page.status_code == 200
        assert '<form method="post" action="/audits' not in page.text
        assert "Plan an audit" not in client.get("/audits").text


class TestReviewPages:
    def test_planning_holding_deciding_and_closing_a_review(self, client, session) -> None:
        from qms.actions.models import CorrectiveAction
        from qms.audits.models import ManagementReview

        make_deviation(session, title="Follow-up missed at mid-programme")
        owner = web_user(session, Role.coordinator, "ola-coordinator")
        sign_in(client, web_user(session, Role.quality_lead, "per-lead"))
        token = csrf_of(client.get("/reviews/new").text)
        plan = {
            "csrf_token": token,
            "title": "Management review 2026",
            "period_start": "2026-01-01",
            "period_end": "2026-06-30",
            "planned_on": "2026-07-15",
        }
        reversed_period = client.post(
            "/reviews/new", data={**plan, "period_end": "2025-12-31"}, follow_redirects=False
        )
        assert reversed_period.status_code == 422
        assert error_beside(reversed_period.text, "period_end")
        assert _count(session, ManagementReview) == 0
        planned = client.post("/reviews/new", data=plan, follow_redirects=False)
        assert planned.status_code == 303
        review = session.scalars(select(ManagementReview)).one()
        page = client.get(planned.headers["location"]).text
        # The 9.3.2 inputs are compiled live from the records until it is held.
        assert "live from the records" in page
        assert "9.3.2 b" in page

        def move(to: str, **fields: str):
            session.refresh(review)
            return client.post(
                f"/reviews/{review.id}/move",
                data={"csrf_token": token, "to": to, "version": str(review.version), **fields},
                follow_redirects=False,
            )

        early = move("held", held_on="2026-07-15")
        assert early.status_code == 422
        assert error_beside(early.text, "participants") == (
            "Name who took part before marking the review held."
        )
        session.refresh(review)
        saved = client.post(
            f"/reviews/{review.id}/record",
            data={
                "csrf_token": token,
                "version": str(review.version),
                "participants": "per-lead, the programme manager",
                "conclusion": "",
            },
            follow_redirects=False,
        )
        assert saved.status_code == 303
        assert move("held", held_on="2026-07-15").status_code == 303
        assert "frozen as reviewed" in client.get(f"/reviews/{review.id}").text

        decision = {
            "csrf_token": token,
            "kind": "improvement",
            "text": "Follow-ups are booked at matching",
            "action_type": "preventive",
            "action_title": "Book the mid-programme follow-up at matching",
            "action_action": "Add the follow-up date to the matching checklist",
            "action_owner": owner,
        }
        no_due = client.post(f"/reviews/{review.id}/decisions", data=decision)
        assert no_due.status_code == 422
        assert error_beside(no_due.text, "action_due_on")
        assert _count(session, CorrectiveAction) == 0
        decided = client.post(
            f"/reviews/{review.id}/decisions",
            data={**decision, "action_due_on": "2026-09-01"},
            follow_redirects=False,
        )
        assert decided.status_code == 303
        action = session.scalars(select(CorrectiveAction)).one()
        assert action.owner.name == owner
        assert f'href="/actions/{action.id}"' in client.get(f"/reviews/{review.id}").text

        unwritten = move("closed")
        assert unwritten.status_code == 422
        assert (
            error_beside(unwritten.text, "conclusion")
            == "Write the conclusion before closing the review."
        )
        session.refresh(review)
        client.post(
            f"/reviews/{review.id}/record",
            data={
                "csrf_token": token,
                "version": str(review.version),
                "conclusion": "The system works; follow-up is the weak point",
            },
        )
        assert (
            "its conclusion: The system works; follow-up is the weak point"
            in client.get(f"/reviews/{review.id}").text
        )
        assert move("closed", password=PASSWORD).status_code == 303
        session.refresh(review)
        assert review.status.value == "closed"
        assert "Next steps" not in client.get(f"/reviews/{review.id}").text


class TestPairPages:
    @pytest.fixture
    def cohort(self, session):
        from datetime import date

        from tests.factories import make_cohort, make_programme

        today = date.today()
        programme = make_programme(session, min_meetings_per_month=2, min_minutes_per_month=120)
        return make_cohort(
            session,
            programme,
            start_on=today - timedelta(days=120),
            end_on=today + timedelta(days=200),
        )

    def test_matching_meeting_and_completing_a_pair(self, client, session, cohort) -> None:
        from datetime import date

        from qms.pairs.models import Meeting, Pair
        from tests.factories import make_participant

        mentor = make_participant(session, cohort, "mentor")
        mentee = make_participant(session, cohort, "mentee")
        sign_in(client, web_user(session, Role.coordinator))
        form = client.get("/pairs/new")
        token = csrf_of(form.text)
        # Participants are offered by code, never by name.
        assert mentee.code in form.text
        assert mentee.personal.name not in form.text
        match = {
            "csrf_token": token,
            "mentor_id": str(mentor.id),
            "mentee_id": str(mentee.id),
            "matched_on": (date.today() - timedelta(days=100)).isoformat(),
        }
        refused = client.post("/pairs/new", data=match)
        assert refused.status_code == 422
        assert error_beside(refused.text, "rationale")
        assert _count(session, Pair) == 0
        matched = client.post(
            "/pairs/new",
            data={**match, "rationale": "Both in water engineering; the mentee aims at consulting"},
            follow_redirects=False,
        )
        assert matched.status_code == 303
        pair = session.scalars(select(Pair)).one()
        assert matched.headers["location"] == f"/pairs/{pair.id}"

        def move(to: str, **fields: str):
            session.refresh(pair)
            return client.post(
                f"/pairs/{pair.id}/move",
                data={"csrf_token": token, "to": to, "version": str(pair.version), **fields},
                follow_redirects=False,
            )

        started = (date.today() - timedelta(days=95)).replace(day=1)
        if started < date.today() - timedelta(days=100):
            started = date.today() - timedelta(days=95)
        assert move("active", on=started.isoformat()).status_code == 303

        def meet(**fields: str):
            return client.post(
                f"/pairs/{pair.id}/meetings",
                data={"csrf_token": token, "minutes": "90", "mode": "video", **fields},
                follow_redirects=False,
            )

        future = meet(held_on=(date.today() + timedelta(days=3)).isoformat())
        assert future.status_code == 422
        assert error_beside(future.text, "meeting-held_on")
        assert _count(session, Meeting) == 0
        assert meet(held_on=(started + timedelta(days=3)).isoformat(), topics="CV").is_redirect
        page = client.get(f"/pairs/{pair.id}").text
        # Each complete month is held against the programme's rule (2 meetings, 120 minutes).
        assert "The programme asks for at least 2 meetings and 120 minutes a month." in page
        assert "against a minimum of 2" in page
        assert "CV" in page

        on = (date.today() + timedelta(days=14)).isoformat()
        scheduled = client.post(
            f"/pairs/{pair.id}/follow-up",
            data={"csrf_token": token, "scheduled_on": on},
            follow_redirects=False,
        )
        assert scheduled.status_code == 303
        assert on in client.get(f"/pairs/{pair.id}").text

        no_reason = move("completed")
        assert no_reason.status_code == 422
        assert error_beside(no_reason.text, "completed-reason")
        assert move(
            "completed",
            reason="Programme year ended",
            mentee_feedback="I found work as a consultant",
        ).is_redirect
        session.refresh(pair)
        assert pair.status.value == "completed"
        assert pair.mentee_feedback == "I found work as a consultant"

    def test_an_auditor_reads_pairs_and_changes_nothing(self, client, session, cohort) -> None:
        from tests.factories import make_pair, make_participant

        pair = make_pair(
            session, make_participant(session, cohort, "mentor"), make_participant(session, cohort)
        )
        sign_in(client, web_user(session, Role.auditor))
        listed = client.get("/pairs")
        assert pair.code in listed.text
        assert "Match a pair" not in listed.text
        page = client.get(f"/pairs/{pair.id}")
        assert page.status_code == 200
        assert 'method="post" action="/pairs' not in page.text
        assert client.get("/pairs/new").status_code == 403


class TestParticipantPages:
    @pytest.fixture
    def cohort(self, session):
        from tests.factories import make_cohort, make_programme

        return make_cohort(session, make_programme(session))

    def test_enrolling_planning_goals_and_erasing(self, client, session, cohort) -> None:
        from qms.participants.models import Goal, Participant

        sign_in(client, web_user(session, Role.coordinator))
        token = csrf_of(client.get("/participants/new").text)
        enrol = {
            "csrf_token": token,
            "cohort_id": str(cohort.id),
            "role": "mentee",
            "field": "Water engineering",
            "career_goals": "A position in a consultancy",
            "training_modules": "Expectations, Ethics",
            "name": "Amina Haddad",
            "email": "amina@",
        }
        refused = client.post("/participants/new", data=enrol)
        assert refused.status_code == 422
        assert error_beside(refused.text, "email")
        assert "Amina Haddad" in refused.text  # what was typed stays
        assert _count(session, Participant) == 0
        enrolled = client.post(
            "/participants/new",
            data={**enrol, "email": "amina@example.org"},
            follow_redirects=False,
        )
        assert enrolled.status_code == 303
        person = session.scalars(select(Participant)).one()
        assert person.training_modules == ["Expectations", "Ethics"]
        assert person.personal.email == "amina@example.org"
        page = client.get(enrolled.headers["location"]).text
        assert "Amina Haddad" in page

        session.refresh(person)
        edited = client.post(
            f"/participants/{person.id}",
            data={
                "csrf_token": token,
                "version": str(person.version),
                "field": "Water engineering",
                "screened_on": "2026-01-20",
                "screened_by": "the coordinator",
            },
            follow_redirects=False,
        )
        assert edited.status_code == 303
        session.refresh(person)
        assert str(person.screened_on) == "2026-01-20"
        assert person.personal.name == "Amina Haddad"  # left out, so kept

        goal = client.post(
            f"/participants/{person.id}/goals",
            data={"csrf_token": token, "title": "Swedish for work, level B2"},
            follow_redirects=False,
        )
        assert goal.status_code == 303
        saved = session.scalars(select(Goal)).one()
        progressed = client.post(
            f"/participants/{person.id}/goals/{saved.id}",
            data={"csrf_token": token, "version": str(saved.version), "progress": "150"},
        )
        assert progressed.status_code == 422
        assert error_beside(progressed.text, f"goal-{saved.id}-progress")
        assert client.post(
            f"/participants/{person.id}/goals/{saved.id}",
            data={"csrf_token": token, "version": str(saved.version), "progress": "60"},
            follow_redirects=False,
        ).is_redirect
        session.refresh(saved)
        assert saved.progress == 60

        erased = client.post(
            f"/participants/{person.id}/erase",
            data={"csrf_token": token, "reason": "The participant asked"},
            follow_redirects=False,
        )
        assert erased.status_code == 303
        session.refresh(person)
        assert person.personal.name is None
        assert "Amina Haddad" not in client.get(f"/participants/{person.id}").text

    def test_an_auditor_sees_codes_not_names_and_changes_nothing(
        self, client, session, cohort
    ) -> None:
        from tests.factories import make_participant

        person = make_participant(session, cohort, personal={"name": "Jonas Berg"})
        sign_in(client, web_user(session, Role.auditor))
        listed = client.get("/participants").text
        assert person.code in listed
        assert "Jonas Berg" not in listed
        page = client.get(f"/participants/{person.id}")
        assert page.status_code == 200
        assert "Jonas Berg" not in page.text
        assert 'method="post" action="/participants' not in page.text
        assert client.get("/participants/new").status_code == 403


class TestProgrammePages:
    def test_setting_up_a_programme_with_cohorts_and_indicators(self, client, session) -> None:
        from qms.indicators.models import IndicatorDefinition, IndicatorValue
        from qms.programmes.models import Cohort, Programme

        sign_in(client, web_user(session, Role.quality_lead))
        token = csrf_of(client.get("/programmes/new").text)
        setup = {
            "csrf_token": token,
            "code": "via job",
            "name": "Mentoring for job-seeking graduates",
            "organiser": "Dalarna Mentor Foundation",
            "min_meetings_per_month": "2",
            "min_minutes_per_month": "120",
            "follow_up_at_midpoint": "true",
        }
        refused = client.post("/programmes/new", data=setup)
        assert refused.status_code == 422
        assert error_beside(refused.text, "code")
        assert _count(session, Programme) == 0
        created = client.post(
            "/programmes/new", data={**setup, "code": "VIA-JOB"}, follow_redirects=False
        )
        assert created.status_code == 303
        programme = session.scalars(select(Programme)).one()
        assert (programme.min_meetings_per_month, programme.follow_up_at_midpoint) == (2, True)
        where = f"/programmes/{programme.id}"

        reversed_dates = client.post(
            f"{where}/cohorts",
            data={
                "csrf_token": token,
                "code": "2027",
                "name": "Intake 2027",
                "start_on": "2027-02-01",
                "end_on": "2026-02-01",
            },
        )
        assert reversed_dates.status_code == 422
        assert _count(session, Cohort) == 0
        assert client.post(
            f"{where}/cohorts",
            data={
                "csrf_token": token,
                "code": "2027",
                "name": "Intake 2027",
                "start_on": "2027-02-01",
                "end_on": "2028-01-31",
            },
            follow_redirects=False,
        ).is_redirect

        defined = client.post(
            f"{where}/indicators",
            data={
                "csrf_token": token,
                "code": "SATISFIED",
                "name": "Mentees satisfied (own survey)",
                "computation": "entered",
                "unit": "percent",
                "planned": "80",
                "threshold": "60,5",
            },
            follow_redirects=False,
        )
        assert defined.status_code == 303, defined.text[:400]
        indicator = session.scalars(select(IndicatorDefinition)).one()
        assert indicator.threshold == 60.5  # a decimal comma is read as such
        value = {
            "csrf_token": token,
            "period_start": "2026-01-01",
            "period_end": "2026-06-30",
            "value": "eighty",
        }
        bad = client.post(f"{where}/indicators/{indicator.id}/values", data=value)
        assert bad.status_code == 422
        assert error_beside(bad.text, f"value-{indicator.id}-value")
        assert client.post(
            f"{where}/indicators/{indicator.id}/values",
            data={**value, "value": "72"},
            follow_redirects=False,
        ).is_redirect
        assert session.scalars(select(IndicatorValue)).one().value == 72
        page = client.get(f"{where}?as_of=2026-07-01").text
        assert "Planned against actual" in page
        assert "SATISFIED" in page
        assert "below plan" in page

    def test_an_auditor_reads_the_figures_and_changes_nothing(self, client, session) -> None:
        from tests.factories import make_programme

        programme = make_programme(session)
        sign_in(client, web_user(session, Role.auditor))
        page = client.get(f"/programmes/{programme.id}")
        assert page.status_code == 200
        assert "Planned against actual" in page.text
        assert 'method="post"' not in page.text.split("<main", 1)[1].replace(
            'method="post" action="/sign-out"', ""
        )
        assert client.get("/programmes/new").status_code == 403


class TestDocumentsPage:
    def test_issuing_downloads_a_document_that_reads_back(self, client, session) -> None:
        deviation = make_deviation(session, title="Matching rationale missing")
        session.flush()
        sign_in(client, web_user(session, Role.quality_lead))
        token = csrf_of(client.get("/documents").text)
        r = client.post(
            "/documents/issue",
            data={
                "csrf_token": token,
                "kind": "deviation-report",
                "deviation_id": str(deviation.id),
            },
        )
        assert r.status_code == 200
        assert r.headers["content-disposition"].startswith("attachment;")
        text = "\n".join(p.text for p in docx.Document(io.BytesIO(r.content)).paragraphs)
        assert deviation.number in text
        listed = client.get("/documents")
        assert "Matching rationale missing" in listed.text or deviation.number in listed.text

    def test_a_missing_choice_is_named(self, client, session) -> None:
        sign_in(client, web_user(session, Role.quality_lead))
        token = csrf_of(client.get("/documents").text)
        r = client.post("/documents/issue", data={"csrf_token": token, "kind": "quality-report"})
        assert r.status_code == 422
        assert error_beside(r.text, "quality-report-programme_id") == "choose one"
        # A deviation report is of one deviation: without it, the form says so.
        r = client.post("/documents/issue", data={"csrf_token": token, "kind": "deviation-report"})
        assert r.status_code == 422
        assert "<li><strong>Deviation</strong>: choose one</li>" in r.text

    def test_every_document_kind_the_pages_offer_reads_back(self, client, session) -> None:
        import zipfile

        from api.web.pages.documents import KINDS
        from qms.audits.models import InternalAudit, ManagementReview
        from qms.demo import load
        from qms.procedures.models import Procedure
        from qms.programmes.models import Cohort, Programme

        load(session, operator=ADMIN)
        session.flush()
        programme = session.scalars(select(Programme).order_by(Programme.id)).first()
        ids = {
            "programme_id": programme.id,
            "cohort_id": session.scalars(select(Cohort).order_by(Cohort.id)).first().id,
            "deviation_id": session.scalars(select(Deviation).order_by(Deviation.id)).first().id,
            "procedure_id": session.scalars(select(Procedure).order_by(Procedure.id)).first().id,
            "audit_id": session.scalars(select(InternalAudit)).first().id,
            "review_id": session.scalars(select(ManagementReview)).first().id,
            "framework": "ISO9001",
            "period_start": "2025-01-01",
            "period_end": "2026-06-30",
        }
        sign_in(client, web_user(session, Role.quality_lead))
        token = csrf_of(client.get("/documents").text)
        for kind, wanted in KINDS.items():
            data = {"csrf_token": token, "kind": kind, "language": "nb"}
            data |= {name: str(ids[name]) for name in wanted if name in ids}
            r = client.post("/documents/issue", data=data)
            assert r.status_code == 200, (kind, r.status_code, r.text[:300])
            if kind == "audit-pack":
                assert zipfile.ZipFile(io.BytesIO(r.content)).namelist()
            else:
                document = docx.Document(io.BytesIO(r.content))
                assert document.paragraphs or document.tables, kind
        # Each is named, and the page says what a kind cannot do without.
        r = client.post("/documents/issue", data={"csrf_token": token, "kind": "evidence-map"})
        assert r.status_code == 422
        assert error_beside(r.text, "evidence-map-framework") == "choose one"
        r = client.post(
            "/documents/issue",
            data={"csrf_token": token, "kind": "evidence-map", "framework": "NOPE"},
        )
        assert "one of: " in error_beside(r.text, "evidence-map-framework")

    def test_the_capa_status_of_every_programme(self, client, session) -> None:
        make_deviation(session, title="Unverified action")
        sign_in(client, web_user(session, Role.quality_lead))
        token = csrf_of(client.get("/documents").text)
        r = client.post(
            "/documents/issue",
            data={"csrf_token": token, "kind": "capa-status", "programme_id": ""},
        )
        assert r.status_code == 200, r.text[:500]
        text = "\n".join(p.text for p in docx.Document(io.BytesIO(r.content)).paragraphs)
        assert "CAPA" in text


class TestLanguage:
    def test_norwegian_from_the_browser_or_by_choice(self, client, session) -> None:
        sign_in(client, web_user(session, Role.quality_lead))
        nb = client.get("/", headers={"Accept-Language": "nb-NO,nb;q=0.9,en;q=0.5"})
        assert '<html lang="nb">' in nb.text
        assert "Åpne avvik etter alvorlighet" in nb.text
        r = client.get(
            "/language?set=nb",
            headers={"referer": "http://testserver/deviations"},
            follow_redirects=False,
        )
        assert r.headers["location"] == "/deviations"
        assert "Registrer et avvik" in client.get("/deviations").text
        client.get("/language?set=en")
        assert "Log a deviation" in client.get("/deviations").text


class TestMarkdown:
    def test_procedure_text_is_rendered_and_escaped(self) -> None:
        html = str(
            to_html(
                "# Title\n\n## Steps\n\n1. Match by **field**\n2. Clarify\n"
                "   expectations\n\nA <script>alert(1)</script> note.\n"
            )
        )
        assert "<h3>Steps</h3>" in html
        assert "Title" not in html
        assert (
            "<ol><li>Match by <strong>field</strong></li><li>Clarify expectations</li></ol>"
            in " ".join(html.split()).replace("> <", "><")
        )
        assert "<script>" not in html
        assert "&lt;script&gt;" in html

    def test_a_table_row_wider_than_its_header_keeps_every_cell(self) -> None:
        html = str(
            to_html("| Step | Who |\n|---|---|\n| Match | Coordinator | By Friday |\n| Meet |\n")
        )
        assert "<td>By Friday</td>" in html
        assert html.count('<th scope="col">') == 3
        assert "<tr><td>Meet</td><td></td><td></td></tr>" in html.replace("\n", "")


def test_pages_forbid_framing_and_caching_and_the_api_is_left_alone(client, session) -> None:
    sign_in(client, web_user(session, Role.quality_lead))
    page = client.get("/deviations")
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert "cache-control" not in client.get("/static/style.css").headers
    assert "x-frame-options" not in client.get("/healthz").headers


def test_the_pages_are_not_in_the_openapi(client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/deviations" not in paths
    assert "/sign-in" not in paths
    assert "/api/v1/deviations" in paths


def test_two_browsers_moving_one_deviation_at_once_exactly_one_wins(fresh_db) -> None:
    """Two quality leads read the same deviation and press the same move at the same moment:
    one moves it, the other is told it changed since it was read; one move is in the trail."""
    with fresh_db.unit_of_work() as session:
        deviation_id = make_deviation(session).id
        names = [web_user(session, Role.quality_lead, f"lead-{n}") for n in range(2)]
    browsers = []
    for name in names:
        browser = make_client(fresh_db)
        sign_in(browser, name)
        page = browser.get(f"/deviations/{deviation_id}").text
        form = next(
            form
            for form in read_page(f"/deviations/{deviation_id}", page)[1]
            if form.action.endswith("/move") and ("to", "investigating") in form.defaults()
        )
        browsers.append((browser, form.defaults()))
    answers = [
        (r.status_code, r.text)
        for r in at_once(
            *(
                lambda b=browser, f=fields: b.post(
                    f"/deviations/{deviation_id}/move", data=dict(f), follow_redirects=False
                )
                for browser, fields in browsers
            )
        )
    ]
    (won, _), (lost, page) = sorted(answers)
    assert won == 303
    assert lost in (409, 412)
    assert "changed" in page.lower(), page
    with fresh_db.unit_of_work(write=False) as session:
        moves = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "deviation.transitioned")
        ).all()
        assert len(moves) == 1
        assert session.get(Deviation, deviation_id).status is DeviationStatus.investigating
