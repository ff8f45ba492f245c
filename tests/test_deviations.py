"""Deviations over the API: logging, numbering, filters, the workflow and its guards, history."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qms.actions import service as actions
from qms.actions.models import ActionStatus, CorrectiveAction
from qms.actions.schemas import ActionTransition
from qms.audit.models import AuditEvent
from qms.deviations import service
from qms.deviations.models import Deviation, DeviationStatus
from qms.deviations.schemas import DeviationCreate, DeviationTransition
from qms.errors import Conflict
from qms.permissions import Actor, Role
from qms.signatures.models import Signature
from qms.signatures.service import confirmation_of
from tests.conftest import BoundDatabase, make_client
from tests.factories import (
    auth,
    make_action,
    make_cohort,
    make_deviation,
    make_programme,
    make_token,
    make_user,
    signed,
    signing,
)

LOG = {
    "kind": "deviation_from_plan",
    "source": "follow_up",
    "severity": "major",
    "title": "Pair meets less often than the programme rule",
    "description": "At the mid-programme follow-up the pair reported one meeting in two months.",
    "immediate_containment": "Coordinator called both and booked the next meeting.",
    "iso_clause": "8.5.1",
}


@pytest.fixture
def lead(session) -> dict[str, str]:
    return auth(make_token(session, Role.quality_lead, name="lead-ingrid"))


def _move(client, headers, deviation_id: int, **body):
    version = client.get(f"/api/v1/deviations/{deviation_id}", headers=headers).headers["etag"]
    return client.post(
        f"/api/v1/deviations/{deviation_id}/transitions",
        headers={**headers, "If-Match": version},
        # Closing signs: the helper confirms it as the signer would.
        json={**signing("deviation", body.get("to", "")), **body},
    )


def _patch(client, headers, deviation_id: int, **body):
    version = client.get(f"/api/v1/deviations/{deviation_id}", headers=headers).headers["etag"]
    return client.patch(
        f"/api/v1/deviations/{deviation_id}", headers={**headers, "If-Match": version}, json=body
    )


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(Deviation)) or 0


class TestLog:
    def test_a_logged_deviation_is_numbered_open_and_audited(self, client, session, lead) -> None:
        p = make_programme(session)
        r = client.post("/api/v1/deviations", headers=lead, json={**LOG, "programme_id": p.id})
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["number"] == f"DEV-{date.today().year}-0001"
        assert body["status"] == "open"
        assert body["detected_by"] == "lead-ingrid"
        assert body["allowed_transitions"] == ["investigating"]
        detected = date.fromisoformat(body["detected_at"][:10])
        assert date.fromisoformat(body["due_on"]) == detected + timedelta(days=30)
        history = client.get(f"/api/v1/deviations/{body['id']}/history", headers=lead).json()
        assert [e["action"] for e in history] == ["deviation.created"]
        assert history[0]["changes"]["severity"] == {"old": None, "new": "major"}

    def test_numbers_follow_on_without_gaps(self, session) -> None:
        numbers = [make_deviation(session).number for _ in range(3)]
        assert numbers == [f"DEV-{date.today().year}-{n:04d}" for n in (1, 2, 3)]

    def test_the_programme_is_taken_from_the_cohort(self, client, session, lead) -> None:
        p = make_programme(session)
        c = make_cohort(session, p)
        r = client.post("/api/v1/deviations", headers=lead, json={**LOG, "cohort_id": c.id})
        assert r.json()["programme_id"] == p.id

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"kind": "complaint"}, "kind"),
            ({"severity": "catastrophic"}, "severity"),
            ({"title": None}, "title"),
            ({"title": "x" * 201}, "title"),
            ({"description": "   "}, "description"),
            ({"description": "x" * 20_001}, "description"),
            ({"programme_id": 999_999}, "programme_id"),
            ({"cohort_id": 999_999}, "cohort_id"),
            ({"iso_clause": "99.1"}, "iso_clause"),
            ({"detected_at": "2999-01-01T00:00:00Z"}, "detected_at"),
            ({"detected_at": "2026-03-01T10:00:00Z", "due_on": "2026-02-01"}, "due_on"),
            ({"colour": "red"}, "colour"),
            # Characters no document can carry (a bell, an escape, Word's soft line break).
            ({"title": "Bell\x07"}, "title"),
            ({"description": "Pasted\x0bfrom a word processor"}, "description"),
            ({"immediate_containment": "\x1b[31mred"}, "immediate_containment"),
            ({"description": "Not a character\ufffe"}, "description"),
        ],
    )
    def test_bad_input_names_the_field_and_writes_nothing(
        self, client, session, lead, change, field
    ) -> None:
        before = _count(session)
        body = {k: v for k, v in {**LOG, **change}.items() if v is not None}
        r = client.post("/api/v1/deviations", headers=lead, json=body)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert field in {e["field"] for e in r.json()["errors"]}
        assert _count(session) == before
        # and no number was used up
        assert make_deviation(session).number == f"DEV-{date.today().year}-{before + 1:04d}"

    def test_a_control_character_is_named_with_its_place(self, client, lead) -> None:
        r = client.post("/api/v1/deviations", headers=lead, json={**LOG, "title": "Met\x07 once"})
        assert r.status_code == 422
        [error] = r.json()["errors"]
        assert error["field"] == "title"
        assert "U+0007 at character 4" in error["message"]

    def test_tabs_and_line_ends_are_text(self, client, lead) -> None:
        description = "First line\r\n\tthen an indented one\nand a third."
        r = client.post(
            "/api/v1/deviations", headers=lead, json={**LOG, "description": description}
        )
        assert r.status_code == 201, r.text
        assert r.json()["description"] == description

    def test_a_cohort_of_another_programme_is_refused(self, client, session, lead) -> None:
        p, other = make_programme(session), make_programme(session)
        c = make_cohort(session, other)
        r = client.post(
            "/api/v1/deviations",
            headers=lead,
            json={**LOG, "programme_id": p.id, "cohort_id": c.id},
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "cohort_id"


class TestPermissions:
    @pytest.mark.parametrize(
        ("role", "status"),
        [
            (Role.quality_lead, 201),
            (Role.coordinator, 201),
            (Role.auditor, 403),
            (Role.importer, 403),
        ],
    )
    def test_who_may_log(self, client, session, role, status) -> None:
        r = client.post("/api/v1/deviations", headers=auth(make_token(session, role)), json=LOG)
        assert r.status_code == status

    @pytest.mark.parametrize(
        ("role", "status"),
        [
            (Role.quality_lead, 200),
            (Role.coordinator, 200),
            (Role.auditor, 200),
            (Role.importer, 403),
        ],
    )
    def test_who_may_read(self, client, session, role, status) -> None:
        d = make_deviation(session)
        headers = auth(make_token(session, role))
        assert client.get("/api/v1/deviations", headers=headers).status_code == status
        assert client.get(f"/api/v1/deviations/{d.id}", headers=headers).status_code == status
        history = client.get(f"/api/v1/deviations/{d.id}/history", headers=headers)
        assert history.status_code == status

    @pytest.mark.parametrize("role", [Role.coordinator, Role.auditor, Role.importer])
    def test_only_quality_leads_change_and_move(self, client, session, role) -> None:
        d = make_deviation(session)
        headers = {**auth(make_token(session, role)), "If-Match": '"1"'}
        r = client.patch(f"/api/v1/deviations/{d.id}", headers=headers, json={"title": "x"})
        assert r.status_code == 403
        r = client.post(
            f"/api/v1/deviations/{d.id}/transitions", headers=headers, json={"to": "investigating"}
        )
        assert r.status_code == 403
        assert session.get(Deviation, d.id).status.value == "open"

    def test_a_scoped_auditor_sees_its_programmes_deviations_only(self, client, session) -> None:
        own = make_programme(session, code="MINE")
        other = make_programme(session, code="OTHER")
        mine = make_deviation(session, programme_id=own.id)
        theirs = make_deviation(session, programme_id=other.id)
        unlinked = make_deviation(session)
        token = auth(make_token(session, Role.auditor, programme_code="MINE"))
        listed = client.get("/api/v1/deviations", headers=token).json()["items"]
        assert [d["id"] for d in listed] == [mine.id]
        assert client.get(f"/api/v1/deviations/{mine.id}", headers=token).status_code == 200
        hidden = client.get(f"/api/v1/deviations/{theirs.id}", headers=token)
        assert hidden.status_code == 404
        # The same problem as for a deviation that does not exist: nothing of it shows through.
        assert hidden.headers["content-type"] == "application/problem+json"
        assert hidden.json()["detail"] == f"There is no deviation with the id {theirs.id}."
        assert theirs.title not in hidden.text
        assert client.get(f"/api/v1/deviations/{unlinked.id}", headers=token).status_code == 404


class TestFilters:
    @pytest.fixture
    def register(self, session):
        p = make_programme(session)
        return {
            "old": make_deviation(
                session,
                severity="critical",
                detected_at="2025-03-01T09:00:00Z",
                due_on="2025-03-15",
                programme_id=p.id,
                title="Mentor acted as a job broker",
            ),
            "plan": make_deviation(
                session, kind="deviation_from_plan", source="complaint", title="Manual not made"
            ),
            "obs": make_deviation(
                session, kind="observation", severity="major", title="Co-financing conflict"
            ),
            "programme": p,
        }

    def _ids(self, client, headers, **params) -> set[int]:
        r = client.get("/api/v1/deviations", headers=headers, params={"limit": 200, **params})
        assert r.status_code == 200, r.text
        return {d["id"] for d in r.json()["items"]}

    def test_each_filter_narrows_the_list(self, client, lead, register) -> None:
        old, plan, obs = register["old"].id, register["plan"].id, register["obs"].id
        assert self._ids(client, lead, severity="critical") == {old}
        assert self._ids(client, lead, kind="observation") == {obs}
        assert self._ids(client, lead, source="complaint") == {plan}
        assert self._ids(client, lead, programme_id=register["programme"].id) == {old}
        assert self._ids(client, lead, overdue="true") == {old}
        assert old not in self._ids(client, lead, overdue="false")
        assert self._ids(client, lead, detected_from="2025-01-01", detected_to="2025-12-31") == {
            old
        }
        assert self._ids(client, lead, q="JOB BROKER") == {old}
        assert self._ids(client, lead, q="100%") == set()
        assert {old, plan, obs} <= self._ids(client, lead, status="open")

    def test_a_reversed_date_range_is_refused(self, client, lead) -> None:
        r = client.get(
            "/api/v1/deviations",
            headers=lead,
            params={"detected_from": "2026-02-01", "detected_to": "2026-01-01"},
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "detected_to"

    def test_a_date_past_the_calendar_is_refused_by_field(self, client, lead) -> None:
        for field, value in (("detected_to", "9999-12-31"), ("detected_from", "0001-01-01")):
            r = client.get("/api/v1/deviations", headers=lead, params={field: value})
            assert r.status_code == 422, (field, r.status_code)
            assert r.json()["errors"][0]["field"] == field
            assert "between 1900-01-01 and 2999-12-31" in r.json()["errors"][0]["message"]
        body = {
            "kind": "observation",
            "source": "self_reported",
            "severity": "minor",
            "title": "t",
            "description": "d",
            "detected_at": "9999-12-31T23:00:00Z",
        }
        r = client.post("/api/v1/deviations", headers=lead, json=body)
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "detected_at"

    def test_pages_are_newest_first_and_stable(self, client, session, lead) -> None:
        made = [make_deviation(session).id for _ in range(5)]
        first = client.get("/api/v1/deviations?limit=2", headers=lead).json()
        assert [d["id"] for d in first["items"]] == made[::-1][:2]
        make_deviation(session)  # a newer one does not shift the pages already begun
        second = client.get(
            f"/api/v1/deviations?limit=2&cursor={first['next_cursor']}", headers=lead
        ).json()
        assert [d["id"] for d in second["items"]] == made[::-1][2:4]


class TestWorkflow:
    def test_an_illegal_move_is_409_naming_the_allowed(self, client, session, lead) -> None:
        d = make_deviation(session)
        r = _move(client, lead, d.id, to="closed", closure_summary="done")
        assert r.status_code == 409
        assert r.json()["allowed"] == ["investigating"]

    def test_a_major_deviation_needs_a_root_cause_before_action(
        self, client, session, lead
    ) -> None:
        d = make_deviation(session, severity="major")
        assert _move(client, lead, d.id, to="investigating").status_code == 200
        r = _move(client, lead, d.id, to="action_required")
        assert r.status_code == 409
        assert "record the root cause" in r.json()["detail"]
        r = _patch(
            client,
            lead,
            d.id,
            root_cause_method="five_whys",
            root_cause="The mentor travels two weeks a month; meetings were never rescheduled.",
        )
        assert r.status_code == 200
        assert _move(client, lead, d.id, to="action_required").json()["status"] == "action_required"

    def test_a_minor_deviation_needs_no_root_cause(self, client, session, lead) -> None:
        d = make_deviation(session, severity="minor")
        _move(client, lead, d.id, to="investigating")
        assert _move(client, lead, d.id, to="action_required").status_code == 200

    def test_closing_without_actions_needs_a_reason(self, client, session, lead) -> None:
        d = make_deviation(session, kind="observation")
        _move(client, lead, d.id, to="investigating")
        r = _move(client, lead, d.id, to="closed")
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "closure_summary"
        r = _move(client, lead, d.id, to="closed", closure_summary="Looked into it.")
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "no_action_reason"
        r = _move(
            client,
            lead,
            d.id,
            to="closed",
            closure_summary="The planned manual was dropped with the funder's agreement.",
            no_action_reason="The need for the manual fell away; nothing to correct.",
        )
        assert r.status_code == 200
        body = r.json()
        assert body["status"] == "closed"
        assert body["closed_at"] is not None
        signature = session.scalars(
            select(Signature).where(Signature.entity == "deviation", Signature.entity_id == d.id)
        ).one()
        assert signature.meaning.value == "closed"
        assert signature.signer == "lead-ingrid"

    def test_closing_waits_for_every_action_to_be_verified(self, client, session, lead) -> None:
        owner = make_user(session, Role.coordinator)
        d = make_deviation(session)
        action = make_action(session, [d], owner)
        _move(client, lead, d.id, to="investigating")
        _move(client, lead, d.id, to="action_required")
        r = _move(client, lead, d.id, to="closed", closure_summary="Fixed.")
        assert r.status_code == 409
        assert action.number in r.json()["detail"]
        a_url = f"/api/v1/actions/{action.id}"
        for body in (
            {"to": "in_progress"},
            {"to": "done", "completion_note": "Routine added"},
            {
                "to": "verified_effective",
                "evidence": "Three months of logs meet the rule",
                "signature": signed("verified"),
            },
        ):
            version = client.get(a_url, headers=lead).headers["etag"]
            r = client.post(
                f"{a_url}/transitions", headers={**lead, "If-Match": version}, json=body
            )
            assert r.status_code == 200, r.text
        r = _move(client, lead, d.id, to="closed", closure_summary="Fixed and verified.")
        assert r.status_code == 200
        assert r.json()["no_action_reason"] is None

    def test_reopening_needs_a_reason_and_returns_to_investigation(
        self, client, session, lead
    ) -> None:
        d = make_deviation(session)
        _move(client, lead, d.id, to="investigating")
        _move(client, lead, d.id, to="closed", closure_summary="s", no_action_reason="none needed")
        assert _move(client, lead, d.id, to="reopened").status_code == 422
        r = _move(client, lead, d.id, to="reopened", reason="The pair stopped meeting again")
        assert r.status_code == 200
        assert r.json()["closure_summary"] is None
        assert r.json()["allowed_transitions"] == ["investigating"]
        history = client.get(f"/api/v1/deviations/{d.id}/history", headers=lead).json()
        reopen = history[-1]
        assert reopen["reason"] == "The pair stopped meeting again"
        assert reopen["changes"]["status"] == {"old": "closed", "new": "reopened"}

    def test_a_closed_deviation_cannot_be_edited(self, client, session, lead) -> None:
        d = make_deviation(session)
        _move(client, lead, d.id, to="investigating")
        _move(client, lead, d.id, to="closed", closure_summary="s", no_action_reason="none needed")
        r = _patch(client, lead, d.id, title="Rewritten afterwards")
        assert r.status_code == 409


class TestAnActionDoneButNotVerified:
    """An action carried out is not yet shown to work: its deviation stays open until someone
    other than the owner verifies it effective (ISO 9001 10.2.1 d, reviewing effectiveness)."""

    @pytest.fixture
    def awaiting(self, session: Session) -> tuple[Deviation, CorrectiveAction]:
        """A deviation whose one action is done and awaits verification."""
        lead = Actor(user_id=None, name="lead-ingrid", role=Role.quality_lead)
        deviation = make_deviation(session)
        action = make_action(session, [deviation], make_user(session, Role.coordinator))
        for to in ("investigating", "action_required"):
            service.transition(
                session,
                actor=lead,
                deviation_id=deviation.id,
                data=DeviationTransition(to=to),
                if_match=deviation.version,
            )
        for to in ("in_progress", "done"):
            actions.transition(
                session,
                actor=lead,
                action_id=action.id,
                data=ActionTransition(to=to, completion_note="Monthly log check added"),
                if_match=action.version,
            )
        session.flush()
        assert action.status is ActionStatus.done
        return deviation, action

    @staticmethod
    def _state(session: Session, deviation_id: int) -> tuple[DeviationStatus, int, int, int]:
        """What a reader would see changed: status, version, audit events, signatures."""
        session.expire_all()
        deviation = session.get(Deviation, deviation_id)
        events = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
        signatures = session.scalar(select(func.count()).select_from(Signature)) or 0
        return deviation.status, deviation.version, events, signatures

    def test_the_service_refuses_and_keeps_nothing(
        self,
        session: Session,
        bound_db: BoundDatabase,
        awaiting: tuple[Deviation, CorrectiveAction],
    ) -> None:
        deviation, action = awaiting
        before = self._state(session, deviation.id)
        assert before[0] is DeviationStatus.action_required
        lead = Actor(user_id=None, name="lead-ingrid", role=Role.quality_lead)
        # The unit of work the API and the CLI use: a refusal rolls back whatever was begun.
        with pytest.raises(Conflict) as refused, bound_db.unit_of_work() as uow:
            service.transition(
                uow,
                actor=lead,
                deviation_id=deviation.id,
                data=DeviationTransition(
                    to="closed",
                    closure_summary="Routine in place.",
                    **confirmation_of("deviation", "closed"),
                ),
                if_match=before[1],
            )
        assert f"{action.number} (done)" in str(refused.value)
        assert self._state(session, deviation.id) == before

    def test_the_api_answers_409_saying_why_and_keeps_nothing(
        self,
        client: Any,
        session: Session,
        lead: dict[str, str],
        awaiting: tuple[Deviation, CorrectiveAction],
    ) -> None:
        deviation, action = awaiting
        before = self._state(session, deviation.id)
        r = _move(client, lead, deviation.id, to="closed", closure_summary="Routine in place.")
        assert r.status_code == 409, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        problem = r.json()
        assert problem["status"] == 409
        assert "not yet verified" in problem["detail"]
        assert f"{action.number} (done)" in problem["detail"]
        assert self._state(session, deviation.id) == before
        after = client.get(f"/api/v1/deviations/{deviation.id}", headers=lead)
        assert after.json()["status"] == "action_required"
        assert after.json()["closed_at"] is None
        assert after.headers["etag"] == f'"{before[1]}"'


class TestConcurrency:
    def test_changes_and_moves_need_if_match(self, client, session, lead) -> None:
        d = make_deviation(session)
        r = client.patch(f"/api/v1/deviations/{d.id}", headers=lead, json={"title": "x"})
        assert r.status_code == 428
        r = client.post(
            f"/api/v1/deviations/{d.id}/transitions", headers=lead, json={"to": "investigating"}
        )
        assert r.status_code == 428

    def test_the_second_of_two_editors_gets_412_and_nothing_is_lost(
        self, client, session, lead
    ) -> None:
        d = make_deviation(session, title="Original")
        first = client.get(f"/api/v1/deviations/{d.id}", headers=lead)
        second = client.get(f"/api/v1/deviations/{d.id}", headers=lead)
        r1 = client.patch(
            f"/api/v1/deviations/{d.id}",
            headers={**lead, "If-Match": first.headers["etag"]},
            json={"immediate_containment": "Called the mentor"},
        )
        r2 = client.patch(
            f"/api/v1/deviations/{d.id}",
            headers={**lead, "If-Match": second.headers["etag"]},
            json={"title": "Overwrites nothing"},
        )
        assert r1.status_code == 200
        assert r2.status_code == 412
        now = client.get(f"/api/v1/deviations/{d.id}", headers=lead).json()
        assert now["immediate_containment"] == "Called the mentor"
        assert now["title"] == "Original"

    def test_concurrent_logging_gives_gapless_distinct_numbers(self, fresh_db) -> None:
        writers, each = 6, 8
        failures: list[BaseException] = []
        actor = Actor(user_id=None, name="writer", role=Role.quality_lead)

        def work() -> None:
            try:
                for _ in range(each):
                    with fresh_db.unit_of_work() as session:
                        service.create(
                            session,
                            actor=actor,
                            data=DeviationCreate(
                                kind="observation",
                                source="self_reported",
                                severity="minor",
                                title="t",
                                description="d",
                            ),
                        )
            except BaseException as exc:  # reported below
                failures.append(exc)

        threads = [threading.Thread(target=work) for _ in range(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failures == []
        with fresh_db.unit_of_work(write=False) as session:
            numbers = sorted(session.scalars(select(Deviation.number)))
        assert numbers == [f"DEV-{date.today().year}-{n:04d}" for n in range(1, writers * each + 1)]

    def test_a_rolled_back_creation_gives_its_number_back(self, fresh_db) -> None:
        actor = Actor(user_id=None, name="writer", role=Role.quality_lead)
        data = DeviationCreate(
            kind="observation", source="self_reported", severity="minor", title="t", description="d"
        )

        def failing() -> None:
            with fresh_db.unit_of_work() as session:
                service.create(session, actor=actor, data=data)
                raise RuntimeError("the request failed later")

        with pytest.raises(RuntimeError):
            failing()
        with fresh_db.unit_of_work() as session:
            assert (
                service.create(session, actor=actor, data=data).number
                == f"DEV-{date.today().year}-0001"
            )


def test_two_clients_moving_one_deviation_at_once_exactly_one_wins(fresh_db) -> None:
    with fresh_db.unit_of_work() as session:
        deviation = make_deviation(session)
        lead = auth(make_token(session, Role.quality_lead))
        deviation_id, version = deviation.id, deviation.version
    barrier = threading.Barrier(2)
    answers: list[int] = []

    def move() -> None:
        client = make_client(fresh_db)
        barrier.wait()
        r = client.post(
            f"/api/v1/deviations/{deviation_id}/transitions",
            headers={**lead, "If-Match": f'"{version}"'},
            json={"to": "investigating"},
        )
        answers.append(r.status_code)

    threads = [threading.Thread(target=move) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers)[0] == 200
    assert sorted(answers)[1] in (409, 412)
    with fresh_db.unit_of_work(write=False) as session:
        moves = session.scalars(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "deviation.transitioned")
        ).one()
    assert moves == 1


class TestBlockedMoves:
    def test_a_major_deviation_without_its_analysis_is_blocked_from_action_required(
        self, client, session, lead
    ) -> None:
        d = make_deviation(session, severity="major")
        _move(client, lead, d.id, to="investigating")
        body = client.get(f"/api/v1/deviations/{d.id}", headers=lead).json()
        assert body["allowed_transitions"] == ["closed"]
        assert body["blocked"] == [{"to": "action_required", "missing": ["root_cause_analysis"]}]

    def test_closing_is_blocked_while_an_action_is_not_verified(
        self, client, session, lead
    ) -> None:
        d = make_deviation(session)
        _move(client, lead, d.id, to="investigating")
        _move(client, lead, d.id, to="action_required")
        make_action(session, [d], make_user(session, Role.coordinator))
        body = client.get(f"/api/v1/deviations/{d.id}", headers=lead).json()
        assert body["allowed_transitions"] == ["investigating"]
        assert body["blocked"] == [{"to": "closed", "missing": ["actions_verified"]}]
        listed = client.get("/api/v1/deviations", headers=lead).json()["items"]
        assert [r["blocked"] for r in listed if r["id"] == d.id] == [body["blocked"]]


class TestBlockedMovesOnThePages:
    def test_a_move_that_cannot_succeed_is_shown_with_why_and_no_form(
        self, client, session
    ) -> None:
        from qms.accounts.models import User
        from tests.factories import ADMIN
        from tests.web import sign_in, web_user

        name = web_user(session, Role.quality_lead)
        deviation = make_deviation(session)
        for to in ("investigating", "action_required"):
            service.transition(
                session,
                actor=ADMIN,
                deviation_id=deviation.id,
                data=DeviationTransition(to=to),
                if_match=deviation.version,
            )
        owner = session.scalars(select(User).where(User.name == name)).one()
        action = make_action(session, [deviation], owner=owner)
        session.flush()
        sign_in(client, name)
        page = client.get(f"/deviations/{deviation.id}").text
        assert "Move to investigating" in page
        assert "Move to closed" not in page
        assert 'value="closed"' not in page
        assert "every corrective action verified effective or found ineffective" in page
        # The owner is not offered to verify their own action, and is told why.
        for to in ("in_progress", "done"):
            actions.transition(
                session,
                actor=ADMIN,
                action_id=action.id,
                data=ActionTransition(to=to, completion_note="Routine in place"),
                if_match=action.version,
            )
        session.flush()
        page = client.get(f"/actions/{action.id}").text
        assert 'value="verified_effective"' not in page
        assert "someone other than the owner" in page
