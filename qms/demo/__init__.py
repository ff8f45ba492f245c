"""A realistic demo data set, shaped like the programmes in the source reports."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from qms.accounts import service as accounts
from qms.accounts import web as web_accounts
from qms.accounts.models import User
from qms.actions import service as actions
from qms.actions.models import ActionType, CorrectiveAction
from qms.actions.schemas import ActionCreate, ActionTransition
from qms.checks import service as checks
from qms.comments import service as comments
from qms.comments.models import CommentedRecord
from qms.comments.schemas import CommentCreate
from qms.demo import competence as demo_competence
from qms.demo import complaints as demo_complaints
from qms.demo import context as demo_context
from qms.demo import evaluations as demo_evaluations
from qms.demo import objectives as demo_objectives
from qms.demo import providers as demo_providers
from qms.demo import records, system
from qms.demo import risks as demo_risks
from qms.demo.evidence import letter_pdf
from qms.deviations import service as deviations
from qms.deviations.models import Deviation, RootCauseMethod
from qms.deviations.schemas import DeviationCreate, DeviationTransition, DeviationUpdate
from qms.evidence import service as evidence
from qms.notifications import service as reminders
from qms.permissions import Actor, Role
from qms.procedures import service as procedures
from qms.procedures.schemas import VersionTransition
from qms.programmes import repository as programmes_repo
from qms.programmes import service as programmes
from qms.programmes.schemas import CohortCreate, ProgrammeCreate
from qms.resources import procedures_dir
from qms.signatures.service import confirmation_of

# Each demo user's login, role, and the name people read them by (the importer is a script and
# goes by its login).
DEMO_USERS: dict[str, tuple[Role, str | None]] = {
    "demo-admin": (Role.admin, "Lars Haugen"),
    "demo-quality-lead": (Role.quality_lead, "Ingrid Solberg"),
    "demo-quality-manager": (Role.quality_lead, "Anders Lindqvist"),
    # A quality lead from outside the programme, who audits it and wrote none of its procedures.
    "demo-internal-auditor": (Role.quality_lead, "Maria Johansson"),
    "demo-coordinator": (Role.coordinator, "Siri Bakke"),
    "demo-auditor": (Role.auditor, "Erik Nyström"),
    "demo-importer": (Role.importer, None),
}

# Where each demo user's reminders go, and the language they read them in.
DEMO_CONTACTS: dict[str, tuple[str, str]] = {
    "demo-admin": ("lars.haugen@example.org", "nb"),
    "demo-quality-lead": ("ingrid.solberg@example.org", "nb"),
    "demo-quality-manager": ("anders.lindqvist@example.org", "sv"),
    "demo-internal-auditor": ("maria.johansson@example.org", "sv"),
    "demo-coordinator": ("siri.bakke@example.org", "nb"),
    "demo-auditor": ("erik.nystrom@example.org", "sv"),
}

# Who can sign in to the web front in the demo.
WEB_USERS = ("demo-quality-lead", "demo-quality-manager", "demo-coordinator", "demo-auditor")


@dataclass(frozen=True)
class DemoTokens:
    """The tokens printed for whoever runs the demo."""

    quality_lead: str
    auditor: str
    coordinator: str
    # For scripts that import evaluation results: it can do nothing else.
    importer: str
    # The web front's password of the same three users (and of demo-quality-manager).
    password: str


def is_loaded(session: Session) -> bool:
    """Say whether the demo users exist already."""
    return session.scalar(select(User.id).where(User.name == "demo-admin")) is not None


def is_empty(session: Session) -> bool:
    """Say whether the database holds no users yet."""
    return session.scalar(select(User.id).limit(1)) is None


def load(session: Session, *, operator: Actor) -> None:
    """Create the demo users, programmes and cohorts through the services (all audited)."""
    for name, (role, display_name) in DEMO_USERS.items():
        accounts.create_user(
            session, actor=operator, name=name, role=role, display_name=display_name
        )
    for name, (address, language) in DEMO_CONTACTS.items():
        reminders.set_contact(
            session, actor=operator, user_name=name, email=address, language=language
        )
    coordinator = Actor(
        user_id=accounts.get_user_or_raise(session, "demo-coordinator").id,
        name="demo-coordinator",
        role=Role.coordinator,
    )

    via = programmes.create_programme(
        session,
        actor=coordinator,
        data=ProgrammeCreate(
            code="VIA-JOB",
            name="Mentor programme for job-seeking immigrant graduates",
            organiser="Dalarna Mentor Foundation",
            target_group=(
                "Job-seeking women and men with a foreign university degree in environment and "
                "technology, registered with the public employment service."
            ),
            objectives=(
                "Each mentee finds work in their own professional field within the programme year; "
                "mentors widen the mentee's network and knowledge of the Swedish labour market. "
                "Planned: 12 pairs complete; 9 of 12 mentees employed at close, 5 of them in a "
                "regular position."
            ),
            min_meetings_per_month=2,
            min_minutes_per_month=120,
            length_months=12,
        ),
    )
    via_2025 = programmes.create_cohort(
        session,
        actor=coordinator,
        programme_id=via.id,
        data=CohortCreate(
            code="2025",
            name="Intake February 2025",
            start_on=date(2025, 2, 3),
            end_on=date(2026, 1, 30),
        ),
    )
    via_2026 = programmes.create_cohort(
        session,
        actor=coordinator,
        programme_id=via.id,
        data=CohortCreate(
            code="2026",
            name="Intake February 2026",
            start_on=date(2026, 2, 2),
            end_on=date(2027, 1, 29),
        ),
    )
    programmes.transition_programme(
        session,
        actor=coordinator,
        programme_id=via.id,
        to="running",
        reason="kick-off held",
        if_match=via.version,
    )

    career = programmes.create_programme(
        session,
        actor=coordinator,
        data=ProgrammeCreate(
            code="CAREER-18",
            name="Career mentoring for immigrants with higher education",
            organiser="Trade and service employers' mentor network",
            target_group=(
                "Employed immigrants with higher education who want a career step into positions "
                "that match their qualifications; mentors are managers in member companies."
            ),
            objectives=(
                "Each mentee sets a career goal and a learning plan at start and reaches a "
                "relevant position or a clear next step within 18 months."
            ),
            min_meetings_per_month=1,
            min_minutes_per_month=90,
            length_months=18,
        ),
    )
    career_2025 = programmes.create_cohort(
        session,
        actor=coordinator,
        programme_id=career.id,
        data=CohortCreate(
            code="2025-AUTUMN",
            name="Autumn 2025 intake",
            start_on=date(2025, 9, 1),
            end_on=date(2027, 2, 26),
        ),
    )
    programmes.create_cohort(
        session,
        actor=coordinator,
        programme_id=career.id,
        data=CohortCreate(
            code="2027-SPRING",
            name="Spring 2027 intake",
            start_on=date(2027, 3, 1),
            end_on=date(2028, 8, 31),
        ),
    )
    programmes.transition_programme(
        session,
        actor=coordinator,
        programme_id=career.id,
        to="running",
        reason="first cohort started",
        if_match=career.version,
    )
    lead = Actor(
        user_id=accounts.get_user_or_raise(session, "demo-quality-lead").id,
        name="demo-quality-lead",
        role=Role.quality_lead,
    )
    load_procedures(session, author=lead, approver=_actor(session, "demo-quality-manager"))
    demo_pairs = records.load_via(session, coordinator, via_2025, via_2026)
    records.load_career(session, coordinator, career_2025, demo_pairs)
    demo_evaluations.load(
        session, lead=lead, importer=_actor(session, "demo-importer"), demo=demo_pairs
    )
    demo_evaluations.define_indicators(session, lead=lead, programme_id=via.id)
    # The risks that came true are registered first: the deviations name them as realised.
    realised = demo_risks.register(session, lead=lead, via_id=via.id)
    load_quality_records(
        session, lead=lead, coordinator=coordinator, demo=demo_pairs, risks=realised
    )
    demo_risks.load(session, lead=lead, via_id=via.id, career_id=career.id, realised=realised)
    # The coordinator runs the rule checks as of today: what is overdue now opens deviations.
    checks.run(session, actor=coordinator)
    system.load(
        session,
        lead=lead,
        auditor=_actor(session, "demo-internal-auditor"),
        manager=_actor(session, "demo-quality-manager"),
        programme_id=via.id,
    )
    system.revise_meeting_procedure(
        session, author=lead, approver=_actor(session, "demo-quality-manager")
    )
    demo_competence.load(session, lead=lead, coordinator=coordinator)
    demo_complaints.load(
        session, lead=lead, coordinator=coordinator, via_id=via.id, career_id=career.id
    )
    demo_providers.load(session, lead=lead, via_id=via.id)
    demo_objectives.load(session, lead=lead, via_id=via.id, career_id=career.id)
    demo_context.load(
        session,
        lead=lead,
        manager=_actor(session, "demo-quality-manager"),
        via_id=via.id,
        career_id=career.id,
    )


def _actor(session: Session, name: str) -> Actor:
    return accounts.actor_for(session, name)


def load_procedures(session: Session, *, author: Actor, approver: Actor) -> None:
    """Bring in the procedure library; a second quality lead reviews and approves each."""
    procedures.sync(session, actor=author, folder=procedures_dir())
    for procedure in procedures.list_procedures(session, actor=author):
        draft = procedures.open_version(procedure)
        assert draft is not None
        for to, who in (("in_review", author), ("approved", approver)):
            procedures.transition(
                session,
                actor=who,
                procedure_id=procedure.id,
                number=draft.number,
                data=VersionTransition.model_validate(
                    {"to": to, **confirmation_of("procedure_version", to)}
                ),
                if_match=draft.version,
            )


def _pr(session: Session, code: str) -> int:
    """Return the id of the effective version of a procedure."""
    procedure = procedures.get_by_code(session, code)
    assert procedure is not None
    return procedure.versions[-1].id


def _log(session: Session, actor: Actor, **fields: object) -> Deviation:
    return deviations.create(session, actor=actor, data=DeviationCreate.model_validate(fields))


def _move(session: Session, actor: Actor, deviation: Deviation, to: str, **fields: object) -> None:
    deviations.transition(
        session,
        actor=actor,
        deviation_id=deviation.id,
        data=DeviationTransition.model_validate(
            {"to": to, **fields, **confirmation_of("deviation", to)}
        ),
        if_match=deviation.version,
    )


def _act(
    session: Session, actor: Actor, action: CorrectiveAction, to: str, **fields: object
) -> None:
    actions.transition(
        session,
        actor=actor,
        action_id=action.id,
        data=ActionTransition.model_validate({"to": to, **fields, **confirmation_of("action", to)}),
        if_match=action.version,
    )


def load_quality_records(
    session: Session,
    *,
    lead: Actor,
    coordinator: Actor,
    demo: records.DemoPairs,
    risks: dict[str, int] | None = None,
) -> None:
    """Deviations and actions like those the source reports tell of (naming the risks they
    realised, when given)."""
    realised = risks or {}
    via = programmes_repo.get_by_code(session, "VIA-JOB")
    career = programmes_repo.get_by_code(session, "CAREER-18")
    assert via is not None
    assert career is not None

    manual = _log(
        session,
        lead,
        kind="deviation_from_plan",
        source="self_reported",
        severity="minor",
        title="Planned programme manual not produced",
        description=(
            "The activity plan included a written manual for mentors and mentees. During the "
            "programme it became clear that the training modules and the procedure library cover "
            "the need, so the manual was not written."
        ),
        programme_id=via.id,
        risk_id=realised.get("manual"),
        iso_clause="6.3",
        detected_at="2026-03-10T10:00:00Z",
        detected_by="Programme manager",
    )
    _move(session, lead, manual, "investigating")
    _move(
        session,
        lead,
        manual,
        "closed",
        closure_summary="Activity dropped with the funder's written agreement of 2026-03-24.",
        no_action_reason="The need fell away; the plan was changed through the funder, not broken.",
    )

    target = _log(
        session,
        lead,
        kind="deviation_from_plan",
        source="complaint",
        severity="major",
        title="Target group changed mid-way",
        description=(
            "The programme was presented to the public employment service as a mixed group of "
            "job-seeking immigrant women with a university degree and job-seeking native women. "
            "The employment service's priority group is women and men from outside the EU, so "
            "referrals did not match the plan and the target group had to be changed."
        ),
        immediate_containment="Recruitment paused for two weeks while the target group was agreed.",
        procedure_version_id=_pr(session, "PR-02"),
        programme_id=via.id,
        risk_id=realised.get("target_group"),
        iso_clause="8.2.2",
        detected_at="2026-02-16T09:30:00Z",
        detected_by="demo-coordinator",
        owner=lead.name,
    )
    comments.add(
        session,
        actor=coordinator,
        record=CommentedRecord.deviation,
        record_id=target.id,
        data=CommentCreate(
            text="The employment service confirmed its priority groups by e-mail on 2026-02-18."
        ),
    )
    _move(session, lead, target, "investigating")
    deviations.update(
        session,
        actor=lead,
        deviation_id=target.id,
        data=DeviationUpdate(
            root_cause_method=RootCauseMethod.five_whys,
            root_cause=(
                "The target group was set in the application before the referring partner's "
                "priority groups were checked; no step in recruitment asks for that check."
            ),
        ),
        if_match=target.version,
    )
    _move(session, lead, target, "action_required")
    confirm = actions.create(
        session,
        actor=lead,
        data=ActionCreate(
            deviation_ids=[target.id],
            type=ActionType.corrective,
            title="Confirm the target group with referring partners before recruitment",
            action=(
                "PR-02 gains a step: the target group is confirmed in writing with each referring "
                "partner before recruitment opens."
            ),
            owner="demo-coordinator",
            due_on=date(2026, 4, 30),
        ),
    )
    _act(session, coordinator, confirm, "in_progress")
    _act(session, coordinator, confirm, "done", completion_note="PR-02 draft updated; letter sent.")
    # The letter itself, a PDF the demo writes, kept as the evidence of the action's completion.
    evidence.attach(
        session,
        actor=coordinator,
        record="action",
        record_id=confirm.id,
        content=letter_pdf(
            [
                "To the public employment service, Oslo office",
                "Subject: the target group of the VIA-JOB mentor programme",
                "",
                "Before recruitment for the next cohort opens, we ask you to confirm in writing",
                "the groups you give priority to, so that the programme's target group is set",
                "with you and your referrals match it (procedure PR-02).",
                "",
                "Demo coordinator, 2026-03-02",
            ]
        ),
        file_name="letter-to-referring-partners.pdf",
        purpose="completion",
    )
    comments.add(
        session,
        actor=lead,
        record=CommentedRecord.action,
        record_id=confirm.id,
        data=CommentCreate(text="Check the partners' replies at the effectiveness check."),
    )

    # The coordinator's rule check in early June finds the months below the meeting rule.
    found = checks.run(session, actor=coordinator, on=date(2026, 6, 2))
    by_key = {f.key: f.deviation_number for f in found.opened}
    thin = demo.via_2026[1].code
    meetings = deviations.get_by_number(
        session, actor=lead, number=by_key[f"meeting_rule:{thin}:2026-05"]
    )
    april = deviations.get_by_number(
        session, actor=lead, number=by_key[f"meeting_rule:{thin}:2026-04"]
    )
    summer = deviations.get_by_number(
        session, actor=lead, number=by_key[f"meeting_rule:{demo.via_2025[3].code}:2025-07"]
    )
    for duplicate, summary, why in (
        (
            april,
            f"Same pair and cause as {meetings.number}, where it is handled.",
            f"Handled under {meetings.number}.",
        ),
        (
            summer,
            "Summer break agreed with the coordinator beforehand; the pair met three times in "
            "August.",
            "An agreed break, made up the month after; nothing to correct.",
        ),
    ):
        _move(session, lead, duplicate, "investigating")
        _move(session, lead, duplicate, "closed", closure_summary=summary, no_action_reason=why)
    _move(session, lead, meetings, "investigating")
    deviations.update(
        session,
        actor=lead,
        deviation_id=meetings.id,
        data=DeviationUpdate(
            owner=coordinator.name,
            root_cause_method=RootCauseMethod.five_whys,
            root_cause=(
                "The mentor travels two weeks a month; meetings were set ad hoc and dropped when "
                "travel came up, and nobody looked at the meeting log before the midpoint."
            ),
        ),
        if_match=meetings.version,
    )
    _move(session, lead, meetings, "action_required")
    fixed_day = actions.create(
        session,
        actor=lead,
        data=ActionCreate(
            deviation_ids=[meetings.id],
            type=ActionType.correction,
            title="Fixed meeting day for the pair",
            action="The pair agrees a fixed meeting day and a video option for travel weeks.",
            owner="demo-coordinator",
            due_on=date(2026, 6, 30),
        ),
    )
    _act(session, coordinator, fixed_day, "in_progress")
    _act(session, coordinator, fixed_day, "done", completion_note="Agreed at a three-way meeting.")
    _act(
        session,
        lead,
        fixed_day,
        "verified_effective",
        evidence="Meeting log July-September: two meetings a month, 150 minutes on average.",
    )
    log_check = actions.create(
        session,
        actor=lead,
        data=ActionCreate(
            deviation_ids=[meetings.id],
            type=ActionType.corrective,
            title="Monthly check of every pair's meeting log",
            action=(
                "The coordinator checks all meeting logs on the first workday of each month and "
                "calls pairs below the rule."
            ),
            owner="demo-coordinator",
            due_on=date(2026, 10, 31),
            root_cause_method=RootCauseMethod.five_whys,
            root_cause="No routine looked at the meeting logs between kick-off and midpoint.",
        ),
    )
    _act(session, coordinator, log_check, "in_progress")

    # Found at the pair's mid-programme follow-up, which records the same (qms.demo.records).
    supported = demo.career[records.CAREER_SUPPORT_PAIR]
    held_on = records.scheduled_on(session, supported)
    support = _log(
        session,
        coordinator,
        kind="nonconformity",
        source="follow_up",
        severity="major",
        title="Mentee needs support the mentor was not prepared for",
        description=(
            "At the mid-programme follow-up the mentee told of health and family matters that "
            "take up the meetings; the mentor is unsure how far the role goes and the pair's "
            "career goal has not been worked on."
        ),
        immediate_containment=(
            "Coordinator referred the mentee to professional support and went through the role "
            "boundaries (PR-06) with the mentor."
        ),
        pair_id=supported.id,
        procedure_version_id=_pr(session, "PR-06"),
        iso_clause="7.2",
        detected_at=f"{held_on.isoformat()}T13:00:00Z",
    )
    _move(session, lead, support, "investigating")
    deviations.update(
        session,
        actor=lead,
        deviation_id=support.id,
        data=DeviationUpdate(
            root_cause_method=RootCauseMethod.fishbone,
            root_cause=(
                "Training: no module on when and where to refer. Matching: personal factors not "
                "asked for. Follow-up: first contact only at the midpoint."
            ),
        ),
        if_match=support.version,
    )
    _move(session, lead, support, "action_required")
    actions.create(
        session,
        actor=lead,
        data=ActionCreate(
            deviation_ids=[support.id],
            type=ActionType.preventive,
            title="Referral module in mentor training",
            action=(
                "Add to the mentor training (PR-07) a module on the limits of the mentor role and "
                "on when and where to refer a mentee, with the Mentor+ role game."
            ),
            owner="demo-quality-lead",
            due_on=date(2027, 1, 31),
            effectiveness_check_on=date(2027, 6, 30),
        ),
    )

    funding = _log(
        session,
        lead,
        kind="observation",
        source="self_reported",
        severity="major",
        title="Co-financing depends on participants staying unemployed",
        description=(
            "Participants' activity support counts as co-financing. When a mentee finds work in "
            "their field, as the programme aims, the project loses part of its co-financing: the "
            "programme's success works against its funding."
        ),
        programme_id=via.id,
        risk_id=realised.get("co_financing"),
        iso_clause="4.1",
        detected_at="2026-10-05T11:00:00Z",
    )
    _move(session, lead, funding, "investigating", reason="Raised with the funder.")


def issue_tokens(session: Session, *, operator: Actor) -> DemoTokens:
    """Issue fresh tokens for the demo's quality lead, auditor, coordinator and importer (valid
    30 days), and a fresh web password for the first three."""

    def token(name: str) -> str:
        issued = accounts.create_token(session, actor=operator, user_name=name, expires_in_days=30)
        return issued.secret

    password = secrets.token_urlsafe(12)
    for name in WEB_USERS:
        web_accounts.set_password(session, actor=operator, user_name=name, password=password)
    return DemoTokens(
        quality_lead=token("demo-quality-lead"),
        auditor=token("demo-auditor"),
        coordinator=token("demo-coordinator"),
        importer=token("demo-importer"),
        password=password,
    )
