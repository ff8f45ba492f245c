"""Resource limits: big bodies are refused before they are read whole; lists are capped."""

from __future__ import annotations

from qms.config import get_settings
from qms.permissions import Role
from tests.factories import auth, make_token


def _chunks(total: int, size: int = 64 * 1024):
    sent = 0
    while sent < total:
        yield b"x" * size
        sent += size


class TestBodies:
    def test_a_stated_length_over_the_limit_is_413_at_once(self, client, session) -> None:
        token = make_token(session, Role.quality_lead)
        r = client.post(
            "/api/v1/deviations",
            headers={**auth(token), "Content-Type": "application/json"},
            content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        )
        assert r.status_code == 413
        assert r.headers["content-type"] == "application/problem+json"

    def test_a_body_without_a_length_is_cut_off_at_the_limit(self, client, session) -> None:
        token = make_token(session, Role.quality_lead)
        r = client.post(
            "/api/v1/deviations",
            headers={**auth(token), "Content-Type": "application/json"},
            content=_chunks(8 * 1024 * 1024),
        )
        assert r.status_code == 413

    def test_an_endless_upload_is_cut_off_at_the_import_limit(self, client, session, monkeypatch):
        monkeypatch.setenv("QMS_IMPORT_MAX_BYTES", str(256 * 1024))
        get_settings.cache_clear()
        try:
            token = make_token(session, Role.importer)
            r = client.post(
                "/api/v1/imports/outcomes",
                headers={**auth(token), "Content-Type": "multipart/form-data; boundary=b"},
                content=_chunks(50 * 1024 * 1024),
            )
            assert r.status_code == 413
        finally:
            get_settings.cache_clear()

    def test_a_body_within_the_limit_goes_through(self, client, session) -> None:
        token = make_token(session, Role.quality_lead)
        body = {
            "kind": "observation",
            "source": "self_reported",
            "severity": "minor",
            "title": "t",
            "description": "d" * 10_000,
        }
        assert client.post("/api/v1/deviations", headers=auth(token), json=body).status_code == 201


def test_list_limits_are_capped(client, session) -> None:
    token = auth(make_token(session, Role.auditor))
    for path in ("/api/v1/deviations", "/api/v1/actions", "/api/v1/pairs", "/api/v1/programmes"):
        r = client.get(f"{path}?limit=100000", headers=token)
        assert r.status_code == 422, path
        assert r.json()["errors"][0]["field"] == "limit"


def test_a_page_form_over_the_limit_is_413_too(client, session) -> None:
    from tests.web import csrf_of, sign_in, web_user

    sign_in(client, web_user(session, Role.quality_lead))
    token = csrf_of(client.get("/deviations/new").text)
    r = client.post(
        "/deviations/new",
        data={"csrf_token": token, "title": "t", "description": "d" * (2 * 1024 * 1024)},
    )
    assert r.status_code == 413


def test_every_operation_that_takes_a_body_documents_413_as_a_problem(client) -> None:
    """A client reading the OpenAPI learns that any body may be refused for its size, and that
    every refusal is a problem document of the documented schema (not JSON of another shape)."""
    paths = client.get("/openapi.json").json()["paths"]
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    takes_a_body = refusals = 0
    for path, operations in paths.items():
        for method, operation in operations.items():
            answers = operation["responses"]
            if "requestBody" in operation:
                takes_a_body += 1
                assert "413" in answers, (method, path)
            for status, answer in answers.items():
                if int(status) >= 400:
                    refusals += 1
                    assert answer["content"] == problem, (method, path, status)
    assert takes_a_body > 40
    assert refusals > 400
