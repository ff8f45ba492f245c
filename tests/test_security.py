"""Attacks found by probing the service, each kept as a test so that none returns."""

from __future__ import annotations

import base64
import inspect
import json
from typing import Any

import pytest

from api.app import create_app
from api.routing import api_routes, page_routes
from qms.permissions import Role
from tests.factories import make_token
from tests.web import sign_in, web_user


def _cursor(after: Any) -> str:
    raw = json.dumps({"after": after}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _lists_with_a_cursor() -> tuple[list[str], list[str]]:
    app = create_app()
    api = [
        route.path
        for route in api_routes(app)
        if "GET" in route.methods and any(p.name == "cursor" for p in route.dependant.query_params)
    ]
    pages = [
        route.path
        for route in page_routes(app)
        if "GET" in route.methods and '"cursor"' in inspect.getsource(route.endpoint)
    ]
    return api, pages


API_LISTS, PAGE_LISTS = _lists_with_a_cursor()
# Integers no key column holds: past PostgreSQL's INTEGER, past 64 bits, below zero.
FORGED = [2**31, 2**63, 2**64 + 5, 10**40, -1, -(2**63) - 1]


def test_every_paginated_list_is_found() -> None:
    # The probe below covers what this finds; a list that reads its cursor another way would be
    # missed, so the known ones must all be here.
    assert {"/api/v1/deviations", "/api/v1/actions", "/api/v1/audit/events"} <= set(API_LISTS)
    assert {"/deviations", "/actions", "/audit-trail"} <= set(PAGE_LISTS)


class TestForgedCursors:
    """A cursor holding a number beyond a 64-bit key once answered 500 on SQLite."""

    @pytest.mark.parametrize("path", API_LISTS)
    def test_the_api_refuses_it_naming_the_cursor(self, client, session, path) -> None:
        headers = {"Authorization": f"Bearer {make_token(session, Role.auditor)}"}
        for after in FORGED:
            r = client.get(path, params={"cursor": _cursor(after)}, headers=headers)
            assert r.status_code == 422, (path, after, r.status_code, r.text[:300])
            assert [e["field"] for e in r.json()["errors"]] == ["cursor"]

    @pytest.mark.parametrize("path", PAGE_LISTS)
    def test_a_page_says_the_link_is_broken(self, client, session, path) -> None:
        assert sign_in(client, web_user(session, Role.auditor)).status_code == 303
        for after in FORGED:
            r = client.get(path, params={"cursor": _cursor(after)})
            assert r.status_code == 422, (path, after, r.status_code)
            assert "The cursor is not one this service issued." in r.text

    def test_the_largest_key_is_still_read(self, client, session) -> None:
        headers = {"Authorization": f"Bearer {make_token(session, Role.auditor)}"}
        r = client.get("/api/v1/deviations", params={"cursor": _cursor(2**31 - 1)}, headers=headers)
        assert r.status_code == 200, r.text
