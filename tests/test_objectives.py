"""Quality objectives (ISO 9001 6.2): set with a plan and an owner, measured by indicators,
moved to their result; over REST, the pages, the command line and the document."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from qms.audit.models import AuditEvent
from qms.indicators import service as indicators
from qms.indicators.models import IndicatorDefinition
from qms.indicators.schemas import IndicatorCreate, IndicatorValueCreate
from qms.permissions import Role
from qms.programmes.models import Programme
from tests.factories import ADMIN, auth, make_programme, make_token, make_user
from tests.web import csrf_of, error_beside, sign_in, web_user


def _due(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def _indicator(
    session: Session,
    programme: Programme,
    code: str = "WORK-RATE",
    *,
    value: float | None = None,
    planned: float = 75.0,
    threshold: float | None = 60.0,
) -> IndicatorDefinition:
    """Define an entered indicator of the programme and, given a value, enter it for this year."""
    definition = indicators.define(
        session,
        actor=ADMIN,
        programme_id=programme.id,
        data=IndicatorCreate(
            code=code,
            name="Mentees in work or study at close",
            unit="percent",
            computation="entered",
            planned=planned,
            threshold=threshold,
        ),
    )
    if value is not None:
        this_year = date.today().year
        indicators.enter_value(
            session,
            actor=ADMIN,
            indicator_id=definition.id,
            data=IndicatorValueCreate(
                period_start=date(this_year, 1, 1), period_end=date(this_year, 12, 31), value=value
            ),
        )
    return definition


def _new(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "Mentees in work or study",
        "target": "Three in four mentees are in work or study when their pair closes.",
        "owner": "lead-kari",
        "due_on": _due(180),
        "plan": "Match on profession; hold the mid-programme follow-up; job-search workshop.",
        "resources": "Coordinator half-time; workshop venue.",
        "responsible": "Programme coordinator",
        "evaluation": "Outcome survey at close, read against the indicator WORK-RATE.",
        "requirements": ["ISO9001:6.2"],
        **overrides,
    }


@pytest.fixture
def lead_user(session: Session) -> Any:
    return make_user(session, Role.quality_lead, name="lead-kari")


@pytest.fixture
def lead(session: Session, lead_user: Any) -> dict[str, str]:
    return auth(make_token(session, Role.quality_lead, name="lead-ingrid"))


@pytest.fixture
def programme(session: Session) -> Programme:
    return make_programme(session, code="VIA")


def _events(session: Session, objective_id: int) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity == "objective", AuditEvent.entity_id == str(objective_id))
            .order_by(AuditEvent.seq)
        )
    )


class TestSetting:
    def test_a_quality_lead_sets_an_objective_numbered_with_its_plan_and_an_event(
        self, client, session, lead, programme
    ):
        work = _indicator(session, programme, value=80.0)
        r = client.post(
            "/api/v1/objectives",
            json=_new(programme_id=programme.id, indicator_ids=[work.id]),
            headers=lead,
        )
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["number"] == f"OBJ-{date.today().year}-0001"
        assert body["status"] == "planned"
        assert body["programme_code"] == "VIA"
        assert body["owner"] == "lead-kari"
        assert body["plan"].startswith("Match on profession")
        assert body["allowed_transitions"] == ["in_progress", "withdrawn"]
        assert r.headers["ETag"] == f'"{body["version"]}"'
        assert r.headers["Location"] == f"/api/v1/objectives/{body['id']}"
        [row] = body["indicators"]
        assert (row["code"], row["planned"], row["actual"], row["status"]) == (
            "WORK-RATE",
            75.0,
            80.0,
            "met",
        )
        assert body["at_risk"] is False
        [event] = _events(session, body["id"])
        assert event.action == "objective.created"
        assert event.programme_id == programme.id
        assert event.changes["number"]["new"] == body["number"]
        assert event.changes["owner"]["new"] == "lead-kari"

    def test_an_organisation_objective_may_be_measured_by_any_programmes_indicators(
        self, client, session, lead, programme
    ):
        other = make_programme(session, code="CAREER")
        ids = [_indicator(session, programme).id, _indicator(session, other, "FOLLOW").id]
        r = client.post("/api/v1/objectives", json=_new(indicator_ids=ids), headers=lead)
        assert r.status_code == 201, r.text
        assert r.json()["programme_id"] is None
        assert [i["programme_code"] for i in r.json()["indicators"]] == ["VIA", "CAREER"]

    @pytest.mark.parametrize("role", [Role.coordinator, Role.auditor, Role.importer])
    def test_roles_that_do_not_keep_objectives_are_refused(self, client, session, lead_user, role):
        token = auth(make_token(session, role))
        assert client.post("/api/v1/objectives", json=_new(), headers=token).status_code == 403

    def test_readers_read_and_importers_do_not(self, client, session, lead, lead_user):
        assert client.post("/api/v1/objectives", json=_new(), headers=lead).status_code == 201
        for role, expected in (
            (Role.auditor, 200),
            (Role.coordinator, 200),
            (Role.importer, 403),
        ):
            r = client.get("/api/v1/objectives", headers=auth(make_token(session, role)))
            assert r.status_code == expected, role


class TestBadInput:
    def _field(self, r: Any) -> set[str]:
        assert r.status_code == 422, r.text
        return {e["field"] for e in r.json()["errors"]}

    def test_missing_and_wrong_fields_are_named(self, client, lead):
        body = _new()
        del body["title"]
        body["due_on"] = "next year"
        fields = self._field(client.post("/api/v1/objectives", json=body, headers=lead))
        assert {"title", "due_on"} <= fields

    def test_an_owner_who_cannot_answer_for_it_is_named(self, client, session, lead):
        make_user(session, Role.auditor, name="auditor-per")
        r = client.post("/api/v1/objectives", json=_new(owner="auditor-per"), headers=lead)
        assert self._field(r) == {"owner"}
        r = client.post("/api/v1/objectives", json=_new(owner="nobody"), headers=lead)
        assert self._field(r) == {"owner"}

    def test_another_programmes_indicator_and_an_unknown_programme_are_named(
        self, client, session, lead, programme
    ):
        other = _indicator(session, make_programme(session, code="CAREER"))
        r = client.post(
            "/api/v1/objectives",
            json=_new(programme_id=programme.id, indicator_ids=[other.id]),
            headers=lead,
        )
        assert self._field(r) == {"indicator_ids.0"}
        r = client.post("/api/v1/objectives", json=_new(programme_id=99999), headers=lead)
        assert self._field(r) == {"programme_id"}
        r = client.post("/api/v1/objectives", json=_new(indicator_ids=[99999]), headers=lead)
        assert self._field(r) == {"indicator_ids.0"}


def _create(client: Any, lead: dict[str, str], **overrides: Any) -> dict[str, Any]:
    r = client.post("/api/v1/objectives", json=_new(**overrides), headers=lead)
    assert r.status_code == 201, r.text
    return dict(r.json())


def _move(client: Any, lead: dict[str, str], body: dict[str, Any], **data: Any) -> Any:
    return client.post(
        f"/api/v1/objectives/{body['id']}/transitions",
        json=data,
        headers={**lead, "If-Match": f'"{body["version"]}"'},
    )


class TestChanging:
    def test_a_change_needs_the_version_read(self, client, session, lead, lead_user):
        body = _create(client, lead)
        url = f"/api/v1/objectives/{body['id']}"
        change = {"due_on": _due(200), "plan": "Also a mentor training before matching."}
        assert client.patch(url, json=change, headers=lead).status_code == 428
        stale = {**lead, "If-Match": '"99"'}
        assert client.patch(url, json=change, headers=stale).status_code == 412
        r = client.patch(url, json=change, headers={**lead, "If-Match": r'"1"'})
        assert r.status_code == 200, r.text
        assert r.json()["plan"] == change["plan"]
        assert r.json()["version"] == 2
        updated = _events(session, body["id"])[-1]
        assert updated.action == "objective.updated"
        assert set(updated.changes) == {"due_on", "plan"}

    def test_a_required_field_cannot_be_emptied(self, client, lead, lead_user):
        body = _create(client, lead)
        r = client.patch(
            f"/api/v1/objectives/{body['id']}",
            json={"target": None},
            headers={**lead, "If-Match": '"1"'},
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "target"


class TestWorkflow:
    def test_planned_to_achieved_is_refused_naming_the_allowed_moves(self, client, lead, lead_user):
        body = _create(client, lead)
        r = _move(client, lead, body, to="achieved", result_note="Done.")
        assert r.status_code == 409
        assert "in_progress" in r.text

    def test_closing_needs_a_result_note_and_then_it_is_closed(
        self, client, session, lead, lead_user
    ):
        body = _create(client, lead)
        r = _move(client, lead, body, to="in_progress")
        assert r.status_code == 200, r.text
        started = r.json()
        assert started["started_at"] is not None
        r = _move(client, lead, started, to="achieved")
        assert r.status_code == 422
        assert {e["field"] for e in r.json()["errors"]} == {"result_note"}
        r = _move(client, lead, started, to="achieved", result_note="78 % in work or study.")
        assert r.status_code == 200, r.text
        closed = r.json()
        assert closed["status"] == "achieved"
        assert closed["closed_by"] == "lead-ingrid"
        assert closed["allowed_transitions"] == []
        assert closed["result_note"] == "78 % in work or study."
        moved = _events(session, body["id"])[-1]
        assert moved.action == "objective.transitioned"
        assert moved.changes["status"] == {"old": "in_progress", "new": "achieved"}
        r = client.patch(
            f"/api/v1/objectives/{body['id']}",
            json={"title": "Later"},
            headers={**lead, "If-Match": f'"{closed["version"]}"'},
        )
        assert r.status_code == 409

    def test_withdrawing_needs_a_reason(self, client, session, lead, lead_user):
        body = _create(client, lead)
        r = _move(client, lead, body, to="withdrawn")
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "reason"
        r = _move(client, lead, body, to="withdrawn", reason="The target group changed.")
        assert r.status_code == 200
        assert r.json()["withdrawal_reason"] == "The target group changed."
        assert _events(session, body["id"])[-1].reason == "The target group changed."


class TestAtRisk:
    def test_an_indicator_in_breach_puts_an_open_objective_at_risk(
        self, client, session, lead, programme
    ):
        low = _indicator(session, programme, value=50.0)
        body = _create(client, lead, programme_id=programme.id, indicator_ids=[low.id])
        assert body["indicators"][0]["status"] == "breach"
        assert body["at_risk"] is True
        assert body["at_risk_reasons"] == ["indicator_breach"]

    def test_as_of_a_day_before_the_value_the_indicator_has_no_data(
        self, client, session, lead, programme
    ):
        low = _indicator(session, programme, value=50.0)
        body = _create(client, lead, programme_id=programme.id, indicator_ids=[low.id])
        r = client.get(
            f"/api/v1/objectives/{body['id']}?as_of={date.today().year - 1}-06-30", headers=lead
        )
        assert r.status_code == 200
        assert r.json()["indicators"][0]["status"] == "no_data"
        assert r.json()["at_risk"] is False

    def test_past_due_and_open_is_at_risk_and_overdue(self, client, lead, lead_user):
        body = _create(client, lead, due_on=_due(-3))
        assert body["overdue"] is True
        assert body["at_risk_reasons"] == ["overdue"]
        r = client.get("/api/v1/objectives?overdue=true", headers=lead)
        assert [o["id"] for o in r.json()["items"]] == [body["id"]]


class TestLists:
    def test_filters_by_programme_status_and_mine(self, client, session, lead, programme):
        mine = auth(make_token(session, Role.quality_lead, name="lead-owner"))
        a = _create(client, lead, programme_id=programme.id)
        b = _create(client, lead, owner="lead-owner")
        _move(client, lead, b, to="in_progress")

        def ids(query: str, headers: dict[str, str] = lead) -> list[int]:
            r = client.get(f"/api/v1/objectives?{query}", headers=headers)
            assert r.status_code == 200, r.text
            return [o["id"] for o in r.json()["items"]]

        assert ids(f"programme_id={programme.id}") == [a["id"]]
        assert ids("organisation=true") == [b["id"]]
        assert ids("status=in_progress") == [b["id"]]
        assert ids("mine=true", mine) == [b["id"]]
        assert ids("sort=number") == [a["id"], b["id"]]
        assert client.get("/api/v1/objectives?status=nope", headers=lead).status_code == 422

    def test_the_list_is_taken_out_as_csv_and_json(self, client, lead, lead_user):
        body = _create(client, lead)
        r = client.get("/api/v1/objectives?format=csv", headers=lead)
        assert r.status_code == 200
        assert body["number"] in r.text
        assert "planned" in r.text
        r = client.get("/api/v1/objectives?format=json", headers=lead)
        assert r.status_code == 200
        assert r.json()["items"][0]["number"] == body["number"]

    def test_a_reader_limited_to_a_programme_sees_only_its_objectives(
        self, client, session, lead, programme
    ):
        other = make_programme(session, code="CAREER")
        own = _create(client, lead, programme_id=programme.id)
        theirs = _create(client, lead, programme_id=other.id)
        _create(client, lead)
        scoped = auth(make_token(session, Role.coordinator, programme_code="VIA"))
        r = client.get("/api/v1/objectives", headers=scoped)
        assert [o["id"] for o in r.json()["items"]] == [own["id"]]
        assert client.get(f"/api/v1/objectives/{own['id']}", headers=scoped).status_code == 200
        r = client.get(f"/api/v1/objectives/{theirs['id']}", headers=scoped)
        assert r.status_code == 404
        assert "CAREER" not in r.text


class TestPages:
    def test_a_quality_lead_sets_an_objective_on_the_form_and_sees_it_measured(
        self, client, session, programme
    ):
        work = _indicator(session, programme, value=50.0)
        name = web_user(session, Role.quality_lead, name="lead-web")
        sign_in(client, name)
        form = client.get("/objectives/new")
        assert form.status_code == 200
        assert f'value="{work.id}"' in form.text
        data = {
            "csrf_token": csrf_of(form.text),
            "title": "Mentees in work or study",
            "programme_id": str(programme.id),
            "target": "75 % in work or study at close.",
            "owner": name,
            "due_on": _due(90),
            "plan": "Job-search workshop in month six.",
            "indicator_ids": [str(work.id)],
        }
        r = client.post("/objectives/new", data=data, follow_redirects=False)
        assert r.status_code == 303, r.text
        page = client.get(r.headers["location"])
        assert page.status_code == 200
        assert "Job-search workshop in month six." in page.text
        assert "WORK-RATE" in page.text
        # The indicator is in breach: the objective is shown at risk, by its label.
        assert "at risk" in page.text
        assert "at_risk" not in page.text.replace('b-at_risk"', "")
        listing = client.get("/objectives")
        assert "Mentees in work or study" in listing.text

    def test_a_refused_form_names_the_field(self, client, session):
        name = web_user(session, Role.quality_lead, name="lead-web")
        sign_in(client, name)
        form = client.get("/objectives/new")
        r = client.post(
            "/objectives/new",
            data={"csrf_token": csrf_of(form.text), "title": "No plan", "owner": name},
        )
        assert r.status_code == 422
        assert error_beside(r.text, "plan")
        assert error_beside(r.text, "due_on")

    def test_the_objective_is_changed_and_moved_on_its_page(self, client, session, lead):
        name = web_user(session, Role.quality_lead, name="lead-web")
        body = _create(client, lead, owner=name)
        sign_in(client, name)
        url = f"/objectives/{body['id']}"
        page = client.get(url)
        token = csrf_of(page.text)
        r = client.post(
            f"{url}/edit",
            data={
                "csrf_token": token,
                "version": "1",
                "title": body["title"],
                "target": body["target"],
                "owner": name,
                "due_on": body["due_on"],
                "plan": "A new plan.",
            },
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        r = client.post(
            f"{url}/move",
            data={"csrf_token": token, "version": "2", "to": "in_progress"},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        r = client.post(
            f"{url}/move", data={"csrf_token": token, "version": "3", "to": "not_achieved"}
        )
        assert r.status_code == 422
        assert error_beside(r.text, "not_achieved-result_note")
        page = client.get(url)
        assert "A new plan." in page.text
        assert "in progress" in page.text
        assert "Changed" in page.text

    def test_an_auditor_reads_but_is_offered_no_form(self, client, session, lead, lead_user):
        body = _create(client, lead)
        sign_in(client, web_user(session, Role.auditor))
        page = client.get(f"/objectives/{body['id']}")
        assert page.status_code == 200
        assert "/move" not in page.text
        assert client.get("/objectives/new").status_code == 403


class TestCommandLine:
    @pytest.fixture
    def qms(self, fresh_db, monkeypatch):
        """Run `qms ...` against the test's own database."""
        from typer.testing import CliRunner

        from qms.cli import app, common
        from qms.config import get_settings

        monkeypatch.setenv(
            "QMS_DATABASE_URL", fresh_db.engine.url.render_as_string(hide_password=False)
        )
        monkeypatch.setattr(common.out, "width", 220)
        monkeypatch.setenv("QMS_LANGUAGE", "en")
        get_settings.cache_clear()
        runner = CliRunner()

        def run(*args: str, code: int = 0) -> Any:
            result = runner.invoke(app, list(args))
            # A refusal exits non-zero (-1 here: whichever code it is).
            if code == -1:
                assert result.exit_code != 0, (result.stdout, result.stderr)
            else:
                assert result.exit_code == code, (result.stdout, result.stderr)
            return result

        yield run
        get_settings.cache_clear()

    def test_an_objective_is_added_listed_and_moved(self, qms, fresh_db):
        with fresh_db.unit_of_work() as session:
            make_user(session, Role.quality_lead, name="lead-kari")
            programme = make_programme(session, code="VIA")
            _indicator(session, programme, value=50.0)
        added = qms(
            "objectives",
            "add",
            "--title",
            "Mentees in work or study",
            "--target",
            "75 % at close",
            "--owner",
            "lead-kari",
            "--due",
            _due(60),
            "--plan",
            "Job-search workshop.",
            "--programme",
            "VIA",
            "--indicator",
            "VIA/WORK-RATE",
            "--requirement",
            "ISO9001:6.2",
        )
        number = added.stdout.strip()
        assert number.startswith("OBJ-")
        listed = qms("objectives", "list")
        assert number in listed.stdout
        assert "at risk" in listed.stdout
        assert "WORK-RATE breach" in listed.stdout
        as_json = qms("objectives", "list", "--format", "json")
        assert f'"number": "{number}"' in as_json.stdout or number in as_json.stdout
        as_csv = qms("objectives", "list", "--format", "csv")
        assert as_csv.stdout.splitlines()[0].startswith("Number,Programme,Title,Status")
        refused = qms("objectives", "move", number, "--to", "achieved", code=-1)
        assert "in progress" in refused.stderr or "in_progress" in refused.stderr
        qms("objectives", "move", number, "--to", "in_progress")
        refused = qms("objectives", "move", number, "--to", "achieved", code=-1)
        assert "result" in refused.stderr
        moved = qms("objectives", "move", number, "--to", "achieved", "--result", "78 %.")
        assert "achieved" in moved.stderr
        with fresh_db.unit_of_work(write=False) as session:
            events = session.scalars(
                select(AuditEvent.action).where(AuditEvent.entity == "objective")
            ).all()
        assert events == ["objective.created", "objective.transitioned", "objective.transitioned"]

    def test_a_bad_date_and_an_unknown_indicator_are_named(self, qms, fresh_db):
        with fresh_db.unit_of_work() as session:
            make_user(session, Role.quality_lead, name="lead-kari")
        base = ["objectives", "add", "--title", "T", "--target", "X", "--owner", "lead-kari"]
        refused = qms(*base, "--due", "soon", "--plan", "P", code=-1)
        assert "--due" in refused.stderr
        refused = qms(*base, "--due", _due(9), "--plan", "P", "--indicator", "NO/SUCH", code=-1)
        assert "NO/SUCH" in refused.stderr


class TestDocument:
    def test_the_document_lists_each_objective_with_its_indicators_and_plan(
        self, client, session, lead, programme
    ):
        from tests.reading import docx_text

        low = _indicator(session, programme, value=50.0)
        body = _create(client, lead, programme_id=programme.id, indicator_ids=[low.id])
        other = _create(client, lead, programme_id=make_programme(session, code="CAREER").id)
        r = client.get(
            f"/api/v1/documents/quality-objectives?programme_id={programme.id}", headers=lead
        )
        assert r.status_code == 200, r.text
        text = docx_text(r.content)
        assert "Quality objectives" in text
        assert body["number"] in text
        assert other["number"] not in text
        assert "Three in four mentees are in work or study" in text
        assert "Match on profession" in text
        assert "Outcome survey at close" in text
        assert "WORK-RATE" in text
        assert "75%" in text
        assert "50%" in text
        assert "breach" in text
        assert "at risk" in text
        issued = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "document.issued")
        ).all()
        assert issued

    def test_in_bokmal_the_states_are_said_by_their_labels(self, client, lead, lead_user):
        from tests.reading import docx_text

        _create(client, lead)
        r = client.get("/api/v1/documents/quality-objectives?language=nb", headers=lead)
        assert r.status_code == 200
        assert "in_progress" not in docx_text(r.content)
        assert "planned" not in docx_text(r.content).split()


class TestRecordsKept:
    def test_the_objective_holds_to_its_events_and_a_change_behind_its_back_is_found(
        self, client, session, lead, programme
    ):
        from qms import replay
        from qms.objectives.models import QualityObjective

        work = _indicator(session, programme, value=80.0)
        body = _create(client, lead, programme_id=programme.id, indicator_ids=[work.id])
        _move(client, lead, body, to="in_progress")
        r = client.patch(
            f"/api/v1/objectives/{body['id']}",
            json={"owner": "lead-ingrid", "resources": None},
            headers={**lead, "If-Match": '"2"'},
        )
        assert r.status_code == 200, r.text
        result = replay.check(session)
        mine = [f for f in result.first_findings if f.entity == "objective"]
        assert mine == []
        assert "objective" not in dict(result.not_covered)
        row = session.get(QualityObjective, body["id"])
        assert row is not None
        row.target = "Half of them."
        session.flush()
        found = [f.message("en") for f in replay.check(session).first_findings]
        assert any(body["number"] in m and "target" in m for m in found), found

    def test_a_closed_objective_is_due_for_disposal_ten_years_after(
        self, client, session, lead, lead_user
    ):
        from qms.objectives.models import QualityObjective
        from qms.retention.service import RULES, cutoff_for

        body = _create(client, lead)
        _move(client, lead, body, to="withdrawn", reason="The target group changed.")
        rule = RULES["objective"]
        assert rule.years == 10
        due = list(session.scalars(rule.due(cutoff_for("objective", date.today()))))
        assert body["id"] not in due
        later = date.today() + timedelta(days=365 * 10 + 5)
        due = list(session.scalars(rule.due(cutoff_for("objective", later))))
        assert body["id"] in due
        rule.dispose(session, [body["id"]])
        assert session.get(QualityObjective, body["id"]) is None


class TestEvidence:
    def test_objectives_count_as_evidence_of_iso_9001_6_2(self, client, session, lead, programme):
        from qms.db import utcnow

        planned = _create(client, lead, programme_id=programme.id)
        closed = _create(client, lead, programme_id=programme.id)
        _move(client, lead, closed, to="in_progress")
        _move(client, lead, {**closed, "version": 2}, to="achieved", result_note="Reached.")
        today = utcnow().date()
        r = client.get(
            f"/api/v1/frameworks/ISO9001/coverage?period_start={today.replace(month=1, day=1)}"
            f"&period_end={today}&programme_id={programme.id}",
            headers=lead,
        )
        assert r.status_code == 200, r.text
        row = {row["code"]: row for row in r.json()["rows"]}["6.2"]
        assert "no evidence in the period" not in row["gaps"]
        evidence = {e["kind"]: e["records"] for e in row["evidence"]}
        assert set(evidence["quality objectives with a plan"]) == {
            planned["number"],
            closed["number"],
        }
        assert evidence["quality objectives evaluated"] == [closed["number"]]


class TestReviewInput:
    def test_9_3_2_c2_lists_the_objectives_of_the_period_with_their_indicators(
        self, client, session, lead, programme
    ):
        low = _indicator(session, programme, value=50.0)
        other = _indicator(session, programme, "FOLLOW", value=90.0)
        body = _create(client, lead, programme_id=programme.id, indicator_ids=[low.id])
        organisation = _create(client, lead)
        year = date.today().year
        r = client.get(
            f"/api/v1/reviews/inputs?period_start={year}-01-01&period_end={year}-12-31"
            f"&programme_id={programme.id}",
            headers=lead,
        )
        assert r.status_code == 200, r.text
        [c2] = [s for s in r.json()["sections"] if s["clause"] == "9.3.2 c2"]
        cells = [" | ".join(row) for row in c2["rows"]]
        assert cells[0].startswith("Quality objective | Programme | Indicator")
        objective_row = next(c for c in cells if c.startswith(body["number"]))
        assert "at_risk" in objective_row
        assert objective_row.endswith("planned")
        assert any(c.startswith(organisation["number"]) for c in cells)
        at = cells.index(objective_row)
        assert "WORK-RATE" in cells[at + 1]
        assert cells[at + 1].endswith("breach")
        # The programme's indicator no objective names is listed after them.
        assert any("FOLLOW" in c for c in cells[at + 2 :])
        assert other.code == "FOLLOW"


class TestMyWork:
    def test_the_owner_sees_objectives_due_within_a_month_and_overdue(self, client, session, lead):
        mine = auth(make_token(session, Role.quality_lead, name="lead-owner"))
        soon = _create(client, lead, owner="lead-owner", due_on=_due(20))
        late = _create(client, lead, owner="lead-owner", due_on=_due(-2))
        far = _create(client, lead, owner="lead-owner", due_on=_due(120))
        r = client.get("/api/v1/me/work", headers=mine)
        assert r.status_code == 200, r.text
        items = {i["number"]: i for i in r.json()["items"] if i["kind"] == "objective_due"}
        assert set(items) == {soon["number"], late["number"]}
        assert items[late["number"]]["overdue"] is True
        assert items[soon["number"]]["link"] == f"/objectives/{soon['id']}"
        assert far["number"] not in items
        others = client.get("/api/v1/me/work", headers=lead).json()["items"]
        assert not [i for i in others if i["kind"] == "objective_due"]


class TestDemo:
    def test_the_demo_sets_objectives_from_the_reports_linked_to_its_indicators(self, fresh_db):
        from qms import replay
        from qms.demo import load
        from qms.objectives.models import ObjectiveStatus, QualityObjective

        with fresh_db.unit_of_work() as session:
            load(session, operator=ADMIN)
        with fresh_db.unit_of_work(write=False) as session:
            found = {
                o.title: o
                for o in session.scalars(select(QualityObjective).order_by(QualityObjective.id))
            }
            occupied = found["Mentees in work or study when the programme closes"]
            assert occupied.status is ObjectiveStatus.in_progress
            assert [i.code for i in occupied.indicators] == ["OCCUPIED", "EMPLOYED"]
            assert "75 %" in occupied.target
            assert found["Every mentor trained before being matched"].status is (
                ObjectiveStatus.achieved
            )
            manual = found["A manual for mentor programmes"]
            assert manual.status is ObjectiveStatus.withdrawn
            assert manual.withdrawal_reason
            assert {o.programme_id for o in found.values()} >= {None}
            assert len({o.programme_id for o in found.values()}) == 3
            result = replay.check(session)
            assert [f for f in result.first_findings if f.entity == "objective"] == []


def test_qms_docs_writes_the_quality_objectives_of_a_programme(fresh_db, monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from qms.cli import app
    from qms.config import get_settings
    from qms.objectives import service
    from qms.objectives.schemas import ObjectiveCreate
    from tests.reading import docx_text

    monkeypatch.setenv(
        "QMS_DATABASE_URL", fresh_db.engine.url.render_as_string(hide_password=False)
    )
    monkeypatch.setenv("QMS_LANGUAGE", "en")
    get_settings.cache_clear()
    with fresh_db.unit_of_work() as session:
        make_user(session, Role.quality_lead, name="lead-kari")
        programme = make_programme(session, code="VIA")
        objective = service.create(
            session, actor=ADMIN, data=ObjectiveCreate(**_new(programme_id=programme.id))
        )
        number = objective.number
    out = tmp_path / "objectives.docx"
    result = CliRunner().invoke(
        app, ["docs", "quality-objectives", "--programme", "VIA", "-o", str(out)]
    )
    get_settings.cache_clear()
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert number in docx_text(out.read_bytes())


class TestPageFiles:
    def test_the_list_page_takes_out_csv_and_the_documents_page_issues_the_register(
        self, client, session, lead, programme
    ):
        from tests.reading import docx_text

        body = _create(client, lead, programme_id=programme.id)
        sign_in(client, web_user(session, Role.quality_lead, name="lead-web"))
        r = client.get("/objectives?format=csv")
        assert r.status_code == 200
        assert body["number"] in r.text
        page = client.get("/objectives")
        assert 'value="quality-objectives"' in page.text
        r = client.post(
            "/documents/issue",
            data={
                "csrf_token": csrf_of(page.text),
                "kind": "quality-objectives",
                "programme_id": str(programme.id),
            },
        )
        assert r.status_code == 200, r.text[:500]
        assert body["number"] in docx_text(r.content)
