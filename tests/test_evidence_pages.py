"""Evidence files on the pages of an internal audit's checklist lines, a follow-up, a management
review and a procedure: attached through the record's page by those who may change it, listed with
their SHA-256, downloaded byte for byte, removed while the record is open; no form for a reader;
a file not allowed named beside the file field; nothing added or removed once the record is closed
(the audit closed, the review closed, the procedure withdrawn from use)."""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from qms.audits import reviews
from qms.audits import service as audits
from qms.audits.schemas import AuditCreate, ChecklistLineCreate, ReviewCreate
from qms.evidence.models import EvidenceFile
from qms.followups import service as followups
from qms.permissions import Role
from qms.procedures import service as procedures
from qms.procedures.schemas import ProcedureCreate
from tests.factories import (
    ADMIN,
    make_cohort,
    make_pair,
    make_participant,
    make_programme,
    make_user,
)
from tests.test_evidence import CSV, docx_bytes, pdf_bytes, png_bytes
from tests.web import PASSWORD, csrf_of, error_beside, read_page, sign_in, web_user

TODAY = date.today()
# A Windows program's first bytes, whatever its name says.
PROGRAM = b"MZ\x90\x00" + b"\x00" * 200


@dataclass
class Record:
    """One record whose page takes evidence files: where its page is, where its form posts,
    the anchor a change returns to, and the id of its file field."""

    kind: str
    page: str
    post: str
    anchor: str
    field: str
    record_id: int


def _audit(session: Session) -> tuple[int, list[int]]:
    """A planned internal audit with two checklist lines."""
    auditor = make_user(session, Role.quality_lead).name
    auditee = make_user(session, Role.coordinator).name
    audit = audits.create(
        session,
        actor=ADMIN,
        data=AuditCreate(
            title="Matching and follow-up",
            scope="How pairs are matched and followed up.",
            criteria=["MENTOR:monitoring"],
            auditors=[auditor],
            auditees=[auditee],
            start_on=TODAY,
            end_on=TODAY + timedelta(days=1),
        ),
    )
    lines = [
        audits.add_line(
            session,
            actor=ADMIN,
            audit_id=audit.id,
            data=ChecklistLineCreate(question=question),
        ).id
        for question in (
            "Are the matches' reasons written down?",
            "Is each pair followed up at mid-programme?",
        )
    ]
    return audit.id, lines


def _review(session: Session) -> int:
    """A management review of the half-year just ended, planned for today."""
    return reviews.create(
        session,
        actor=ADMIN,
        data=ReviewCreate(
            title="Review of the half-year",
            period_start=TODAY - timedelta(days=182),
            period_end=TODAY - timedelta(days=1),
            planned_on=TODAY,
        ),
    ).id


def _procedure(session: Session) -> int:
    """A procedure whose first version is a draft (written by someone else than the lead)."""
    return procedures.create(
        session,
        actor=ADMIN,
        data=ProcedureCreate(
            code="PR-61",
            title="Matching mentors and mentees",
            owner_role=Role.quality_lead,
            review_months=12,
            content="Pairs are matched on their goals.",
            change_summary="First issue",
        ),
    ).id


def _follow_up(session: Session) -> int:
    """A follow-up scheduled for a live pair at its cohort's midpoint."""
    programme = make_programme(session)
    cohort = make_cohort(
        session,
        programme,
        start_on=TODAY - timedelta(days=90),
        midpoint_on=TODAY - timedelta(days=5),
        end_on=TODAY + timedelta(days=120),
    )
    make_pair(
        session,
        make_participant(session, cohort, "mentor"),
        make_participant(session, cohort),
        started_on=TODAY - timedelta(days=80),
    )
    [scheduled] = followups.schedule_cohort(session, actor=ADMIN, cohort_id=cohort.id, on=None)
    return scheduled.id


def _record(session: Session, kind: str) -> Record:
    if kind == "checklist_line":
        audit_id, (line_id, _) = _audit(session)
        return Record(
            kind,
            f"/audits/{audit_id}",
            f"/audits/{audit_id}/lines/{line_id}/evidence",
            f"#l-{line_id}",
            f"evidence-{line_id}-file",
            line_id,
        )
    if kind == "follow_up":
        found = _follow_up(session)
        page = f"/follow-ups/{found}"
    elif kind == "management_review":
        found = _review(session)
        page = f"/reviews/{found}"
    else:
        found = _procedure(session)
        page = f"/procedures/{found}"
    session.flush()
    return Record(kind, page, f"{page}/evidence", "#h-evidence", "evidence-file", found)


KINDS = ("checklist_line", "follow_up", "management_review", "procedure")
FILES = {
    "checklist_line": ("pair-records.csv", CSV),
    "follow_up": ("follow-up minutes.pdf", pdf_bytes("Follow-up of the pair, signed")),
    "management_review": ("review-slides.docx", docx_bytes()),
    "procedure": ("matching-form.png", png_bytes()),
}


def _attach(client: Any, record: Record, token: str, name: str, content: bytes) -> Any:
    return client.post(
        record.post,
        data={"csrf_token": token},
        files={"file": (name, content, "application/octet-stream")},
        follow_redirects=False,
    )


def _forms_to(text: str, page: str, action: str) -> list[Any]:
    return [f for f in read_page(page, text)[1] if f.action == action]


def _refusal(text: str) -> str:
    """The refusal shown at the top of the page, as a person reads it."""
    found = re.search(r'<div class="alert" role="alert"[^>]*>(.*?)</div>', text, re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))) if found else ""


def _kept(session: Session, record: Record) -> list[EvidenceFile]:
    session.expire_all()
    return list(
        session.scalars(
            select(EvidenceFile).where(
                EvidenceFile.record == record.kind, EvidenceFile.record_id == record.record_id
            )
        )
    )


@pytest.mark.parametrize("kind", KINDS)
def test_a_file_attached_on_the_page_is_listed_downloaded_and_removed(
    client, session, kind: str
) -> None:
    record = _record(session, kind)
    sign_in(client, web_user(session, Role.quality_lead, "ingrid-lead"))
    page = client.get(record.page)
    assert page.status_code == 200, page.text
    [form] = _forms_to(page.text, record.page, record.post)
    assert form.multipart
    assert "file" in form.fields
    name, content = FILES[kind]

    posted = _attach(client, record, csrf_of(page.text), name, content)
    assert posted.status_code == 303, posted.text
    assert posted.headers["location"] == record.page + record.anchor

    shown = client.get(record.page).text
    sha256 = hashlib.sha256(content).hexdigest()
    assert name in shown
    assert sha256 in shown
    [kept] = _kept(session, record)
    links, forms = read_page(record.page, shown)
    assert f"/evidence/{kept.id}" in links
    got = client.get(f"/evidence/{kept.id}")
    assert got.status_code == 200
    assert got.content == content
    assert got.headers["x-content-sha256"] == sha256
    assert name in got.headers["content-disposition"].replace("%20", " ")

    # While the record is open the file can be taken off again, back on the record's page.
    [remove] = [f for f in forms if f.action == f"/evidence/{kept.id}/remove"]
    removed = client.post(
        remove.action, data={"csrf_token": csrf_of(shown)}, follow_redirects=False
    )
    assert removed.status_code == 303
    assert removed.headers["location"] == record.page + record.anchor
    assert _kept(session, record) == []
    assert sha256 not in client.get(record.page).text


@pytest.mark.parametrize("kind", KINDS)
def test_an_auditor_sees_the_files_but_no_form_and_is_refused(client, session, kind) -> None:
    record = _record(session, kind)
    name, content = FILES[kind]
    sign_in(client, web_user(session, Role.quality_lead, "ingrid-lead"))
    lead_page = client.get(record.page).text
    assert _attach(client, record, csrf_of(lead_page), name, content).status_code == 303
    [kept] = _kept(session, record)
    client.post("/sign-out", data={"csrf_token": csrf_of(lead_page)})

    sign_in(client, web_user(session, Role.auditor, "per-auditor"))
    page = client.get(record.page)
    assert page.status_code == 200
    assert hashlib.sha256(content).hexdigest() in page.text
    assert _forms_to(page.text, record.page, record.post) == []
    assert _forms_to(page.text, record.page, f"/evidence/{kept.id}/remove") == []
    assert client.get(f"/evidence/{kept.id}").content == content

    token = csrf_of(page.text)
    refused = _attach(client, record, token, "other.csv", CSV)
    assert refused.status_code == 403
    assert client.post(f"/evidence/{kept.id}/remove", data={"csrf_token": token}).status_code == 403
    assert [f.id for f in _kept(session, record)] == [kept.id]


@pytest.mark.parametrize("kind", KINDS)
def test_a_file_not_allowed_is_refused_beside_the_file_field(client, session, kind) -> None:
    record = _record(session, kind)
    sign_in(client, web_user(session, Role.quality_lead, "ingrid-lead"))
    token = csrf_of(client.get(record.page).text)

    refused = _attach(client, record, token, "minutes.pdf", PROGRAM)
    assert refused.status_code == 422
    beside = error_beside(refused.text, record.field)
    assert beside.startswith("Its content is not a PDF")
    # The refused form is the one open again, with its field marked.
    assert f'id="f-{record.field}"' in refused.text
    assert 'aria-invalid="true"' in refused.text

    nothing = client.post(record.post, data={"csrf_token": token}, files={}, follow_redirects=False)
    assert nothing.status_code == 422
    assert error_beside(nothing.text, record.field) == "Choose a file to attach."
    assert _kept(session, record) == []


def test_a_line_of_another_audit_is_not_found(client, session) -> None:
    audit_id, (line_id, _) = _audit(session)
    other_id, _ = _audit(session)
    session.flush()
    sign_in(client, web_user(session, Role.quality_lead, "ingrid-lead"))
    token = csrf_of(client.get(f"/audits/{audit_id}").text)
    wrong = client.post(
        f"/audits/{other_id}/lines/{line_id}/evidence",
        data={"csrf_token": token},
        files={"file": ("notes.csv", CSV, "text/csv")},
    )
    assert wrong.status_code == 404
    assert session.scalars(select(EvidenceFile)).all() == []


def test_each_line_shows_its_own_files(client, session) -> None:
    audit_id, (first, second) = _audit(session)
    session.flush()
    sign_in(client, web_user(session, Role.quality_lead, "ingrid-lead"))
    page = f"/audits/{audit_id}"
    token = csrf_of(client.get(page).text)
    for line, name in ((first, "first-line.csv"), (second, "second-line.csv")):
        posted = client.post(
            f"{page}/lines/{line}/evidence",
            data={"csrf_token": token},
            files={"file": (name, CSV + name.encode(), "text/csv")},
            follow_redirects=False,
        )
        assert posted.headers["location"] == f"{page}#l-{line}"
    shown = client.get(page).text
    first_item = shown[shown.index(f'id="l-{first}"') : shown.index(f'id="l-{second}"')]
    assert "first-line.csv" in first_item
    assert "second-line.csv" not in first_item
    assert "second-line.csv" in shown[shown.index(f'id="l-{second}"') :]


class _Signed:
    """Moves of a record through its page, signed with the password when they sign."""

    def __init__(self, client: Any, session: Session, path: str, model: Any) -> None:
        self.client, self.session, self.path, self.model = client, session, path, model

    def __call__(self, to: str, **fields: str) -> Any:
        self.session.refresh(self.model)
        token = csrf_of(self.client.get(self.path).text)
        answer = self.client.post(
            f"{self.path}/move",
            data={"csrf_token": token, "to": to, "version": str(self.model.version), **fields},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        return answer


def _closed_audit(client: Any, session: Session, record: Record) -> None:
    """Hold the audit, answer its lines, report it and close it (signed), on its page."""
    audit = audits.get(session, actor=ADMIN, audit_id=int(record.page.rsplit("/", 1)[1]))
    move = _Signed(client, session, record.page, audit)
    move("in_progress")
    for line in audit.lines:
        session.refresh(line)
        token = csrf_of(client.get(record.page).text)
        answered = client.post(
            f"{record.page}/lines/{line.id}",
            data={
                "csrf_token": token,
                "version": str(line.version),
                "conforms": "yes",
                "evidence": "Seen in the pair records",
            },
            follow_redirects=False,
        )
        assert answered.status_code == 303, answered.text
    session.refresh(audit)
    findings = client.post(
        f"{record.page}/findings",
        data={
            "csrf_token": csrf_of(client.get(record.page).text),
            "version": str(audit.version),
            "conclusion": "Matching and follow-up work as written.",
        },
        follow_redirects=False,
    )
    assert findings.status_code == 303, findings.text
    move("reported")
    move("closed", password=PASSWORD)


def _closed_review(client: Any, session: Session, record: Record) -> None:
    """Hold the review (participants named), conclude it and close it (signed), on its page."""
    review = reviews.get(session, actor=ADMIN, review_id=record.record_id)
    saved = client.post(
        f"{record.page}/record",
        data={
            "csrf_token": csrf_of(client.get(record.page).text),
            "version": str(review.version),
            "participants": "ingrid-lead, the programme manager",
            "conclusion": "The system works; follow-up is the weak point.",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    move = _Signed(client, session, record.page, review)
    move("held", held_on=TODAY.isoformat())
    move("closed", password=PASSWORD)


def _withdrawn_procedure(client: Any, session: Session, record: Record) -> None:
    """Send the draft to review, approve it (signed) and withdraw it from use, on its page."""
    version = procedures.get(session, actor=ADMIN, procedure_id=record.record_id).versions[0]
    token = csrf_of(client.get(record.page).text)
    for to, fields in (
        ("in_review", {}),
        ("approved", {"password": PASSWORD}),
        ("obsolete", {"reason": "Replaced by the national matching guideline."}),
    ):
        session.refresh(version)
        moved = client.post(
            f"{record.page}/versions/1/move",
            data={"csrf_token": token, "to": to, "version": str(version.version), **fields},
            follow_redirects=False,
        )
        assert moved.status_code == 303, moved.text


CLOSING = {
    "checklist_line": (_closed_audit, "is closed: the evidence files of its checklist are kept"),
    "management_review": (_closed_review, "is closed: its evidence files are kept"),
    "procedure": (_withdrawn_procedure, "is withdrawn from use: its evidence files are kept"),
}


@pytest.mark.parametrize("kind", sorted(CLOSING))
def test_once_closed_the_files_stay_as_they_were(client, session, kind) -> None:
    record = _record(session, kind)
    close, said = CLOSING[kind]
    sign_in(client, web_user(session, Role.quality_lead, "ingrid-lead"))
    name, content = FILES[kind]
    page = client.get(record.page).text
    assert _attach(client, record, csrf_of(page), name, content).status_code == 303
    [kept] = _kept(session, record)

    close(client, session, record)

    shown = client.get(record.page).text
    # Still listed with its hash, to download; no form to attach one and no remove button.
    assert hashlib.sha256(content).hexdigest() in shown
    assert client.get(f"/evidence/{kept.id}").content == content
    assert _forms_to(shown, record.page, record.post) == []
    assert _forms_to(shown, record.page, f"/evidence/{kept.id}/remove") == []

    token = csrf_of(shown)
    refused = _attach(client, record, token, "late.csv", CSV)
    assert refused.status_code == 409
    assert said in _refusal(refused.text)
    not_removed = client.post(f"/evidence/{kept.id}/remove", data={"csrf_token": token})
    assert not_removed.status_code == 409
    assert said in _refusal(not_removed.text)
    assert [f.id for f in _kept(session, record)] == [kept.id]


def test_a_held_follow_up_still_takes_its_files(client, session) -> None:
    record = _record(session, "follow_up")
    follow_up = followups.get(session, actor=ADMIN, follow_up_id=record.record_id)
    sign_in(client, web_user(session, Role.coordinator, "ola-coordinator"))
    token = csrf_of(client.get(record.page).text)
    held = client.post(
        record.page,
        data={
            "csrf_token": token,
            "version": str(follow_up.version),
            "held_on": TODAY.isoformat(),
            "expectations_clarified": "yes",
            "goal_progress": "4",
            "meeting_frequency_kept": "yes",
            "relationship": "5",
            "extra_support_needed": "no",
            "outcome": "on_track",
        },
        follow_redirects=False,
    )
    assert held.status_code == 303, held.text
    name, content = FILES["follow_up"]
    assert _attach(client, record, token, name, content).status_code == 303
    shown = client.get(record.page).text
    assert hashlib.sha256(content).hexdigest() in shown
