"""`qms demo` is complete for the README's tour: a token for every role the tour uses, and a
procedure with a second version so that the version diff has something to show."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from qms.cli import app, common
from qms.config import get_settings
from tests.conftest import make_client
from tests.factories import auth

runner = CliRunner()


@pytest.fixture
def demo(fresh_db, monkeypatch):
    """The demo built in the test's own database, and what it printed on stdout."""
    monkeypatch.setenv(
        "QMS_DATABASE_URL", fresh_db.engine.url.render_as_string(hide_password=False)
    )
    monkeypatch.setattr(common.out, "width", 220)
    monkeypatch.setenv("QMS_LANGUAGE", "en")
    get_settings.cache_clear()
    result = runner.invoke(app, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.stderr
    yield dict(line.split("=", 1) for line in result.stdout.strip().splitlines())
    get_settings.cache_clear()


def test_the_demo_is_complete_for_a_tour(demo, fresh_db) -> None:
    client = make_client(fresh_db)
    # The importer's token, printed as the others are, imports and does nothing else.
    importer = auth(demo["QMS_IMPORTER_TOKEN"])
    assert client.get("/api/v1/me", headers=importer).json()["role"] == "importer"
    assert client.get("/api/v1/deviations", headers=importer).status_code == 403
    # A procedure in its second version, approved, whose changes the diff shows.
    auditor = auth(demo["QMS_AUDITOR_TOKEN"])
    listed = client.get("/api/v1/procedures", headers=auditor).json()
    revised = [p for p in listed if p["effective_version"] == 2]
    assert [p["code"] for p in revised] == ["PR-08"]
    diff = client.get(
        f"/api/v1/procedures/{revised[0]['id']}/diff?from=1&to=2", headers=auditor
    ).json()["diff"]
    assert "+" in diff
    assert "every pair's meeting log" in diff
