"""The API shell: bearer auth on every route, problem+json for every error, no stack traces."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from sqlalchemy import delete

from api.app import api_routes, create_app
from qms.accounts.models import AuthFailure
from qms.permissions import Role
from tests.conftest import make_client
from tests.factories import auth, make_token

OPEN_ROUTES = {"/healthz"}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def _operations(app: FastAPI) -> list[tuple[str, str]]:
    return sorted(
        (method, route.path)
        for route in api_routes(app)
        for method in route.methods
        if route.path not in OPEN_ROUTES and method != "HEAD"
    )


class TestEveryRouteNeedsAToken:
    def test_without_a_token_every_operation_answers_401(self, client) -> None:
        operations = _operations(client.app)
        assert len(operations) >= 10
        for method, path in operations:
            r = client.request(method, _concrete(path), json={})
            assert r.status_code == 401, (method, path, r.status_code)
            assert r.headers["content-type"] == "application/problem+json"

    def test_with_a_bad_token_every_operation_answers_401(self, client, session) -> None:
        for method, path in _operations(client.app):
            # A client that keeps failing is made to wait (429, tests/test_security.py): each
            # operation is tried as by a client that has not failed yet.
            session.execute(delete(AuthFailure))
            r = client.request(method, _concrete(path), json={}, headers=auth("qms_wrong"))
            assert r.status_code == 401, (method, path)

    def test_health_needs_no_token(self, client) -> None:
        r = client.get("/healthz")
        assert r.status_code == 200
        assert r.json()["status"] == "ok"

    def test_the_openapi_and_the_docs_are_served(self, client) -> None:
        spec = client.get("/openapi.json").json()
        assert "/api/v1/programmes" in spec["paths"]
        assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
        assert client.get("/docs").status_code == 200


class TestProblems:
    def test_validation_errors_name_each_field(self, client, session) -> None:
        token = make_token(session, Role.coordinator)
        r = client.post(
            "/api/v1/programmes", headers=auth(token), json={"code": "lower case", "name": ""}
        )
        assert r.status_code == 422
        body = r.json()
        assert r.headers["content-type"] == "application/problem+json"
        assert body["status"] == 422
        assert body["title"] == "Validation failed"
        fields = {e["field"] for e in body["errors"]}
        assert {"code", "name", "organiser"} <= fields

    def test_a_body_that_is_not_json_is_a_422_problem(self, client, session) -> None:
        token = make_token(session, Role.coordinator)
        r = client.post(
            "/api/v1/programmes",
            headers={**auth(token), "Content-Type": "application/json"},
            content=b"{not json",
        )
        assert r.status_code == 422
        assert r.json()["errors"] == [{"field": "body", "message": "The body is not valid JSON."}]

    def test_an_unknown_path_is_a_404_problem(self, client) -> None:
        r = client.get("/api/v1/nothing-here")
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/problem+json"
        assert (r.json()["status"], r.json()["title"]) == (404, "Not found")

    def test_an_unknown_record_is_a_404_problem_naming_it(self, client, session) -> None:
        headers = auth(make_token(session, Role.auditor))
        for path, detail in (
            ("deviations/424242", "There is no deviation with the id 424242."),
            ("actions/424242", "There is no corrective action with the id 424242."),
            ("procedures/424242", "There is no procedure with the id 424242."),
        ):
            r = client.get(f"/api/v1/{path}", headers=headers)
            assert r.status_code == 404, path
            # The answer says what was not found, so a client can tell a wrong id from a wrong
            # path.
            assert r.headers["content-type"] == "application/problem+json", path
            assert r.json() == {
                "type": "about:blank",
                "title": "Not found",
                "status": 404,
                "detail": detail,
            }

    def test_an_id_too_large_for_the_database_is_a_422_not_a_500(self, client, session) -> None:
        token = make_token(session, Role.auditor)
        r = client.get("/api/v1/programmes/99999999999", headers=auth(token))
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "programme_id"

    def test_nul_characters_are_refused_before_the_database(self, client, session) -> None:
        token = make_token(session, Role.coordinator)
        r = client.post(
            "/api/v1/programmes",
            headers=auth(token),
            json={"code": "NUL", "name": "a\x00b", "organiser": "o"},
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "name"

    def test_an_unexpected_error_reveals_no_stack_trace(self, bound_db) -> None:
        app = create_app(bound_db)

        @app.get("/boom")
        def boom() -> None:
            raise RuntimeError("secret internals at /srv/qms/service.py line 42")

        from fastapi.testclient import TestClient

        r = TestClient(app, raise_server_exceptions=False).get("/boom")
        assert r.status_code == 500
        assert r.headers["content-type"] == "application/problem+json"
        assert "secret" not in r.text
        assert "Traceback" not in r.text


class TestRoles:
    @pytest.mark.parametrize(
        ("role", "status"),
        [
            (Role.admin, 201),
            (Role.coordinator, 201),
            (Role.quality_lead, 201),
            (Role.auditor, 403),
            (Role.importer, 403),
        ],
    )
    def test_who_may_create_a_programme(self, client, session, role, status) -> None:
        token = make_token(session, role)
        r = client.post(
            "/api/v1/programmes",
            headers=auth(token),
            json={
                "code": f"P-{role.value.upper().replace('_', '-')}",
                "name": "n",
                "organiser": "o",
            },
        )
        assert r.status_code == status, r.text
        if status == 403:
            assert r.headers["content-type"] == "application/problem+json"

    def test_me_tells_the_role_and_its_permissions(self, client, session) -> None:
        token = make_token(session, Role.auditor, name="auditor-eva")
        body = client.get("/api/v1/me", headers=auth(token)).json()
        assert body["name"] == "auditor-eva"
        assert body["role"] == "auditor"
        assert "programme.write" not in body["permissions"]
        assert "audit.read" in body["permissions"]


def test_the_app_builds_on_the_configured_database(monkeypatch, tmp_path) -> None:
    from qms import migrate
    from qms.config import get_settings

    url = f"sqlite:///{tmp_path / 'configured.db'}"
    migrate.upgrade(url)
    monkeypatch.setenv("QMS_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        client = make_client(create_app().state.database)
        assert client.get("/healthz").json()["database"] == "sqlite"
    finally:
        get_settings.cache_clear()


class TestStrictInput:
    def test_a_misspelt_filter_is_refused_not_ignored(self, client, session) -> None:
        token = make_token(session, Role.auditor)
        r = client.get("/api/v1/programmes?stauts=running", headers=auth(token))
        assert r.status_code == 422
        [error] = r.json()["errors"]
        assert error["field"] == "stauts"
        assert "status" in error["message"]

    def test_a_nul_character_in_a_filter_is_refused_before_the_database(
        self, client, session
    ) -> None:
        token = make_token(session, Role.auditor)
        r = client.get("/api/v1/audit/events?action=%00", headers=auth(token))
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "action"

    def test_a_repeated_filter_is_refused(self, client, session) -> None:
        token = make_token(session, Role.auditor)
        r = client.get("/api/v1/audit/events?entity=a&entity=b", headers=auth(token))
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "entity"

    def test_numbers_are_not_taken_for_dates_or_booleans_for_counts(self, client, session) -> None:
        token = make_token(session, Role.coordinator)
        r = client.post(
            "/api/v1/programmes",
            headers=auth(token),
            json={"code": "P", "name": "n", "organiser": "o", "min_meetings_per_month": True},
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "min_meetings_per_month"
        r = client.get(
            "/api/v1/audit/events?since=1700000000", headers=auth(make_token(session, Role.auditor))
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "since"

    def test_authentication_is_checked_before_anything_else(self, client) -> None:
        r = client.patch(
            "/api/v1/programmes/1", headers={"If-Match": "garbage"}, content=b"{not json"
        )
        assert r.status_code == 401

    def test_a_wrong_method_names_every_allowed_one(self, client) -> None:
        r = client.put("/api/v1/programmes")
        assert r.status_code == 405
        assert r.headers["allow"] == "GET, POST"
        assert r.headers["content-type"] == "application/problem+json"
        r = client.put("/api/v1/imports/evaluations")
        assert r.status_code == 405
        assert r.headers["allow"] == "POST"
