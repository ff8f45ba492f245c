"""The API's lists sort by `sort`, page on by keyset cursors in that order, and refuse others."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from qms.permissions import Role
from tests.factories import auth, make_action, make_deviation, make_token, make_user

SEVERITY_RANK = {"minor": 0, "major": 1, "critical": 2}


def _all_pages(client: Any, token: str, url: str, limit: int) -> list[dict[str, Any]]:
    """Read a list page after page by its cursors."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        joiner = "&" if "?" in url else "?"
        page = client.get(
            f"{url}{joiner}limit={limit}" + (f"&cursor={cursor}" if cursor else ""),
            headers=auth(token),
        )
        assert page.status_code == 200, page.text
        body = page.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


@pytest.fixture
def seven(session) -> list[int]:
    """Seven deviations of mixed severities (ties among them), titles in no order."""
    severities = ["major", "minor", "critical", "minor", "major", "minor", "critical"]
    titles = ["Pear", "Apple", "Fig", "Kiwi", "Date", "Lime", "Cherry"]
    return [
        make_deviation(session, severity=s, title=t).id
        for s, t in zip(severities, titles, strict=True)
    ]


class TestSortedDeviations:
    def test_severity_sorts_from_minor_up_ties_newest_first(self, client, session, seven) -> None:
        token = make_token(session, Role.auditor)
        items = _all_pages(client, token, "/api/v1/deviations?sort=severity", limit=2)
        assert [d["id"] for d in items] == sorted(
            seven, key=lambda i: (SEVERITY_RANK[_severity(items, i)], -i)
        )
        assert len({d["id"] for d in items}) == 7

    def test_minus_sorts_the_other_way_and_pages_hold_every_row_once(
        self, client, session, seven
    ) -> None:
        token = make_token(session, Role.auditor)
        for limit in (1, 3, 7):
            items = _all_pages(client, token, "/api/v1/deviations?sort=-severity", limit=limit)
            ranks = [SEVERITY_RANK[d["severity"]] for d in items]
            assert ranks == sorted(ranks, reverse=True), limit
            assert sorted(d["id"] for d in items) == sorted(seven), limit

    def test_a_row_added_between_pages_neither_repeats_nor_hides_one(
        self, client, session, seven
    ) -> None:
        token = make_token(session, Role.auditor)
        first = client.get("/api/v1/deviations?sort=title&limit=3", headers=auth(token)).json()
        assert [d["title"] for d in first["items"]] == ["Apple", "Cherry", "Date"]
        # Sorts among the rows already shown: an offset would show "Date" again.
        make_deviation(session, title="Banana")
        rest = client.get(
            f"/api/v1/deviations?sort=title&limit=50&cursor={first['next_cursor']}",
            headers=auth(token),
        ).json()
        assert [d["title"] for d in rest["items"]] == ["Fig", "Kiwi", "Lime", "Pear"]

    def test_the_sort_keeps_the_filters(self, client, session, seven) -> None:
        token = make_token(session, Role.auditor)
        items = _all_pages(client, token, "/api/v1/deviations?severity=minor&sort=-title", limit=2)
        assert [d["title"] for d in items] == ["Lime", "Kiwi", "Apple"]

    def test_due_sorts_by_date(self, client, session) -> None:
        token = make_token(session, Role.auditor)
        # Days after today, whatever day the clock says: a deviation is detected today.
        dues = [(date.today() + timedelta(days=n)).isoformat() for n in (425, 15, 365)]
        for due in dues:
            make_deviation(session, due_on=due)
        items = _all_pages(client, token, "/api/v1/deviations?sort=-due", limit=1)
        assert [d["due_on"] for d in items][:3] == sorted(dues, reverse=True)

    def test_an_unknown_key_is_a_422_naming_sort_and_the_allowed_values(
        self, client, session
    ) -> None:
        token = make_token(session, Role.auditor)
        r = client.get("/api/v1/deviations?sort=-colour", headers=auth(token))
        assert r.status_code == 422
        assert r.headers["content-type"] == "application/problem+json"
        (error,) = r.json()["errors"]
        assert error["field"] == "sort"
        for allowed in ("number", "severity", "due", "minus sign"):
            assert allowed in error["message"], error["message"]

    def test_a_cursor_not_issued_is_a_422_naming_cursor(self, client, session, seven) -> None:
        token = make_token(session, Role.auditor)
        r = client.get("/api/v1/deviations?sort=title&cursor=bm90LWEtY3Vyc29y", headers=auth(token))
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "cursor"


def _severity(items: list[dict[str, Any]], deviation_id: int) -> str:
    return next(d["severity"] for d in items if d["id"] == deviation_id)


def test_actions_sort_by_due(client, session) -> None:
    owner = make_user(session, Role.coordinator)
    deviation = make_deviation(session)
    dues = [(date.today() + timedelta(days=n)).isoformat() for n in (486, 121, 244)]
    for due in dues:
        make_action(session, [deviation], owner, due_on=due)
    token = make_token(session, Role.auditor)
    items = _all_pages(client, token, "/api/v1/actions?sort=due", limit=1)
    assert [a["due_on"] for a in items] == sorted(dues)


def test_the_openapi_names_each_lists_sort_values(client) -> None:
    spec = client.get("/openapi.json").json()
    expected = {
        "/api/v1/deviations": {"severity", "-severity", "due", "-due", "title"},
        "/api/v1/actions": {"due", "-due", "status"},
        "/api/v1/pairs": {"matched", "-matched"},
        "/api/v1/participants": {"code", "-consent"},
    }
    for path, values in expected.items():
        (sort,) = [p for p in spec["paths"][path]["get"]["parameters"] if p["name"] == "sort"]
        assert values <= set(sort["schema"]["enum"]), path
