"""My work: what waits for a person, from GET /api/v1/me/work and the "My work" page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qms.accounts.models import User
from qms.db import utcnow
from qms.followups import service as followups
from qms.notifications.models import ReminderKind
from qms.permissions import Actor, Role
from qms.procedures import service as procedures
from qms.procedures.schemas import ProcedureCreate, VersionTransition
from tests.factories import (
    auth,
    make_action,
    make_cohort,
    make_deviation,
    make_pair,
    make_participant,
    make_programme,
    make_token,
    make_user,
)
from tests.web import csrf_of, error_beside, read_page, sign_in, web_user


def actor_of(user: User) -> Actor:
    """The user as the services see them acting."""
    return Actor(user_id=user.id, name=user.name, role=user.role)


def work_of(client: Any, token: str) -> list[dict[str, Any]]:
    reply = client.get("/api/v1/me/work", headers=auth(token))
    assert reply.status_code == 200, reply.text
    items: list[dict[str, Any]] = reply.json()["items"]
    return items


def submitted_procedure(session: Session, author: User, code: str = "PR-41") -> None:
    """A procedure owned by quality leads whose first version the author sent for approval."""
    procedure = procedures.create(
        session,
        actor=actor_of(author),
        data=ProcedureCreate(
            code=code,
            title="Handling of deviations",
            owner_role=Role.quality_lead,
            review_months=12,
            content="Every deviation is logged the day it is found.",
            change_summary="First issue",
        ),
    )
    [version] = procedure.versions
    procedures.transition(
        session,
        actor=actor_of(author),
        procedure_id=procedure.id,
        number=version.number,
        data=VersionTransition(to="in_review"),
        if_match=version.version,
    )
    session.flush()


class TestActionsOwned:
    def test_the_owner_sees_their_actions_the_overdue_first(self, session, client) -> None:
        today = utcnow().date()
        token = make_token(session, Role.coordinator, name="kari")
        owner = session.scalars(select(User).where(User.name == "kari")).one()
        other = make_user(session, Role.coordinator)
        deviation = make_deviation(session)
        later = make_action(session, [deviation], owner, due_on=today + timedelta(days=30))
        late = make_action(session, [deviation], owner, due_on=today + timedelta(days=2))
        not_hers = make_action(session, [deviation], other, due_on=today + timedelta(days=1))
        # The late one's due date passes (the service refuses a due date in the past).
        late.due_on = today - timedelta(days=3)
        session.flush()

        items = work_of(client, token)

        numbers = [i["number"] for i in items]
        assert numbers == [late.number, later.number]
        assert not_hers.number not in numbers
        first, second = items
        assert first["overdue"] is True
        assert second["overdue"] is False
        assert first["kind"] == "action_due"
        assert first["link"] == f"/actions/{late.id}"
        assert first["due_on"] == (today - timedelta(days=3)).isoformat()

    def test_nothing_waits_for_an_auditor(self, session, client) -> None:
        token = make_token(session, Role.auditor)
        assert work_of(client, token) == []

    def test_without_a_token_it_is_refused(self, client) -> None:
        assert client.get("/api/v1/me/work").status_code == 401


class TestApprovals:
    def test_a_version_in_review_waits_for_another_of_its_role(self, session, client) -> None:
        author_token = make_token(session, Role.quality_lead, name="author-ql")
        approver_token = make_token(session, Role.quality_lead, name="approver-ql")
        coordinator_token = make_token(session, Role.coordinator)
        author = session.scalars(select(User).where(User.name == "author-ql")).one()
        submitted_procedure(session, author)

        [item] = [i for i in work_of(client, approver_token) if i["kind"] == "approval_waiting"]
        assert item["number"] == "PR-41 v1"
        assert item["link"].startswith("/procedures/")
        assert item["due_on"] == utcnow().date().isoformat()
        # Never the author's own, never another role's.
        assert not [i for i in work_of(client, author_token) if i["kind"] == "approval_waiting"]
        assert not [i for i in work_of(client, coordinator_token) if i["number"] == "PR-41 v1"]


class TestFollowUps:
    def test_follow_ups_due_wait_for_the_coordinators_of_their_programme(
        self, session, client
    ) -> None:
        today = utcnow().date()
        programme = make_programme(session)
        elsewhere = make_programme(session)
        # A cohort running today, whatever day the clock says.
        cohort = make_cohort(
            session,
            programme,
            start_on=today - timedelta(days=60),
            end_on=today + timedelta(days=300),
        )
        pair = make_pair(
            session,
            make_participant(session, cohort, role="mentor"),
            make_participant(session, cohort),
            started_on=cohort.start_on,
        )
        soon = followups.schedule_pair(
            session, actor=actor_of(make_user(session, Role.admin)), pair_id=pair.id, on=today
        )
        session.flush()
        coordinator = make_token(session, Role.coordinator)
        scoped_elsewhere = make_token(session, Role.coordinator, programme_code=elsewhere.code)
        quality_lead = make_token(session, Role.quality_lead)

        [item] = [i for i in work_of(client, coordinator) if i["kind"] == "follow_up_due"]
        assert item["number"] == pair.code
        assert item["link"] == f"/follow-ups/{soon.id}"
        assert item["overdue"] is False
        assert not [i for i in work_of(client, scoped_elsewhere) if i["kind"] == "follow_up_due"]
        assert not [i for i in work_of(client, quality_lead) if i["kind"] == "follow_up_due"]


class TestPage:
    def test_the_page_lists_the_work_and_is_in_the_navigation(self, session, client) -> None:
        name = web_user(session, Role.coordinator)
        owner = session.scalars(select(User).where(User.name == name)).one()
        action = make_action(session, [make_deviation(session)], owner)
        sign_in(client, name)

        page = client.get("/my-work")

        assert page.status_code == 200
        assert '<a href="/my-work" aria-current="page">' in page.text
        assert f'<a href="/actions/{action.id}">{action.number}</a>' in page.text
        assert action.title in page.text

    def test_a_person_with_nothing_to_do_is_told_so(self, session, client) -> None:
        name = web_user(session, Role.auditor)
        sign_in(client, name)
        page = client.get("/my-work")
        assert page.status_code == 200
        assert "Nothing waits for you." in page.text

    def test_a_person_sets_their_address_language_and_reminders(self, session, client) -> None:
        name = web_user(session, Role.coordinator)
        sign_in(client, name)
        page = client.get("/my-work")
        [form] = [
            f for f in read_page("/my-work", page.text)[1] if f.action == "/my-work/reminders"
        ]
        assert set(form.fields["on"].options) == {k.value for k in ReminderKind}

        saved = client.post(
            "/my-work/reminders",
            data={
                "csrf_token": csrf_of(page.text),
                "email": "kari@example.org",
                "language": "nb",
                "on": ["assigned", "overdue"],
            },
            follow_redirects=False,
        )

        assert saved.status_code == 303
        user = session.scalars(select(User).where(User.name == name)).one()
        session.refresh(user)
        assert (user.email, user.language) == ("kari@example.org", "nb")
        assert set(user.reminder_opt_outs) == {k.value for k in ReminderKind} - {
            "assigned",
            "overdue",
        }
        again = client.get("/my-work").text
        assert 'id="f-on-overdue" name="on" value="overdue" checked' in again
        assert 'id="f-on-due_soon" name="on" value="due_soon">' in again

    def test_an_address_that_is_none_is_refused_beside_the_field(self, session, client) -> None:
        name = web_user(session, Role.coordinator)
        sign_in(client, name)
        page = client.get("/my-work")

        refused = client.post(
            "/my-work/reminders",
            data={"csrf_token": csrf_of(page.text), "email": "kari at home", "on": ["overdue"]},
        )

        assert refused.status_code == 422
        assert "Enter an address such as kari@example.org." in error_beside(refused.text, "email")
        user = session.scalars(select(User).where(User.name == name)).one()
        assert user.email is None

    def test_an_auditor_is_shown_no_form_and_refused_a_post(self, session, client) -> None:
        name = web_user(session, Role.auditor)
        sign_in(client, name)
        page = client.get("/my-work")
        assert "An admin sets your reminders." in page.text
        assert 'action="/my-work/reminders"' not in page.text

        refused = client.post(
            "/my-work/reminders",
            data={"csrf_token": csrf_of(page.text), "email": "eva@example.org"},
        )

        assert refused.status_code == 403
        user = session.scalars(select(User).where(User.name == name)).one()
        assert user.email is None
