"""`qms reminders` (preview, send, status), `qms scheduler`, and the reminder settings of
`qms users`."""

from __future__ import annotations

from typing import Annotated

import typer

from qms.cli.common import (
    database_of_work,
    err,
    failed,
    operator,
    out,
    shown_day,
    shown_moment,
    t,
    unit_of_work,
)
from qms.config import Settings

reminders_app = typer.Typer(
    help="Reminders by e-mail: preview, send, status.", no_args_is_help=True
)


def _settings() -> Settings:
    # Read afresh: a command's environment is what it says (not a value cached before).
    return Settings()


@reminders_app.command("preview")
def reminders_preview(
    user: Annotated[str, typer.Argument(help="The user's login.")],
) -> None:
    """Print the digest the user would get now, instead of sending it (nothing is written)."""
    from qms.db import utcnow
    from qms.notifications import service

    settings = _settings()
    now = utcnow()
    with unit_of_work(write=False) as session:
        digest = service.preview(
            session,
            actor=operator(),
            user_name=user,
            on=now.date(),
            now=now,
            horizon_days=settings.remind_days,
            public_url=settings.public_url,
        )
    if digest is None:
        err.print(t("Nothing to remind %(name)s of.") % {"name": user}, markup=False)
        return
    out.print(t("Subject: %(subject)s") % {"subject": digest.subject}, markup=False)
    out.print("", markup=False)
    out.print(digest.text, markup=False, highlight=False, soft_wrap=True)


@reminders_app.command("send")
def reminders_send() -> None:
    """Queue today's reminders and send each person's digest now (once a day at most each)."""
    from qms.db import utcnow
    from qms.scheduler import due_day, held, run_reminders

    settings = _settings()
    if not settings.smtp_url:
        err.print(t("QMS_SMTP_URL is not set: the reminders are queued, not sent."), markup=False)
    now = utcnow()
    with database_of_work() as database, held(database, "reminders", now=now) as mine:
        if not mine:
            # A scheduler is sending them now: sending beside it could say something twice.
            failed(t("The reminders are being sent by a scheduler now: try again later."))
            raise typer.Exit(1)
        summary = run_reminders(database, now, due_day(now, settings), settings)
    err.print(summary, markup=False)


@reminders_app.command("status")
def reminders_status() -> None:
    """Say how many reminders are pending, failing (waiting to be tried again) and sent."""
    from qms.notifications import service
    from qms.scheduler import last_runs

    with database_of_work() as database:
        with database.unit_of_work(write=False) as session:
            state = service.status(session)
        runs = last_runs(database)
    out.print(
        t("%(pending)s pending (%(failing)s failing), %(sent)s sent")
        % {"pending": state.pending, "failing": state.failing, "sent": state.sent},
        markup=False,
    )
    if state.oldest_pending_on is not None:
        out.print(
            t("oldest pending: %(day)s") % {"day": shown_day(state.oldest_pending_on)},
            markup=False,
        )
    if state.last_error:
        out.print(
            t("last failure: %(error)s; next try %(moment)s")
            % {"error": state.last_error, "moment": shown_moment(state.next_attempt_at)},
            markup=False,
        )
    for job, day in runs.items():
        out.print(
            t("%(job)s last ran for %(day)s") % {"job": job, "day": shown_day(day) or t("none")},
            markup=False,
        )


def scheduler(
    poll: Annotated[
        float, typer.Option(help="Seconds between looks at the clock.", min=1.0)
    ] = 30.0,
    once: Annotated[bool, typer.Option(help="Run what is due once, then stop.")] = False,
) -> None:
    """Run the rule check and the reminders daily at QMS_SCHEDULE_AT (catching up at start)."""
    import logging

    from qms import scheduler as schedule

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = _settings()

    def said(outcomes: list[schedule.Outcome]) -> None:
        for o in outcomes:
            if o.ran or o.summary not in ("ran already", "held by another scheduler"):
                err.print(f"{o.job} {shown_day(o.day)}: {o.summary}", markup=False)

    err.print(
        t("scheduler: daily at %(at)s (%(zone)s)")
        % {"at": settings.schedule_at, "zone": settings.timezone},
        markup=False,
    )
    with database_of_work() as database:
        schedule.loop(database, poll_seconds=poll, cycles=1 if once else None, on_pass=said)


def add_user_commands(users_app: typer.Typer) -> None:
    """Add the reminder settings to `qms users`."""

    @users_app.command("contact")
    def users_contact(
        name: Annotated[str, typer.Argument(help="The user's login.")],
        email: Annotated[str, typer.Option(help='Where reminders go; "" for none (no reminders).')],
        language: Annotated[
            str | None, typer.Option(help="en, nb or sv: the language of the reminders.")
        ] = None,
    ) -> None:
        """Set where a user's reminders go and their language."""
        from qms.notifications import service

        with unit_of_work() as session:
            service.set_contact(
                session, actor=operator(), user_name=name, email=email, language=language
            )
        err.print(t("%(name)s: reminder address set") % {"name": name}, markup=False)

    @users_app.command("reminders")
    def users_reminders(
        name: Annotated[str, typer.Argument(help="The user's login.")],
        off: Annotated[
            list[str] | None,
            typer.Option(
                "--off",
                help="A kind of reminder the user does not get (repeat for several): assigned, "
                "due_soon, overdue, approval_waiting, follow_up_due, procedure_review_due, "
                "deviation_opened_by_rule.",
            ),
        ] = None,
    ) -> None:
        """Set the kinds of reminder a user does not get (none named: all of them again)."""
        from qms.notifications import service

        with unit_of_work() as session:
            user = service.set_opt_outs(
                session, actor=operator(), user_name=name, opt_outs=off or []
            )
            kinds = list(user.reminder_opt_outs)
        err.print(
            t("%(name)s gets no reminders of: %(kinds)s")
            % {"name": name, "kinds": ", ".join(kinds) or t("none")},
            markup=False,
        )
