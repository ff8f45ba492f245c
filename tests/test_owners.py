"""A deviation's owner: set when logged or later, shown by name, in the audit trail and the
replay, in "my work"; and the lists' "mine" filter on deviations and actions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from qms import replay
from qms.accounts import service as accounts
from qms.accounts.models import User
from qms.audit.models import AuditEvent
from qms.db import utcnow
from qms.deviations.models import Deviation
from qms.notifications import service as reminders
from qms.permissions import Actor, Role
from tests.factories import auth, make_action, make_deviation, make_token, make_user
from tests.reading import docx_text
from tests.web import csrf_of, sign_in, web_user

TODAY = utcnow().date()
ADMIN = Actor(user_id=None, name="admin", role=Role.admin)


def _log(client: Any, headers: dict[str, str], **extra: Any) -> Any:
    return client.post(
        "/api/v1/deviations",
        headers=headers,
        json={
            "kind": "nonconformity",
            "source": "self_reported",
            "severity": "minor",
            "title": "A pair met once in March",
            "description": "Against a rule of two meetings a month.",
            **extra,
        },
    )


def _user(session: Session, name: str) -> User:
    return session.scalars(select(User).where(User.name == name)).one()


class TestOwner:
    def test_an_owner_set_when_logged_is_shown_by_name(self, client, session) -> None:
        lead = auth(make_token(session, Role.quality_lead))
        accounts.create_user(
            session,
            actor=ADMIN,
            name="kari-owner",
            role=Role.coordinator,
            display_name="Kari Nordmann",
        )
        reply = _log(client, lead, owner="kari-owner")
        assert reply.status_code == 201, reply.text
        record = reply.json()
        assert (record["owner"], record["owner_display_name"]) == ("kari-owner", "Kari Nordmann")
        again = client.get(f"/api/v1/deviations/{record['id']}", headers=lead).json()
        assert again["owner"] == "kari-owner"

    def test_the_owner_is_optional(self, client, session) -> None:
        lead = auth(make_token(session, Role.quality_lead))
        record = _log(client, lead).json()
        assert (record["owner"], record["owner_display_name"]) == (None, None)

    def test_the_owner_changed_by_patch_is_in_the_trail_by_name(self, client, session) -> None:
        lead = auth(make_token(session, Role.quality_lead))
        make_user(session, Role.coordinator, name="kari-owner")
        make_user(session, Role.quality_lead, name="ola-owner")
        record = _log(client, lead, owner="kari-owner").json()
        path = f"/api/v1/deviations/{record['id']}"
        moved = client.patch(
            path,
            headers={**lead, "If-Match": f'"{record["version"]}"'},
            json={"owner": "ola-owner"},
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["owner"] == "ola-owner"
        cleared = client.patch(
            path, headers={**lead, "If-Match": moved.headers["ETag"]}, json={"owner": None}
        )
        assert cleared.status_code == 200, cleared.text
        assert cleared.json()["owner"] is None
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity == "deviation", AuditEvent.entity_id == str(record["id"]))
            .order_by(AuditEvent.seq)
        ).all()
        assert [e.changes.get("owner") for e in events] == [
            {"old": None, "new": "kari-owner"},
            {"old": "kari-owner", "new": "ola-owner"},
            {"old": "ola-owner", "new": None},
        ]
        result = replay.check(session)
        assert result.ok, [f.message("en") for f in result.first_findings]

    def test_an_owner_moved_behind_its_back_is_found_by_name(self, client, session) -> None:
        lead = auth(make_token(session, Role.quality_lead))
        make_user(session, Role.coordinator, name="kari-owner")
        ola = make_user(session, Role.coordinator, name="ola-owner")
        record = _log(client, lead, owner="kari-owner").json()
        session.execute(
            text("UPDATE deviation SET owner_id = :o WHERE id = :id"),
            {"o": ola.id, "id": record["id"]},
        )
        found = [f for f in replay.check(session).first_findings if f.entity == "deviation"]
        assert [(f.field, f.stored, f.expected) for f in found] == [
            ("owner", "ola-owner", "kari-owner")
        ]
        assert "owner is stored as “ola-owner”, the trail says “kari-owner”" in found[0].message(
            "en"
        )

    def test_an_unknown_user_or_an_auditor_cannot_own_one(self, client, session) -> None:
        lead = auth(make_token(session, Role.quality_lead))
        make_user(session, Role.auditor, name="auditor-owner")
        before = len(session.scalars(select(Deviation.id)).all())
        for name in ("nobody-here", "auditor-owner"):
            reply = _log(client, lead, owner=name)
            assert reply.status_code == 422, reply.text
            assert [e["field"] for e in reply.json()["errors"]] == ["owner"]
        assert len(session.scalars(select(Deviation.id)).all()) == before


class TestMine:
    def test_mine_lists_the_deviations_the_caller_owns(self, client, session) -> None:
        token = make_token(session, Role.coordinator, name="kari-mine")
        kari = _user(session, "kari-mine")
        other = make_user(session, Role.coordinator)
        hers = make_deviation(session, owner=kari.name)
        make_deviation(session, owner=other.name)
        make_deviation(session)
        reply = client.get("/api/v1/deviations", headers=auth(token), params={"mine": "true"})
        assert reply.status_code == 200, reply.text
        assert [d["number"] for d in reply.json()["items"]] == [hers.number]
        everyone = client.get("/api/v1/deviations", headers=auth(token)).json()["items"]
        assert len(everyone) == 3

    def test_mine_lists_the_actions_the_caller_owns(self, client, session) -> None:
        token = make_token(session, Role.coordinator, name="kari-mine")
        kari = _user(session, "kari-mine")
        other = make_user(session, Role.coordinator)
        deviation = make_deviation(session)
        hers = make_action(session, [deviation], kari)
        make_action(session, [deviation], other)
        reply = client.get("/api/v1/actions", headers=auth(token), params={"mine": "true"})
        assert reply.status_code == 200, reply.text
        assert [a["number"] for a in reply.json()["items"]] == [hers.number]
        # Mine and someone else's at once: none.
        both = client.get(
            "/api/v1/actions", headers=auth(token), params={"mine": "true", "owner": other.name}
        )
        assert both.json()["items"] == []

    def test_mine_of_someone_who_owns_nothing_is_empty(self, client, session) -> None:
        make_deviation(session, owner=make_user(session, Role.coordinator).name)
        token = make_token(session, Role.auditor)
        reply = client.get("/api/v1/deviations", headers=auth(token), params={"mine": "true"})
        assert reply.json()["items"] == []


class TestMyWork:
    def test_the_deviations_one_owns_wait_for_them_the_overdue_first(self, client, session) -> None:
        token = make_token(session, Role.coordinator, name="kari-work")
        kari = _user(session, "kari-work")
        later = make_deviation(session, owner=kari.name, due_on=TODAY + timedelta(days=20))
        late = make_deviation(session, owner=kari.name, due_on=TODAY + timedelta(days=5))
        make_deviation(session, owner=make_user(session, Role.coordinator).name)
        late.due_on = TODAY - timedelta(days=2)
        session.flush()
        items = client.get("/api/v1/me/work", headers=auth(token)).json()["items"]
        owned = [i for i in items if i["kind"] == "deviation_due"]
        assert [i["number"] for i in owned] == [late.number, later.number]
        assert owned[0]["overdue"] is True
        assert owned[0]["link"] == f"/deviations/{late.id}"
        assert items[0]["number"] == late.number


class TestPages:
    def test_the_owner_is_set_on_the_deviations_page_and_shown(self, client, session) -> None:
        name = web_user(session, Role.quality_lead)
        make_user(session, Role.coordinator, name="kari-page")
        deviation = make_deviation(session)
        sign_in(client, name)
        page = client.get(f"/deviations/{deviation.id}")
        assert "(no owner)" in page.text
        moved = client.post(
            f"/deviations/{deviation.id}/owner",
            data={
                "csrf_token": csrf_of(page.text),
                "owner": "kari-page",
                "version": str(deviation.version),
            },
            follow_redirects=False,
        )
        assert moved.status_code == 303, moved.text
        session.refresh(deviation)
        assert deviation.owner is not None
        assert deviation.owner.name == "kari-page"
        assert "kari-page" in client.get(f"/deviations/{deviation.id}").text

    def test_an_owner_chosen_when_logging_on_the_page(self, client, session) -> None:
        name = web_user(session, Role.quality_lead)
        make_user(session, Role.coordinator, name="kari-new")
        sign_in(client, name)
        form = client.get("/deviations/new")
        logged = client.post(
            "/deviations/new",
            data={
                "csrf_token": csrf_of(form.text),
                "title": "Pair without meetings",
                "description": "No meeting since March.",
                "severity": "minor",
                "kind": "nonconformity",
                "source": "self_reported",
                "owner": "kari-new",
            },
            follow_redirects=False,
        )
        assert logged.status_code == 303, logged.text
        deviation = session.scalars(
            select(Deviation).where(Deviation.title == "Pair without meetings")
        ).one()
        assert deviation.owner is not None
        assert deviation.owner.name == "kari-new"

    def test_the_mine_filter_on_the_deviations_and_actions_pages(self, client, session) -> None:
        name = web_user(session, Role.coordinator)
        me = _user(session, name)
        other = make_user(session, Role.coordinator)
        hers = make_deviation(session, owner=name)
        theirs = make_deviation(session, owner=other.name)
        my_action = make_action(session, [hers], me)
        their_action = make_action(session, [hers], other)
        sign_in(client, name)
        listed = client.get("/deviations", params={"mine": "true"}).text
        assert hers.number in listed
        assert theirs.number not in listed
        assert theirs.number in client.get("/deviations").text
        actions = client.get("/actions", params={"mine": "true"}).text
        assert my_action.number in actions
        assert their_action.number not in actions


class TestDocuments:
    def test_the_report_and_the_register_name_the_owner(self, client, session) -> None:
        lead = auth(make_token(session, Role.quality_lead))
        accounts.create_user(
            session,
            actor=ADMIN,
            name="kari-doc",
            role=Role.coordinator,
            display_name="Kari Dokument",
        )
        deviation = make_deviation(session, owner="kari-doc")
        report = client.get(f"/api/v1/documents/deviation-report/{deviation.id}", headers=lead)
        assert report.status_code == 200, report.text
        text = docx_text(report.content)
        assert "Owner" in text
        assert "Kari Dokument" in text
        register = client.get("/api/v1/documents/deviation-register", headers=lead)
        assert register.status_code == 200, register.text
        assert "Kari Dokument" in docx_text(register.content)


class TestReminders:
    def test_an_overdue_deviation_is_a_reminder_to_its_owner(self, session) -> None:
        kari = make_user(session, Role.coordinator, name="kari-remind")
        kari.email = "kari@example.org"
        late = make_deviation(session, owner=kari.name, due_on=TODAY + timedelta(days=3))
        late.due_on = TODAY - timedelta(days=1)
        soon = make_deviation(session, owner=kari.name, due_on=TODAY + timedelta(days=2))
        later = make_deviation(session, owner=kari.name, due_on=TODAY + timedelta(days=40))
        session.flush()
        found = reminders.candidates(session, user=kari, on=TODAY, now=utcnow(), horizon_days=7)
        said = {(r.record, r.number): r.kind.value for r in found}
        assert said[("deviation", late.number)] == "overdue"
        assert said[("deviation", soon.number)] == "due_soon"
        # Not due within the week: said only as news, given to her today by someone else.
        assert said[("deviation", later.number)] == "assigned"


class TestLists:
    def test_the_owner_is_a_column_of_the_export_and_the_list_page(self, client, session) -> None:
        lead = auth(make_token(session, Role.quality_lead))
        accounts.create_user(
            session, actor=ADMIN, name="kari-list", role=Role.coordinator, display_name="Kari Liste"
        )
        make_deviation(session, owner="kari-list")
        exported = client.get("/api/v1/deviations", headers=lead, params={"format": "csv"})
        assert exported.status_code == 200, exported.text
        header, row = exported.text.splitlines()[:2]
        assert "Owner" in header.split(",")
        assert "kari-list" in row
        name = web_user(session, Role.quality_lead)
        sign_in(client, name)
        assert "Kari Liste" in client.get("/deviations").text
