"""Corrective actions over the API: linking, the workflow, verification by another, follow-ons."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qms.accounts.models import User
from qms.actions.models import CorrectiveAction
from qms.audit.models import AuditEvent
from qms.audit.service import verify
from qms.db import Database
from qms.deviations.models import Deviation, DeviationStatus
from qms.permissions import Role
from qms.signatures.models import Signature
from qms.signatures.service import content_hash
from tests.conftest import make_client
from tests.factories import (
    auth,
    make_action,
    make_deviation,
    make_token,
    make_user,
    signed,
    signing,
)
from tests.threads import while_one_holds


@pytest.fixture
def lead(session) -> dict[str, str]:
    return auth(make_token(session, Role.quality_lead, name="lead-ingrid"))


@pytest.fixture
def owner(session):
    return make_user(session, Role.coordinator, name="coordinator-ola")


def _due(days: int) -> str:
    """Return a due date the given number of days after today: a fixed one falls before the
    deviation's own detection once the clock passes it."""
    return (date.today() + timedelta(days=days)).isoformat()


def _new(deviation_ids, owner_name="coordinator-ola", **overrides):
    return {
        "deviation_ids": deviation_ids,
        "type": "corrective",
        "title": "Monthly meeting-log check",
        "action": "Coordinator checks every pair's meeting log on the first workday of the month.",
        "owner": owner_name,
        "due_on": _due(120),
        "root_cause_method": "fishbone",
        "root_cause": "No one looked at the meeting logs between the start and the midpoint.",
        **overrides,
    }


def _state(client: Any, session: Session, headers: dict[str, str], action_id: int) -> Any:
    """What a refusal must leave as it was: the action as read, its version, the audit trail."""
    r = client.get(f"/api/v1/actions/{action_id}", headers=headers)
    events = session.scalar(select(func.count()).select_from(AuditEvent))
    return r.json(), r.headers["etag"], events


def _move(client, headers, action_id: int, **body):
    version = client.get(f"/api/v1/actions/{action_id}", headers=headers).headers["etag"]
    return client.post(
        f"/api/v1/actions/{action_id}/transitions",
        headers={**headers, "If-Match": version},
        # A verification signs: the helper confirms it as the signer would.
        json={**signing("action", body.get("to", "")), **body},
    )


class TestCreate:
    def test_an_action_is_numbered_and_linked_to_its_deviations(
        self, client, session, lead, owner
    ) -> None:
        d1, d2 = make_deviation(session), make_deviation(session)
        r = client.post("/api/v1/actions", headers=lead, json=_new([d1.id, d2.id]))
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["number"] == f"CA-{date.today().year}-0001"
        assert body["status"] == "planned"
        assert body["owner"] == "coordinator-ola"
        assert body["deviation_numbers"] == [d1.number, d2.number]
        deviation = client.get(f"/api/v1/deviations/{d1.id}", headers=lead).json()
        assert deviation["action_numbers"] == [body["number"]]
        history = client.get(f"/api/v1/deviations/{d1.id}/history", headers=lead).json()
        assert [e["action"] for e in history] == [
            "deviation.created",
            "action.created",
            "deviation.action_linked",
        ]

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"deviation_ids": [999_999]}, "deviation_ids.0"),
            ({"deviation_ids": []}, "deviation_ids"),
            ({"owner": "nobody"}, "owner"),
            ({"type": "cosmetic"}, "type"),
            ({"due_on": "31.03.2027"}, "due_on"),
            ({"due_on": "2020-01-01"}, "due_on"),
            ({"root_cause_method": "guesswork"}, "root_cause_method"),
            # Before the action is due (in 120 days): a check of a result not yet due.
            ({"effectiveness_check_on": _due(60)}, "effectiveness_check_on"),
        ],
    )
    def test_bad_input_names_the_field_and_writes_nothing(
        self, client, session, lead, owner, change, field
    ) -> None:
        d = make_deviation(session)
        body = {**_new([d.id]), **change}
        r = client.post("/api/v1/actions", headers=lead, json=body)
        assert r.status_code == 422, r.text
        assert field in {e["field"] for e in r.json()["errors"]}
        assert session.scalars(select(CorrectiveAction)).all() == []

    def test_an_auditor_cannot_own_an_action(self, client, session, lead) -> None:
        make_user(session, Role.auditor, name="independent")
        d = make_deviation(session)
        r = client.post("/api/v1/actions", headers=lead, json=_new([d.id], "independent"))
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "owner"


class TestPermissions:
    @pytest.mark.parametrize("role", [Role.coordinator, Role.auditor, Role.importer])
    def test_only_quality_leads_manage_actions(self, client, session, owner, role) -> None:
        d = make_deviation(session)
        r = client.post(
            "/api/v1/actions", headers=auth(make_token(session, role)), json=_new([d.id])
        )
        assert r.status_code == 403

    @pytest.mark.parametrize(
        ("role", "status"), [(Role.auditor, 200), (Role.coordinator, 200), (Role.importer, 403)]
    )
    def test_who_may_read(self, client, session, owner, role, status) -> None:
        action = make_action(session, [make_deviation(session)], owner)
        headers = auth(make_token(session, role))
        assert client.get("/api/v1/actions", headers=headers).status_code == status
        assert client.get(f"/api/v1/actions/{action.id}", headers=headers).status_code == status


class TestCompletionAndEarlyVerification:
    def test_done_needs_a_completion_note(self, client, session, lead, owner) -> None:
        action = make_action(session, [make_deviation(session)], owner)
        _move(client, lead, action.id, to="in_progress")
        before = _state(client, session, lead, action.id)
        r = _move(client, lead, action.id, to="done")
        assert r.status_code == 422
        assert [e["field"] for e in r.json()["errors"]] == ["completion_note"]
        assert _state(client, session, lead, action.id) == before
        r = _move(client, lead, action.id, to="done", completion_note="Routine in place")
        assert r.status_code == 200
        assert r.json()["completion_note"] == "Routine in place"

    def test_verifying_before_the_effectiveness_check_needs_a_reason(
        self, client, session, lead, owner
    ) -> None:
        check_on = date.today() + timedelta(days=200)
        action = make_action(
            session, [make_deviation(session)], owner, effectiveness_check_on=check_on
        )
        _move(client, lead, action.id, to="in_progress")
        _move(client, lead, action.id, to="done", completion_note="Routine in place")
        before = _state(client, session, lead, action.id)
        r = _move(client, lead, action.id, to="verified_effective", evidence="Logs checked")
        assert r.status_code == 422
        assert [e["field"] for e in r.json()["errors"]] == ["reason"]
        assert check_on.isoformat() in r.json()["detail"] or "effectiveness" in r.json()["detail"]
        assert _state(client, session, lead, action.id) == before
        reason = "The programme ends before the check date; the logs already show the effect."
        r = _move(
            client, lead, action.id, to="verified_effective", evidence="Logs checked", reason=reason
        )
        assert r.status_code == 200, r.text
        event = session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.entity == "action",
                AuditEvent.entity_id == str(action.id),
                AuditEvent.action == "action.transitioned",
            )
            .order_by(AuditEvent.seq.desc())
        ).first()
        assert event is not None
        assert event.reason == reason

    def test_found_ineffective_early_needs_no_reason(self, client, session, lead, owner) -> None:
        action = make_action(
            session,
            [make_deviation(session)],
            owner,
            effectiveness_check_on=date.today() + timedelta(days=200),
        )
        _move(client, lead, action.id, to="in_progress")
        _move(client, lead, action.id, to="done", completion_note="Routine in place")
        follow_on = {
            "type": "preventive",
            "title": "Meeting plan at kick-off",
            "action": "Each pair books its first six meetings at the kick-off.",
            "owner": "coordinator-ola",
            "due_on": _due(300),
        }
        r = _move(
            client,
            lead,
            action.id,
            to="ineffective",
            evidence="Two pairs still below",
            follow_on=follow_on,
        )
        assert r.status_code == 200, r.text


class TestWorkflow:
    def test_verification_is_by_another_person_with_evidence_and_signed(
        self, client, session, lead
    ) -> None:
        owner_token = auth(make_token(session, Role.quality_lead, name="lead-owner"))
        d = make_deviation(session)
        r = client.post("/api/v1/actions", headers=lead, json=_new([d.id], "lead-owner"))
        action_id = r.json()["id"]
        assert _move(client, owner_token, action_id, to="in_progress").status_code == 200
        r = _move(client, owner_token, action_id, to="done", completion_note="Routine in place")
        assert r.json()["done_at"] is not None
        r = _move(client, owner_token, action_id, to="verified_effective", evidence="Logs checked")
        assert r.status_code == 403
        r = _move(client, lead, action_id, to="verified_effective")
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "evidence"
        evidence = "Meeting logs for April-June: every pair met twice a month."
        r = _move(client, lead, action_id, to="verified_effective", evidence=evidence)
        assert r.status_code == 200
        verification = r.json()["verification"]
        assert verification["verified_by"] == "lead-ingrid"
        assert verification["evidence"] == evidence
        assert verification["result"] == "verified_effective"
        signature = session.scalars(
            select(Signature).where(Signature.entity == "action", Signature.entity_id == action_id)
        ).one()
        assert signature.meaning.value == "verified"
        assert verification["signature_sha256"] == signature.content_sha256
        # The hash covers what was verified and the statement the verifier signed.
        assert signature.content_sha256 == content_hash(
            {
                "number": r.json()["number"],
                "result": "verified_effective",
                "action": r.json()["action"],
                "completion_note": "Routine in place",
                "evidence": evidence,
                "statement": f"I verify that {r.json()['number']} was effective: {evidence}",
            }
        )
        assert r.json()["allowed_transitions"] == []

    def test_an_ineffective_action_hands_over_to_a_follow_on(
        self, client, session, lead, owner
    ) -> None:
        d = make_deviation(session)
        action = make_action(session, [d], owner)
        _move(client, lead, action.id, to="in_progress")
        _move(client, lead, action.id, to="done", completion_note="Done")
        r = _move(client, lead, action.id, to="ineffective", evidence="Two pairs still below")
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "follow_on"
        follow_on = {
            "type": "preventive",
            "title": "Meeting plan at kick-off",
            "action": "Each pair books its first six meetings at the kick-off.",
            "owner": "coordinator-ola",
            "due_on": _due(300),
        }
        r = _move(
            client,
            lead,
            action.id,
            to="ineffective",
            evidence="Two pairs still below",
            follow_on=follow_on,
        )
        assert r.status_code == 200, r.text
        [follow_on_id] = r.json()["follow_on_action_ids"]
        follower = client.get(f"/api/v1/actions/{follow_on_id}", headers=lead).json()
        assert follower["follows_action_id"] == action.id
        assert follower["deviation_ids"] == [d.id]
        assert follower["status"] == "planned"

    def test_the_deviation_closes_once_the_follow_on_is_verified(
        self, client, session, lead, owner
    ) -> None:
        d = make_deviation(session)
        first = make_action(session, [d], owner)
        for body in ({"to": "in_progress"}, {"to": "done", "completion_note": "Done"}):
            _move(client, lead, first.id, **body)
        r = _move(
            client,
            lead,
            first.id,
            to="ineffective",
            evidence="no change",
            follow_on={
                "type": "corrective",
                "title": "t",
                "action": "a",
                "owner": "coordinator-ola",
                "due_on": _due(300),
            },
        )
        follow_on_id = r.json()["follow_on_action_ids"][0]
        dev_url = f"/api/v1/deviations/{d.id}"

        def close():
            version = client.get(dev_url, headers=lead).headers["etag"]
            return client.post(
                f"{dev_url}/transitions",
                headers={**lead, "If-Match": version},
                json={"to": "closed", "closure_summary": "s", "signature": signed("closed")},
            )

        for to in ("investigating", "action_required"):
            version = client.get(dev_url, headers=lead).headers["etag"]
            client.post(
                f"{dev_url}/transitions", headers={**lead, "If-Match": version}, json={"to": to}
            )
        assert close().status_code == 409
        for body in ({"to": "in_progress"}, {"to": "done", "completion_note": "Done"}):
            _move(client, lead, follow_on_id, **body)
        _move(client, lead, follow_on_id, to="verified_effective", evidence="fixed")
        assert close().status_code == 200

    def test_an_illegal_move_names_the_allowed(self, client, session, lead, owner) -> None:
        action = make_action(session, [make_deviation(session)], owner)
        before = _state(client, session, lead, action.id)
        r = _move(client, lead, action.id, to="done", completion_note="Done")
        assert r.status_code == 409
        assert r.json()["allowed"] == ["in_progress"]
        assert _state(client, session, lead, action.id) == before

    def test_a_done_action_can_no_longer_be_edited(self, client, session, lead, owner) -> None:
        action = make_action(session, [make_deviation(session)], owner)
        _move(client, lead, action.id, to="in_progress")
        _move(client, lead, action.id, to="done", completion_note="Done")
        before = _state(client, session, lead, action.id)
        version = before[1]
        r = client.patch(
            f"/api/v1/actions/{action.id}",
            headers={**lead, "If-Match": version},
            json={"title": "Changed afterwards"},
        )
        assert r.status_code == 409
        assert _state(client, session, lead, action.id) == before


class TestOverdue:
    def test_past_due_and_not_done_is_overdue(self, client, session, lead, owner) -> None:
        d = make_deviation(session, detected_at="2025-01-10T09:00:00Z", due_on="2025-03-01")
        late = make_action(session, [d], owner, due_on=date(2025, 2, 1))
        done = make_action(session, [d], owner, due_on=date(2025, 2, 1))
        on_time = make_action(session, [d], owner, due_on=date(2099, 1, 1))
        _move(client, lead, done.id, to="in_progress")
        _move(client, lead, done.id, to="done", completion_note="Done")
        r = client.get("/api/v1/actions?overdue=true", headers=lead)
        assert [a["id"] for a in r.json()["items"]] == [late.id]
        assert r.json()["items"][0]["overdue"] is True
        not_overdue = client.get("/api/v1/actions?overdue=false", headers=lead).json()["items"]
        assert {a["id"] for a in not_overdue} == {done.id, on_time.id}


class TestEditing:
    def test_a_change_is_audited_and_versioned(self, client, session, lead, owner) -> None:
        make_user(session, Role.quality_lead, name="lead-two")
        action = make_action(session, [make_deviation(session)], owner)
        url = f"/api/v1/actions/{action.id}"
        stale = client.get(url, headers=lead).headers["etag"]
        r = client.patch(
            url,
            headers={**lead, "If-Match": stale},
            json={"owner": "lead-two", "due_on": _due(240)},
        )
        assert r.status_code == 200
        assert r.json()["owner"] == "lead-two"
        before = _state(client, session, lead, action.id)
        r = client.patch(url, headers={**lead, "If-Match": stale}, json={"title": "lost"})
        assert r.status_code == 412
        # The first change stands; the stale one is neither applied nor audited.
        assert _state(client, session, lead, action.id) == before
        assert before[0]["title"] != "lost"
        events = client.get(
            "/api/v1/audit/events",
            headers=lead,
            params={"entity": "action", "entity_id": str(action.id)},
        ).json()["items"]
        assert events[-1]["changes"]["owner"] == {"old": "coordinator-ola", "new": "lead-two"}
        assert events[-1]["changes"]["due_on"] == {
            "old": action.due_on.isoformat(),
            "new": _due(240),
        }


class TestOwnersReportProgress:
    def test_an_owner_moves_their_own_action_to_done_but_not_further(
        self, client, session, lead
    ) -> None:
        owner_headers = auth(make_token(session, Role.coordinator, name="coordinator-owner"))
        owner = session.scalars(select(User).where(User.name == "coordinator-owner")).one()
        action = make_action(session, [make_deviation(session)], owner)
        assert _move(client, owner_headers, action.id, to="in_progress").status_code == 200
        assert (
            _move(client, owner_headers, action.id, to="done", completion_note="Done").status_code
            == 200
        )
        r = _move(client, owner_headers, action.id, to="verified_effective", evidence="mine")
        assert r.status_code == 403

    def test_a_coordinator_cannot_move_someone_elses_action(self, client, session, owner) -> None:
        other = auth(make_token(session, Role.coordinator))
        action = make_action(session, [make_deviation(session)], owner)
        assert _move(client, other, action.id, to="in_progress").status_code == 403
        assert session.get(CorrectiveAction, action.id).status.value == "planned"

    @pytest.mark.parametrize("role", [Role.auditor, Role.importer])
    def test_readers_and_scripts_move_nothing(self, client, session, owner, role) -> None:
        action = make_action(session, [make_deviation(session)], owner)
        headers = auth(make_token(session, role))
        r = client.post(
            f"/api/v1/actions/{action.id}/transitions",
            headers={**headers, "If-Match": '"1"'},
            json={"to": "in_progress"},
        )
        assert r.status_code == 403


CLOSING = {
    "to": "closed",
    "closure_summary": "Looked into it with the coordinator.",
    "signature": signed("closed"),
    "no_action_reason": "A one-off; nothing to correct.",
}


@pytest.fixture
def investigated(fresh_db: Database) -> tuple[int, str, dict[str, str]]:
    """A committed observation under investigation, its ETag, and a quality lead's headers."""
    with fresh_db.unit_of_work() as session:
        deviation_id = make_deviation(session, kind="observation").id
        make_user(session, Role.coordinator, name="coordinator-ola")
        lead = auth(make_token(session, Role.quality_lead, name="lead-ingrid"))
    address = f"/api/v1/deviations/{deviation_id}"
    client = make_client(fresh_db)
    etag = client.get(address, headers=lead).headers["etag"]
    moved = client.post(
        f"{address}/transitions", headers={**lead, "If-Match": etag}, json={"to": "investigating"}
    )
    assert moved.status_code == 200, moved.text
    return deviation_id, moved.headers["etag"], lead


@pytest.mark.parametrize("first", ["closing", "opening"])
def test_an_action_opened_as_its_deviation_closes_never_leaves_it_closed_with_an_open_action(
    fresh_db: Database, investigated: tuple[int, str, dict[str, str]], first: str
) -> None:
    """Closing a deviation reads its actions; opening an action reads the deviation's status.
    One of them has done its work and holds it uncommitted as the other starts: the second must
    decide on what the first committed, and be refused, whichever came first."""
    deviation_id, etag, lead = investigated
    address = f"/api/v1/deviations/{deviation_id}"

    def close(database: Database) -> Any:
        return make_client(database).post(
            f"{address}/transitions", headers={**lead, "If-Match": etag}, json=CLOSING
        )

    def open_action(database: Database) -> Any:
        return make_client(database).post(
            "/api/v1/actions", headers=lead, json=_new([deviation_id])
        )

    if first == "closing":
        closed, opened = while_one_holds(fresh_db, close, open_action)
    else:
        opened, closed = while_one_holds(fresh_db, open_action, close)
    with fresh_db.unit_of_work(write=False) as session:
        status = session.get(Deviation, deviation_id).status
        actions = session.scalars(select(CorrectiveAction.number)).all()
        assert verify(session).ok
    # What a user would see broken: a closed deviation with an action still to be done.
    assert not (status is DeviationStatus.closed and actions), (status, actions)
    if first == "closing":
        assert closed.status_code == 200, closed.text
        assert opened.status_code == 422, opened.text
        assert "is closed: reopen it first." in opened.json()["errors"][0]["message"]
        assert (status, actions) == (DeviationStatus.closed, [])
    else:
        assert opened.status_code == 201, opened.text
        assert closed.status_code == 409, closed.text
        assert "not yet verified" in closed.json()["detail"]
        assert status is DeviationStatus.investigating
        assert actions == [opened.json()["number"]]


class TestBlockedMoves:
    def test_the_owner_is_not_offered_to_verify(self, client, session, lead) -> None:
        owner_token = auth(make_token(session, Role.quality_lead, name="lead-owner"))
        d = make_deviation(session)
        r = client.post("/api/v1/actions", headers=lead, json=_new([d.id], "lead-owner"))
        action_id = r.json()["id"]
        _move(client, owner_token, action_id, to="in_progress")
        _move(client, owner_token, action_id, to="done", completion_note="Routine in place")
        mine = client.get(f"/api/v1/actions/{action_id}", headers=owner_token).json()
        assert mine["allowed_transitions"] == []
        assert mine["blocked"] == [
            {"to": "verified_effective", "missing": ["verifier_not_owner"]},
            {"to": "ineffective", "missing": ["verifier_not_owner"]},
        ]
        theirs = client.get(f"/api/v1/actions/{action_id}", headers=lead).json()
        assert theirs["allowed_transitions"] == ["verified_effective", "ineffective"]
        assert theirs["blocked"] == []
