"""The documents' charts drawn ahead by the service: after a change is committed the pictures a
report will need are drawn in the background, so the report asked for then draws nothing."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qms.charts import ahead, draw
from qms.db import Database
from qms.demo import issue_tokens, load
from qms.permissions import Actor, Role
from tests.conftest import make_client
from tests.factories import ADMIN
from tests.test_deviations import LOG as LOGGED

# A deviation logged in programme 1, as the deviation tests log one.
LOG = {**LOGGED, "programme_id": 1}
WAIT = 120.0


@pytest.fixture
def kept_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from qms.charts import kept

    folder = tmp_path / "charts"
    monkeypatch.setattr(kept, "folder", lambda: folder)
    # Quick to settle and to look, for the test's sake; the waiting is the same.
    monkeypatch.setattr(ahead, "QUIET", 0.2)
    monkeypatch.setattr(ahead, "POLL", 0.5)
    draw.forget()
    yield folder
    draw.forget()


@pytest.fixture
def demo(fresh_db: Database) -> dict[str, Any]:
    with fresh_db.unit_of_work() as session:
        operator = Actor(user_id=None, name="cli:test", role=Role.admin)
        load(session, operator=operator)
        tokens = issue_tokens(session, operator=operator)
    return {"database": fresh_db, "lead": {"Authorization": f"Bearer {tokens.quality_lead}"}}


def _pictures(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in folder.glob("*.png")}


def _media(content: bytes) -> list[bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        return [package.read(n) for n in package.namelist() if n.startswith("word/media/")]


def _drawer(client: Any) -> ahead.Drawer:
    drawer = ahead._DRAWERS[client.app.state.database.engine.pool]
    assert drawer.wait_idle(WAIT), "the charts were not drawn ahead"
    return drawer


def test_a_report_asked_for_after_a_change_finds_its_pictures_drawn(
    demo: dict[str, Any], kept_in: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lead = demo["lead"]
    with make_client(demo["database"]) as client:
        # At its start the service draws for the records as they are.
        drawer = _drawer(client)
        before = _pictures(kept_in)
        assert before, "nothing drawn at the start"
        # A deviation logged in programme 1 changes its open-deviations indicator.
        logged = client.post("/api/v1/deviations", headers=lead, json=LOG)
        assert logged.status_code == 201, logged.text
        rounds = drawer.rounds
        drawer = _drawer(client)
        assert drawer.rounds > rounds
        after = _pictures(kept_in)
        assert set(after) > set(before), "the changed chart was not drawn anew"

        # The report, made now by another process (nothing remembered here), draws nothing.
        draw.forget()

        def drawn(*args: Any, **kwargs: Any) -> None:
            raise AssertionError("a picture was drawn while the report was made")

        monkeypatch.setattr(draw, "figure", drawn)
        report = client.get("/api/v1/documents/quality-report/1", headers=lead)
        assert report.status_code == 200, report.text
    pictures = _media(report.content)
    assert len(pictures) == 4
    assert all(picture in after.values() for picture in pictures)
    assert _pictures(kept_in).keys() == after.keys()


def test_a_change_rolled_back_draws_nothing_and_the_service_stops_drawing(
    demo: dict[str, Any], kept_in: Path
) -> None:
    from qms.deviations import service as deviations
    from qms.deviations.schemas import DeviationCreate

    database = demo["database"]
    with make_client(database) as client:
        drawer = _drawer(client)
        rounds = drawer.rounds

        def given_up() -> None:
            with database.unit_of_work() as session:
                deviations.create(session, actor=ADMIN, data=DeviationCreate(**LOG))
                raise RuntimeError("the change is given up")

        with pytest.raises(RuntimeError):
            given_up()
        assert drawer.wait_idle(2 * ahead.QUIET)
        assert drawer.rounds == rounds
    # Stopped with the service: a change committed afterwards wakes nothing.
    assert database.engine.pool not in ahead._DRAWERS


def test_a_change_made_by_another_process_is_drawn_for_and_one_the_charts_do_not_show_is_not(
    demo: dict[str, Any], kept_in: Path
) -> None:
    from qms.accounts import service as accounts
    from qms.db import make_engine
    from qms.deviations import service as deviations
    from qms.deviations.schemas import DeviationCreate

    database = demo["database"]
    # The command line, or another of the service's workers: its commits wake nothing here.
    other = Database(make_engine(database.engine.url.render_as_string(hide_password=False)))
    try:
        with make_client(database) as client:
            drawer = _drawer(client)
            rounds, before = drawer.rounds, _pictures(kept_in)
            with other.unit_of_work() as session:
                accounts.create_user(session, actor=ADMIN, name="new-auditor", role=Role.auditor)
            # Looked at (the trail grew), nothing the charts draw from: nothing drawn.
            _wait_for_a_look(drawer)
            assert drawer.rounds == rounds
            with other.unit_of_work() as session:
                deviations.create(session, actor=ADMIN, data=DeviationCreate(**LOG))
            _wait_for_a_look(drawer)
            assert drawer.rounds == rounds + 1
            assert set(_pictures(kept_in)) > set(before)
    finally:
        other.dispose()


def _wait_for_a_look(drawer: ahead.Drawer) -> None:
    """Wait until the drawer has looked at the trail as it is now (a POLL and its settling)."""
    import time

    deadline = time.monotonic() + WAIT
    length = _length(drawer.database)
    while drawer._seen != length or not drawer._idle.is_set():
        assert time.monotonic() < deadline, "the trail was not looked at"
        time.sleep(0.05)


def _length(database: Database) -> int:
    from sqlalchemy import select

    from qms.audit.models import AuditChainHead

    with database.unit_of_work(write=False) as session:
        return int(session.scalar(select(AuditChainHead.count)) or 0)
