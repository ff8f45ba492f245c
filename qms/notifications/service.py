"""Reminders by e-mail: queue what each person should be told, write their daily digest in their
language, send it once, and keep what an SMTP server refused pending until it takes it."""

from __future__ import annotations

import html
import logging
import re
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from qms import i18n, work
from qms.accounts.models import User
from qms.actions.enums import ActionStatus
from qms.actions.models import CorrectiveAction
from qms.audit.models import AuditEvent
from qms.audit.service import record_event
from qms.checks.models import RuleFinding
from qms.deviations.enums import DeviationStatus
from qms.deviations.models import Deviation
from qms.errors import FieldError, Forbidden, NotFound, ValidationFailed
from qms.i18n import N_, Text
from qms.notifications import mail
from qms.notifications.models import Reminder, ReminderKind, ReminderStatus
from qms.permissions import Action, Actor, Role, require

log = logging.getLogger("qms.notifications")

# Kinds said once for a record (the first day it applies); an overdue record is said every day.
ONCE = frozenset(set(ReminderKind) - {ReminderKind.overdue})
# A record made or a deviation opened this many days ago or less is news.
NEWS_DAYS = 2
# A failed attempt waits 5 minutes, then 10, 20, … at most 6 hours, before it is tried again.
FIRST_WAIT = timedelta(minutes=5)
LONGEST_WAIT = timedelta(hours=6)
# An address as people write one; the server says the rest.
ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")

# The headings of the digest, one a kind, in the order the digest gives them.
HEADINGS: dict[ReminderKind, str] = {
    ReminderKind.overdue: N_("Overdue"),
    ReminderKind.due_soon: N_("Due soon"),
    ReminderKind.assigned: N_("Assigned to you"),
    ReminderKind.approval_waiting: N_("Approvals and reviews waiting for you"),
    ReminderKind.follow_up_due: N_("Follow-ups due"),
    ReminderKind.procedure_review_due: N_("Procedure reviews due"),
    ReminderKind.deviation_opened_by_rule: N_("Deviations opened by a rule"),
    ReminderKind.acknowledgement_due: N_("Procedures to acknowledge as read and understood"),
}


@dataclass
class Digest:
    """One person's e-mail of the day: to whom, in which language, and what it says."""

    user: User
    language: str
    reminders: list[Reminder]
    subject: str = ""
    text: str = ""
    html: str = ""
    kinds: list[str] = field(default_factory=list)


def language_of(user: User) -> str:
    """Return the language a person reads their e-mail in (English unless they chose one)."""
    return user.language if user.language in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE


def actor_of(user: User) -> Actor:
    """Return the person as the services see them (unscoped: all their programmes)."""
    return Actor(user_id=user.id, name=user.name, role=user.role, display_name=user.display_name)


def _reminder(user: User, kind: ReminderKind, item: work.WorkItem, on: date) -> Reminder:
    return Reminder(
        user_id=user.id,
        kind=kind,
        record=item.record,
        record_id=item.record_id,
        number=item.number[:40],
        title=item.title[:200],
        due_on=item.due_on,
        link=item.link,
        queued_on=on,
        status=ReminderStatus.pending,
        attempts=0,
    )


def _kind_of(item: work.WorkItem, on: date, horizon: date) -> ReminderKind | None:
    if item.kind in (
        work.WorkKind.deviation_due,
        work.WorkKind.action_due,
        work.WorkKind.verification_due,
        work.WorkKind.provider_evaluation_due,
        work.WorkKind.objective_due,
        work.WorkKind.complaint_to_acknowledge,
        work.WorkKind.complaint_to_answer,
    ):
        if item.overdue:
            return ReminderKind.overdue
        return ReminderKind.due_soon if item.due_on and item.due_on <= horizon else None
    if item.kind in (
        work.WorkKind.approval_waiting,
        work.WorkKind.internal_audit_waiting,
        work.WorkKind.management_review_waiting,
    ):
        return ReminderKind.approval_waiting
    if item.kind is work.WorkKind.follow_up_due:
        return ReminderKind.follow_up_due
    if item.kind is work.WorkKind.acknowledgement_due:
        # Asked once; past its due day it is overdue, said every day until done.
        return ReminderKind.overdue if item.overdue else ReminderKind.acknowledgement_due
    return ReminderKind.procedure_review_due


def candidates(
    session: Session, *, user: User, on: date, now: datetime, horizon_days: int
) -> list[Reminder]:
    """Return what the person should be told today and has not been (unsaved, opted-out kinds
    left out)."""
    found = found_for(session, user=user, on=on, now=now, horizon_days=horizon_days)
    off = set(user.reminder_opt_outs or [])
    known = {
        (r.kind, r.record, r.record_id, r.queued_on if r.kind not in ONCE else None)
        for r in session.scalars(select(Reminder).where(Reminder.user_id == user.id))
    }
    fresh: list[Reminder] = []
    seen: set[tuple[object, ...]] = set()
    for r in found:
        key = (r.kind, r.record, r.record_id, on if r.kind not in ONCE else None)
        if r.kind.value in off or key in known or key in seen:
            continue
        seen.add(key)
        fresh.append(r)
    return fresh


def found_for(
    session: Session, *, user: User, on: date, now: datetime, horizon_days: int
) -> list[Reminder]:
    """Return everything the person could be told of today, told before or not (unsaved)."""
    horizon = on + timedelta(days=horizon_days)
    actor = actor_of(user)
    found: list[Reminder] = []
    waiting = work.waiting_for(session, actor=actor, on=on, horizon_days=horizon_days)
    for item in waiting.items:
        kind = _kind_of(item, on, horizon)
        if kind is not None:
            found.append(_reminder(user, kind, item, on))
    since = now - timedelta(days=NEWS_DAYS)
    news: list[CorrectiveAction] = list(
        session.scalars(
            select(CorrectiveAction)
            .where(
                CorrectiveAction.owner_id == user.id,
                CorrectiveAction.status.in_((ActionStatus.planned, ActionStatus.in_progress)),
                CorrectiveAction.created_at >= since,
            )
            .order_by(CorrectiveAction.id)
        )
    )
    handed = _handed_over(session, user, since)
    # A record already said as due or overdue is not said again as news.
    said = {(r.record, r.record_id) for r in found}
    news = [
        *news,
        *session.scalars(
            select(CorrectiveAction)
            .where(
                CorrectiveAction.id.in_(handed.get("action", set())),
                CorrectiveAction.owner_id == user.id,
                CorrectiveAction.status.in_((ActionStatus.planned, ActionStatus.in_progress)),
            )
            .order_by(CorrectiveAction.id)
        ),
    ]
    for a in dict.fromkeys(news):
        if ("corrective_action", a.id) in said:
            continue
        item = work.WorkItem(
            kind=work.WorkKind.action_due,
            record="corrective_action",
            record_id=a.id,
            number=a.number,
            title=a.title,
            due_on=a.due_on,
            overdue=a.due_on < on,
            link=f"/actions/{a.id}",
        )
        found.append(_reminder(user, ReminderKind.assigned, item, on))
    # A deviation given to the person to see through, by someone else, is news too.
    for d in session.scalars(
        select(Deviation)
        .where(
            Deviation.id.in_(handed.get("deviation", set())),
            Deviation.owner_id == user.id,
            Deviation.status != DeviationStatus.closed,
        )
        .order_by(Deviation.id)
    ):
        if ("deviation", d.id) in said:
            continue
        item = work.WorkItem(
            kind=work.WorkKind.deviation_due,
            record="deviation",
            record_id=d.id,
            number=d.number,
            title=d.title,
            due_on=d.due_on,
            overdue=d.due_on is not None and d.due_on < on,
            link=f"/deviations/{d.id}",
        )
        found.append(_reminder(user, ReminderKind.assigned, item, on))
    if user.role is Role.quality_lead:
        opened = session.execute(
            select(Deviation)
            .join(RuleFinding, RuleFinding.deviation_id == Deviation.id)
            .where(RuleFinding.created_at >= since, Deviation.status != DeviationStatus.closed)
            .order_by(Deviation.id)
        ).scalars()
        for d in dict.fromkeys(opened):
            item = work.WorkItem(
                kind=work.WorkKind.action_due,
                record="deviation",
                record_id=d.id,
                number=d.number,
                title=d.title,
                due_on=None,
                overdue=False,
                link=f"/deviations/{d.id}",
            )
            found.append(_reminder(user, ReminderKind.deviation_opened_by_rule, item, on))
    return found


def _handed_over(session: Session, user: User, since: datetime) -> dict[str, set[int]]:
    """Return the deviations and actions someone else made the person the owner of since then,
    by kind, as the trail records it (a new record with them as owner, or an owner changed)."""
    handed: dict[str, set[int]] = {}
    events = session.execute(
        select(AuditEvent.entity, AuditEvent.entity_id, AuditEvent.changes).where(
            AuditEvent.at >= since,
            AuditEvent.entity.in_(("deviation", "action")),
            AuditEvent.action.in_(("deviation.updated", "action.updated", "deviation.created")),
            AuditEvent.actor != user.name,
        )
    )
    for entity, entity_id, changes in events:
        owner = (changes or {}).get("owner")
        if isinstance(owner, dict) and owner.get("new") == user.name and entity_id:
            handed.setdefault(entity, set()).add(int(entity_id))
    return handed


def recipients(session: Session) -> Sequence[User]:
    """Return the active people with an e-mail address, by name."""
    return session.scalars(
        select(User).where(User.is_active.is_(True), User.email.is_not(None)).order_by(User.name)
    ).all()


def queue(
    session: Session, *, actor: Actor, on: date, now: datetime, horizon_days: int
) -> dict[str, int]:
    """Queue today's reminders of every person with an address; return how many each got."""
    queued: dict[str, int] = {}
    for user in recipients(session):
        fresh = candidates(session, user=user, on=on, now=now, horizon_days=horizon_days)
        if not fresh:
            continue
        session.add_all(fresh)
        session.flush()
        kinds = sorted({r.kind.value for r in fresh})
        record_event(
            session,
            actor=actor,
            action="reminder.queued",
            entity="user",
            entity_id=user.id,
            changes={"kinds": {"old": None, "new": kinds}, "count": {"old": 0, "new": len(fresh)}},
        )
        queued[user.name] = len(fresh)
    return queued


def _line(r: Reminder, language: str) -> str:
    due = ""
    if r.due_on is not None:
        due = Text("due %(day)s", day=r.due_on).in_language(language)
    return " · ".join(part for part in (f"{r.number} {r.title}", due) if part)


def compose(user: User, reminders: Sequence[Reminder], *, public_url: str, on: date) -> Digest:
    """Write the person's digest of the reminders in their language: plain text and HTML."""
    language = language_of(user)
    base = public_url.rstrip("/")
    ordered = sorted(
        reminders, key=lambda r: (list(HEADINGS).index(r.kind), r.due_on or date.max, r.number)
    )
    # A record is said once, under its most pressing kind (an overdue action, not also "assigned").
    shown: dict[tuple[str, int], Reminder] = {}
    for r in ordered:
        shown.setdefault((r.record, r.record_id), r)
    said = list(shown.values())
    count = len(said)
    subject = i18n.translations(language).ngettext(
        "mentor-qms: %(num)s thing waits for you",
        "mentor-qms: %(num)s things wait for you",
        count,
    ) % {"num": count}
    name = user.display_name or user.name
    greeting = Text("Hello %(name)s,", name=name).in_language(language)
    opening = Text("This is what waits for you in mentor-qms on %(day)s.", day=on).in_language(
        language
    )
    page_url = base + "/my-work"
    choose = Text("Choose which reminders you get on your page: %(url)s", url=page_url).in_language(
        language
    )
    text_parts = [greeting, "", opening, ""]
    html_parts = [
        f'<html lang="{language}"><body>',
        f"<p>{html.escape(greeting)}</p>",
        f"<p>{html.escape(opening)}</p>",
    ]
    kinds = [k.value for k in HEADINGS if any(r.kind is k for r in ordered)]
    for kind, heading in HEADINGS.items():
        mine = [r for r in said if r.kind is kind]
        if not mine:
            continue
        title = i18n.translate(heading, language)
        text_parts += [title, "-" * len(title)]
        html_parts += [f"<h2>{html.escape(title)}</h2>", "<ul>"]
        for r in mine:
            url = base + r.link
            line = _line(r, language)
            text_parts += [f"- {line}", f"  {url}"]
            html_parts.append(f'<li><a href="{html.escape(url)}">{html.escape(line)}</a></li>')
        text_parts.append("")
        html_parts.append("</ul>")
    text_parts.append(choose)
    html_parts += [
        "<p>"
        + html.escape(choose).replace(
            html.escape(page_url),
            f'<a href="{html.escape(page_url)}">{html.escape(page_url)}</a>',
        )
        + "</p>",
        "</body></html>",
    ]
    return Digest(
        user=user,
        language=language,
        reminders=list(ordered),
        subject=subject,
        text="\n".join(text_parts) + "\n",
        html="\n".join(html_parts) + "\n",
        kinds=kinds,
    )


def message_of(digest: Digest, *, sender: str) -> EmailMessage:
    """Return the digest as an e-mail: plain text with an HTML alternative."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = digest.user.email or ""
    message["Subject"] = digest.subject
    message["Message-ID"] = make_msgid(domain="mentor-qms")
    message.set_content(digest.text)
    message.add_alternative(digest.html, subtype="html")
    # After the parts: setting the content replaces the headers that describe it.
    message["Content-Language"] = digest.language
    return message


def due_users(session: Session, *, now: datetime) -> list[int]:
    """Return the people whose pending reminders may be tried now."""
    rows = session.scalars(
        select(Reminder.user_id)
        .where(
            Reminder.status == ReminderStatus.pending,
            (Reminder.next_attempt_at.is_(None)) | (Reminder.next_attempt_at <= now),
        )
        .distinct()
        .order_by(Reminder.user_id)
    )
    return list(rows)


def pending_of(session: Session, user_id: int) -> list[Reminder]:
    """Return a person's pending reminders, oldest first."""
    return list(
        session.scalars(
            select(Reminder)
            .where(Reminder.user_id == user_id, Reminder.status == ReminderStatus.pending)
            .order_by(Reminder.queued_on, Reminder.id)
        )
    )


def wait_after(attempts: int) -> timedelta:
    """Return how long to wait after the given number of failed attempts."""
    wait: timedelta = FIRST_WAIT * (2 ** max(attempts - 1, 0))
    return min(wait, LONGEST_WAIT)


def deliver(
    session: Session,
    *,
    actor: Actor,
    user_id: int,
    server: mail.SmtpServer,
    sender: str,
    public_url: str,
    now: datetime,
) -> bool:
    """Send one person's pending reminders as one digest; say whether the server took it. On a
    failure the reminders stay pending and wait before they are tried again."""
    user = session.get(User, user_id)
    reminders = pending_of(session, user_id)
    if user is None or not reminders:
        return False
    if not user.is_active or not user.email:
        # Nobody to tell any more: the reminders wait, should an address come.
        return False
    digest = compose(user, reminders, public_url=public_url, on=now.date())
    try:
        mail.send(server, [message_of(digest, sender=sender)])
    except (OSError, smtplib.SMTPException) as error:
        reason = f"{type(error).__name__}: {error}"[:500]
        log.warning("reminders to user %s not sent by %s: %s", user.id, server.where, reason)
        for r in reminders:
            r.attempts += 1
            r.last_error = reason
            r.next_attempt_at = now + wait_after(r.attempts)
        session.flush()
        record_event(
            session,
            actor=actor,
            action="reminder.failed",
            entity="user",
            entity_id=user.id,
            changes={"count": {"old": None, "new": len(reminders)}},
            reason=reason,
        )
        return False
    for r in reminders:
        r.status = ReminderStatus.sent
        r.sent_at = now
        r.attempts += 1
        r.next_attempt_at = None
    session.flush()
    record_event(
        session,
        actor=actor,
        action="reminder.sent",
        entity="user",
        entity_id=user.id,
        changes={
            "kinds": {"old": None, "new": digest.kinds},
            "count": {"old": None, "new": len(reminders)},
        },
    )
    return True


def preview(
    session: Session,
    *,
    actor: Actor,
    user_name: str,
    on: date,
    now: datetime,
    horizon_days: int,
    public_url: str,
) -> Digest | None:
    """Return the digest the person would get now (pending and new reminders), writing nothing;
    none when there is nothing to say."""
    require(actor, Action.user_manage)
    user = _user(session, user_name)
    reminders = [
        *pending_of(session, user.id),
        *candidates(session, user=user, on=on, now=now, horizon_days=horizon_days),
    ]
    session.expunge_all()
    if not reminders:
        return None
    return compose(user, reminders, public_url=public_url, on=on)


@dataclass
class Status:
    """Where the send log stands."""

    pending: int
    failing: int
    sent: int
    next_attempt_at: datetime | None
    last_error: str | None
    oldest_pending_on: date | None


def status(session: Session) -> Status:
    """Report the reminders pending, those failing (tried and refused), and those sent."""

    def count(*where: ColumnElement[bool]) -> int:
        return session.scalar(select(func.count()).select_from(Reminder).where(*where)) or 0

    pending = Reminder.status == ReminderStatus.pending
    failing = session.scalars(
        select(Reminder).where(pending, Reminder.attempts > 0).order_by(Reminder.next_attempt_at)
    ).first()
    return Status(
        pending=count(pending),
        failing=count(pending, Reminder.attempts > 0),
        sent=count(Reminder.status == ReminderStatus.sent),
        next_attempt_at=failing.next_attempt_at if failing else None,
        last_error=failing.last_error if failing else None,
        oldest_pending_on=session.scalar(select(func.min(Reminder.queued_on)).where(pending)),
    )


def _user(session: Session, name: str) -> User:
    user = session.scalars(select(User).where(User.name == name)).first()
    if user is None:
        raise NotFound(Text("No user %(name)s.", name=name))
    return user


# Roles that read and change nothing (an auditor, an import script): their reminders are an
# admin's to set.
READ_ONLY = (Role.auditor, Role.importer)


def may_set_own(actor: Actor) -> bool:
    """Say whether the actor may set their own reminders (every role that changes records)."""
    return actor.role not in READ_ONLY


def _require_may_set(actor: Actor, user_name: str) -> None:
    if actor.name != user_name:
        # Another person's reminders: an admin's to set.
        require(actor, Action.user_manage)
    elif not may_set_own(actor):
        if not actor.can(Action.user_manage):
            raise Forbidden(
                Text(
                    "Your role, %(role)s, changes nothing: an admin sets your reminders.",
                    role=actor.role,
                )
            )


def set_contact(
    session: Session, *, actor: Actor, user_name: str, email: str | None, language: str | None
) -> User:
    """Set where a person's reminders go and their language (the address stays out of the
    trail: the event says only that it changed)."""
    _require_may_set(actor, user_name)
    user = _user(session, user_name)
    email = (email or "").strip() or None
    if email is not None and (len(email) > 320 or not ADDRESS.match(email)):
        raise ValidationFailed(
            Text("%(value)s is not an e-mail address.", value=email),
            [FieldError("email", Text("Enter an address such as kari@example.org."))],
        )
    if language is not None and language not in i18n.LANGUAGES:
        raise ValidationFailed(
            Text("%(value)s is not a language of the service.", value=language),
            [FieldError("language", Text("Choose one of the languages offered."))],
        )
    changes: dict[str, dict[str, object]] = {}
    if email != user.email:
        changes["email"] = {"old": "set" if user.email else None, "new": "set" if email else None}
        user.email = email
    if language != user.language:
        changes["language"] = {"old": user.language, "new": language}
        user.language = language
    if changes:
        session.flush()
        record_event(
            session,
            actor=actor,
            action="user.contact_changed",
            entity="user",
            entity_id=user.id,
            changes=changes,
        )
    return user


def set_opt_outs(
    session: Session, *, actor: Actor, user_name: str, opt_outs: Sequence[str]
) -> User:
    """Set the kinds of reminder a person does not want (by themselves, or by an admin)."""
    _require_may_set(actor, user_name)
    user = _user(session, user_name)
    known = {k.value for k in ReminderKind}
    unknown = [k for k in opt_outs if k not in known]
    if unknown:
        raise ValidationFailed(
            Text("%(value)s is not a kind of reminder.", value=", ".join(unknown)),
            [FieldError("opt_outs", Text("Choose among the kinds of reminder offered."))],
        )
    chosen = sorted(set(opt_outs), key=[k.value for k in ReminderKind].index)
    before = list(user.reminder_opt_outs or [])
    if chosen != before:
        user.reminder_opt_outs = chosen
        session.flush()
        record_event(
            session,
            actor=actor,
            action="user.reminders_changed",
            entity="user",
            entity_id=user.id,
            changes={"reminder_opt_outs": {"old": before, "new": chosen}},
        )
    return user
