"""Participants: codes for everyone, personal data for those who need it, erasure for good."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from qms.audit.models import AuditEvent
from qms.audit.service import canonical_json
from qms.participants.models import Participant, ParticipantPersonal
from qms.permissions import Role
from tests.factories import auth, make_cohort, make_participant, make_programme, make_token


@pytest.fixture
def cohort(session):
    today = date.today()
    return make_cohort(
        session, make_programme(session), start_on=today - timedelta(days=200),
        end_on=today + timedelta(days=165),
    )  # fmt: skip


@pytest.fixture
def coordinator(session) -> dict[str, str]:
    return auth(make_token(session, Role.coordinator, name="coordinator-kari"))


def _trail(session) -> str:
    return "".join(
        canonical_json(e.changes) + (e.reason or "") for e in session.scalars(select(AuditEvent))
    )


NEW = {
    "role": "mentee",
    "field": "Civil engineering",
    "competence_needs": "Swedish for the workplace; local building codes",
    "career_goals": "A position as a structural engineer",
    "screened_on": "2026-01-10",
    "screened_by": "Recruitment agency",
    "training_modules": ["M1 Role clarification", "M2 Goals and learning plan"],
    "consent_on": "2026-01-10",
    "personal": {"name": "Amina Haddad", "email": "amina@example.org", "phone": "+46 70 123 45 67"},
}


class TestEnrol:
    def test_a_participant_gets_a_code_and_the_trail_keeps_no_personal_values(
        self, client, session, coordinator, cohort
    ) -> None:
        r = client.post(
            "/api/v1/participants", headers=coordinator, json={**NEW, "cohort_id": cohort.id}
        )
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["code"].startswith("P-")
        assert body["personal"]["email"] == "amina@example.org"
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "participant.created")
        ).one()
        assert event.changes["email"] == {"changed": True}
        assert "Amina" not in _trail(session)
        assert "amina@example.org" not in _trail(session)

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"cohort_id": 999_999}, "cohort_id"),
            ({"role": "sponsor"}, "role"),
            ({"personal": {"email": "not-an-address"}}, "personal.email"),
            ({"field": ""}, "field"),
            ({"training_modules": ["x"] * 21}, "training_modules"),
        ],
    )
    def test_bad_input_names_the_field(self, client, session, coordinator, cohort, change, field):
        body = {**NEW, "cohort_id": cohort.id, **change}
        r = client.post("/api/v1/participants", headers=coordinator, json=body)
        assert r.status_code == 422
        assert field in {e["field"] for e in r.json()["errors"]}
        assert session.scalars(select(Participant)).all() == []


class TestWhoSeesWhat:
    @pytest.mark.parametrize(
        ("role", "sees_personal"),
        [
            (Role.coordinator, True),
            (Role.quality_lead, True),
            (Role.admin, True),
            (Role.auditor, False),
        ],
    )
    def test_personal_data_only_for_those_who_need_it(
        self, client, session, cohort, role, sees_personal
    ):
        p = make_participant(session, cohort)
        body = client.get(
            f"/api/v1/participants/{p.id}", headers=auth(make_token(session, role))
        ).json()
        assert body["code"] == p.code
        assert (body["personal"] is not None) is sees_personal
        listed = client.get("/api/v1/participants", headers=auth(make_token(session, role))).json()
        assert ("example.org" in str(listed)) is sees_personal

    def test_importers_see_no_participants(self, client, session, cohort) -> None:
        make_participant(session, cohort)
        r = client.get("/api/v1/participants", headers=auth(make_token(session, Role.importer)))
        assert r.status_code == 403

    def test_auditors_change_nothing(self, client, session, cohort) -> None:
        r = client.post(
            "/api/v1/participants",
            headers=auth(make_token(session, Role.auditor)),
            json={**NEW, "cohort_id": cohort.id},
        )
        assert r.status_code == 403


class TestErase:
    def test_erasure_blanks_personal_data_and_keeps_the_record(
        self, client, session, coordinator, cohort
    ) -> None:
        p = make_participant(
            session, cohort, personal={"name": "Jonas Berg", "phone": "+47 900 00 000"}
        )
        r = client.post(
            f"/api/v1/participants/{p.id}/erase", headers=coordinator, json={"reason": "asked"}
        )
        assert r.status_code == 200
        body = r.json()
        assert body["personal"]["name"] is None
        assert body["personal"]["phone"] is None
        assert body["personal"]["erased_at"] is not None
        assert body["code"] == p.code
        assert body["field"] == "Environmental engineering"
        row = session.execute(
            select(ParticipantPersonal.name, ParticipantPersonal.email, ParticipantPersonal.phone)
            .where(ParticipantPersonal.participant_id == p.id)
            .execution_options(populate_existing=True)
        ).one()
        assert tuple(row) == (None, None, None)
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "participant.erased")
        ).one()
        assert event.changes == {"name": {"changed": True}, "phone": {"changed": True}}
        assert "Jonas" not in _trail(session)

    def test_erased_data_stays_erased(self, client, session, coordinator, cohort) -> None:
        p = make_participant(session, cohort)
        client.post(f"/api/v1/participants/{p.id}/erase", headers=coordinator, json={})
        again = client.post(f"/api/v1/participants/{p.id}/erase", headers=coordinator, json={})
        assert again.status_code == 409
        assert again.json()["detail"] == f"The personal data of {p.code} is erased already."
        etag = client.get(f"/api/v1/participants/{p.id}", headers=coordinator).headers["etag"]
        r = client.patch(
            f"/api/v1/participants/{p.id}",
            headers={**coordinator, "If-Match": etag},
            json={"personal": {"name": "Back again"}},
        )
        assert r.status_code == 409

    def test_a_second_erasure_is_refused_in_norwegian(
        self, client, session, coordinator, cohort
    ) -> None:
        p = make_participant(session, cohort)
        client.post(f"/api/v1/participants/{p.id}/erase", headers=coordinator, json={})
        again = client.post(
            f"/api/v1/participants/{p.id}/erase",
            headers={**coordinator, "Accept-Language": "nb"},
            json={},
        )
        assert again.status_code == 409
        assert again.json()["detail"] == f"Personopplysningene til {p.code} er allerede slettet."
        missing = client.get(
            "/api/v1/participants/999999", headers={**coordinator, "Accept-Language": "nb"}
        )
        assert missing.status_code == 404
        assert missing.json()["detail"] == "Det finnes ingen deltaker med id 999999."

    def test_an_edit_of_personal_data_moves_the_version_and_hides_the_values(
        self, client, session, coordinator, cohort
    ) -> None:
        p = make_participant(session, cohort)
        etag = client.get(f"/api/v1/participants/{p.id}", headers=coordinator).headers["etag"]
        r = client.patch(
            f"/api/v1/participants/{p.id}",
            headers={**coordinator, "If-Match": etag},
            json={"personal": {"phone": "+46 8 555 000"}},
        )
        assert r.status_code == 200
        assert r.headers["etag"] != etag
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "participant.updated")
        ).one()
        assert event.changes == {"phone": {"changed": True}}

    def test_saving_the_same_personal_data_changes_nothing(
        self, client, session, coordinator, cohort
    ) -> None:
        p = make_participant(session, cohort, personal={"name": "Same Name"})
        etag = client.get(f"/api/v1/participants/{p.id}", headers=coordinator).headers["etag"]
        r = client.patch(
            f"/api/v1/participants/{p.id}",
            headers={**coordinator, "If-Match": etag},
            json={"personal": {"name": "Same Name"}},
        )
        assert r.status_code == 200
        # No change: the version stays, and no event claims one.
        again = client.get(f"/api/v1/participants/{p.id}", headers=coordinator)
        assert (r.headers["etag"], again.headers["etag"]) == (etag, etag)
        updated = select(AuditEvent).where(AuditEvent.action == "participant.updated")
        assert session.scalars(updated).all() == []


class TestGoals:
    def test_a_mentees_goal_and_its_progress(self, client, session, coordinator, cohort) -> None:
        mentee = make_participant(session, cohort)
        r = client.post(
            f"/api/v1/participants/{mentee.id}/goals",
            headers=coordinator,
            json={"title": "Apply for five relevant positions", "target_on": "2026-06-30"},
        )
        assert r.status_code == 201
        goal = r.json()
        r = client.patch(
            f"/api/v1/goals/{goal['id']}",
            headers={**coordinator, "If-Match": f'"{goal["version"]}"'},
            json={"status": "achieved"},
        )
        assert r.json()["progress"] == 100
        listed = client.get(f"/api/v1/participants/{mentee.id}/goals", headers=coordinator).json()
        assert [g["status"] for g in listed] == ["achieved"]

    def test_goals_are_for_mentees_and_progress_is_a_percentage(
        self, client, session, coordinator, cohort
    ) -> None:
        mentor = make_participant(session, cohort, role="mentor")
        r = client.post(
            f"/api/v1/participants/{mentor.id}/goals", headers=coordinator, json={"title": "t"}
        )
        assert r.status_code == 422
        mentee = make_participant(session, cohort)
        r = client.post(
            f"/api/v1/participants/{mentee.id}/goals",
            headers=coordinator,
            json={"title": "t", "progress": 120},
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "progress"
