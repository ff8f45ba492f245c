"""Dates, times and figures on the pages as the reader's language writes them.

A reader in Norway reads 15.07.2026 and 2,5; one in Sweden 2026-07-15 and 2,5; one in Britain
15/07/2026 and 2.5. Moments are shown to the minute in the organisation's time zone (Europe/Oslo
unless QMS_TIMEZONE says otherwise), never with seconds or in UTC. What a machine reads stays ISO
8601: a date input's value and a <time>'s datetime attribute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
import time_machine
from sqlalchemy.orm import Session

from qms.config import Settings, get_settings
from qms.followups import service as followups
from qms.followups.schemas import FollowUpRecord
from qms.indicators import service as indicators
from qms.indicators.schemas import IndicatorCreate, IndicatorValueCreate
from qms.permissions import Role
from qms.programmes import service as programmes
from tests.factories import (
    ADMIN,
    make_action,
    make_cohort,
    make_deviation,
    make_pair,
    make_participant,
    make_programme,
    make_user,
)
from tests.web import sign_in, web_user

DAY = {
    "nb": re.compile(r"\b\d{2}\.\d{2}\.\d{4}\b"),
    "sv": re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    "en": re.compile(r"\b\d{2}/\d{2}/\d{4}\b"),
}
ISO_DAY = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
SECONDS = re.compile(r"\d{2}:\d{2}:\d{2}")
# 22:05 UTC on a summer evening is five past midnight the next day in Oslo (UTC+2).
SUMMER_EVENING = datetime(2026, 7, 14, 22, 5, tzinfo=UTC)
IN_OSLO = {"nb": "15.07.2026, 00:05", "sv": "2026-07-15 00:05", "en": "15/07/2026, 00:05"}
LANGUAGES = ("nb", "sv", "en")


class _Visible(HTMLParser):
    """The text a person reads: no tags, no attributes, nothing inside script or style."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible(html: str) -> str:
    """Return the page's visible text, its white space (and no-break spaces) made plain."""
    reader = _Visible()
    reader.feed(html)
    return re.sub(r"\s+", " ", " ".join(reader.parts).replace("\xa0", " "))


@dataclass
class Records:
    """What the pages under test show."""

    programme_id: int
    cohort_id: int
    deviation_id: int
    action_id: int


@pytest.fixture
def records(client: Any, session: Session) -> Records:
    """A running programme with a cohort, three pairs and their follow-ups (one held), a major
    deviation logged at 22:05 UTC on a summer evening with an action, and two indicators in
    breach: follow-ups held (1 of 3: 33,3 %) and open deviations (1 against a plan of 0), and a
    score entered by hand for a period (3,75)."""
    today = date.today()
    programme = make_programme(session)
    cohort = make_cohort(
        session, programme, start_on=today - timedelta(days=120), end_on=today + timedelta(days=200)
    )
    programmes.transition_programme(
        session,
        actor=ADMIN,
        programme_id=programme.id,
        to="running",
        reason=None,
        if_match=programme.version,
    )
    for _ in range(3):
        make_pair(
            session,
            make_participant(session, cohort, "mentor"),
            make_participant(session, cohort, "mentee"),
            started_on=cohort.start_on + timedelta(days=7),
        )
    scheduled = followups.schedule_cohort(
        session, actor=ADMIN, cohort_id=cohort.id, on=today - timedelta(days=10)
    )
    followups.record(
        session,
        actor=ADMIN,
        follow_up_id=scheduled[0].id,
        data=FollowUpRecord(
            held_on=today - timedelta(days=5),
            expectations_clarified=True,
            goal_progress=3,
            meeting_frequency_kept=True,
            relationship=4,
            extra_support_needed=False,
            outcome="on_track",
        ),
        if_match=scheduled[0].version,
    )
    with time_machine.travel(SUMMER_EVENING, tick=True):
        deviation = make_deviation(session, severity="major", programme_id=programme.id)
    action = make_action(session, [deviation], make_user(session, Role.quality_lead))
    for data in (
        IndicatorCreate(
            code="FU-HELD",
            name="Follow-ups held",
            unit="percent",
            computation="follow_up_completion",
            planned=90,
            threshold=50,
        ),
        IndicatorCreate(
            code="OPEN-DEV",
            name="Open deviations",
            unit="count",
            computation="open_deviations",
            planned=0,
            direction="lower_is_better",
            threshold=0,
        ),
    ):
        indicators.define(session, actor=ADMIN, programme_id=programme.id, data=data)
    score = indicators.define(
        session,
        actor=ADMIN,
        programme_id=programme.id,
        data=IndicatorCreate(
            code="SATISFIED", name="Satisfaction", unit="score", computation="entered", planned=4
        ),
    )
    indicators.enter_value(
        session,
        actor=ADMIN,
        indicator_id=score.id,
        data=IndicatorValueCreate(
            period_start=cohort.start_on, period_end=today - timedelta(days=1), value=3.75
        ),
    )
    session.flush()
    sign_in(client, web_user(session, Role.quality_lead))
    return Records(programme.id, cohort.id, deviation.id, action.id)


def _page(client: Any, path: str, language: str) -> str:
    client.get(f"/language?set={language}")
    response = client.get(path)
    assert response.status_code == 200, response.text
    return response.text


def _paths(r: Records) -> dict[str, str]:
    return {
        "overview": "/",
        "deviations": "/deviations",
        "deviation": f"/deviations/{r.deviation_id}",
        "action": f"/actions/{r.action_id}",
        "board": f"/follow-ups/cohorts/{r.cohort_id}",
        "indicators": f"/programmes/{r.programme_id}",
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_dates_are_written_as_the_language_writes_them(
    client: Any, records: Records, language: str
) -> None:
    for name, path in _paths(records).items():
        text = visible(_page(client, path, language))
        assert DAY[language].search(text), (name, language, text)
        if language != "sv":
            # An ISO date left in the text is one the page did not format.
            assert not ISO_DAY.search(text), (name, language, ISO_DAY.findall(text))
    # The list gives the day the deviation was detected in Oslo, not in UTC.
    listed = visible(_page(client, "/deviations", language))
    assert IN_OSLO[language].split(",")[0].split()[0] in listed, listed
    assert "2026-07-14" not in listed


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_seconds_or_microseconds_are_shown(client: Any, records: Records, language: str) -> None:
    for name, path in _paths(records).items():
        html = _page(client, path, language)
        assert not SECONDS.search(visible(html)), (name, language, SECONDS.findall(visible(html)))


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_timeline_moment_is_shown_in_oslo_to_the_minute(
    client: Any, records: Records, language: str
) -> None:
    html = _page(client, f"/deviations/{records.deviation_id}", language)
    text = visible(html)
    # Detected, and the timeline's first event: both at 22:05 UTC, shown as 00:05 the next day.
    assert text.count(IN_OSLO[language]) >= 2, text
    assert "22:05" not in text
    assert "UTC" not in text
    # The machine-readable moment stays ISO 8601, in UTC.
    assert re.search(r'<time datetime="2026-07-14[T ]22:05:\d{2}(\.\d+)?\+00:00">', html), html


def test_a_moment_follows_the_organisations_time_zone(
    client: Any, records: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("qms.i18n.get_settings", lambda: Settings(timezone="America/New_York"))
    monkeypatch.setattr("api.web.core.get_settings", lambda: Settings(timezone="America/New_York"))
    text = visible(_page(client, f"/deviations/{records.deviation_id}", "sv"))
    assert "2026-07-14 18:05" in text, text


def test_a_time_zone_that_is_no_iana_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QMS_TIMEZONE", "Europe/Atlantis")
    with pytest.raises(ValueError, match="IANA"):
        Settings()
    monkeypatch.setenv("QMS_TIMEZONE", "Europe/Stockholm")
    assert Settings().timezone == "Europe/Stockholm"
    assert get_settings().timezone  # the cached settings are untouched


@pytest.mark.parametrize(
    ("language", "breaches", "decimal"),
    [
        (
            "nb",
            [
                "planlagt 90 %, faktisk 33,3 % (terskel 50 %)",
                "planlagt 0, faktisk 1 (terskel 0)",
            ],
            "33,3 %",
        ),
        (
            "sv",
            [
                "planerad 90 %, utfall 33,3 % (tröskelvärde 50 %)",
                "planerad 0, utfall 1 (tröskelvärde 0)",
            ],
            "33,3 %",
        ),
        (
            "en",
            ["planned 90%, actual 33.3% (threshold 50%)", "planned 0, actual 1 (threshold 0)"],
            "33.3%",
        ),
    ],
)
def test_indicator_figures_are_written_as_the_language_writes_them(
    client: Any, records: Records, language: str, breaches: list[str], decimal: str
) -> None:
    overview = visible(_page(client, "/", language))
    for breach in breaches:
        assert breach in overview, (breach, overview)
    table = visible(_page(client, f"/programmes/{records.programme_id}", language))
    assert decimal in table, table
    assert ("3.75" if language == "en" else "3,75") in table, table
    # No figure with a needless decimal (90.0, 0.0) on either page.
    assert not re.search(r"\b\d+[.,]0\b", overview + table)


def test_machine_readable_values_stay_iso(client: Any, records: Records) -> None:
    html = _page(client, f"/programmes/{records.programme_id}", "nb")
    today = date.today()
    # The heading says the day as a reader writes it; the form's field keeps it ISO for the browser.
    assert f"{today:%d.%m.%Y}" in visible(html)
    assert f'name="as_of" type="date" value="{today.isoformat()}"' in html, html
    timeline = _page(client, f"/deviations/{records.deviation_id}", "nb")
    assert re.search(r'<time datetime="\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}', timeline), timeline
