"""`qms deviations move|update` and `qms actions start|done|verify|ineffective`: the workflows
from a terminal, through the same services, rules, versions and audit trail as the API."""

from __future__ import annotations

import getpass
import re

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from qms.actions.models import ActionStatus, CorrectiveAction
from qms.audit.models import AuditEvent
from qms.cli import app, common
from qms.config import get_settings
from qms.deviations.models import Deviation, DeviationStatus
from qms.permissions import Role
from tests.factories import make_action, make_deviation, make_user

runner = CliRunner()


@pytest.fixture
def qms(fresh_db, monkeypatch):
    """Run `qms ...` against the test's own database."""
    monkeypatch.setenv(
        "QMS_DATABASE_URL", fresh_db.engine.url.render_as_string(hide_password=False)
    )
    monkeypatch.setattr(common.out, "width", 220)
    monkeypatch.setenv("QMS_LANGUAGE", "en")
    get_settings.cache_clear()

    def run(*args: str, code: int = 0, input: str | None = None):
        result = runner.invoke(app, list(args), input=input)
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result

    yield run
    get_settings.cache_clear()


def _said(text: str) -> str:
    """Return a message as one line (rich wraps long ones)."""
    return " ".join(text.split())


def _operator() -> str:
    return f"cli:{getpass.getuser()}"


@pytest.fixture
def records(fresh_db):
    """A minor and a major deviation, and an action on the minor one owned by a coordinator."""
    with fresh_db.unit_of_work() as session:
        owner = make_user(session, Role.coordinator, "owner-kari")
        make_user(session, Role.quality_lead, "lead-per")
        minor = make_deviation(session, title="Pair met once in March")
        major = make_deviation(session, title="Mentor not screened", severity="major")
        action = make_action(session, [minor], owner)
        numbers = {"minor": minor.number, "major": major.number, "action": action.number}
    return numbers


def _deviation(fresh_db, number: str) -> tuple[DeviationStatus, int]:
    with fresh_db.unit_of_work(write=False) as session:
        d = session.scalars(select(Deviation).where(Deviation.number == number)).one()
        return d.status, d.version


def _action(fresh_db, number: str) -> CorrectiveAction:
    with fresh_db.unit_of_work(write=False) as session:
        a = session.scalars(select(CorrectiveAction).where(CorrectiveAction.number == number)).one()
        session.expunge(a)
        return a


def _events(fresh_db, entity: str, action: str) -> list[AuditEvent]:
    with fresh_db.unit_of_work(write=False) as session:
        found = list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.entity == entity, AuditEvent.action == action)
                .order_by(AuditEvent.seq)
            )
        )
        for e in found:
            session.expunge(e)
        return found


class TestDeviationMoves:
    def test_a_move_is_made_by_the_operator_and_in_the_trail(self, qms, fresh_db, records) -> None:
        number = records["minor"]
        result = qms(
            "deviations", "move", number, "--to", "investigating", "--reason", "Coordinator asked"
        )
        status, version = _deviation(fresh_db, number)
        assert status is DeviationStatus.investigating
        assert f"{number}: investigating (version {version})" in _said(result.stderr)
        [event] = _events(fresh_db, "deviation", "deviation.transitioned")
        assert event.actor == _operator()
        assert event.reason == "Coordinator asked"
        assert event.changes["status"] == {"old": "open", "new": "investigating"}

    def test_a_move_the_workflow_does_not_allow_names_the_allowed_ones(self, qms, records) -> None:
        refused = qms("deviations", "move", records["minor"], "--to", "closed", code=2)
        assert "from open it can change to investigating" in _said(refused.stderr)

    def test_closing_asks_for_what_the_move_needs(self, qms, fresh_db, records) -> None:
        number = records["major"]
        qms("deviations", "move", number, "--to", "investigating")
        # Closing needs a closure summary, and without actions a reason for none.
        refused = qms("deviations", "move", number, "--to", "closed", code=2)
        assert "Fill in the closure summary" in _said(refused.stderr)
        refused = qms(
            "deviations", "move", number, "--to", "closed",
            "--closure-summary", "The mentor was screened after all.", code=2,
        )  # fmt: skip
        assert "Say why no corrective action is needed." in _said(refused.stderr)
        closing = (
            "deviations", "move", number, "--to", "closed",
            "--closure-summary", "The mentor was screened after all.",
            "--no-action-reason", "The screening record had been misfiled.",
        )  # fmt: skip
        # Closing signs: the statement is shown and the person asked; a no signs nothing.
        statement = f"I close {number} as investigated and resolved: The mentor was screened"
        declined = qms(*closing, input="n\n", code=1)
        assert "This move is an electronic signature, with the meaning closed:" in _said(
            declined.stderr
        )
        assert statement in _said(declined.stderr)
        assert "--sign closed" in declined.stderr
        assert _deviation(fresh_db, number)[0] is DeviationStatus.investigating
        assert _events(fresh_db, "deviation", "signature.signed") == []
        qms(*closing, input="y\n")
        assert _deviation(fresh_db, number)[0] is DeviationStatus.closed
        [signed] = _events(fresh_db, "deviation", "signature.signed")
        assert signed.actor == _operator()
        assert signed.changes["statement"]["new"].startswith(statement)

    def test_a_major_deviation_needs_its_root_cause_set_by_update(
        self, qms, fresh_db, records
    ) -> None:
        number = records["major"]
        qms("deviations", "move", number, "--to", "investigating")
        refused = qms("deviations", "move", number, "--to", "action_required", code=2)
        assert "record the root cause" in _said(refused.stderr)
        qms(
            "deviations", "update", number,
            "--root-cause-method", "five_whys",
            "--root-cause", "Screening was left to the mentor's employer.",
        )  # fmt: skip
        [updated] = _events(fresh_db, "deviation", "deviation.updated")
        assert updated.actor == _operator()
        assert "root_cause" in updated.changes
        qms("deviations", "move", number, "--to", "action_required")
        assert _deviation(fresh_db, number)[0] is DeviationStatus.action_required

    def test_a_stale_version_is_refused_and_a_current_one_taken(
        self, qms, fresh_db, records
    ) -> None:
        number = records["minor"]
        _, read = _deviation(fresh_db, number)
        qms("deviations", "move", number, "--to", "investigating", "--if-match", str(read))
        refused = qms(
            "deviations", "move", number, "--to", "action_required", "--if-match", str(read),
            code=2,
        )  # fmt: skip
        assert f"has changed since version {read}" in _said(refused.stderr)
        assert _deviation(fresh_db, number)[0] is DeviationStatus.investigating
        refused = qms(
            "deviations", "update", number, "--root-cause", "x", "--if-match", str(read), code=2
        )
        assert f"has changed since version {read}" in _said(refused.stderr)

    def test_show_gives_the_version_to_send(self, qms, fresh_db, records) -> None:
        _, version = _deviation(fresh_db, records["minor"])
        assert f"Version {version}" in qms("deviations", "show", records["minor"]).stdout

    def test_an_auditor_cannot_move(self, qms, fresh_db, records) -> None:
        with fresh_db.unit_of_work() as session:
            make_user(session, Role.auditor, "auditor-eva")
        refused = qms(
            "deviations", "move", records["minor"], "--to", "investigating",
            "--as", "auditor-eva", code=2,
        )  # fmt: skip
        assert "Your role, auditor, does not allow you" in _said(refused.stderr)
        assert _deviation(fresh_db, records["minor"])[0] is DeviationStatus.open

    def test_refusals_are_said_in_the_language(self, qms, records) -> None:
        refused = qms(
            "--language", "nb", "deviations", "move", records["minor"], "--to", "closed", code=2
        )
        assert "kan ikke endres fra åpen til lukket" in _said(refused.stderr)


class TestActionMoves:
    def test_an_action_is_started_done_and_verified(self, qms, fresh_db, records) -> None:
        number = records["action"]
        qms("actions", "start", number, "--as", "owner-kari")
        qms(
            "actions", "done", number, "--as", "owner-kari",
            "--note", "The check is in the coordinator's monthly routine.",
        )  # fmt: skip
        done = _action(fresh_db, number)
        assert done.status is ActionStatus.done
        assert done.completion_note == "The check is in the coordinator's monthly routine."
        # The owner does not verify their own action.
        refused = qms(
            "actions", "verify", number, "--as", "owner-kari", "--evidence", "Logs", code=2
        )
        assert "only on corrective actions you own" in _said(refused.stderr)
        wrong = qms(
            "actions", "verify", number, "--as", "lead-per",
            "--evidence", "Three months of complete meeting logs.", "--sign", "approved", code=2,
        )  # fmt: skip
        assert "signed with the meaning verified, not approved" in _said(wrong.stderr)
        # A script states the meaning: nothing is asked.
        result = qms(
            "actions", "verify", number, "--as", "lead-per",
            "--evidence", "Three months of complete meeting logs.", "--sign", "verified",
        )  # fmt: skip
        verified = _action(fresh_db, number)
        assert verified.status is ActionStatus.verified_effective
        assert verified.verified_by == "lead-per"
        assert verified.evidence == "Three months of complete meeting logs."
        assert f"{number}: verified effective (version {verified.version})" in _said(result.stderr)
        moves = _events(fresh_db, "action", "action.transitioned")
        assert [e.actor for e in moves] == ["owner-kari", "owner-kari", "lead-per"]
        [signed] = _events(fresh_db, "action", "signature.signed")
        assert signed.actor == "lead-per"
        assert signed.changes["statement"]["new"] == (
            f"I verify that {number} was effective: Three months of complete meeting logs."
        )

    def test_verifying_needs_evidence(self, qms, fresh_db, records) -> None:
        number = records["action"]
        qms("actions", "start", number)
        qms("actions", "done", number, "--note", "Done.")
        refused = qms("actions", "verify", number, code=2)
        assert "Fill in the evidence" in _said(refused.stderr)
        assert _action(fresh_db, number).status is ActionStatus.done

    def test_an_ineffective_action_names_its_follow_on(self, qms, fresh_db, records) -> None:
        number = records["action"]
        qms("actions", "start", number)
        qms("actions", "done", number, "--note", "Done.")
        refused = qms("actions", "ineffective", number, "--evidence", "Still late.", code=2)
        assert "Follow-on" in refused.stderr or "follow_on" in refused.stderr
        qms(
            "actions", "ineffective", number, "--evidence", "Logs still late in May.",
            "--follow-on-title", "Reminder before each month ends",
            "--follow-on-action", "Send each pair a reminder on the 20th.",
            "--follow-on-owner", "owner-kari", "--follow-on-due", "2099-06-30",
            "--sign", "verified",
        )  # fmt: skip
        assert _action(fresh_db, number).status is ActionStatus.ineffective
        with fresh_db.unit_of_work(write=False) as session:
            titles = set(session.scalars(select(CorrectiveAction.title)))
        assert "Reminder before each month ends" in titles

    def test_a_stale_version_is_refused(self, qms, fresh_db, records) -> None:
        number = records["action"]
        read = _action(fresh_db, number).version
        qms("actions", "start", number, "--if-match", str(read))
        refused = qms("actions", "done", number, "--note", "x", "--if-match", str(read), code=2)
        assert f"has changed since version {read}" in _said(refused.stderr)
        assert _action(fresh_db, number).status is ActionStatus.in_progress

    def test_an_unknown_action_is_named(self, qms, records) -> None:
        refused = qms("actions", "start", "CA-1999-0001", code=2)
        assert "There is no corrective action CA-1999-0001." in _said(refused.stderr)


def test_docs_names_the_kinds_that_take_a_programme() -> None:
    result = runner.invoke(app, ["docs", "--help"], env={"COLUMNS": "400"})
    assert result.exit_code == 0
    text = re.sub(r"[│\s]+", " ", result.stdout)
    for kind in ("follow-up-report", "quality-report", "audit-pack", "capa-status"):
        assert re.search(rf"--programme .*{kind}", text), kind
