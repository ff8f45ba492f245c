"""Programme scope on every read: a reader limited to one programme sees nothing of another.

One table names every GET route of the REST API and of the web front that takes a record's id or
lists records, with what a reader scoped to programme A must get: A's record (200) and, for B's,
404 without a word of it; A's records in a list and none of B's; or a refusal (403) for what a
scoped token may not read at all. `TestTableIsComplete` fails when a route is added without a
line here (or in the short, reasoned exemption list), so a new endpoint cannot skip its scope test.

The two programmes are the demo's (VIA-JOB and CAREER-18), built once for the module, with the few
records the demo has in one programme only added to the other.
"""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import docx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.app import create_app
from api.routing import api_routes, page_routes
from qms.accounts import web as web_accounts
from qms.actions.models import CorrectiveAction
from qms.audits import reviews
from qms.audits import service as audits
from qms.audits.models import InternalAudit, ManagementReview
from qms.audits.schemas import AuditCreate, ChecklistLineCreate, ReviewCreate
from qms.competence.models import TrainingRecord
from qms.complaints.models import Complaint
from qms.context.models import ContextIssue, InterestedParty
from qms.db import Database
from qms.demo import load
from qms.deviations.models import Deviation
from qms.documents import service as documents
from qms.documents.models import IssuedDocument
from qms.evaluations import service as evaluations
from qms.evaluations.models import BatchKind, EvaluationBatch
from qms.evaluations.readers import ImportFile
from qms.evidence import service as evidence
from qms.followups.models import FollowUp
from qms.objectives import service as objectives
from qms.objectives.schemas import ObjectiveCreate
from qms.pairs.models import Pair
from qms.participants.models import Participant
from qms.permissions import Role
from qms.procedures.models import ProcedureVersion
from qms.programmes import repository as programmes_repo
from qms.programmes.models import Cohort, Programme
from qms.providers import service as providers
from qms.providers.schemas import ProviderCreate
from qms.risks.models import Risk
from tests.factories import ADMIN, auth, make_deviation, make_token
from tests.web import sign_in, web_user

A_CODE = "CAREER-18"  # the programme the readers are limited to
B_CODE = "VIA-JOB"  # the one they must not see
READERS = (Role.auditor, Role.coordinator, Role.quality_lead)


@dataclass
class Side:
    """One programme's records: the id of one of each kind, and every code that names them."""

    ids: dict[str, int] = field(default_factory=dict)
    markers: dict[str, str] = field(default_factory=dict)
    all_markers: set[str] = field(default_factory=set)


@dataclass
class World:
    """The module's database seen by readers scoped to A: REST tokens and signed-in browsers."""

    a: Side
    b: Side
    rest: dict[Role, TestClient]
    web: dict[Role, TestClient]
    # The same roles unscoped: what a list would show if the scope were not applied.
    open_rest: dict[Role, TestClient]
    open_web: dict[Role, TestClient]


def _programme_of(record: Any) -> int | None:
    """Return the programme a demo record belongs to (None when it spans programmes)."""
    if isinstance(record, Participant):
        return record.cohort.programme_id
    if isinstance(record, Pair):
        return record.mentee.cohort.programme_id
    if isinstance(record, FollowUp):
        return record.pair.mentee.cohort.programme_id
    if isinstance(record, CorrectiveAction):
        owners = {d.programme_id for d in record.deviations}
        return owners.pop() if len(owners) == 1 else None
    if isinstance(record, Complaint | ContextIssue | InterestedParty):
        return record.programme_id
    if isinstance(record, TrainingRecord):
        return record.participant.cohort.programme_id if record.participant else None
    if isinstance(record, Deviation | InternalAudit | ManagementReview | IssuedDocument):
        return record.programme_id
    raise TypeError(record)


def _side(session: Session, programme: Programme) -> Side:
    """Collect the programme's records: the first of each kind, and the codes of them all."""
    side = Side()
    side.ids["programme"] = programme.id
    side.markers["programme"] = programme.code
    side.all_markers.add(programme.code)
    cohort = session.scalars(
        select(Cohort).where(Cohort.programme_id == programme.id).order_by(Cohort.id)
    ).first()
    assert cohort is not None
    side.ids["cohort"] = cohort.id
    kinds: list[tuple[str, type[Any], Callable[[Any], str]]] = [
        ("participant", Participant, lambda r: r.code),
        ("pair", Pair, lambda r: r.code),
        ("follow_up", FollowUp, lambda r: r.pair.code),
        ("deviation", Deviation, lambda r: r.number),
        ("action", CorrectiveAction, lambda r: r.number),
        ("audit", InternalAudit, lambda r: r.number),
        ("review", ManagementReview, lambda r: r.number),
        ("document", IssuedDocument, lambda r: r.title),
        ("complaint", Complaint, lambda r: r.number),
        ("record", TrainingRecord, lambda r: r.number),
        ("issue", ContextIssue, lambda r: r.number),
        ("party", InterestedParty, lambda r: r.number),
    ]
    for kind, model, marker in kinds:
        mine = [
            r
            for r in session.scalars(select(model).order_by(model.id))
            if _programme_of(r) == programme.id
        ]
        assert mine, f"{programme.code} has no {kind}"
        side.ids[kind] = mine[0].id
        side.markers[kind] = marker(mine[0])
        side.all_markers |= {marker(r) for r in mine}
        if model is IssuedDocument:
            side.all_markers |= {r.file_name for r in mine}
    return side


def _build(session: Session, folder: Path) -> tuple[Side, Side]:
    """Load the demo and give each programme the kinds of record the demo gives only one."""
    load(session, operator=ADMIN)
    a = programmes_repo.get_by_code(session, A_CODE)
    b = programmes_repo.get_by_code(session, B_CODE)
    assert a is not None
    assert b is not None
    # The demo audits and reviews VIA-JOB only; CAREER-18 gets one of each so that its lists
    # have something that must be there.
    audits.create(
        session,
        actor=ADMIN,
        data=AuditCreate(
            title="Matching in the career programme",
            scope="CAREER-18: matching and follow-up.",
            programme_id=a.id,
            criteria=["MENTOR:monitoring"],
            auditors=["demo-internal-auditor"],
            auditees=["demo-coordinator"],
            start_on=date(2026, 6, 1),
            end_on=date(2026, 6, 2),
        ),
    )
    reviews.create(
        session,
        actor=ADMIN,
        data=ReviewCreate(
            title="Management review of CAREER-18",
            programme_id=a.id,
            period_start=date(2026, 1, 1),
            period_end=date(2026, 6, 30),
            planned_on=date(2026, 9, 1),
        ),
    )
    # One procedure with a deviation from each programme, for the procedure's deviation list.
    linked = session.scalars(
        select(Deviation).where(
            Deviation.programme_id == a.id, Deviation.procedure_version_id.is_not(None)
        )
    ).first()
    assert linked is not None
    make_deviation(session, programme_id=b.id, procedure_version_id=linked.procedure_version_id)
    # An issued document of each programme.
    for programme in (a, b):
        first = session.scalars(
            select(Deviation).where(Deviation.programme_id == programme.id).order_by(Deviation.id)
        ).first()
        assert first is not None
        documents.issue(session, actor=ADMIN, kind="deviation-report", deviation_id=first.id)
    # The demo's import batches hold VIA-JOB's answers and outcomes; CAREER-18 gets one of its own.
    mentee = session.scalars(
        select(Participant)
        .join(Cohort)
        .where(Cohort.programme_id == a.id, Participant.role == "mentee")
        .order_by(Participant.id)
    ).first()
    assert mentee is not None
    outcomes = folder / "career-outcomes-2026.csv"
    outcomes.write_text(
        f"participant,outcome,date,note\n{mentee.code},employed_full_time,2026-08-03,\n"
    )
    evaluations.run_import(
        session,
        actor=ADMIN,
        kind=BatchKind.outcomes,
        source=ImportFile(outcomes, outcomes.name, "csv"),
    )
    session.flush()
    sides = _side(session, a), _side(session, b)
    for side, programme in zip(sides, (a, b), strict=True):
        batches = [
            batch
            for batch in session.scalars(select(EvaluationBatch).order_by(EvaluationBatch.id))
            if (batch.file_name.startswith("career")) == (programme is a)
        ]
        side.ids["batch"] = batches[0].id
        side.markers["batch"] = batches[0].file_name
        side.all_markers |= {batch.file_name for batch in batches}
    # The procedure is the organisation's: both sides name the same one.
    version = session.get(ProcedureVersion, linked.procedure_version_id)
    assert version is not None
    procedure_id = version.procedure_id
    sides[0].ids["procedure"] = sides[1].ids["procedure"] = procedure_id
    # An evidence file on an open deviation of each programme, and a checklist line of an audit
    # of each one.
    for side, programme in zip(sides, (a, b), strict=True):
        deviation = make_deviation(session, programme_id=programme.id)
        kept = evidence.attach(
            session,
            actor=ADMIN,
            record="deviation",
            record_id=deviation.id,
            content=f"pair,meetings\n{deviation.number},1\n".encode(),
            file_name=f"evidence-{deviation.number}.csv",
        )
        side.ids["evidence_deviation"] = deviation.id
        side.ids["evidence"] = kept.id
        audit = audits.create(
            session,
            actor=ADMIN,
            data=AuditCreate(
                title=f"Evidence of {programme.code}",
                scope="Meeting logs.",
                programme_id=programme.id,
                criteria=["MENTOR:monitoring"],
                auditors=["demo-internal-auditor"],
                auditees=["demo-coordinator"],
                start_on=date(2026, 6, 1),
                end_on=date(2026, 6, 2),
            ),
        )
        line = audits.add_line(
            session,
            actor=ADMIN,
            audit_id=audit.id,
            data=ChecklistLineCreate(question="Are the pairs' meetings logged each month?"),
        )
        side.ids["line_audit"] = audit.id
        side.ids["line"] = line.id
    # An external provider serving each programme, with a deviation of each programme raised
    # against A's: its list shows A's deviation only.
    for side, programme in zip(sides, (a, b), strict=True):
        provider = providers.create(
            session,
            actor=ADMIN,
            data=ProviderCreate(
                code=f"VENUE-{programme.id}",
                name="Meeting rooms",
                kind="venue",
                provides="Rooms for the group meetings.",
                criteria="Booked as asked; accessible.",
                programme_id=programme.id,
            ),
        )
        side.ids["provider"] = provider.id
        side.markers["provider"] = provider.code
        side.all_markers.add(provider.code)
    for side, programme in zip(sides, (a, b), strict=True):
        raised = make_deviation(
            session, programme_id=programme.id, provider_id=sides[0].ids["provider"]
        )
        side.all_markers.add(raised.number)
    # A quality objective of each programme (the organisation's own are in neither side).
    for side, programme in zip(sides, (a, b), strict=True):
        objective = objectives.create(
            session,
            actor=ADMIN,
            data=ObjectiveCreate(
                title=f"Follow-ups held in {programme.code}",
                programme_id=programme.id,
                target="Every pair has its mid-programme follow-up.",
                owner="demo-quality-lead",
                due_on=date(2026, 12, 31),
                plan="Book the follow-ups at matching.",
            ),
        )
        side.ids["objective"] = objective.id
        side.markers["objective"] = objective.number
        side.all_markers.add(objective.number)
    # The demo's risks of each programme (the organisation's own are in neither side).
    for side, programme in zip(sides, (a, b), strict=True):
        found = session.scalars(
            select(Risk).where(Risk.programme_id == programme.id).order_by(Risk.id)
        ).all()
        assert found, f"{programme.code} has no risk"
        side.ids["risk"] = found[0].id
        side.markers["risk"] = found[0].number
        side.all_markers |= {r.number for r in found}
    session.flush()
    return sides


@pytest.fixture(scope="module")
def world(
    new_database: Callable[[], Database], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """The demo's two programmes, and readers of each role limited to A (REST and web)."""
    database = new_database()
    names: dict[tuple[Role, bool], str] = {}
    tokens: dict[tuple[Role, bool], str] = {}
    with database.unit_of_work() as session:
        a, b = _build(session, tmp_path_factory.mktemp("scope"))
        for role in READERS:
            for scoped in (True, False):
                label = f"{'scoped' if scoped else 'open'}-{role.value}"
                tokens[role, scoped] = make_token(
                    session, role, name=label, programme_code=A_CODE if scoped else None
                )
                names[role, scoped] = web_user(session, role, name=f"{label}-web")
    # A browser session carries no programme of its own (scope is a token's), so the signed-in
    # readers are given A's here: the pages must read through the same scoped services as the API.
    original = web_accounts.session_of
    limited = {names[role, True]: a.ids["programme"] for role in READERS}

    def session_of(session: Session, secret: str, now: Any = None) -> Any:
        signed = original(session, secret, now)
        if signed is not None and signed.actor.name in limited:
            actor = dataclasses.replace(signed.actor, programme_id=limited[signed.actor.name])
            signed = dataclasses.replace(signed, actor=actor)
        return signed

    patch = pytest.MonkeyPatch()
    patch.setattr(web_accounts, "session_of", session_of)
    app = create_app(database)
    rest: dict[tuple[Role, bool], TestClient] = {}
    web: dict[tuple[Role, bool], TestClient] = {}
    for key, token in tokens.items():
        rest[key] = TestClient(app, raise_server_exceptions=False, headers=auth(token))
        web[key] = TestClient(app, raise_server_exceptions=False)
        assert sign_in(web[key], names[key]).status_code == 303
    # An unscoped auditor's read that names B's programme: the access log has B's to hide.
    assert B_CODE in b.all_markers
    assert rest[Role.auditor, False].get(f"/api/v1/deviations?q={B_CODE}").status_code == 200
    yield World(
        a=a,
        b=b,
        rest={role: rest[role, True] for role in READERS},
        web={role: web[role, True] for role in READERS},
        open_rest={role: rest[role, False] for role in READERS},
        open_web={role: web[role, False] for role in READERS},
    )
    patch.undo()


@dataclass(frozen=True)
class Case:
    """What a reader scoped to A gets from one route.

    `url` names records as `{kind}`: an `item` is asked for with A's record (200) and B's (404);
    a `list` must show A's record of the kind `shows` (when A has one there) and none of B's,
    where an unscoped reader of the same role sees B's; `refused` answers 403.
    """

    path: str
    url: str
    expect: str
    shows: str = ""
    role: Role = Role.auditor


def item(path: str, url: str | None = None, role: Role = Role.auditor) -> Case:
    """A route that reads one record (or a programme's) by its id."""
    return Case(path, url or re.sub(r"\{(\w+?)_id(:\w+)?\}", r"{\1}", path), "item", role=role)


def listing(path: str, shows: str, url: str | None = None, role: Role = Role.auditor) -> Case:
    """A route that lists records: A's record of the kind must be in it, B's not."""
    return Case(path, url or path, "list", shows, role)


def refused(path: str) -> Case:
    """A route a scoped token may not read at all."""
    return Case(path, path, "refused")


PERIOD = "period_start=2026-01-01&period_end=2026-06-30"
V1 = "/api/v1"

TABLE: list[Case] = [
    # Programmes and their cohorts.
    listing(f"{V1}/programmes", "programme"),
    item(f"{V1}/programmes/{{programme_id}}"),
    item(f"{V1}/programmes/{{programme_id}}/cohorts", f"{V1}/programmes/{{programme}}/cohorts"),
    item(
        f"{V1}/programmes/{{programme_id}}/indicators", f"{V1}/programmes/{{programme}}/indicators"
    ),
    item(f"{V1}/cohorts/{{cohort_id}}"),
    # Participants, pairs, meetings, follow-ups.
    listing(f"{V1}/participants", "participant"),
    item(f"{V1}/participants/{{participant_id}}"),
    item(f"{V1}/participants/{{participant_id}}/goals", f"{V1}/participants/{{participant}}/goals"),
    listing(f"{V1}/pairs", "pair"),
    item(f"{V1}/pairs/{{pair_id}}"),
    item(f"{V1}/pairs/{{pair_id}}/meetings", f"{V1}/pairs/{{pair}}/meetings"),
    item(f"{V1}/cohorts/{{cohort_id}}/follow-ups", f"{V1}/cohorts/{{cohort}}/follow-ups"),
    item(f"{V1}/follow-ups/{{follow_up_id}}"),
    # Deviations and corrective actions.
    listing(f"{V1}/deviations", "deviation"),
    item(f"{V1}/deviations/{{deviation_id}}"),
    item(f"{V1}/deviations/{{deviation_id}}/history", f"{V1}/deviations/{{deviation}}/history"),
    listing(
        f"{V1}/procedures/{{procedure_id}}/deviations",
        "deviation",
        f"{V1}/procedures/{{procedure}}/deviations",
    ),
    listing(f"{V1}/actions", "action"),
    item(f"{V1}/actions/{{action_id}}"),
    # Comments on deviations, actions, audits and reviews.
    item(f"{V1}/deviations/{{deviation_id}}/comments", f"{V1}/deviations/{{deviation}}/comments"),
    item(f"{V1}/actions/{{action_id}}/comments", f"{V1}/actions/{{action}}/comments"),
    item(f"{V1}/audits/{{audit_id}}/comments", f"{V1}/audits/{{audit}}/comments"),
    item(f"{V1}/reviews/{{review_id}}/comments", f"{V1}/reviews/{{review}}/comments"),
    # Evidence files: a record's list, and one file (what it is, and its bytes).
    item(
        f"{V1}/deviations/{{deviation_id}}/evidence",
        f"{V1}/deviations/{{evidence_deviation}}/evidence",
    ),
    item(f"{V1}/actions/{{action_id}}/evidence", f"{V1}/actions/{{action}}/evidence"),
    item(
        f"{V1}/audits/{{audit_id}}/lines/{{line_id}}/evidence",
        f"{V1}/audits/{{line_audit}}/lines/{{line}}/evidence",
    ),
    item(f"{V1}/follow-ups/{{follow_up_id}}/evidence", f"{V1}/follow-ups/{{follow_up}}/evidence"),
    item(f"{V1}/reviews/{{review_id}}/evidence", f"{V1}/reviews/{{review}}/evidence"),
    item(f"{V1}/evidence/{{file_id}}", f"{V1}/evidence/{{evidence}}"),
    item(f"{V1}/evidence/{{file_id}}/content", f"{V1}/evidence/{{evidence}}/content"),
    # Internal audits and management reviews.
    listing(f"{V1}/audits", "audit"),
    item(f"{V1}/audits/{{audit_id}}"),
    listing(f"{V1}/reviews", "review"),
    item(f"{V1}/reviews/{{review_id:int}}"),
    item(f"{V1}/reviews/inputs", f"{V1}/reviews/inputs?{PERIOD}&programme_id={{programme}}"),
    # Evaluation imports.
    listing(f"{V1}/imports", "batch"),
    item(f"{V1}/imports/{{batch_id:int}}"),
    item(f"{V1}/imports/{{batch_id:int}}/problems"),
    # The imported answers and outcomes, by participant code: B's (the demo's survey and
    # outcomes) never in A's list.
    listing(f"{V1}/evaluation-answers", ""),
    listing(f"{V1}/outcomes", ""),
    # Documents: issued ones, and those generated from a programme's records.
    listing(f"{V1}/documents/issued", "document"),
    item(f"{V1}/documents/issued/{{document_id}}"),
    listing(f"{V1}/documents/deviation-register", "deviation"),
    item(
        f"{V1}/documents/deviation-register",
        f"{V1}/documents/deviation-register?programme_id={{programme}}",
    ),
    item(f"{V1}/documents/deviation-report/{{deviation_id}}"),
    listing(f"{V1}/documents/capa-status", "action"),
    item(f"{V1}/documents/capa-status", f"{V1}/documents/capa-status?programme_id={{programme}}"),
    item(
        f"{V1}/documents/follow-up-report/{{cohort_id}}",
        f"{V1}/documents/follow-up-report/{{cohort}}",
    ),
    item(f"{V1}/documents/audit-pack", f"{V1}/documents/audit-pack?programme_id={{programme}}"),
    item(
        f"{V1}/documents/quality-report/{{programme_id}}",
        f"{V1}/documents/quality-report/{{programme}}",
    ),
    item(f"{V1}/documents/audit-report/{{audit_id}}", f"{V1}/documents/audit-report/{{audit}}"),
    listing(f"{V1}/documents/quality-objectives", "objective"),
    item(
        f"{V1}/documents/quality-objectives",
        f"{V1}/documents/quality-objectives?programme_id={{programme}}",
    ),
    listing(f"{V1}/documents/complaints-register", "complaint"),
    item(
        f"{V1}/documents/complaints-register",
        f"{V1}/documents/complaints-register?programme_id={{programme}}",
    ),
    listing(f"{V1}/documents/external-providers", "provider"),
    item(
        f"{V1}/documents/external-providers",
        f"{V1}/documents/external-providers?programme_id={{programme}}",
    ),
    item(
        f"{V1}/documents/management-review/{{review_id}}",
        f"{V1}/documents/management-review/{{review}}",
    ),
    item(
        f"{V1}/documents/management-review-input",
        f"{V1}/documents/management-review-input?{PERIOD}&programme_id={{programme}}",
    ),
    item(
        f"{V1}/documents/evidence-map/{{framework}}",
        f"{V1}/documents/evidence-map/MENTOR?programme_id={{programme}}",
    ),
    # Requirement frameworks: the evidence a programme's records give.
    item(
        f"{V1}/frameworks/{{code}}/coverage",
        f"{V1}/frameworks/MENTOR/coverage?programme_id={{programme}}",
    ),
    # Quality objectives: a programme's own, never another's nor the organisation's.
    listing(f"{V1}/objectives", "objective"),
    item(f"{V1}/objectives/{{objective_id}}"),
    # The context: a programme's issues and parties and the organisation's, never another's.
    listing(f"{V1}/context/issues", "issue"),
    item(f"{V1}/context/issues/{{issue_id}}"),
    item(f"{V1}/context/issues/{{issue_id}}/history", f"{V1}/context/issues/{{issue}}/history"),
    listing(f"{V1}/context/parties", "party"),
    item(f"{V1}/context/parties/{{party_id}}"),
    listing(f"{V1}/documents/context", "issue"),
    # External providers: a programme's own and the organisation's, never another programme's.
    listing(f"{V1}/providers", "provider"),
    item(f"{V1}/providers/{{provider_id}}"),
    item(f"{V1}/providers/{{provider_id}}/evaluations", f"{V1}/providers/{{provider}}/evaluations"),
    item(f"{V1}/providers/{{provider_id}}/deviations", f"{V1}/providers/{{provider}}/deviations"),
    # Risks and opportunities: a programme's own, never another's nor the organisation's.
    listing(f"{V1}/risks", "risk"),
    listing(f"{V1}/risks/matrix", ""),
    item(f"{V1}/risks/{{risk_id:int}}", f"{V1}/risks/{{risk}}"),
    item(f"{V1}/risks/{{risk_id:int}}/history", f"{V1}/risks/{{risk}}/history"),
    listing(f"{V1}/documents/risk-register", "risk"),
    item(
        f"{V1}/documents/risk-register",
        f"{V1}/documents/risk-register?programme_id={{programme}}",
    ),
    # What waits for a coordinator: follow-ups due in the programme they are limited to only.
    listing(f"{V1}/me/work", "", role=Role.coordinator),
    listing("/my-work", "", role=Role.coordinator),
    # The audit trail.
    listing(f"{V1}/audit/events", "programme", f"{V1}/audit/events?entity=programme"),
    # The access log: the reads of tokens limited to the reader's programme only.
    listing(f"{V1}/audit/access", ""),
    # Complaints, and who made them (not for auditors: a coordinator reads them).
    # Competence: a programme's mentors and their training, and the staff's, never another
    # programme's mentors.
    listing(f"{V1}/training-records", "record"),
    item(f"{V1}/training-records/{{record_id}}"),
    item(
        f"{V1}/training-records/{{record_id}}/evidence",
        f"{V1}/training-records/{{record}}/evidence",
    ),
    listing(f"{V1}/competence-matrix", ""),
    listing(f"{V1}/documents/competence-matrix", ""),
    item(
        f"{V1}/documents/competence-matrix",
        f"{V1}/documents/competence-matrix?programme_id={{programme}}",
    ),
    listing("/competence", ""),
    listing("/competence/records", "record"),
    item("/competence/records/{record_id:id}", "/competence/records/{record}"),
    listing(f"{V1}/complaints", "complaint"),
    item(f"{V1}/complaints/{{complaint_id}}"),
    item(f"{V1}/complaints/{{complaint_id}}/history", f"{V1}/complaints/{{complaint}}/history"),
    item(
        f"{V1}/complaints/{{complaint_id}}/complainant",
        f"{V1}/complaints/{{complaint}}/complainant",
        role=Role.coordinator,
    ),
    # Retention covers every programme's records at once.
    refused(f"{V1}/retention"),
    refused(f"{V1}/retention/dispositions"),
    # The web front's pages, signed in.
    # The overview names only what is due or overdue; CAREER-18 has nothing there, VIA-JOB has.
    listing("/", ""),
    listing("/programmes", "programme"),
    item("/programmes/{programme_id:id}"),
    listing("/complaints", "complaint"),
    listing("/complaints/new", "programme", role=Role.coordinator),
    item("/complaints/{complaint_id:id}"),
    listing("/risks", "risk"),
    listing("/risks/new", "programme", role=Role.quality_lead),
    item("/risks/{risk_id:id}"),
    listing("/deviations", "deviation"),
    listing("/deviations/new", "programme", role=Role.coordinator),
    item("/deviations/{deviation_id:id}"),
    listing("/actions", "action"),
    item("/actions/{action_id:id}"),
    item("/evidence/{file_id:id}", "/evidence/{evidence}"),
    listing("/audits", "audit"),
    listing("/audits/new", "programme", role=Role.quality_lead),
    item("/audits/{audit_id:id}"),
    listing("/reviews", "review"),
    listing("/reviews/new", "programme", role=Role.quality_lead),
    item("/reviews/{review_id:id}"),
    listing("/participants", "participant"),
    listing("/participants/new", "programme", role=Role.coordinator),
    item("/participants/{participant_id:id}"),
    listing("/pairs", "pair"),
    # The matching form offers one cohort's free participants; its chooser lists the cohorts.
    listing("/pairs/new", "programme", "/pairs/new?cohort_id={cohort}", role=Role.coordinator),
    item("/pairs/{pair_id:id}"),
    listing("/follow-ups", "programme"),
    item("/follow-ups/cohorts/{cohort_id:id}", "/follow-ups/cohorts/{cohort}"),
    item("/follow-ups/{follow_up_id:id}"),
    listing("/imports", "batch"),
    item("/imports/{batch_id:id}"),
    listing("/audit-trail", "programme", "/audit-trail?entity=programme"),
    refused("/retention"),
    listing("/objectives", "objective"),
    listing("/objectives/new", "programme", role=Role.quality_lead),
    item("/objectives/{objective_id:id}"),
    listing("/context", "issue"),
    listing("/context/issues/new", "programme", role=Role.quality_lead),
    listing("/context/parties/new", "programme", role=Role.quality_lead),
    item("/context/issues/{issue_id:id}"),
    item("/context/parties/{party_id:id}"),
    listing("/providers", "provider"),
    listing("/providers/new", "programme", role=Role.quality_lead),
    item("/providers/{provider_id:id}"),
    listing("/documents", "document"),
    item("/documents/{document_id:id}/file", "/documents/{document}/file"),
]

# GET routes that hold no programme's records, each with the reason.
EXEMPT: dict[str, str] = {
    "/healthz": "says only that the service is up",
    f"{V1}/me": "the caller's own account",
    f"{V1}/instruments": "survey definitions, shared by every programme",
    f"{V1}/instruments/{{code}}/mappings": "a survey's saved column mappings, shared likewise",
    f"{V1}/procedures": "procedures are the organisation's, not a programme's",
    f"{V1}/procedures/{{procedure_id}}": "a procedure",
    f"{V1}/procedures/{{procedure_id}}/versions": "a procedure's versions",
    f"{V1}/procedures/{{procedure_id}}/versions/{{number}}": "a procedure's version",
    f"{V1}/procedures/{{procedure_id}}/versions/{{number}}/content": "a procedure's text",
    f"{V1}/procedures/{{procedure_id}}/diff": "the change between two procedure versions",
    f"{V1}/procedures/{{procedure_id}}/evidence": "a procedure's files (the organisation's)",
    f"{V1}/documents/master-list": "the master list of procedures",
    f"{V1}/documents/procedure/{{procedure_id}}": "a procedure as a document",
    f"{V1}/audit/verify": "the chain's length and head hash: no record's content",
    f"{V1}/audit/access/verify": "the access log's length and head hash: no record's content",
    f"{V1}/frameworks": "the requirement frameworks shipped as data",
    f"{V1}/frameworks/{{code}}": "a framework's requirements, shipped as data",
    "/sign-in": "the sign-in form",
    "/language": "switches the interface's language",
    "/programmes/new": "the form for a new programme offers no records",
    "/procedures": "the master list of procedures",
    "/procedures/new": "the form for a new procedure",
    "/procedures/{procedure_id:id}": "a procedure",
    "/procedures/{procedure_id:id}/changes": "the differences between two procedure versions",
    "/instruments": "survey definitions, shared by every programme",
    "/instruments/new": "the form for a new survey definition",
    "/imports/new": "the upload form offers the shared survey definitions only",
    "/users": "accounts, for admins only",
    "/quality-system": "the parts of the quality system, linked: no record",
    f"{V1}/competences": "the competences each role needs: the organisation's, not a programme's",
    f"{V1}/competences/{{competence_id}}": "a competence a role needs",
    f"{V1}/acknowledgements": "users asked to acknowledge procedures, the organisation's",
    f"{V1}/procedures/{{procedure_id}}/versions/{{number}}/acknowledgements": (
        "the users asked to acknowledge a procedure version"
    ),
    f"{V1}/webhooks": "webhook subscriptions: an admin's configuration",
    f"{V1}/webhook-deliveries/status": "the webhooks' delivery counts: an admin's configuration",
    f"{V1}/webhooks/{{webhook_id}}": "a webhook subscription: an admin's configuration",
    f"{V1}/webhooks/{{webhook_id}}/deliveries": "a subscription's delivery log, for admins only",
    f"{V1}/context/scope": "the scope of the quality system: the organisation's, one for all",
    f"{V1}/policy": "the quality policy: the organisation's, one for all",
    "/policy": "the quality policy: the organisation's, one for all",
    "/context/scope": "the scope of the quality system: the organisation's, one for all",
}


def _get_routes(app: FastAPI) -> set[str]:
    routes = [*api_routes(app), *page_routes(app)]
    return {route.path for route in routes if "GET" in (route.methods or ())}


def _text(response: Response) -> str:
    """Return what a reader gets to see of an answer: a document's words, a pack's every file."""
    content = response.content
    if content.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if "word/document.xml" in archive.namelist():
                document = docx.Document(io.BytesIO(content))
                cells = [
                    cell.text
                    for table in document.tables
                    for row in table.rows
                    for cell in row.cells
                ]
                return "\n".join([p.text for p in document.paragraphs] + cells)
            return "\n".join(
                name + "\n" + _text(Response(200, content=archive.read(name)))
                for name in archive.namelist()
            )
    return content.decode("utf-8", errors="replace")


def _named(text: str, markers: set[str]) -> set[str]:
    """Return the codes and numbers that the text names (whole, not as part of a longer one)."""
    return {m for m in markers if re.search(rf"(?<![\w-]){re.escape(m)}(?![\w-])", text)}


class TestTableIsComplete:
    def test_every_read_route_is_in_the_table_or_exempt(self) -> None:
        """A new GET route without a scope case (or a reason to have none) fails here."""
        app = create_app(Database.__new__(Database))
        routes = _get_routes(app)
        tabled = {case.path for case in TABLE}
        assert routes - tabled - EXEMPT.keys() == set()
        assert (tabled | EXEMPT.keys()) - routes == set(), "the table names routes that are gone"
        assert tabled & EXEMPT.keys() == set()


@pytest.mark.parametrize("case", TABLE, ids=[f"{c.role.value}:{c.expect}:{c.url}" for c in TABLE])
def test_a_scoped_reader_sees_its_programme_only(world: World, case: Case) -> None:
    clients = world.rest if case.path.startswith(V1) else world.web
    client = clients[case.role]
    is_page = not case.path.startswith(V1)
    forbidden = world.b.all_markers

    def ask(side: Side) -> tuple[Response, str]:
        response = client.get(case.url.format(**side.ids))
        return response, _text(response)

    if case.expect == "refused":
        response, text = ask(world.a)
        assert response.status_code == 403, text[:500]
        if is_page:
            assert "Not allowed" in text
        else:
            assert response.headers["content-type"] == "application/problem+json"
            assert "limited to one programme" in response.json()["detail"]
        assert _named(text, forbidden) == set()
        return

    response, text = ask(world.a)
    assert response.status_code == 200, text[:500]
    assert _named(text, forbidden) == set(), "B's records shown to a reader limited to A"
    if case.expect == "list":
        if case.shows:
            shown = world.a.markers[case.shows]
            assert _named(text, {shown}) == {shown}, f"A's {case.shows} {shown} missing"
        unscoped = (world.open_web if is_page else world.open_rest)[case.role]
        everyone = unscoped.get(case.url.format(**world.a.ids))
        assert everyone.status_code == 200
        assert _named(_text(everyone), forbidden), "the list has nothing of B's to hide"
        return

    assert case.expect == "item"
    response, text = ask(world.b)
    assert response.status_code == 404, text[:500]
    if is_page:
        assert "Not found" in text
    else:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["title"].lower() == "not found"
    assert _named(text, forbidden) == set(), "the refusal names B's record"
