"""The authorization matrix: every operation, called as nobody, a dead token, and each role.

Generated from the routes and qms/permissions.py: a route without a permission fails here, and so
does a role let through (or turned away) against the table.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select

from api.deps import Permission
from api.routing import api_routes
from qms.accounts.models import ApiToken
from qms.accounts.service import hash_token
from qms.db import utcnow
from qms.permissions import PERMISSIONS, Action, Role
from tests.factories import auth, make_token

OPEN = {"/healthz"}
# Refusals that depend on the request, not the role: a coordinator issues programme documents only,
# so without a programme these answer 403 although the role may issue documents.
OBJECT_LEVEL = {
    ("coordinator", "/api/v1/documents/deviation-register"),
    ("coordinator", "/api/v1/documents/capa-status"),
    ("coordinator", "/api/v1/documents/master-list"),
    ("coordinator", "/api/v1/documents/procedure/{procedure_id}"),
}


def declared_action(route: APIRoute, kind: type = Permission) -> Action | None:
    """Return the action a route's dependency of the kind (REST or page permission) demands."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if isinstance(dependency.call, kind):
            action: Action = dependency.call.action
            return action
        pending.extend(dependency.dependencies)
    return None


def operations(app) -> list[tuple[str, str, Action | None]]:
    return sorted(
        (method, route.path, declared_action(route))
        for route in api_routes(app)
        for method in route.methods or ()
        if route.path not in OPEN
    )


def _call(client, method: str, path: str, headers: dict[str, str]):
    return client.request(method, re.sub(r"\{[^}]+\}", "1", path), json={}, headers=headers)


class TestMatrix:
    def test_every_operation_declares_a_permission(self, client) -> None:
        missing = [(m, p) for m, p, action in operations(client.app) if action is None]
        assert missing == []
        assert len(operations(client.app)) >= 40

    def test_no_token_and_dead_tokens_answer_401(self, client, session) -> None:
        expired = make_token(session, Role.admin, expires_in_days=1)
        revoked = make_token(session, Role.admin)
        for row in session.scalars(select(ApiToken)):
            if row.token_hash == hash_token(expired):
                row.expires_at = utcnow() - timedelta(seconds=1)
            if row.token_hash == hash_token(revoked):
                row.revoked_at = utcnow()
        session.flush()
        for method, path, _ in operations(client.app):
            for headers in ({}, auth(expired), auth(revoked), auth("qms_" + "x" * 43)):
                r = _call(client, method, path, headers)
                assert r.status_code == 401, (method, path, headers, r.status_code)

    @pytest.mark.parametrize("role", list(Role))
    def test_each_role_gets_exactly_what_the_table_gives(self, client, session, role) -> None:
        headers = auth(make_token(session, role))
        wrong = []
        for method, path, action in operations(client.app):
            assert action is not None
            r = _call(client, method, path, headers)
            allowed = action in PERMISSIONS[role]
            if allowed and r.status_code in (401, 403) and (role.value, path) not in OBJECT_LEVEL:
                wrong.append((method, path, "refused", r.status_code))
            if not allowed and r.status_code != 403:
                wrong.append((method, path, "let through", r.status_code))
        assert wrong == []
