"""Retention: what is due, and disposing of it under a recorded decision with the chain intact."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from qms.audit.models import AuditEvent
from qms.audit.service import verify
from qms.config import get_settings
from qms.pairs.models import Meeting
from qms.participants.models import ParticipantPersonal
from qms.permissions import Role
from qms.retention.models import RetentionDecision
from tests.conftest import make_client
from tests.factories import (
    auth,
    make_cohort,
    make_meeting,
    make_pair,
    make_participant,
    make_programme,
    make_token,
)
from tests.threads import at_once


@pytest.fixture
def lead(session) -> dict[str, str]:
    return auth(make_token(session, Role.quality_lead))


@pytest.fixture
def kept_for(monkeypatch):
    """Set retention periods for the test, as QMS_RETENTION_YEARS would."""

    def configure(**years: int) -> None:
        monkeypatch.setenv("QMS_RETENTION_YEARS", json.dumps(years))
        get_settings.cache_clear()

    yield configure
    monkeypatch.delenv("QMS_RETENTION_YEARS", raising=False)
    get_settings.cache_clear()


@pytest.fixture
def past_pair(session):
    """A pair of a cohort that ended two months ago, with three meetings."""
    start = date.today() - timedelta(days=300)
    cohort = make_cohort(
        session,
        make_programme(session),
        start_on=start,
        end_on=date.today() - timedelta(days=60),
    )
    mentor = make_participant(session, cohort, role="mentor")
    mentee = make_participant(session, cohort)
    pair = make_pair(session, mentor, mentee, started_on=start)
    for days in (10, 40, 70):
        make_meeting(session, pair, start + timedelta(days=days))
    return pair


def _meetings(session, pair) -> int:
    return session.scalar(select(func.count()).where(Meeting.pair_id == pair.id))


def test_the_report_lists_every_kind_with_its_period(client, lead, past_pair) -> None:
    r = client.get("/api/v1/retention", headers=lead)
    assert r.status_code == 200
    kinds = {k["kind"]: k for k in r.json()["kinds"]}
    assert set(kinds) == {
        "personal_data",
        "follow_up_notes",
        "meeting",
        "evaluation_response",
        "issued_document",
        "deviation",
        "complainant",
        "complaint",
        "risk",
        "objective",
        "context_issue",
        "interested_party",
        "provider",
        "training_record",
        "acknowledgement",
    }
    assert kinds["meeting"]["years"] == 5
    assert kinds["meeting"]["due"] == 0
    later = client.get("/api/v1/retention?as_of=2040-01-01", headers=lead).json()
    due = {k["kind"]: k["due"] for k in later["kinds"]}
    assert due["meeting"] >= 3
    assert due["personal_data"] >= 2


def test_disposing_removes_what_is_due_records_the_decision_and_keeps_the_chain(
    client, session, lead, past_pair, kept_for
) -> None:
    kept_for(meeting=0, personal_data=0)
    assert _meetings(session, past_pair) == 3
    events = session.scalar(select(func.count()).select_from(AuditEvent))
    r = client.post(
        "/api/v1/retention/dispositions",
        headers=lead,
        json={"kind": "meeting", "reason": "Retention period of the meeting log has run out."},
    )
    assert r.status_code == 201, r.text
    decision = r.json()
    assert decision["count"] >= 3
    assert decision["disposition"] == "remove"
    assert _meetings(session, past_pair) == 0
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == events + 1
    assert verify(session).ok
    listed = client.get("/api/v1/retention/dispositions", headers=lead).json()
    assert listed[0]["id"] == decision["id"]
    again = client.post(
        "/api/v1/retention/dispositions",
        headers=lead,
        json={"kind": "meeting", "reason": "Once more."},
    )
    assert again.status_code == 404

    r = client.post(
        "/api/v1/retention/dispositions",
        headers=lead,
        json={
            "kind": "personal_data",
            "reason": "Two years after the cohort ended.",
            "record_ids": [past_pair.mentor_id],
        },
    )
    assert r.status_code == 201
    personal = session.get(ParticipantPersonal, past_pair.mentor_id)
    session.refresh(personal)
    assert personal.name is None
    assert personal.email is None
    assert personal.erased_at is not None
    other = session.get(ParticipantPersonal, past_pair.mentee_id)
    session.refresh(other)
    assert other.name is not None
    assert verify(session).ok


def test_only_due_records_may_be_disposed_of_and_nothing_else_is_touched(
    client, session, lead, past_pair
) -> None:
    meeting_id = session.scalars(select(Meeting.id).where(Meeting.pair_id == past_pair.id)).first()
    r = client.post(
        "/api/v1/retention/dispositions",
        headers=lead,
        json={"kind": "meeting", "reason": "Too early.", "record_ids": [meeting_id]},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "record_ids[0]"
    assert _meetings(session, past_pair) == 3
    assert session.scalar(select(func.count()).select_from(RetentionDecision)) == 0
    unknown = client.post(
        "/api/v1/retention/dispositions",
        headers=lead,
        json={"kind": "everything", "reason": "No."},
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "kind"


def test_auditors_read_the_report_and_only_quality_leads_dispose(client, session) -> None:
    auditor = auth(make_token(session, Role.auditor))
    coordinator = auth(make_token(session, Role.coordinator))
    body = {"kind": "meeting", "reason": "x"}
    assert client.get("/api/v1/retention", headers=auditor).status_code == 200
    assert client.get("/api/v1/retention", headers=coordinator).status_code == 403
    assert (
        client.post("/api/v1/retention/dispositions", headers=auditor, json=body).status_code == 403
    )


def test_two_disposals_at_once_dispose_once(fresh_db, kept_for) -> None:
    """Two people dispose of the same due records at the same moment: one decision removes them,
    the other finds nothing due; no decision claims records it did not dispose of."""
    kept_for(meeting=0)
    with fresh_db.unit_of_work() as session:
        start = date.today() - timedelta(days=300)
        cohort = make_cohort(
            session, make_programme(session), start_on=start,
            end_on=date.today() - timedelta(days=60),
        )  # fmt: skip
        pair = make_pair(
            session, make_participant(session, cohort, role="mentor"),
            make_participant(session, cohort), started_on=start,
        )  # fmt: skip
        for days in (10, 40, 70):
            make_meeting(session, pair, start + timedelta(days=days))
        tokens = [auth(make_token(session, Role.quality_lead)) for _ in range(2)]
    clients = [make_client(fresh_db) for _ in tokens]
    body = {"kind": "meeting", "reason": "The meeting log's period has run out."}
    answers = [
        r.status_code
        for r in at_once(
            *(
                lambda c=c, t=t: c.post("/api/v1/retention/dispositions", headers=t, json=body)
                for c, t in zip(clients, tokens, strict=True)
            )
        )
    ]
    assert sorted(answers) == [201, 404]
    with fresh_db.unit_of_work(write=False) as session:
        [decision] = session.scalars(select(RetentionDecision)).all()
        assert decision.count == 3
        assert session.scalar(select(func.count()).select_from(Meeting)) == 0
        assert verify(session).ok
