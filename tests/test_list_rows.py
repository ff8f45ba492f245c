"""The deviation list, read a page at a time as plain rows, says of every deviation exactly what
the deviation's own page says: owner and display name, the risk it realised, its actions, overdue,
the moves open and blocked; whatever the filter, sort, scope or page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from qms.accounts import service as accounts
from qms.deviations import service as deviations
from qms.deviations.schemas import DeviationTransition, DeviationUpdate
from qms.permissions import Actor, Role
from tests.factories import (
    auth,
    make_action,
    make_deviation,
    make_programme,
    make_token,
    make_user,
)

ADMIN = Actor(user_id=None, name="test-admin", role=Role.admin)


@pytest.fixture
def varied(client, session) -> dict[str, Any]:
    """Deviations of two programmes that differ in everything the list derives."""
    here, there = make_programme(session), make_programme(session)
    named = make_user(session, Role.quality_lead, name="lead-ingrid")
    accounts.set_display_name(
        session, actor=ADMIN, user_name="lead-ingrid", display_name="Ingrid Lie"
    )
    plain = make_user(session, Role.coordinator, name="coordinator-ola")
    lead = auth(make_token(session, Role.quality_lead, name="lead-list"))
    risk = client.post(
        "/api/v1/risks",
        headers=lead,
        json={
            "kind": "risk",
            "title": "Mentors leave mid-year",
            "description": "Two mentors left in the spring.",
            "likelihood": 3,
            "consequence": 4,
            "programme_id": here.id,
        },
    ).json()
    long_ago = datetime.now(UTC) - timedelta(days=90)
    made = [
        make_deviation(session, programme_id=here.id, owner="lead-ingrid", severity="major"),
        make_deviation(session, programme_id=here.id, owner="coordinator-ola", risk_id=risk["id"]),
        make_deviation(
            session,
            programme_id=there.id,
            severity="critical",
            detected_at=long_ago,
            due_on=long_ago.date() + timedelta(days=10),
        ),
        make_deviation(session, programme_id=there.id, kind="observation"),
        make_deviation(session, severity="major", owner="lead-ingrid"),
    ]
    make_action(session, [made[0], made[2]], named)
    make_action(session, [made[2]], plain)
    deviations.update(
        session,
        actor=ADMIN,
        deviation_id=made[4].id,
        data=DeviationUpdate(root_cause_method="five_whys", root_cause="No check of the log."),
        if_match=made[4].version,
    )
    for deviation in (made[0], made[4]):
        deviations.transition(
            session,
            actor=ADMIN,
            deviation_id=deviation.id,
            data=DeviationTransition(to="investigating"),
            if_match=deviation.version,
        )
    session.flush()
    return {"here": here, "lead": lead, "ids": [d.id for d in made], "owner": named}


def _pages(client: Any, headers: dict[str, str], query: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        url = f"/api/v1/deviations?limit=2&{query}" + (f"&cursor={cursor}" if cursor else "")
        r = client.get(url, headers=headers)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("application/json")
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return items


@pytest.mark.parametrize(
    "query",
    [
        "",
        "sort=severity",
        "sort=-due",
        "sort=title",
        "severity=major",
        "overdue=true",
        "open=true&sort=status",
        "q=finding",
    ],
)
def test_every_listed_deviation_reads_as_its_own_page(client, varied, query: str) -> None:
    listed = _pages(client, varied["lead"], query)
    assert listed, query
    for item in listed:
        own = client.get(f"/api/v1/deviations/{item['id']}", headers=varied["lead"]).json()
        assert item == own
        assert list(item) == list(own)  # the same fields in the same order
    if not query:
        assert [i["id"] for i in listed] == sorted(varied["ids"], reverse=True)


def test_the_list_shows_owner_risk_actions_overdue_and_moves(client, varied) -> None:
    listed = {i["id"]: i for i in _pages(client, varied["lead"], "")}
    first, second, third, _, fifth = (listed[i] for i in varied["ids"])
    assert (first["owner"], first["owner_display_name"]) == ("lead-ingrid", "Ingrid Lie")
    assert (second["owner"], second["owner_display_name"]) == ("coordinator-ola", "coordinator-ola")
    assert second["risk_number"] is not None
    assert second["risk_number"].startswith("RISK-")
    assert len(third["action_numbers"]) == 2
    assert third["overdue"] is True
    assert first["overdue"] is False
    # Under investigation, a major deviation waits for its root cause before actions are
    # required, and for its actions before it closes; analysed and without actions, for neither.
    assert first["allowed_transitions"] == []
    assert first["blocked"] == [
        {"to": "action_required", "missing": ["root_cause_analysis"]},
        {"to": "closed", "missing": ["actions_verified"]},
    ]
    assert fifth["allowed_transitions"] == ["action_required", "closed"]
    assert fifth["blocked"] == []
    assert listed[varied["ids"][3]]["allowed_transitions"] == ["investigating"]


def test_mine_and_a_scoped_token_narrow_the_list(client, session, varied) -> None:
    token = accounts.create_token(session, actor=ADMIN, user_name="lead-ingrid").secret
    mine = _pages(client, auth(token), "mine=true")
    assert sorted(i["id"] for i in mine) == sorted([varied["ids"][0], varied["ids"][4]])
    scoped = make_token(session, Role.auditor, programme_code=varied["here"].code)
    seen = _pages(client, auth(scoped), "")
    assert sorted(i["id"] for i in seen) == sorted(varied["ids"][:2])
    assert all(i["programme_id"] == varied["here"].id for i in seen)


def test_the_list_judges_overdue_against_today(client, varied) -> None:
    overdue = _pages(client, varied["lead"], "overdue=true")
    assert [i["id"] for i in overdue] == [varied["ids"][2]]
    assert all(date.fromisoformat(i["due_on"]) < date.today() for i in overdue)
