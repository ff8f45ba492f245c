"""Comments on deviations, actions, internal audits and management reviews: who, when, text;
kept as written (the database refuses a change or a removal), in the audit trail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from qms import replay
from qms.audit.models import AuditEvent
from qms.comments.models import Comment
from qms.db import utcnow
from qms.permissions import Role
from tests.factories import (
    auth,
    make_action,
    make_deviation,
    make_programme,
    make_token,
    make_user,
)
from tests.reading import docx_text
from tests.web import csrf_of, error_beside, sign_in, web_user

TODAY = utcnow().date()


def _audit(client: Any, session: Session, headers: dict[str, str]) -> dict[str, Any]:
    make_user(session, Role.quality_lead, name="auditor-comments")
    make_user(session, Role.coordinator, name="auditee-comments")
    reply = client.post(
        "/api/v1/audits",
        headers=headers,
        json={
            "title": "Matching",
            "scope": "Cohort 2026: matching.",
            "criteria": ["MENTOR:matching"],
            "auditors": ["auditor-comments"],
            "auditees": ["auditee-comments"],
            "start_on": TODAY.isoformat(),
            "end_on": (TODAY + timedelta(days=1)).isoformat(),
            "checklist": [
                {
                    "question": "Is each match's rationale recorded?",
                    "requirement": "MENTOR:matching",
                }
            ],
        },
    )
    assert reply.status_code == 201, reply.text
    result: dict[str, Any] = reply.json()
    return result


def _review(client: Any, headers: dict[str, str]) -> dict[str, Any]:
    reply = client.post(
        "/api/v1/reviews",
        headers=headers,
        json={
            "title": "Spring review",
            "period_start": (TODAY - timedelta(days=180)).isoformat(),
            "period_end": TODAY.isoformat(),
            "planned_on": TODAY.isoformat(),
        },
    )
    assert reply.status_code == 201, reply.text
    result: dict[str, Any] = reply.json()
    return result


@pytest.fixture
def lead(session: Session) -> dict[str, str]:
    return auth(make_token(session, Role.quality_lead, name="lead-comments"))


class TestOnEachRecord:
    def test_a_comment_on_each_kind_of_record_is_listed_oldest_first(
        self, client, session, lead
    ) -> None:
        deviation = make_deviation(session)
        owner = make_user(session, Role.coordinator)
        action = make_action(session, [deviation], owner)
        audit = _audit(client, session, lead)
        review = _review(client, lead)
        for path in (
            f"/api/v1/deviations/{deviation.id}",
            f"/api/v1/actions/{action.id}",
            f"/api/v1/audits/{audit['id']}",
            f"/api/v1/reviews/{review['id']}",
        ):
            first = client.post(f"{path}/comments", headers=lead, json={"text": "Asked Kari."})
            assert first.status_code == 201, first.text
            second = client.post(
                f"{path}/comments", headers=lead, json={"text": "  Correction: asked Ola.  "}
            )
            assert second.status_code == 201, second.text
            listed = client.get(f"{path}/comments", headers=lead)
            assert listed.status_code == 200, listed.text
            items = listed.json()["items"]
            assert [c["text"] for c in items] == ["Asked Kari.", "Correction: asked Ola."]
            assert {c["author"] for c in items} == {"lead-comments"}
            assert items[0]["created_at"] <= items[1]["created_at"]

    def test_the_list_is_paginated(self, client, session, lead) -> None:
        deviation = make_deviation(session)
        path = f"/api/v1/deviations/{deviation.id}/comments"
        for n in range(3):
            assert client.post(path, headers=lead, json={"text": f"note {n}"}).status_code == 201
        page = client.get(path, headers=lead, params={"limit": 2}).json()
        assert [c["text"] for c in page["items"]] == ["note 0", "note 1"]
        rest = client.get(path, headers=lead, params={"limit": 2, "cursor": page["next_cursor"]})
        assert [c["text"] for c in rest.json()["items"]] == ["note 2"]
        assert rest.json()["next_cursor"] is None

    def test_each_comment_is_in_the_audit_trail(self, client, session, lead) -> None:
        deviation = make_deviation(session)
        reply = client.post(
            f"/api/v1/deviations/{deviation.id}/comments",
            headers=lead,
            json={"text": "Mentor called back."},
        )
        comment_id = reply.json()["id"]
        event = session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity == "comment", AuditEvent.entity_id == str(comment_id)
            )
        ).one()
        assert event.action == "comment.added"
        assert event.actor == "lead-comments"
        assert event.changes["text"] == {"old": None, "new": "Mentor called back."}
        assert event.changes["number"] == {"old": None, "new": deviation.number}
        # The trail describes the comment as stored.
        result = replay.check(session)
        assert result.ok, [f.message("en") for f in result.first_findings]


class TestRefused:
    def test_an_auditor_reads_comments_but_cannot_post(self, client, session, lead) -> None:
        deviation = make_deviation(session)
        path = f"/api/v1/deviations/{deviation.id}/comments"
        client.post(path, headers=lead, json={"text": "Seen by the lead."})
        auditor = auth(make_token(session, Role.auditor))
        assert [c["text"] for c in client.get(path, headers=auditor).json()["items"]] == [
            "Seen by the lead."
        ]
        refused = client.post(path, headers=auditor, json={"text": "An auditor's remark"})
        assert refused.status_code == 403
        assert session.scalar(select(Comment).where(Comment.text == "An auditor's remark")) is None

    def test_a_scoped_token_sees_only_its_programmes_comments(self, client, session, lead) -> None:
        mine = make_programme(session)
        other = make_programme(session)
        theirs = make_deviation(session, programme_id=other.id)
        ours = make_deviation(session, programme_id=mine.id)
        for d in (theirs, ours):
            client.post(f"/api/v1/deviations/{d.id}/comments", headers=lead, json={"text": "noted"})
        scoped = auth(make_token(session, Role.auditor, programme_code=mine.code))
        assert (
            client.get(f"/api/v1/deviations/{ours.id}/comments", headers=scoped).status_code == 200
        )
        hidden = client.get(f"/api/v1/deviations/{theirs.id}/comments", headers=scoped)
        assert hidden.status_code == 404

    @pytest.mark.parametrize(
        "body", [{"text": ""}, {"text": "   "}, {}, {"text": "ok", "author": "someone"}]
    )
    def test_an_empty_or_unknown_body_is_refused(self, client, session, lead, body) -> None:
        deviation = make_deviation(session)
        reply = client.post(f"/api/v1/deviations/{deviation.id}/comments", headers=lead, json=body)
        assert reply.status_code == 422, reply.text
        assert reply.headers["content-type"].startswith("application/problem+json")

    def test_a_comment_on_a_record_that_does_not_exist_is_404(self, client, lead) -> None:
        for path in ("deviations", "actions", "audits", "reviews"):
            reply = client.post(f"/api/v1/{path}/999999/comments", headers=lead, json={"text": "x"})
            assert reply.status_code == 404, (path, reply.text)
            assert client.get(f"/api/v1/{path}/999999/comments", headers=lead).status_code == 404

    def test_without_a_token_it_is_refused(self, client) -> None:
        assert client.get("/api/v1/deviations/1/comments").status_code == 401


class TestKeptAsWritten:
    @pytest.mark.parametrize(
        "sql", ["UPDATE comment SET text = 'rewritten'", "DELETE FROM comment"]
    )
    def test_the_database_refuses_to_change_or_remove_a_comment(
        self, client, session, lead, sql
    ) -> None:
        deviation = make_deviation(session)
        client.post(
            f"/api/v1/deviations/{deviation.id}/comments", headers=lead, json={"text": "first"}
        )
        with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
            session.execute(text(sql))
        assert session.scalars(select(Comment.text)).all() == ["first"]

    def test_a_comment_has_no_route_to_change_or_remove_it(self, client, session, lead) -> None:
        deviation = make_deviation(session)
        path = f"/api/v1/deviations/{deviation.id}/comments"
        comment_id = client.post(path, headers=lead, json={"text": "first"}).json()["id"]
        assert client.patch(
            f"{path}/{comment_id}", headers=lead, json={"text": "x"}
        ).status_code in (
            404,
            405,
        )
        assert client.delete(path, headers=lead).status_code == 405
        assert session.scalars(select(Comment.text)).all() == ["first"]


class TestPages:
    def test_a_deviations_page_shows_its_comments_and_adds_one(self, client, session) -> None:
        name = web_user(session, Role.coordinator)
        deviation = make_deviation(session)
        assert sign_in(client, name).status_code == 303
        page = client.get(f"/deviations/{deviation.id}")
        assert "No comments yet." in page.text
        posted = client.post(
            f"/deviations/{deviation.id}/comments",
            data={"csrf_token": csrf_of(page.text), "text": "Called the mentor <b>today</b>."},
            follow_redirects=False,
        )
        assert posted.status_code == 303, posted.text
        shown = client.get(f"/deviations/{deviation.id}").text
        assert "Called the mentor &lt;b&gt;today&lt;/b&gt;." in shown
        assert name in shown

    def test_an_empty_comment_is_refused_beside_its_field(self, client, session) -> None:
        name = web_user(session, Role.quality_lead)
        deviation = make_deviation(session)
        sign_in(client, name)
        page = client.get(f"/deviations/{deviation.id}")
        refused = client.post(
            f"/deviations/{deviation.id}/comments",
            data={"csrf_token": csrf_of(page.text), "text": "   "},
        )
        assert refused.status_code == 422
        assert error_beside(refused.text, "comment-text")
        assert session.scalars(select(Comment)).all() == []

    def test_a_comment_without_the_forms_token_is_refused(self, client, session) -> None:
        name = web_user(session, Role.quality_lead)
        deviation = make_deviation(session)
        sign_in(client, name)
        refused = client.post(f"/deviations/{deviation.id}/comments", data={"text": "x"})
        assert refused.status_code == 403
        assert session.scalars(select(Comment)).all() == []

    def test_an_auditor_reads_comments_on_the_page_without_a_form(
        self, client, session, lead
    ) -> None:
        deviation = make_deviation(session)
        client.post(
            f"/api/v1/deviations/{deviation.id}/comments", headers=lead, json={"text": "Noted."}
        )
        name = web_user(session, Role.auditor)
        sign_in(client, name)
        page = client.get(f"/deviations/{deviation.id}").text
        assert "Noted." in page
        assert f'action="/deviations/{deviation.id}/comments"' not in page

    def test_actions_audits_and_reviews_pages_take_comments(self, client, session, lead) -> None:
        deviation = make_deviation(session)
        action = make_action(session, [deviation], make_user(session, Role.coordinator))
        audit = _audit(client, session, lead)
        review = _review(client, lead)
        name = web_user(session, Role.quality_lead)
        sign_in(client, name)
        for path in (f"/actions/{action.id}", f"/audits/{audit['id']}", f"/reviews/{review['id']}"):
            page = client.get(path)
            assert page.status_code == 200, page.text
            posted = client.post(
                f"{path}/comments",
                data={"csrf_token": csrf_of(page.text), "text": f"On {path}"},
                follow_redirects=False,
            )
            assert posted.status_code == 303, (path, posted.text[:500])
            assert f"On {path}" in client.get(path).text


class TestDocuments:
    def test_the_deviation_report_lists_the_comments_of_it_and_its_actions(
        self, client, session, lead
    ) -> None:
        deviation = make_deviation(session)
        action = make_action(session, [deviation], make_user(session, Role.coordinator))
        client.post(
            f"/api/v1/deviations/{deviation.id}/comments",
            headers=lead,
            json={"text": "The mentor was ill in March."},
        )
        client.post(
            f"/api/v1/actions/{action.id}/comments",
            headers=lead,
            json={"text": "Extra meeting booked for April."},
        )
        report = client.get(f"/api/v1/documents/deviation-report/{deviation.id}", headers=lead)
        assert report.status_code == 200, report.text
        text = docx_text(report.content)
        assert "Comments" in text
        assert "The mentor was ill in March." in text
        assert "Extra meeting booked for April." in text
        assert text.index("The mentor was ill in March.") < text.index(
            "Extra meeting booked for April."
        )

    def test_the_audit_and_review_documents_list_their_comments(
        self, client, session, lead
    ) -> None:
        audit = _audit(client, session, lead)
        review = _review(client, lead)
        client.post(
            f"/api/v1/audits/{audit['id']}/comments", headers=lead, json={"text": "Audit note."}
        )
        client.post(
            f"/api/v1/reviews/{review['id']}/comments", headers=lead, json={"text": "Review note."}
        )
        audit_doc = client.get(f"/api/v1/documents/audit-report/{audit['id']}", headers=lead)
        assert audit_doc.status_code == 200, audit_doc.text
        assert "Audit note." in docx_text(audit_doc.content)
        review_doc = client.get(f"/api/v1/documents/management-review/{review['id']}", headers=lead)
        assert review_doc.status_code == 200, review_doc.text
        assert "Review note." in docx_text(review_doc.content)
