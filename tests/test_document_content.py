"""Documents complete for their ISO 9001 clause, read back as a reader's software reads them."""

from __future__ import annotations

import io
from typing import Any

import pytest
from docx import Document

from qms.accounts import service as accounts
from qms.demo import load
from qms.permissions import Role
from tests.conftest import make_client
from tests.factories import ADMIN, auth
from tests.reading import docx_text


@pytest.fixture(scope="module")
def demo(new_database):
    database = new_database()
    with database.unit_of_work() as session:
        load(session, operator=ADMIN)
        accounts.create_user(session, actor=ADMIN, name="content-auditor", role=Role.auditor)
        token = accounts.create_token(session, actor=ADMIN, user_name="content-auditor").secret
    return make_client(database), auth(token)


def _get(demo: Any, path: str, **params: Any) -> bytes:
    client, headers = demo
    r = client.get(f"/api/v1/{path}", headers=headers, params=params)
    assert r.status_code == 200, r.text
    return r.content


def _json(demo: Any, path: str) -> Any:
    client, headers = demo
    r = client.get(f"/api/v1/{path}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def _tables(content: bytes) -> list[list[list[str]]]:
    """Every table of the document as rows of cell texts."""
    doc = Document(io.BytesIO(content))
    return [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]


def _fields(content: bytes) -> list[dict[str, str]]:
    """Every two-column table as {label: value}."""
    return [{r[0]: r[1] for r in t} for t in _tables(content) if len(t[0]) == 2]


class TestDeviationReport:
    def test_each_action_is_reported_through_its_verification(self, demo) -> None:
        content = _get(demo, "documents/deviation-report/5")
        text = docx_text(content)
        fields = _fields(content)
        second, third = (_json(demo, f"actions/{n}")["number"] for n in (2, 3))
        verified = next(f for f in fields if f.get("Completion note", "").startswith("Agreed"))
        assert verified["Action"].startswith("The pair agrees a fixed meeting day")
        assert verified["Owner"] == "Siri Bakke"
        assert verified["Evidence of effectiveness"].startswith("Meeting log July-September")
        assert verified["Verified by"] == "Ingrid Solberg"
        assert verified["Verified on"]
        assert verified["Verified on"] != "None recorded"
        assert verified["Due"] == "30/06/2026"
        open_action = next(f for f in fields if f.get("Status") == "in progress")
        assert open_action["Verified on"] == "None recorded"
        assert open_action["Root cause"].startswith("five whys: No routine looked")
        assert f"{second} — Fixed meeting day for the pair" in text
        assert f"{third} — Monthly check" in text
        # The root cause with the method that found it.
        assert {"Method": "five whys"}.items() <= next(f for f in fields if "Method" in f).items()
        # The verifier's signature says what it attests.
        assert "verified — verifies the corrective action's result against its evidence" in text

    def test_where_it_was_found_names_programme_cohort_pair_and_procedure(self, demo) -> None:
        content = _get(demo, "documents/deviation-report/6")
        where = next(f for f in _fields(content) if "Pair" in f)
        assert where["Programme"].startswith("CAREER-18 · ")
        assert where["Cohort"].startswith("2025-AUTUMN")
        assert where["Pair"].startswith("PAIR-0023 (mentor P-")
        assert where["Procedure"].startswith("PR-06 version 1: ")
        text = docx_text(content)
        assert "Coordinator referred the mentee to professional support" in text  # containment
        check = next(f for f in _fields(content) if "Effectiveness check due" in f)
        assert check["Effectiveness check due"] == "30/06/2027"

    def test_a_closed_deviation_says_when_and_by_whom(self, demo) -> None:
        content = _get(demo, "documents/deviation-report/1")
        closure = next(f for f in _fields(content) if "Closed by" in f)
        assert closure["Closed by"] == "Ingrid Solberg"
        assert closure["Closed on"] != "None recorded"
        assert closure["Closure summary"].startswith("Activity dropped")
        assert "No action because" in closure
        text = docx_text(content)
        assert "closed — closes the deviation" in text
        assert "Status: open → investigating" in text

    def test_in_norwegian_no_english_field_is_left(self, demo) -> None:
        text = docx_text(_get(demo, "documents/deviation-report/5", language="nb"))
        for english in ("Completion note", "Verified on", "None recorded", "Where it was found"):
            assert english not in text


def test_the_follow_up_report_and_the_deviation_it_raised_agree(demo) -> None:
    """The career programme's follow-up of PAIR-0023 found what the deviation tells of."""
    deviation = _json(demo, "deviations/6")
    assert deviation["source"] == "follow_up"
    cohort = deviation["cohort_id"]
    rows = {r[0]: r for r in _tables(_get(demo, f"documents/follow-up-report/{cohort}"))[0][1:]}
    pair = rows["PAIR-0023"]
    assert pair[4:7] == ["held", _day(deviation["detected_at"]), "at risk"]
    assert "raised as a nonconformity" in pair[9]


def _day(moment: str) -> str:
    """An ISO moment's day as the English documents write it."""
    year, month, day = moment[:10].split("-")
    return f"{day}/{month}/{year}"


class TestRegisters:
    def test_the_register_names_programme_source_closed_and_owners(self, demo) -> None:
        content = _get(demo, "documents/deviation-register")
        header, *rows = _tables(content)[0]
        assert header == [
            "Number",
            "Detected",
            "Programme",
            "Source",
            "Kind",
            "Severity",
            "Status",
            "Title",
            "Owner",
            "Due",
            "Closed",
            "Actions and owners",
        ]
        by_number = {r[0]: r for r in rows}
        first = by_number[_json(demo, "deviations/1")["number"]]
        assert first[2:4] == ["VIA-JOB", "self reported"]
        assert first[10] == _day(_json(demo, "deviations/1")["closed_at"])
        fifth = by_number[_json(demo, "deviations/5")["number"]]
        second = _json(demo, "actions/2")["number"]
        assert f"{second} (Siri Bakke)" in fifth[11]
        assert fifth[10] == ""  # not closed

    def test_the_capa_status_names_source_programme_done_and_verified(self, demo) -> None:
        content = _get(demo, "documents/capa-status")
        counts, actions = _tables(content)[:2]
        assert counts[0] == ["Where they stand", "Actions"]
        header, *rows = actions
        assert header[7:] == ["Done", "Verified by", "Verified on", "Source", "Programme"]
        by_number = {r[0]: r for r in rows}
        verified = by_number[_json(demo, "actions/2")["number"]]
        action = _json(demo, "actions/2")
        assert verified[8:] == [
            "Ingrid Solberg",
            _day(action["verification"]["verified_at"]),
            _json(demo, "deviations/5")["number"],
            "VIA-JOB",
        ]
        assert verified[7] == _day(action["done_at"])
        review = _json(demo, "reviews/1")["number"]
        assert any(r[10] == review and r[11] == "VIA-JOB" for r in rows)


class TestQualitySystem:
    def test_the_audit_report_states_objectives_criteria_dates_distribution(self, demo) -> None:
        content = _get(demo, "documents/audit-report/1")
        plan = next(f for f in _fields(content) if "Objectives" in f)
        assert "effectively implemented and maintained (ISO 9001 9.2.1)" in plan["Objectives"]
        assert "MENTOR:monitoring — Monitoring and support" in plan["Criteria"]
        assert "PR-09 — Mid-programme follow-up" in plan["Procedures"]
        assert plan["Audit dates"] == "11/05/2026 to 12/05/2026"
        audit = _json(demo, "audits/1")
        assert plan["Report date"] == _day(audit["reported_at"])
        assert plan["Reported by"] == "Maria Johansson"
        assert plan["Distribution"].startswith("The auditees (Siri Bakke), the auditors (Maria")
        text = docx_text(content)
        # No auditor's signature in the records: a line to sign on the printed report.
        assert "Maria Johansson, auditor — signature: ____" in text
        assert "closed — accepts the audit report and closes the audit" in text

    def test_review_decisions_have_an_owner_and_a_due_date(self, demo) -> None:
        content = _get(demo, "documents/management-review/1")
        decisions = next(
            t for t in _tables(content) if t[0][:4] == ["#", "Kind", "Decision", "Decided by"]
        )
        header, first, second = decisions
        assert header[4:] == ["Action", "Owner", "Due", "Action status"]
        action = _json(demo, "reviews/1")["decisions"][0]
        assert first[4:] == [action["action_number"], "Siri Bakke", "29/01/2027", "planned"]
        assert second[4] == "no action opened"
        assert first[3] == "Anders Lindqvist"


class TestQualityReport:
    def test_only_the_periods_values_are_rated_and_each_figure_has_its_unit(self, demo) -> None:
        content = _get(demo, "documents/quality-report/1")
        text = docx_text(content)
        cohorts = _json(demo, "programmes/1/cohorts")
        first = min(c["start_on"] for c in (cohorts["items"] if "items" in cohorts else cohorts))
        assert f"Period: {_day(first)} to " in text
        header, *rows = _tables(content)[0]
        assert header[:5] == ["Code", "Indicator", "Unit", "Planned", "Actual"]
        indicators = {r[0]: r for r in rows}
        women = indicators["WOMEN"]
        assert women[2:5] == ["count", "600", ""]
        assert women[5].startswith("no value for the period (the value entered is for 01/04/2012")
        assert women[6] == "no data"
        assert indicators["OCCUPIED"][2:5] == ["percent", "75%", "91.7%"]
        assert indicators["SATISFACTION"][2] == "score of 1 to 5"
        assert indicators["SATISFACTION"][4] == "4.08 of 5"

    def test_a_period_that_holds_the_entered_value_rates_it(self, demo) -> None:
        content = _get(
            demo, "documents/quality-report/1", period_start="2012-04-01", period_end="2014-06-30"
        )
        assert "Period: 01/04/2012 to 30/06/2014" in docx_text(content)
        indicators = {r[0]: r for r in _tables(content)[0][1:]}
        assert indicators["WOMEN"][3:5] == ["600", "450"]
        assert indicators["WOMEN"][6] == "below plan"
        # Nothing of the programme's own records falls in that period.
        assert "None recorded" in docx_text(content)

    def test_a_period_that_ends_before_it_starts_is_refused(self, demo) -> None:
        client, headers = demo
        r = client.get(
            "/api/v1/documents/quality-report/1",
            headers=headers,
            params={"period_start": "2026-06-30", "period_end": "2026-01-01"},
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "period_end"


def test_the_evidence_map_names_the_records_behind_each_count(demo) -> None:
    content = _get(demo, "documents/evidence-map/EMCC", programme_id=1, period_start="2025-01-01")
    rows = {r[0]: r for r in _tables(content)[0][1:]}
    evidence = rows["EMCC:selection-matching"][3].split("\n")
    unwound = next(line for line in evidence if line.startswith("pairs unwound"))
    pairs = _json(demo, "pairs?status=unwound")
    codes = [p["code"] for p in (pairs["items"] if "items" in pairs else pairs)]
    assert unwound == f"pairs unwound 1 — {codes[0]}"
    # Past ten records, the rest by how many: one participant a record, so the count is theirs.
    trained = next(
        line
        for r in rows.values()
        for line in r[3].split("\n")
        if line.startswith("participants trained")
    )
    head, _, rest = trained.partition(" — ")
    count = int(head.rsplit(" ", 1)[1])
    named, _, more = rest.rpartition(" and ")
    assert len(named.split(", ")) == 10
    assert more == f"{count - 10} more"
    # Many answers of one participant name the participant once, after the count of answers.
    answers = next(
        line for r in rows.values() for line in r[3].split("\n") if line.startswith("evaluation")
    )
    assert answers.count("FINAL P-0001,") == 1
