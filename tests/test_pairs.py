"""Pairs and meetings: matching rules, the pair's life, unwinding and rematching, meetings."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from qms.pairs.models import Meeting
from qms.permissions import Role
from tests.factories import (
    auth,
    make_cohort,
    make_pair,
    make_participant,
    make_programme,
    make_token,
)

TODAY = date.today()


@pytest.fixture
def cohort(session):
    return make_cohort(
        session, make_programme(session), start_on=TODAY - timedelta(days=200),
        end_on=TODAY + timedelta(days=165),
    )  # fmt: skip


@pytest.fixture
def coordinator(session) -> dict[str, str]:
    return auth(make_token(session, Role.coordinator))


def _match(client, headers, mentor, mentee, **extra):
    body = {
        "mentor_id": mentor.id,
        "mentee_id": mentee.id,
        "rationale": "Both in water engineering",
    }
    return client.post("/api/v1/pairs", headers=headers, json={**body, **extra})


def _move(client, headers, pair_id, **body):
    etag = client.get(f"/api/v1/pairs/{pair_id}", headers=headers).headers["etag"]
    return client.post(
        f"/api/v1/pairs/{pair_id}/transitions", headers={**headers, "If-Match": etag}, json=body
    )


class TestMatching:
    def test_a_match_shows_codes_and_starts_matched(self, client, session, coordinator, cohort):
        mentor, mentee = (
            make_participant(session, cohort, "mentor"),
            make_participant(session, cohort),
        )
        r = _match(client, coordinator, mentor, mentee)
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["code"].startswith("PAIR-")
        assert (body["mentor_code"], body["mentee_code"]) == (mentor.code, mentee.code)
        assert body["status"] == "matched"
        assert "example.org" not in r.text

    def test_a_pair_of_two_mentors_is_refused(self, client, session, coordinator, cohort):
        a, b = (
            make_participant(session, cohort, "mentor"),
            make_participant(session, cohort, "mentor"),
        )
        r = _match(client, coordinator, a, b)
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "mentee_id"
        assert "is a mentor" in r.json()["errors"][0]["message"]

    def test_a_refused_match_is_said_in_norwegian(self, client, session, coordinator, cohort):
        a, b = (
            make_participant(session, cohort, "mentor"),
            make_participant(session, cohort, "mentor"),
        )
        r = _match(client, {**coordinator, "Accept-Language": "nb"}, a, b)
        assert r.status_code == 422
        assert r.json()["detail"] == "Et par trenger en adept her."
        assert r.json()["errors"][0]["message"] == f"{b.code} er mentor: velg en adept."

    def test_mentor_and_mentee_share_a_cohort(self, client, session, coordinator, cohort):
        other = make_cohort(session, make_programme(session))
        r = _match(
            client, coordinator, make_participant(session, cohort, "mentor"),
            make_participant(session, other),
        )  # fmt: skip
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "mentee_id"

    def test_a_mentee_is_in_one_live_pair_at_a_time(self, client, session, coordinator, cohort):
        mentee = make_participant(session, cohort)
        assert (
            _match(
                client, coordinator, make_participant(session, cohort, "mentor"), mentee
            ).status_code
            == 201
        )
        r = _match(client, coordinator, make_participant(session, cohort, "mentor"), mentee)
        assert r.status_code == 409
        assert mentee.code in r.json()["detail"]

    def test_a_mentor_takes_as_many_mentees_as_the_programme_allows(
        self, client, session, coordinator
    ):
        programme = make_programme(session, max_mentees_per_mentor=2)
        cohort = make_cohort(
            session,
            programme,
            start_on=TODAY - timedelta(days=30),
            end_on=TODAY + timedelta(days=300),
        )
        mentor = make_participant(session, cohort, "mentor")
        for expected in (201, 201, 409):
            r = _match(client, coordinator, mentor, make_participant(session, cohort))
            assert r.status_code == expected


class TestLife:
    def test_unwinding_needs_a_reason_and_a_rematch_points_to_the_old_pair(
        self, client, session, coordinator, cohort
    ):
        mentee = make_participant(session, cohort)
        old = make_pair(
            session,
            make_participant(session, cohort, "mentor"),
            mentee,
            started_on=TODAY - timedelta(days=90),
        )
        assert _move(client, coordinator, old.id, to="unwound").status_code == 422
        r = _move(
            client, coordinator, old.id, to="unwound",
            reason="Expectations did not meet: the mentee wanted a job broker",
            mentee_feedback="I hoped for more contacts", on=str(TODAY - timedelta(days=30)),
        )  # fmt: skip
        assert r.status_code == 200
        assert r.json()["ended_on"] == str(TODAY - timedelta(days=30))
        r = _match(
            client,
            coordinator,
            make_participant(session, cohort, "mentor"),
            mentee,
            rematch_of_id=old.id,
        )
        assert r.status_code == 201
        assert r.json()["rematch_of_id"] == old.id

    def test_only_an_unwound_pair_is_rematched(self, client, session, coordinator, cohort):
        mentee = make_participant(session, cohort)
        live = make_pair(session, make_participant(session, cohort, "mentor"), mentee)
        r = _match(
            client, coordinator, make_participant(session, cohort, "mentor"),
            make_participant(session, cohort), rematch_of_id=live.id,
        )  # fmt: skip
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "rematch_of_id"

    def test_completing_records_the_closure_and_feedback(
        self, client, session, coordinator, cohort
    ):
        pair = make_pair(
            session, make_participant(session, cohort, "mentor"), make_participant(session, cohort),
            started_on=TODAY - timedelta(days=150),
        )  # fmt: skip
        r = _move(
            client, coordinator, pair.id, to="completed", reason="Programme year ended",
            mentor_feedback="Rewarding", mentee_feedback="Got a job in my field",
        )  # fmt: skip
        body = r.json()
        assert body["status"] == "completed"
        assert body["closure_reason"] == "Programme year ended"
        assert body["mentee_feedback"] == "Got a job in my field"
        assert body["allowed_transitions"] == []
        assert _move(client, coordinator, pair.id, to="active").status_code == 409


class TestMeetings:
    @pytest.fixture
    def pair(self, session, cohort):
        return make_pair(
            session, make_participant(session, cohort, "mentor"), make_participant(session, cohort),
            started_on=TODAY - timedelta(days=120),
        )  # fmt: skip

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"minutes": -30}, "minutes"),
            ({"minutes": 0}, "minutes"),
            ({"mode": "carrier pigeon"}, "mode"),
            ({"held_on": str(TODAY - timedelta(days=400))}, "held_on"),
            ({"held_on": str(TODAY - timedelta(days=130))}, "held_on"),
            ({"held_on": str(TODAY + timedelta(days=3))}, "held_on"),
        ],
    )
    def test_a_meeting_that_does_not_fit_names_the_field(
        self, client, session, coordinator, pair, change, field
    ):
        body = {
            "held_on": str(TODAY - timedelta(days=10)),
            "minutes": 90,
            "mode": "video",
            **change,
        }
        r = client.post(f"/api/v1/pairs/{pair.id}/meetings", headers=coordinator, json=body)
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == field

    def test_a_pair_that_has_not_started_has_no_meetings(
        self, client, session, coordinator, cohort
    ):
        pair = make_pair(
            session, make_participant(session, cohort, "mentor"), make_participant(session, cohort)
        )
        body = {"held_on": str(TODAY - timedelta(days=1)), "minutes": 60, "mode": "phone"}
        r = client.post(f"/api/v1/pairs/{pair.id}/meetings", headers=coordinator, json=body)
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "pair"

    def test_bulk_upload_is_all_or_nothing_with_row_numbers(
        self, client, session, coordinator, pair
    ):
        good = {
            "pair": pair.code,
            "held_on": str(TODAY - timedelta(days=20)),
            "minutes": 60,
            "mode": "in_person",
        }
        rows = [
            good,
            {**good, "held_on": str(TODAY - timedelta(days=500))},
            {**good, "pair": "PAIR-9999"},
        ]
        r = client.post("/api/v1/meetings/bulk", headers=coordinator, json={"meetings": rows})
        assert r.status_code == 422
        errors = r.json()["errors"]
        assert [(e["row"], e["field"]) for e in errors] == [(2, "held_on"), (3, "pair")]
        assert session.scalar(select(func.count()).select_from(Meeting)) == 0
        r = client.post(
            "/api/v1/meetings/bulk", headers=coordinator, json={"meetings": [good, good]}
        )
        assert r.status_code == 201
        assert r.json() == {"created": 2}
        listed = client.get(f"/api/v1/pairs/{pair.id}/meetings", headers=coordinator).json()
        assert len(listed) == 2

    def test_auditors_read_meetings_but_record_none(self, client, session, pair):
        auditor = auth(make_token(session, Role.auditor))
        assert client.get(f"/api/v1/pairs/{pair.id}/meetings", headers=auditor).status_code == 200
        body = {"held_on": str(TODAY - timedelta(days=2)), "minutes": 60, "mode": "phone"}
        assert (
            client.post(f"/api/v1/pairs/{pair.id}/meetings", headers=auditor, json=body).status_code
            == 403
        )
