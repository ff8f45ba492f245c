"""Context and scope of the quality system (ISO 9001 4.1-4.3, 5.2): the internal and external
issues, the interested parties with their requirements and how they are met, the scope with the
requirements not applicable and why, and the quality policy in force."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from qms.config import get_settings
from qms.context import service as context
from qms.context.models import POLICY_CODE, ContextIssue, InterestedParty, IssueStatus
from qms.documents import markdown
from qms.documents.base import Draft, data_hash, day, people, person, table_or_none, title_in
from qms.documents.style import HouseDocument, Issue
from qms.i18n import N_, label, translate
from qms.permissions import Actor
from qms.programmes import service as programmes

TITLE = N_("Context and scope of the quality system")
CODE = "QMS-CTX"


def context_and_scope(
    session: Session, actor: Actor, as_of: datetime, language: str, programme_id: int | None = None
) -> Draft:
    """The context, the interested parties, the scope and the policy as the reader may see them;
    with a programme, its issues and parties and the organisation's."""
    if programme_id is not None:
        programmes.get_programme(session, actor=actor, programme_id=programme_id)
    today = as_of.date()
    whole = translate("The whole organisation", language)
    due = translate("%(day)s (due)", language)
    codes = {
        p.id: p.code for p in programmes.list_programmes(session, actor=actor, limit=200).items
    }

    def review(on: date, is_due: bool) -> str:
        shown = day(on, language)
        return due % {"day": shown} if is_due else shown

    issues: list[ContextIssue] = []
    cursor = None
    while True:
        page = context.list_issues(session, actor=actor, limit=200, cursor=cursor)
        issues.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    parties: list[InterestedParty] = []
    cursor = None
    while True:
        found = context.list_parties(session, actor=actor, limit=200, cursor=cursor)
        parties.extend(found.items)
        cursor = found.next_cursor
        if cursor is None:
            break
    names = people(session)
    issue_rows = [
        [
            i.number,
            label(i.origin, language),
            i.title,
            i.description,
            i.effect,
            codes.get(i.programme_id, "") if i.programme_id else whole,
            label(i.status, language),
            review(i.next_review_on, i.status is IssueStatus.current and i.next_review_on <= today),
        ]
        for i in issues
        if programme_id is None or i.programme_id in (None, programme_id)
    ]
    party_rows = [
        [
            p.number,
            p.name,
            label(p.kind, language),
            p.requirements,
            p.how_met,
            codes.get(p.programme_id, "") if p.programme_id else whole,
            review(p.next_review_on, p.ended_on is None and p.next_review_on <= today),
        ]
        for p in parties
        if (p.ended_on is None or p.ended_on > today)
        and (programme_id is None or p.programme_id in (None, programme_id))
    ]
    scope = context.scope_to_read(context.get_scope(session, actor=actor))
    exclusion_rows = [[f"ISO 9001 {e.clause}", e.reason] for e in scope.exclusions]
    policy = context.effective_policy(session, on=today)
    data = {
        "issues": issue_rows,
        "parties": party_rows,
        "scope": [scope.coverage, exclusion_rows, scope.version],
        "policy": [policy.content_sha256, policy.number] if policy else None,
    }
    title = title_in(TITLE, language)
    issue = Issue(get_settings().organisation, title, CODE, as_of, as_of, data_hash(data), language)
    doc = HouseDocument(issue, landscape=True)

    doc.heading(translate("Scope of the quality management system", language))
    if scope.version:
        doc.paragraph(scope.coverage)
        doc.heading(translate("Requirements not applicable", language), 2)
        if exclusion_rows:
            doc.table(
                [translate("Requirement", language), translate("Why it does not apply", language)],
                exclusion_rows,
            )
        else:
            doc.paragraph(translate("Every requirement of ISO 9001 applies.", language))
    else:
        doc.paragraph(translate("No scope has been set yet.", language))

    doc.heading(translate("Internal and external issues", language))
    table_or_none(
        doc,
        [
            translate("Number", language),
            translate("Internal or external", language),
            translate("Title", language),
            translate("Issue", language),
            translate("Effect on the programmes", language),
            translate("Programme", language),
            translate("Status", language),
            translate("Next review", language),
        ],
        issue_rows,
        language,
    )
    doc.heading(translate("Interested parties", language))
    table_or_none(
        doc,
        [
            translate("Number", language),
            translate("Name", language),
            translate("Kind", language),
            translate("Requirements", language),
            translate("How they are met", language),
            translate("Programme", language),
            translate("Next review", language),
        ],
        party_rows,
        language,
    )

    doc.heading(translate("Quality policy", language))
    if policy is None:
        doc.paragraph(translate("No quality policy is in force.", language))
    else:
        doc.definitions(
            [
                (translate("Code", language), POLICY_CODE),
                (translate("Version", language), str(policy.number)),
                (translate("Approved by", language), person(names, policy.approved_by)),
                (translate("Effective", language), day(policy.effective_from, language)),
                (translate("Next review", language), day(policy.next_review_on, language)),
            ]
        )
        markdown.render(doc, policy.content)
    return Draft("context", title, CODE, doc.to_bytes(), issue.data_sha256, programme_id)
