"""The demo's context, interested parties, scope and quality policy, from the source reports: the
labour-market integration of immigrant graduates, the employment service that refers the mentees
and prioritises its own groups, the co-financing lost when a mentee finds work (the report's
"moment 22"), the funders and the employers who lend mentors; a scope in which the programmes'
design is given (ISO 9001 8.3 not applicable) and the policy the certified programme works to."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from qms.context import service as context
from qms.context.models import POLICY_CODE
from qms.context.schemas import (
    ContextIssueCreate,
    ContextIssueUpdate,
    ContextReview,
    PartyCreate,
    ScopeUpdate,
)
from qms.db import utcnow
from qms.permissions import Actor
from qms.procedures import service as procedures
from qms.procedures.schemas import ProcedureCreate, VersionTransition
from qms.signatures.service import confirmation_of

POLICY = """# Quality policy

The foundation runs mentor programmes that bring job-seeking immigrant graduates and people in
their careers together with experienced mentors from working life, so that each mentee finds
work in her or his own field and employers gain the competence they need.

We commit ourselves to:

1. **Meet the requirements of those we serve**: the mentees, the mentors and their employers,
   the employment service that refers the mentees, and the funders of the programmes.
2. **Match with care**: every mentee is matched with a trained mentor of her or his own
   profession, after an interview on language and motivation, and the expectations of both are
   clarified before the first meeting.
3. **Follow each pair**: meetings are kept at the programme's minimum, a mid-programme
   follow-up is held with every pair, and a pair that does not work is unwound and rematched.
4. **Measure and learn**: the programme's indicators are compared with what was planned, every
   deviation is recorded and corrected, and its cause removed.
5. **Improve continually**: the quality management system is audited internally and reviewed by
   the board each year against ISO 9001, EMCC's standards and MENTOR's elements of practice.

This policy is communicated to every mentor at training, to every mentee at the introduction
day, and to the partners and funders; it is reviewed each year at the management review.
"""


def _issue(session: Session, lead: Actor, **fields: object) -> int:
    return context.create_issue(
        session, actor=lead, data=ContextIssueCreate.model_validate(fields)
    ).id


def _party(session: Session, lead: Actor, **fields: object) -> int:
    return context.create_party(session, actor=lead, data=PartyCreate.model_validate(fields)).id


def load(session: Session, *, lead: Actor, manager: Actor, via_id: int, career_id: int) -> None:
    """Record the context and interested parties, set the scope and approve the policy."""
    today = utcnow().date()
    soon = today + timedelta(days=3)
    labour = _issue(
        session,
        lead,
        origin="external",
        title="Immigrant graduates find no work in their own field",
        description=(
            "Job-seeking immigrants with a degree, mostly in environment and technology, have "
            "lived in the country from three months to twelve years without work in their "
            "field: they lack the language at work, a network and knowledge of how employers "
            "recruit."
        ),
        effect=(
            "The programmes exist for this: a mentor of the mentee's own profession and the "
            "mentor's network are the main way to work. Of the 12 who completed the last "
            "programme, 11 were employed or in work at its end, six in a proper employment."
        ),
    )
    _issue(
        session,
        lead,
        origin="external",
        title="The employment service refers its own priority groups",
        description=(
            "The employment service, which refers the mentees from its information meetings, "
            "prioritises women and men from outside the EU; job-seeking native women, whom the "
            "programme wanted in a mixed group, are not a priority group of its measures."
        ),
        effect=(
            "The target group must be agreed with the referring service before recruitment; "
            "a group the service does not prioritise is recruited by other means."
        ),
        programme_id=via_id,
        next_review_on=soon,
    )
    _issue(
        session,
        lead,
        origin="external",
        title="Co-financing lost when a mentee finds work",
        description=(
            "The mentees' activity support counts as the programme's co-financing: when a "
            "mentee finds work in her or his field, as the programme aims, part of the "
            "co-financing is lost."
        ),
        effect=(
            "Success reduces the budget (a 'catch-22'): co-financing is planned so that it does "
            "not depend on the mentees staying unemployed, and the funders are told of it."
        ),
        programme_id=via_id,
    )
    _issue(
        session,
        lead,
        origin="internal",
        title="The mentor programme is certified to ISO 9001",
        description=(
            "The foundation has worked for a year with a quality expert and members of its "
            "board to quality-assure the mentor programme to ISO 9001; certification follows "
            "in the autumn, after which the certified programme is offered to business."
        ),
        effect=(
            "Every programme is run to the documented procedures and keeps the records an "
            "auditor asks for; a deviation from a procedure is recorded and corrected."
        ),
    )
    _issue(
        session,
        lead,
        origin="external",
        title="Few employers in the region use mentoring",
        description=(
            "Few companies in the region use mentoring; a brochure sent to the largest "
            "employers brought no contact, and too few companies came forward for a conference "
            "of their experience."
        ),
        effect=(
            "Mentors are recruited through the employers' network one by one; the programme "
            "reports its results to employers to win more of them."
        ),
        programme_id=career_id,
    )
    border = _issue(
        session,
        lead,
        origin="internal",
        title="Partners far apart across the border",
        description=(
            "The distance between the partners on either side of the border made joint "
            "activities for participants hard to attend."
        ),
        effect="Joint activities were held on one side, with the other invited.",
    )
    issue = context.get_issue(session, actor=lead, issue_id=border)
    context.update_issue(
        session,
        actor=lead,
        issue_id=border,
        data=ContextIssueUpdate.model_validate({"status": "no_longer_relevant"}),
        if_match=issue.version,
    )
    reviewed = context.get_issue(session, actor=lead, issue_id=labour)
    context.review_issue(
        session,
        actor=lead,
        issue_id=labour,
        data=ContextReview(note="Confirmed with the employment service and the reference group."),
        if_match=reviewed.version,
    )

    _party(
        session,
        lead,
        name="Mentees (adepts)",
        kind="mentees",
        requirements=(
            "A mentor of their own profession, meetings kept as agreed, confidentiality, help "
            "to a network and to work in their field."
        ),
        how_met=(
            "Interview on language and motivation, matching by profession (PR-05), "
            "expectations clarified at the introduction day, the minimum meetings rule and the "
            "mid-programme follow-up with every pair."
        ),
    )
    _party(
        session,
        lead,
        name="Mentors and their employers",
        kind="mentors",
        requirements=(
            "Training before matching, a clear role and its limits, a bounded time, and a "
            "mentee who is motivated."
        ),
        how_met=(
            "The five training modules for mentors and mentees before matching, the "
            "introduction day, and a coordinator to call; mentors take part in the seminars."
        ),
    )
    _party(
        session,
        lead,
        name="Employers in Dalarna",
        kind="employers",
        requirements="Quality-assured methods and candidates with the competence they need.",
        how_met=(
            "A programme certified to ISO 9001, its results reported each year, and mentors "
            "recruited from the companies themselves."
        ),
    )
    _party(
        session,
        lead,
        name="Funders: the regional fund, the county board and the ministry",
        kind="funders",
        requirements=(
            "Activities as planned, results against the planned indicators, deviations "
            "reported with their causes, co-financing accounted for."
        ),
        how_met=(
            "The programme quality report (indicators planned against actual), the deviation "
            "register and the final report."
        ),
        next_review_on=soon,
    )
    _party(
        session,
        lead,
        name="Arbetsförmedlingen Falun Borlänge",
        kind="employment_service",
        requirements=(
            "Participants from its priority groups, their activity reported, outcomes (work "
            "or studies) told at the end."
        ),
        how_met=(
            "Recruitment at its information meetings, a member in the reference group, the "
            "outcomes of each cohort reported."
        ),
        programme_id=via_id,
    )
    _party(
        session,
        lead,
        name="Likestillingssenteret",
        kind="partner_organisation",
        requirements="The training modules used as designed, and experience shared back.",
        how_met="Joint quality assurance in the partnership and the reference group meetings.",
    )
    _party(
        session,
        lead,
        name="The employers' mentor network",
        kind="partner_organisation",
        requirements="Mentors from its member companies matched with care and followed up.",
        how_met="Matching by profession and the mid-programme follow-up of every pair.",
        programme_id=career_id,
    )

    scope = context.get_scope(session, actor=lead)
    context.set_scope(
        session,
        actor=lead,
        data=ScopeUpdate.model_validate(
            {
                "coverage": (
                    "The mentor programmes the foundation runs for job-seeking immigrant "
                    "graduates and for immigrants with higher education in their "
                    "careers, in Falun and Borlänge and with the partner in Hamar: "
                    "recruitment with the employment service, screening, matching, training of "
                    "mentors and mentees, meetings, the mid-programme follow-up, closure and "
                    "evaluation, and the records and documents these keep."
                ),
                "exclusions": [
                    {
                        "clause": "8.3",
                        "reason": (
                            "The programmes follow the mentoring method collected and "
                            "quality-assured in the Via-mentoring project (the training "
                            "modules, EMCC's standards); the foundation designs no new "
                            "services. A change of method is made as a change of the "
                            "procedures."
                        ),
                    }
                ],
            }
        ),
        if_match=scope.version if scope else 0,
    )

    policy = procedures.create(
        session,
        actor=lead,
        data=ProcedureCreate.model_validate(
            {
                "code": POLICY_CODE,
                "title": "Quality policy",
                "owner_role": "quality_lead",
                "review_months": 12,
                "iso_clauses": ["5.2", "5.1.1"],
                "requirements": [],
                "content": POLICY,
                "change_summary": "First issue, approved by the board.",
            }
        ),
    )
    draft = procedures.open_version(policy)
    assert draft is not None
    for to, who in (("in_review", lead), ("approved", manager)):
        procedures.transition(
            session,
            actor=who,
            procedure_id=policy.id,
            number=draft.number,
            data=VersionTransition.model_validate(
                {"to": to, **confirmation_of("procedure_version", to)}
            ),
            if_match=draft.version,
        )
