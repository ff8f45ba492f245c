"""The demo's risks and opportunities, from the source reports: the three risks that came true
(co-financing that conflicted with another measure, a target group changed mid-way, a planned manual
not produced), the programmes' other risks, an opportunity, and actions that treat some of them."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from qms.actions import service as actions
from qms.actions.models import ActionType
from qms.actions.schemas import ActionCreate
from qms.db import utcnow
from qms.permissions import Actor
from qms.risks import service as risks
from qms.risks.enums import RiskKind, RiskStatus, Treatment
from qms.risks.models import Risk
from qms.risks.schemas import RiskCreate, RiskTransition


def _register(session: Session, lead: Actor, **fields: object) -> Risk:
    return risks.create(session, actor=lead, data=RiskCreate.model_validate(fields))


def _treat(session: Session, lead: Actor, risk: Risk) -> None:
    risks.transition(
        session,
        actor=lead,
        risk_id=risk.id,
        data=RiskTransition(to=RiskStatus.treated),
        if_match=risk.version,
    )


def register(session: Session, *, lead: Actor, via_id: int) -> dict[str, int]:
    """Register the three risks of the job programme that came true, before the deviations that
    name them; return their ids by a short name (co_financing, target_group, manual)."""
    review_on = utcnow().date() + timedelta(days=90)
    co_financing = _register(
        session,
        lead,
        kind=RiskKind.risk,
        programme_id=via_id,
        title="Co-financing conflicts with another measure",
        description=(
            "Participants' activity support from the employment service counts as the project's "
            "co-financing; a mentee who moves to another measure, or into work, takes it away."
        ),
        cause="The funding model counts participants' benefits as co-financing.",
        owner="demo-quality-lead",
        likelihood=3,
        consequence=4,
        treatment=Treatment.share,
        treatment_plan="Agree with the funder how co-financing is counted when a mentee leaves.",
        residual_likelihood=3,
        residual_consequence=2,
        review_on=review_on,
        requirements=["ISO9001:6.1"],
    )
    _treat(session, lead, co_financing)
    target_group = _register(
        session,
        lead,
        kind=RiskKind.risk,
        programme_id=via_id,
        title="Referring partner's priority groups differ from the planned target group",
        description=(
            "The target group was written into the application; the employment service refers "
            "from its own priority groups, so referrals may not match the plan."
        ),
        owner="demo-coordinator",
        likelihood=3,
        consequence=4,
        review_on=review_on,
        requirements=["ISO9001:6.1"],
    )
    manual = _register(
        session,
        lead,
        kind=RiskKind.risk,
        programme_id=via_id,
        title="Planned programme manual not produced",
        description="The activity plan promises a written manual that no one is given time for.",
        owner="demo-quality-lead",
        likelihood=2,
        consequence=2,
        treatment=Treatment.accept,
        treatment_reason=(
            "The training modules and the procedure library may cover the need; the funder is told "
            "if the manual is dropped."
        ),
        residual_likelihood=2,
        residual_consequence=2,
        review_on=review_on,
    )
    _treat(session, lead, manual)
    return {"co_financing": co_financing.id, "target_group": target_group.id, "manual": manual.id}


def load(
    session: Session, *, lead: Actor, via_id: int, career_id: int, realised: dict[str, int]
) -> None:
    """Register the programmes' and the organisation's other risks and an opportunity, and open
    preventive actions on some of them."""
    today = utcnow().date()
    co_financing = session.get(Risk, realised["co_financing"])
    assert co_financing is not None
    actions.create(
        session,
        actor=lead,
        data=ActionCreate(
            risk_ids=[co_financing.id],
            type=ActionType.preventive,
            title="Agree how co-financing is counted before the next application",
            action=(
                "The quality lead and the funder agree in writing how a mentee's move into work "
                "or to another measure is counted in the co-financing."
            ),
            owner="demo-quality-lead",
            due_on=date(today.year + 1, 3, 31),
        ),
    )
    dropout = _register(
        session,
        lead,
        kind=RiskKind.risk,
        programme_id=career_id,
        title="Mentors leave the programme when they change jobs",
        description=(
            "Mentors are managers in member companies; one who changes employer may leave the "
            "network and the pair with it."
        ),
        owner="demo-coordinator",
        likelihood=3,
        consequence=3,
        treatment=Treatment.reduce,
        treatment_plan="Each mentor names a stand-in from their company at matching.",
        residual_likelihood=2,
        residual_consequence=2,
        review_on=today + timedelta(days=60),
        requirements=["ISO9001:6.1", "MENTOR:matching"],
    )
    actions.create(
        session,
        actor=lead,
        data=ActionCreate(
            risk_ids=[dropout.id],
            type=ActionType.preventive,
            title="Name a stand-in mentor at matching",
            action="The matching form asks each mentor for a stand-in in their company.",
            owner="demo-coordinator",
            due_on=today + timedelta(days=45),
        ),
    )
    _register(
        session,
        lead,
        kind=RiskKind.opportunity,
        programme_id=career_id,
        title="Member companies offer work placements to mentees",
        description=(
            "Several member companies have asked whether mentees could have a placement with "
            "them; a placement is a step into a relevant position."
        ),
        owner="demo-coordinator",
        likelihood=3,
        consequence=4,
        treatment=Treatment.pursue,
        treatment_plan="Ask at the next mentor training which companies can take a mentee.",
        review_on=today + timedelta(days=30),
    )
    _register(
        session,
        lead,
        kind=RiskKind.risk,
        title="Only one person knows the procedure library",
        description=(
            "The quality lead keeps the procedures alone; an absence stops reviews and approvals."
        ),
        owner="demo-quality-lead",
        likelihood=2,
        consequence=4,
        # Past its review: it waits in the quality lead's work.
        review_on=today - timedelta(days=3),
        requirements=["ISO9001:7.2"],
    )
