"""Electronic signatures with meaning: the statement shown before signing, the password asked
again on a page, the confirmation a script sends, and the manifestation kept and printed."""

from __future__ import annotations

import io
from typing import Any

import pytest
from docx import Document
from sqlalchemy import func, select

from qms.accounts import web as web_accounts
from qms.accounts.models import AuthFailure
from qms.actions.models import CorrectiveAction
from qms.audit.models import AuditEvent
from qms.deviations.models import Deviation
from qms.permissions import Role
from qms.signatures.models import Signature
from qms.signatures.service import content_hash
from tests.factories import (
    ADMIN,
    auth,
    make_action,
    make_deviation,
    make_token,
    make_user,
    signed,
)
from tests.web import PASSWORD, csrf_of, error_beside, sign_in, web_user

VERIFY = {"to": "verified_effective", "evidence": "Twelve meeting logs checked, all on time."}


@pytest.fixture
def lead(session) -> dict[str, str]:
    return auth(make_token(session, Role.quality_lead, name="lead-signe"))


@pytest.fixture
def done_action(session) -> CorrectiveAction:
    """An action done by its owner, waiting to be verified."""
    owner = make_user(session, Role.coordinator, name="coordinator-sander")
    action = make_action(session, [make_deviation(session)], owner)
    from qms.actions import service as actions
    from qms.actions.schemas import ActionTransition

    for body in ({"to": "in_progress"}, {"to": "done", "completion_note": "Routine in place"}):
        action = actions.transition(
            session,
            actor=ADMIN,
            action_id=action.id,
            data=ActionTransition.model_validate(body),
            if_match=action.version,
        )
    session.flush()
    return action


def _verify(client, headers, action_id: int, **extra: Any):
    version = client.get(f"/api/v1/actions/{action_id}", headers=headers).headers["etag"]
    return client.post(
        f"/api/v1/actions/{action_id}/transitions",
        headers={**headers, "If-Match": version},
        json={**VERIFY, **extra},
    )


def _signatures(session, entity: str, entity_id: int) -> list[Signature]:
    return list(
        session.scalars(
            select(Signature).where(Signature.entity == entity, Signature.entity_id == entity_id)
        )
    )


def _investigated(session) -> Deviation:
    """A deviation under investigation, which can be closed without corrective actions."""
    from qms.deviations import service as deviations
    from qms.deviations.schemas import DeviationTransition

    deviation = make_deviation(session)
    deviations.transition(
        session,
        actor=ADMIN,
        deviation_id=deviation.id,
        data=DeviationTransition(to="investigating"),
        if_match=deviation.version,
    )
    session.flush()
    return deviation


def _events(session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


class TestTheApiAsksForTheSignersConfirmation:
    def test_a_move_without_it_is_refused_naming_the_field_and_saying_the_statement(
        self, client, session, lead, done_action
    ) -> None:
        before = _events(session)
        r = _verify(client, lead, done_action.id)
        assert r.status_code == 422
        assert [e["field"] for e in r.json()["errors"]] == ["signature"]
        statement = f"I verify that {done_action.number} was effective: {VERIFY['evidence']}"
        # What a script shows the person before it sends the move again, confirmed.
        assert r.json()["signature"] == {
            "meaning": "verified",
            "statement": statement,
            "statement_language": "en",
        }
        assert statement in r.json()["errors"][0]["message"]
        assert _signatures(session, "action", done_action.id) == []
        assert session.get(CorrectiveAction, done_action.id).status.value == "done"
        assert _events(session) == before

    @pytest.mark.parametrize(
        ("signature", "field"),
        [
            ({"meaning": "approved", "statement_confirmed": True}, "signature.meaning"),
            (
                {"meaning": "verified", "statement_confirmed": False},
                "signature.statement_confirmed",
            ),
            ({"meaning": "verified"}, "signature.statement_confirmed"),
            ({"meaning": "signed", "statement_confirmed": True}, "signature.meaning"),
            (
                {"meaning": "verified", "statement_confirmed": True, "language": "de"},
                "signature.language",
            ),
        ],
    )
    def test_a_wrong_confirmation_is_refused_by_its_field(
        self, client, session, lead, done_action, signature, field
    ) -> None:
        r = _verify(client, lead, done_action.id, signature=signature)
        assert r.status_code == 422, r.text
        assert field in [e["field"] for e in r.json()["errors"]]
        assert _signatures(session, "action", done_action.id) == []

    def test_a_confirmed_move_keeps_the_manifestation_and_returns_it(
        self, client, session, lead, done_action
    ) -> None:
        r = _verify(client, lead, done_action.id, signature=signed("verified"))
        assert r.status_code == 200, r.text
        (signature,) = _signatures(session, "action", done_action.id)
        statement = f"I verify that {done_action.number} was effective: {VERIFY['evidence']}"
        assert (signature.signer, signature.signer_name) == ("lead-signe", "lead-signe")
        assert signature.meaning.value == "verified"
        assert signature.statement == statement
        assert signature.statement_language == "en"
        read = r.json()["verification"]["signature"]
        assert read["statement"] == statement
        assert read["meaning"] == "verified"
        assert read["signer_name"] == "lead-signe"
        assert read["signed_at"]
        # The hash covers the statement: another statement would be another signature.
        content = {
            "number": done_action.number,
            "result": "verified_effective",
            "action": done_action.action,
            "completion_note": "Routine in place",
            "evidence": VERIFY["evidence"],
        }
        assert signature.content_sha256 == content_hash({**content, "statement": statement})
        assert signature.content_sha256 != content_hash(content)
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "signature.signed")
        ).all()[-1]
        assert event.changes["statement"]["new"] == statement

    def test_the_statement_is_signed_in_the_language_the_signer_reads(
        self, client, session, lead, done_action
    ) -> None:
        nb = {**lead, "Accept-Language": "nb"}
        refused = _verify(client, nb, done_action.id)
        shown = refused.json()["signature"]
        assert shown["statement_language"] == "nb"
        assert done_action.number in shown["statement"]
        assert _verify(client, nb, done_action.id, signature=signed("verified")).status_code == 200
        (signature,) = _signatures(session, "action", done_action.id)
        assert (signature.statement, signature.statement_language) == (shown["statement"], "nb")

    def test_a_procedure_is_approved_and_reviewed_only_with_their_meanings(
        self, client, session, lead
    ) -> None:
        author = auth(make_token(session, Role.quality_lead, name="lead-author"))
        created = client.post(
            "/api/v1/procedures",
            headers=author,
            json={
                "code": "PR-77",
                "title": "Signing test",
                "owner_role": "quality_lead",
                "review_months": 12,
                "content": "# Purpose\n\nTo be signed.",
                "change_summary": "First version",
            },
        )
        assert created.status_code == 201, created.text
        procedure_id = created.json()["id"]
        path = f"/api/v1/procedures/{procedure_id}/versions/1"

        def move(headers, **body):
            etag = client.get(path, headers=headers).headers["etag"]
            return client.post(
                f"{path}/transitions", headers={**headers, "If-Match": etag}, json=body
            )

        assert move(author, to="in_review").status_code == 200
        refused = move(lead, to="approved")
        assert refused.status_code == 422
        assert refused.json()["signature"]["statement"] == (
            "I approve PR-77 version 1 (Signing test) for use."
        )
        wrong = move(lead, to="approved", signature=signed("reviewed"))
        assert [e["field"] for e in wrong.json()["errors"]] == ["signature.meaning"]
        approved = move(lead, to="approved", signature=signed("approved"))
        assert approved.status_code == 200, approved.text
        (signature,) = approved.json()["signatures"]
        assert signature["statement"] == "I approve PR-77 version 1 (Signing test) for use."
        assert (signature["meaning"], signature["signer_name"]) == ("approved", "lead-signe")

        review = f"/api/v1/procedures/{procedure_id}/review"
        unconfirmed = client.post(review, headers=lead, json={})
        assert unconfirmed.status_code == 422
        assert [e["field"] for e in unconfirmed.json()["errors"]] == ["signature"]
        reviewed = client.post(review, headers=lead, json={"signature": signed("reviewed")})
        assert reviewed.status_code == 200, reviewed.text
        statements = [s["statement"] for s in reviewed.json()["signatures"]]
        assert statements[-1] == (
            "I have reviewed PR-77 version 1 (Signing test) and find that it needs no change."
        )

    def test_closing_a_deviation_signs_what_closes_it(self, client, session, lead) -> None:
        deviation = _investigated(session)
        path = f"/api/v1/deviations/{deviation.id}"
        body = {
            "to": "closed",
            "closure_summary": "Meetings back on schedule.",
            "no_action_reason": "A one-off: the mentor was ill.",
        }

        def close(**extra):
            etag = client.get(path, headers=lead).headers["etag"]
            return client.post(
                f"{path}/transitions", headers={**lead, "If-Match": etag}, json={**body, **extra}
            )

        refused = close()
        assert refused.status_code == 422
        assert refused.json()["signature"]["meaning"] == "closed"
        assert close(signature=signed("closed")).status_code == 200
        (signature,) = _signatures(session, "deviation", deviation.id)
        assert signature.statement == (
            f"I close {deviation.number} as investigated and resolved: Meetings back on schedule."
        )
        session.expire_all()
        assert session.get(Deviation, deviation.id).status.value == "closed"


def _record_page(client, action_id: int):
    return client.get(f"/actions/{action_id}")


def _sign_on_page(client, action: CorrectiveAction, password: str):
    page = client.get(f"/actions/{action.id}")
    return client.post(
        f"/actions/{action.id}/move",
        data={
            "csrf_token": csrf_of(page.text),
            "to": "verified_effective",
            "version": str(action.version),
            "evidence": VERIFY["evidence"],
            "password": password,
        },
        follow_redirects=False,
    )


class TestAPageAsksForThePasswordAgain:
    def test_the_form_shows_the_statement_and_asks_for_the_password(
        self, client, session, done_action
    ) -> None:
        sign_in(client, web_user(session, Role.quality_lead, "lead-page"))
        page = client.get(f"/actions/{done_action.id}").text
        assert (
            f"I verify that {done_action.number} was effective: [the evidence written above]"
            in page
        )
        assert f"I verify that {done_action.number} was not effective:" in page
        assert 'name="password" type="password"' in page
        assert 'autocomplete="current-password"' in page

    def test_a_wrong_password_signs_nothing_and_counts_as_a_failed_sign_in(
        self, client, session, done_action
    ) -> None:
        sign_in(client, web_user(session, Role.quality_lead, "lead-page"))
        before = _events(session)
        r = _sign_on_page(client, done_action, "not my password at all")
        assert r.status_code == 422
        assert error_beside(r.text, "verified_effective-password") == (
            "The password is not right: nothing was signed."
        )
        assert _signatures(session, "action", done_action.id) == []
        assert session.get(CorrectiveAction, done_action.id).status.value == "done"
        failure = session.scalars(
            select(AuthFailure).where(AuthFailure.via == "web", AuthFailure.in_a_row > 0)
        ).one()
        assert failure.in_a_row == 1
        assert _events(session) > before  # the failure's summary in the trail, not a signature

    def test_guessing_the_password_is_slowed_like_signing_in(
        self, client, session, done_action
    ) -> None:
        sign_in(client, web_user(session, Role.quality_lead, "lead-page"))
        for _ in range(web_accounts.FREE_FAILURES):
            assert _sign_on_page(client, done_action, "guess").status_code == 422
        # The right password now waits too: the client that kept guessing is slowed.
        r = _sign_on_page(client, done_action, PASSWORD)
        assert r.status_code == 422
        assert "Too many wrong passwords" in error_beside(r.text, "verified_effective-password")
        assert _signatures(session, "action", done_action.id) == []

    def test_the_right_password_signs_the_statement_with_the_evidence(
        self, client, session, done_action
    ) -> None:
        user = web_user(session, Role.quality_lead, "lead-page")
        sign_in(client, user)
        r = _sign_on_page(client, done_action, PASSWORD)
        assert r.status_code == 303, r.text
        (signature,) = _signatures(session, "action", done_action.id)
        assert signature.statement == (
            f"I verify that {done_action.number} was effective: {VERIFY['evidence']}"
        )
        assert signature.signer == "lead-page"
        page = client.get(f"/actions/{done_action.id}").text
        assert signature.statement in page

    def test_someone_without_a_password_is_told_they_cannot_sign_on_a_page(self, session) -> None:
        user = make_user(session, Role.quality_lead, "lead-token-only")
        from qms.permissions import Actor

        actor = Actor(user_id=user.id, name=user.name, role=user.role)
        assert not web_accounts.has_password(session, actor)
        refused = web_accounts.check_signer(session, actor=actor, password="anything")
        assert refused is not None
        assert "You have no password, so you cannot sign on a page" in refused


class TestDocumentsPrintTheManifestation:
    def test_the_deviation_report_prints_name_time_meaning_and_statement(
        self, client, session, lead
    ) -> None:
        deviation = _investigated(session)
        path = f"/api/v1/deviations/{deviation.id}"
        etag = client.get(path, headers=lead).headers["etag"]
        closed = client.post(
            f"{path}/transitions",
            headers={**lead, "If-Match": etag},
            json={
                "to": "closed",
                "closure_summary": "Meetings back on schedule.",
                "no_action_reason": "A one-off: the mentor was ill.",
                "signature": signed("closed"),
            },
        )
        assert closed.status_code == 200, closed.text
        r = client.get(f"/api/v1/documents/deviation-report/{deviation.id}", headers=lead)
        assert r.status_code == 200, r.text
        doc = Document(io.BytesIO(r.content))
        rows = [[c.text for c in row.cells] for table in doc.tables for row in table.rows]
        header = next(row for row in rows if "Statement signed" in row)
        signed_row = next(
            row for row in rows if row[0] == deviation.number and len(row) == len(header)
        )
        shown = dict(zip(header, signed_row, strict=True))
        assert shown["Signer"] == "lead-signe"
        assert shown["Meaning"].startswith("closed")
        assert shown["Statement signed"] == (
            f"I close {deviation.number} as investigated and resolved: Meetings back on schedule."
        )
        assert shown["Signed"]
