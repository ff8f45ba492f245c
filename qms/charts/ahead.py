"""Pictures drawn ahead: after records change, the service draws the charts of the documents
people make from them in the background, so a report asked for finds its pictures kept.

A chart's picture is named by its figures (qms.charts.kept), so drawing ahead draws only what a
change changed: a chart whose figures stayed the same is found kept. What is drawn ahead: each
programme's quality report over the period a report covers when none is asked for, and each
management review not closed or cancelled (its record and the input for its period show the
same trends), in each language the organisation's people read (the ones they chose, and
English).

When: a few seconds after a change is committed in the service, once the writes pause (QUIET),
and at the latest LONGEST after the first change waiting; every POLL seconds for the changes of
other processes (the command line, the service's other workers); for everything when the service
starts and as each day begins (a period's months move on). What changed is read from the audit
trail: the programmes of its events since the last drawing, of the kinds of record the charts
draw from (a record of no one programme: all of them). A drawing that fails is logged and tried
at the next change: a report then draws what it needs itself, as it would without this.

The pictures are shared by the service's processes where they are kept on disk (beside a SQLite
database, or QMS_CHART_CACHE_DIR); elsewhere each process keeps the few it drew last.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import event, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

from qms.audit.service import CHANGED
from qms.config import get_settings
from qms.db import Database, utcnow
from qms.permissions import Actor, Role

log = logging.getLogger("qms.charts")

# Seconds without a change before drawing, and the longest a change waits while writes go on;
# how often the trail is looked at for changes made by other processes.
QUIET = 3.0
LONGEST = 60.0
POLL = 60.0
# The records the documents' charts draw from (the trail's entities): a change to any other
# (a user, a token, a procedure) draws nothing. One missing here is never a wrong picture, only
# a picture drawn when the report is made.
DRAWN_FROM = (
    "action",
    "cohort",
    "deviation",
    "evaluation_batch",
    "follow_up",
    "indicator",
    "instrument",
    "management_review",
    "meeting",
    "pair",
    "participant",
    "programme",
)
# Who reads the records to draw ahead (reads leave no trail).
READER = Actor(user_id=None, name="charts", role=Role.admin)
# The drawers at work, by the pool of the engine whose commits they follow (shared by the views
# of the engine that its units of work are bound to).
_DRAWERS: dict[Pool, Drawer] = {}


def draw_ahead(
    database: Database, *, now: datetime | None = None, programmes: Collection[int] | None = None
) -> int:
    """Draw the pictures of the documents made most often, as they would be made now: of the
    programmes given (and the reviews of the whole organisation), or of every one; return how
    many documents were looked at. A document that cannot be made is logged and passed."""
    from qms.accounts.models import User
    from qms.audits.models import ManagementReview, ReviewStatus
    from qms.documents import reports, system
    from qms.i18n import DEFAULT_LANGUAGE, LANGUAGES
    from qms.programmes.models import Programme

    when = (now or utcnow()).replace(microsecond=0)
    with database.unit_of_work(write=False) as session:
        chosen = session.scalars(
            select(User.language).where(User.is_active.is_(True)).distinct()
        ).all()
        chosen_programmes = select(Programme.id).order_by(Programme.id)
        reviews = (
            select(ManagementReview.id)
            .where(ManagementReview.status.in_((ReviewStatus.planned, ReviewStatus.held)))
            .order_by(ManagementReview.id)
        )
        if programmes is not None:
            chosen_programmes = chosen_programmes.where(Programme.id.in_(programmes))
            reviews = reviews.where(
                ManagementReview.programme_id.is_(None)
                | ManagementReview.programme_id.in_(programmes)
            )
        programme_ids = session.scalars(chosen_programmes).all()
        open_reviews = session.scalars(reviews).all()
    languages = [n for n in LANGUAGES if n == DEFAULT_LANGUAGE or n in chosen]
    documents: list[tuple[Callable[..., object], int]] = [
        *((reports.quality_report, programme_id) for programme_id in programme_ids),
        *((system.management_review, review_id) for review_id in open_reviews),
    ]
    made = 0
    for language in languages:
        for make, record_id in documents:
            # A unit of work each: no reading transaction is held for the whole round.
            try:
                with database.unit_of_work(write=False) as session:
                    make(session, READER, when, language, record_id)
            except Exception as error:  # one document that fails leaves the others drawn
                log.warning("charts not drawn ahead for %s %s: %s", make.__name__, record_id, error)
                continue
            made += 1
    return made


class Drawer:
    """The thread that draws ahead for one database. What changed is read from the audit trail
    (every write leaves its event there, with its programme): the events since the last drawing
    whose records the charts draw from. It looks when this process commits a change, every POLL
    seconds (changes made by other processes: the command line, the service's other workers),
    and draws everything at its start and as each day begins."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._changed = threading.Event()
        self._stopping = threading.Event()
        self._idle = threading.Event()
        self._thread: threading.Thread | None = None
        # The trail's length when last drawn for; None: draw for everything.
        self._seen: int | None = None
        # How many times it has drawn ahead (for the tests and the log).
        self.rounds = 0

    def changed(self) -> None:
        """Say that records have changed (the trail has grown)."""
        self._idle.clear()
        self._changed.set()

    def start(self) -> None:
        """Start drawing ahead (first for the records as they are)."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._seen = None
        _DRAWERS[self.database.engine.pool] = self
        self.changed()
        self._thread = threading.Thread(target=self._run, name="qms-charts-ahead", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the thread (a drawing under way is finished first)."""
        _DRAWERS.pop(self.database.engine.pool, None)
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            self._changed.set()
            thread.join()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every change said has been drawn for; return whether it was."""
        return self._idle.wait(timeout)

    def _run(self) -> None:
        day = _here().date()
        while not self._stopping.is_set():
            self._changed.wait(min(POLL, _until_tomorrow()))
            if _here().date() != day:
                day, self._seen = _here().date(), None  # a new day: every period moved on
            if not self._settle():
                return
            try:
                self._draw()
            except Exception as error:  # the thread must outlive a drawing that failed
                log.warning("the documents' charts could not be drawn ahead: %s", error)
            if not self._changed.is_set():
                self._idle.set()

    def _settle(self) -> bool:
        """Wait until the changes pause (or have waited LONGEST); return False when stopping."""
        since = time.monotonic()
        while True:
            self._changed.clear()
            if self._stopping.is_set():
                return False
            left = LONGEST - (time.monotonic() - since)
            if left <= 0 or not self._changed.wait(min(QUIET, left)):
                return not self._stopping.is_set()

    def _draw(self) -> None:
        """Draw for the programmes whose records changed since the trail's length last seen."""
        from qms.audit.models import AuditChainHead, AuditEvent

        with self.database.unit_of_work(write=False) as session:
            length = session.scalar(select(AuditChainHead.count)) or 0
            if self._seen is None:
                programmes: set[int] | None = None
            elif length == self._seen:
                return
            else:
                changed = set(
                    session.execute(
                        select(AuditEvent.programme_id)
                        .where(
                            AuditEvent.seq > self._seen,
                            AuditEvent.seq <= length,
                            AuditEvent.entity.in_(DRAWN_FROM),
                        )
                        .distinct()
                    ).scalars()
                )
                # None: a record of no one programme (the organisation's, or a batch of several).
                programmes = None if None in changed else {n for n in changed if n is not None}
        if programmes is None or programmes:
            draw_ahead(self.database, programmes=programmes)
            self.rounds += 1
        # Seen once drawn for (a drawing that failed is tried again).
        self._seen = length


def _here() -> datetime:
    """Now in the organisation's time zone."""
    return utcnow().astimezone(ZoneInfo(get_settings().timezone))


def _until_tomorrow() -> float:
    """Seconds until the next day begins in the organisation's time zone (and a minute)."""
    here = _here()
    tomorrow = datetime.combine(here.date() + timedelta(days=1), datetime.min.time(), here.tzinfo)
    return max((tomorrow - here).total_seconds(), 0.0) + 60.0


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if not session.info.pop(CHANGED, False) or not _DRAWERS:
        return
    drawer = _DRAWERS.get(session.get_bind().engine.pool)
    if drawer is not None:
        drawer.changed()


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(CHANGED, None)


__all__ = ["DRAWN_FROM", "LONGEST", "POLL", "QUIET", "Drawer", "draw_ahead"]
