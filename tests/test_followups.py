"""Mid-programme follow-ups and the rules that watch the records."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from qms.audit.service import verify
from qms.db import Database
from qms.deviations.models import Deviation
from qms.permissions import Role
from tests.conftest import make_client
from tests.factories import (
    auth,
    make_cohort,
    make_deviation,
    make_meeting,
    make_pair,
    make_participant,
    make_programme,
    make_token,
)
from tests.threads import at_once, while_one_holds

TODAY = date.today()


def first_of_month(d: date) -> date:
    return d.replace(day=1)


def months_back(n: int) -> date:
    d = first_of_month(TODAY)
    for _ in range(n):
        d = first_of_month(d - timedelta(days=1))
    return d


@pytest.fixture
def cohort(session):
    programme = make_programme(session, min_meetings_per_month=2, min_minutes_per_month=120)
    return make_cohort(
        session, programme, start_on=months_back(6), midpoint_on=months_back(2),
        end_on=TODAY + timedelta(days=120),
    )  # fmt: skip


@pytest.fixture
def lead(session) -> dict[str, str]:
    return auth(make_token(session, Role.quality_lead))


@pytest.fixture
def pair(session, cohort):
    return make_pair(
        session, make_participant(session, cohort, "mentor"), make_participant(session, cohort),
        started_on=months_back(3),
    )  # fmt: skip


ANSWERS = {
    "expectations_clarified": True,
    "goal_progress": 3,
    "meeting_frequency_kept": False,
    "relationship": 4,
    "extra_support_needed": False,
    "notes": "Meetings slipped during the summer.",
}


class TestFollowUps:
    def test_the_cohort_is_scheduled_once_at_its_midpoint(
        self, client, session, lead, cohort, pair
    ):
        url = f"/api/v1/cohorts/{cohort.id}/follow-ups/schedule"
        first = client.post(url, headers=lead, json={})
        assert [f["scheduled_on"] for f in first.json()] == [str(cohort.midpoint_on)]
        assert client.post(url, headers=lead, json={}).json() == []
        board = client.get(f"/api/v1/cohorts/{cohort.id}/follow-ups", headers=lead).json()
        assert (board["held"], board["due"], board["overdue"]) == (0, 0, 1)
        assert board["items"][0]["pair_code"] == pair.code

    def test_recording_with_an_at_risk_outcome_needs_a_decision(
        self, client, session, lead, cohort, pair
    ):
        [scheduled] = client.post(
            f"/api/v1/cohorts/{cohort.id}/follow-ups/schedule", headers=lead, json={}
        ).json()
        url = f"/api/v1/follow-ups/{scheduled['id']}/record"
        body = {**ANSWERS, "held_on": str(months_back(2)), "outcome": "at_risk"}
        assert client.post(url, headers=lead, json=body).status_code == 428
        headers = {**lead, "If-Match": f'"{scheduled["version"]}"'}
        r = client.post(url, headers=headers, json=body)
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "decision"
        r = client.post(
            url, headers=headers, json={**body, "decision": "Coordinator meets the pair monthly"}
        )
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "held"
        assert r.json()["relationship"] == 4
        board = client.get(f"/api/v1/cohorts/{cohort.id}/follow-ups", headers=lead).json()
        assert board["held"] == 1

    def test_an_at_risk_outcome_may_link_a_deviation_instead(
        self, client, session, lead, cohort, pair
    ):
        [scheduled] = client.post(
            f"/api/v1/cohorts/{cohort.id}/follow-ups/schedule", headers=lead, json={}
        ).json()
        deviation = make_deviation(session)
        r = client.post(
            f"/api/v1/follow-ups/{scheduled['id']}/record",
            headers={**lead, "If-Match": f'"{scheduled["version"]}"'},
            json={
                **ANSWERS,
                "held_on": str(months_back(2)),
                "outcome": "at_risk",
                "deviation_id": deviation.id,
            },
        )
        assert r.status_code == 200
        assert r.json()["deviation_id"] == deviation.id

    def test_a_follow_up_for_an_ended_pair_is_refused(self, client, session, lead, cohort, pair):
        [scheduled] = client.post(
            f"/api/v1/cohorts/{cohort.id}/follow-ups/schedule", headers=lead, json={}
        ).json()
        etag = client.get(f"/api/v1/pairs/{pair.id}", headers=lead).headers["etag"]
        client.post(
            f"/api/v1/pairs/{pair.id}/transitions",
            headers={**lead, "If-Match": etag},
            json={"to": "unwound", "reason": "The mentor moved abroad"},
        )
        r = client.post(
            f"/api/v1/follow-ups/{scheduled['id']}/record",
            headers={**lead, "If-Match": f'"{scheduled["version"]}"'},
            json={**ANSWERS, "held_on": str(TODAY), "outcome": "on_track"},
        )
        assert r.status_code == 409
        assert r.json()["detail"] == (
            f"{pair.code} is unwound: its follow-up can no longer be held."
        )

    def test_a_refused_follow_up_is_said_in_norwegian(self, client, session, lead, cohort, pair):
        [scheduled] = client.post(
            f"/api/v1/cohorts/{cohort.id}/follow-ups/schedule", headers=lead, json={}
        ).json()
        r = client.post(
            f"/api/v1/follow-ups/{scheduled['id']}/record",
            headers={**lead, "If-Match": f'"{scheduled["version"]}"', "Accept-Language": "nb"},
            json={**ANSWERS, "held_on": str(months_back(2)), "outcome": "at_risk"},
        )
        assert r.status_code == 422
        assert r.json()["detail"] == "Oppfølgingen kan ikke registreres slik den er sendt."
        assert r.json()["errors"][0]["message"] == (
            "Skriv beslutningen, eller koble til et avvik, når resultatet er i faresonen."
        )


class TestRules:
    def test_a_month_below_the_meeting_rule_opens_one_deviation(self, client, session, lead, pair):
        month = months_back(2)
        make_meeting(
            session, pair, month + timedelta(days=3), minutes=60
        )  # one meeting, 60 minutes
        for m in (months_back(3), months_back(1)):
            make_meeting(session, pair, m + timedelta(days=2), minutes=90)
            make_meeting(session, pair, m + timedelta(days=16), minutes=90)
        r = client.post("/api/v1/checks/run", headers=lead, json={})
        assert r.status_code == 200, r.text
        opened = [f for f in r.json()["opened"] if f["rule"] == "meeting_rule"]
        key = f"meeting_rule:{pair.code}:{month:%Y-%m}"
        assert [f["key"] for f in opened] == [key]
        assert "1 meeting(s) against a minimum of 2" in opened[0]["detail"]
        deviation = session.scalars(
            select(Deviation).where(Deviation.number == opened[0]["deviation_number"])
        ).one()
        assert deviation.pair_id == pair.id
        assert deviation.source.value == "meeting_rule"
        again = client.post("/api/v1/checks/run", headers=lead, json={}).json()
        assert again["opened"] == []
        assert key in [f["key"] for f in again["skipped"]]
        meeting_deviations = session.scalars(
            select(Deviation).where(
                Deviation.pair_id == pair.id, Deviation.source == "meeting_rule"
            )
        ).all()
        assert meeting_deviations == [deviation]
        # The coordinator finds the missing meeting in a spreadsheet: the finding clears.
        make_meeting(session, pair, month + timedelta(days=20), minutes=90)
        cleared = client.post("/api/v1/checks/run", headers=lead, json={}).json()
        assert [f["key"] for f in cleared["cleared"]] == [key]
        assert cleared["opened"] == []
        # Said as it is now, not as it was found.
        [now] = cleared["cleared"]
        assert "against a minimum" not in now["detail"]
        assert f"{pair.code} keeps the meeting rule for {month:%Y-%m}" in now["detail"]

    def test_an_overdue_follow_up_opens_a_deviation_until_it_is_held(
        self, client, session, lead, cohort, pair
    ):
        for m in (months_back(3), months_back(2), months_back(1)):
            make_meeting(session, pair, m + timedelta(days=2), minutes=90)
            make_meeting(session, pair, m + timedelta(days=16), minutes=90)
        [scheduled] = client.post(
            f"/api/v1/cohorts/{cohort.id}/follow-ups/schedule", headers=lead, json={}
        ).json()
        run = client.post("/api/v1/checks/run", headers=lead, json={}).json()
        assert [f["rule"] for f in run["opened"]] == ["follow_up_overdue"]
        client.post(
            f"/api/v1/follow-ups/{scheduled['id']}/record",
            headers={**lead, "If-Match": f'"{scheduled["version"]}"'},
            json={**ANSWERS, "held_on": str(TODAY), "outcome": "concern"},
        )
        run = client.post("/api/v1/checks/run", headers=lead, json={}).json()
        assert [f["rule"] for f in run["cleared"]] == ["follow_up_overdue"]
        assert run["opened"] == []
        assert "has not been held" not in run["cleared"][0]["detail"]
        assert "no longer overdue" in run["cleared"][0]["detail"]

    def test_auditors_do_not_run_checks(self, client, session, pair):
        r = client.post(
            "/api/v1/checks/run", headers=auth(make_token(session, Role.auditor)), json={}
        )
        assert r.status_code == 403


class TestMidpointRule:
    def test_a_pair_with_no_follow_up_after_the_midpoint_is_found(
        self, client, session, lead, pair
    ):
        for m in (months_back(3), months_back(2), months_back(1)):
            make_meeting(session, pair, m + timedelta(days=2), minutes=90)
            make_meeting(session, pair, m + timedelta(days=16), minutes=90)
        run = client.post("/api/v1/checks/run", headers=lead, json={}).json()
        assert [f["key"] for f in run["opened"]] == [f"follow_up_overdue:{pair.code}:midpoint"]

    def test_the_rule_can_be_switched_off_per_programme(self, client, session, lead):
        programme = make_programme(
            session,
            follow_up_at_midpoint=False,
            min_meetings_per_month=None,
            min_minutes_per_month=None,
        )
        cohort = make_cohort(
            session,
            programme,
            start_on=months_back(6),
            midpoint_on=months_back(2),
            end_on=TODAY + timedelta(days=120),
        )
        make_pair(
            session,
            make_participant(session, cohort, "mentor"),
            make_participant(session, cohort),
            started_on=months_back(3),
        )
        assert client.post("/api/v1/checks/run", headers=lead, json={}).json()["opened"] == []


def _cohort_with_pairs(session, pairs: int, **rules: int):
    """A cohort past its midpoint with pairs matched three months ago and no meetings."""
    cohort = make_cohort(
        session, make_programme(session, **rules), start_on=months_back(6),
        midpoint_on=months_back(2), end_on=TODAY + timedelta(days=120),
    )  # fmt: skip
    for _ in range(pairs):
        make_pair(
            session, make_participant(session, cohort, "mentor"),
            make_participant(session, cohort), started_on=months_back(3),
        )  # fmt: skip
    return cohort


def test_two_rule_runs_at_once_open_each_finding_once(fresh_db) -> None:
    """A scheduled run and one started by hand meet: every finding opens one deviation, the
    numbers stay gapless, and neither run fails."""
    with fresh_db.unit_of_work() as session:
        _cohort_with_pairs(session, 3, min_meetings_per_month=2, min_minutes_per_month=120)
        lead = auth(make_token(session, Role.quality_lead))
    clients = [make_client(fresh_db) for _ in range(2)]
    answers = at_once(
        *(lambda c=c: c.post("/api/v1/checks/run", headers=lead, json={}) for c in clients)
    )
    assert [r.status_code for r in answers] == [200, 200], [r.text for r in answers]
    opened = [f["key"] for r in answers for f in r.json()["opened"]]
    assert len(opened) == len(set(opened)) > 0
    with fresh_db.unit_of_work(write=False) as session:
        numbers = session.scalars(select(Deviation.number).order_by(Deviation.id)).all()
        assert len(numbers) == len(opened)
        assert [int(n.rsplit("-", 1)[1]) for n in numbers] == list(range(1, len(numbers) + 1))
        assert verify(session).ok


def test_a_rule_run_started_while_another_writes_its_findings_opens_none_of_them_again(
    fresh_db: Database,
) -> None:
    """One run has opened its findings and not yet committed them when a second starts: the
    second decides on what the first committed, finds every finding known, and opens nothing."""
    with fresh_db.unit_of_work() as session:
        _cohort_with_pairs(session, 3, min_meetings_per_month=2, min_minutes_per_month=120)
        lead = auth(make_token(session, Role.quality_lead))

    def run(database: Database) -> Any:
        return make_client(database).post("/api/v1/checks/run", headers=lead, json={})

    first, second = while_one_holds(fresh_db, run, run)
    assert [first.status_code, second.status_code] == [200, 200], (first.text, second.text)
    opened = [f["key"] for f in first.json()["opened"]]
    assert opened
    assert second.json()["opened"] == []
    with fresh_db.unit_of_work(write=False) as session:
        assert len(session.scalars(select(Deviation.id)).all()) == len(opened)
        assert verify(session).ok


def test_two_coordinators_scheduling_one_cohort_at_once_give_each_pair_one_follow_up(
    fresh_db,
) -> None:
    from qms.followups.models import FollowUp

    with fresh_db.unit_of_work() as session:
        cohort_id = _cohort_with_pairs(session, 4).id
        tokens = [auth(make_token(session, Role.coordinator)) for _ in range(2)]
    address = f"/api/v1/cohorts/{cohort_id}/follow-ups/schedule"
    clients = [make_client(fresh_db) for _ in tokens]
    answers = at_once(
        *(
            lambda c=c, t=t: c.post(address, headers=t, json={})
            for c, t in zip(clients, tokens, strict=True)
        )
    )
    assert [r.status_code for r in answers] == [201, 201], [r.text for r in answers]
    assert sorted(len(r.json()) for r in answers) == [0, 4]
    with fresh_db.unit_of_work(write=False) as session:
        pair_ids = session.scalars(select(FollowUp.pair_id)).all()
        assert len(pair_ids) == len(set(pair_ids)) == 4


class TestTakenOut:
    def test_the_board_as_csv_names_the_pair_the_answers_and_the_deviation_by_its_number(
        self, client, session, lead, cohort, pair
    ):
        import csv
        import io

        [scheduled] = client.post(
            f"/api/v1/cohorts/{cohort.id}/follow-ups/schedule", headers=lead, json={}
        ).json()
        deviation = make_deviation(session)
        recorded = client.post(
            f"/api/v1/follow-ups/{scheduled['id']}/record",
            headers={**lead, "If-Match": f'"{scheduled["version"]}"'},
            json={
                **ANSWERS,
                "held_on": str(months_back(2)),
                "outcome": "at_risk",
                "deviation_id": deviation.id,
            },
        )
        assert recorded.status_code == 200, recorded.text
        auditor = auth(make_token(session, Role.auditor))
        r = client.get(
            f"/api/v1/cohorts/{cohort.id}/follow-ups?format=csv",
            headers={**auditor, "Accept-Language": "nb"},
        )
        assert r.status_code == 200, r.text
        assert "attachment" in r.headers["content-disposition"]
        [row] = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert row["Par"] == pair.code
        assert row["Avvik"] == deviation.number
        # Yes and no, and the state and outcome, in words; never True, held or at_risk.
        assert row["Forventninger avklart"] == "ja"
        assert row["Status"] not in ("held", "")
        assert row["Resultat"] not in ("at_risk", "")
        # The board's own JSON stays the board.
        assert (
            client.get(f"/api/v1/cohorts/{cohort.id}/follow-ups", headers=auditor).json()["held"]
            == 1
        )

    def test_the_board_page_offers_the_file(self, client, session, cohort, pair):
        from tests.web import sign_in, web_user

        sign_in(client, web_user(session, Role.coordinator))
        page = client.get(f"/follow-ups/cohorts/{cohort.id}")
        assert f'href="/follow-ups/cohorts/{cohort.id}?format=xlsx"' in page.text
        book = client.get(f"/follow-ups/cohorts/{cohort.id}?format=xlsx")
        assert book.status_code == 200
        assert book.headers["content-type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml"
        )
