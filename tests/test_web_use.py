"""The pages as people use them: saying a change was saved, the focus after a refusal, filters
after Back, sortable lists, the procedure diff, the favicon and what an admin is offered."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from qms.permissions import Role
from tests import survey_exports
from tests.factories import make_deviation, make_programme
from tests.test_survey_exports import _post, survey  # noqa: F401  (the survey fixture)
from tests.web import csrf_of, sign_in, web_user


def _lead(client, session) -> str:
    name = web_user(session, Role.quality_lead)
    sign_in(client, name)
    return name


def _status(page: str) -> str:
    """Return the text of the page's confirmation (role="status"), or an empty text."""
    match = re.search(r'<p class="saved" role="status">(.*?)</p>', page, re.S)
    return re.sub(r"<[^>]+>|\s+", " ", match.group(1)).strip() if match else ""


def _autofocused(page: str) -> list[str]:
    """Return the ids of the elements that take the focus when the page opens."""
    return re.findall(r'<[a-z]+ [^>]*\bid="([^"]+)"[^>]*\bautofocus\b', page)


LOG = {
    "title": "Pair met once in March",
    "description": "Against a rule of two a month.",
    "severity": "minor",
    "kind": "nonconformity",
    "source": "self_reported",
}


class TestSaying:
    def test_a_save_is_confirmed_once_on_the_page_it_lands_on(self, client, session) -> None:
        _lead(client, session)
        token = csrf_of(client.get("/deviations/new").text)
        r = client.post("/deviations/new", data={"csrf_token": token, **LOG})
        assert r.status_code == 200
        assert r.url.path.startswith("/deviations/")
        assert _status(r.text) == "Saved."
        again = client.get(r.url.path)
        assert _status(again.text) == ""

    def test_a_move_is_confirmed(self, client, session) -> None:
        _lead(client, session)
        deviation = make_deviation(session)
        session.flush()
        page = client.get(f"/deviations/{deviation.id}")
        moved = client.post(
            f"/deviations/{deviation.id}/move",
            data={
                "csrf_token": csrf_of(page.text),
                "to": "investigating",
                "version": str(deviation.version),
            },
        )
        assert moved.status_code == 200
        assert _status(moved.text) == "Saved."

    def test_a_refusal_is_not_confirmed(self, client, session) -> None:
        _lead(client, session)
        token = csrf_of(client.get("/deviations/new").text)
        r = client.post("/deviations/new", data={"csrf_token": token, **LOG, "title": ""})
        assert r.status_code == 422
        assert _status(r.text) == ""

    def test_signing_in_is_no_save(self, client, session) -> None:
        name = web_user(session, Role.quality_lead)
        sign_in(client, name)
        assert _status(client.get("/").text) == ""


class TestFocusAfterARefusal:
    def test_the_first_field_in_error_takes_the_focus(self, client, session) -> None:
        _lead(client, session)
        token = csrf_of(client.get("/deviations/new").text)
        r = client.post(
            "/deviations/new",
            data={"csrf_token": token, **LOG, "title": "", "severity": "grave"},
        )
        assert r.status_code == 422
        first = re.search(r'aria-invalid="true"', r.text)
        assert first
        assert _autofocused(r.text) == [re.findall(r'id="(f-[^"]+)"', r.text[: first.start()])[-1]]

    def test_a_refusal_with_no_field_on_the_form_focuses_the_refusal(self, client, session) -> None:
        _lead(client, session)
        deviation = make_deviation(session)
        session.flush()
        page = client.get(f"/deviations/{deviation.id}")
        stale = client.post(
            f"/deviations/{deviation.id}/move",
            data={"csrf_token": csrf_of(page.text), "to": "investigating", "version": "99"},
        )
        assert stale.status_code == 412
        assert _autofocused(stale.text) == ["refusal"]

    def test_a_page_without_a_refusal_takes_no_focus(self, client, session) -> None:
        _lead(client, session)
        make_programme(session)
        assert _autofocused(client.get("/deviations/new").text) == []


def _options(page: str, name: str) -> list[str]:
    """Return the texts of a select's options."""
    select = re.search(rf'<select id="[^"]*" name="{name}".*?</select>', page, re.S)
    assert select, name
    return [t.strip() for t in re.findall(r"<option[^>]*>([^<]*)</option>", select.group(0))]


class TestFiltersAfterBack:
    @pytest.mark.parametrize(
        ("path", "query", "selected"),
        [
            ("/deviations", "severity=major", 'value="major" selected'),
            ("/actions", "status=planned", 'value="planned" selected'),
            ("/participants", "role=mentor", 'value="mentor" selected'),
            ("/pairs", "status=active", 'value="active" selected'),
            ("/reviews", "status=planned", 'value="planned" selected'),
            ("/audits", "status=planned", 'value="planned" selected'),
        ],
    )
    def test_the_filter_form_is_part_of_what_a_filter_replaces(
        self, client, session, path, query, selected
    ) -> None:
        # htmx keeps (for Back) the page as it was shown; a form outside the part it replaces
        # would come back with the values it was first rendered with, not the list's.
        _lead(client, session)
        for headers in ({}, {"HX-Request": "true", "HX-History-Restore-Request": "true"}):
            page = client.get(f"{path}?{query}", headers=headers).text
            results = page.index('id="results"')
            form = page.index('class="filters"')
            assert results < form, path
            assert selected in page[form:]
            assert 'hx-select="#results"' in page[form:]


class TestMentorPickList:
    def test_the_current_cohorts_mentors_with_room_are_offered(self, client, session) -> None:
        from tests.factories import make_cohort, make_pair, make_participant

        today = date.today()
        programme = make_programme(session, max_mentees_per_mentor=1)
        old = make_cohort(
            session,
            programme,
            start_on=today - timedelta(days=500),
            end_on=today - timedelta(days=140),
        )
        current = make_cohort(
            session,
            programme,
            start_on=today - timedelta(days=30),
            end_on=today + timedelta(days=300),
        )
        before = make_participant(session, old, "mentor")
        free = make_participant(session, current, "mentor")
        full = make_participant(session, current, "mentor")
        mentee = make_participant(session, current, "mentee")
        waiting = make_participant(session, current, "mentee")
        make_pair(session, full, mentee, matched_on=today)
        session.flush()
        _lead(client, session)
        page = client.get("/pairs/new").text
        mentors = " ".join(_options(page, "mentor_id"))
        mentees = " ".join(_options(page, "mentee_id"))
        assert free.code in mentors
        assert full.code not in mentors  # no room left
        assert before.code not in mentors  # another cohort
        assert waiting.code in mentees
        assert mentee.code not in mentees  # already in a live pair
        assert f'value="{current.id}" selected' in page
        # Another cohort's participants on asking for that cohort.
        other = client.get(f"/pairs/new?cohort_id={old.id}").text
        assert before.code in " ".join(_options(other, "mentor_id"))
        assert free.code not in " ".join(_options(other, "mentor_id"))


class TestProcedureChanges:
    OLD = (
        "# Matching\n\n1. Read both applications.\n2. Meet the mentee.\n\n"
        "Keep the notes for a year.\n\nAsk the mentor about time.\n"
    )
    NEW = (
        "# Matching\n\n1. Read both applications.\n2. Meet the mentee.\n\n"
        "Keep the notes for two years.\n\nCall the mentee after a month.\n"
    )

    @pytest.fixture
    def procedure(self, session):
        from qms.procedures import service
        from qms.procedures.models import VersionStatus
        from qms.procedures.schemas import ProcedureCreate, VersionDraft
        from tests.factories import ADMIN

        draft: dict[str, Any] = {
            "title": "Matching mentors and mentees",
            "owner_role": "coordinator",
            "review_months": 12,
            "content": self.OLD,
            "change_summary": "First issue",
        }
        procedure = service.create(
            session, actor=ADMIN, data=ProcedureCreate(code="PR-41", **draft)
        )
        procedure.versions[0].status = VersionStatus.obsolete
        session.flush()
        service.new_draft(
            session,
            actor=ADMIN,
            procedure_id=procedure.id,
            data=VersionDraft(
                **{**draft, "content": self.NEW, "review_months": 24, "change_summary": "Longer"}
            ),
        )
        session.flush()
        return procedure

    def test_the_changes_have_their_own_address_and_show_rendered(
        self, client, session, procedure
    ) -> None:
        _lead(client, session)
        r = client.get(f"/procedures/{procedure.id}/changes?from=1&to=2")
        assert r.status_code == 200
        page = r.text
        # Unchanged text rendered as the procedure shows it, not as Markdown lines.
        assert "<li>Read both applications.</li>" in page
        assert "+++" not in page
        assert "@@" not in page
        # Words removed and added, marked for the eye and for screen readers.
        assert re.search(r"<del>(<span class=\"visually-hidden\">[^<]+</span>)?a</del>", page)
        assert re.search(r"<ins>(<span class=\"visually-hidden\">[^<]+</span>)?two</ins>", page)
        assert 'class="visually-hidden">Removed: </span>' in page
        assert 'class="visually-hidden">Added: </span>' in page
        # The review interval changed too: shown as the field with both values.
        assert re.search(r"Review every.*?12.*?24", page, re.S)
        # The procedure's own page links to the changes, without a button to press first.
        record = client.get(f"/procedures/{procedure.id}").text
        assert f'href="/procedures/{procedure.id}/changes?from=1&amp;to=2"' in record

    def test_versions_that_do_not_exist_are_named(self, client, session, procedure) -> None:
        _lead(client, session)
        r = client.get(f"/procedures/{procedure.id}/changes?from=1&to=9")
        assert r.status_code == 404
        bad = client.get(f"/procedures/{procedure.id}/changes?from=x&to=2")
        assert bad.status_code == 200
        assert "Enter a whole number, 1 or more." in bad.text


class TestAdminsAndTheIcon:
    def test_an_admin_is_not_offered_to_deactivate_themselves(self, client, session) -> None:
        from sqlalchemy import select

        from qms.accounts.models import User

        me = web_user(session, Role.admin)
        other = web_user(session, Role.admin)
        sign_in(client, me)
        page = client.get("/users").text
        ids = {
            name: session.scalars(select(User.id).where(User.name == name)).one()
            for name in (me, other)
        }
        assert f'action="/users/{ids[other]}/active"' in page
        assert f'action="/users/{ids[me]}/active"' not in page
        assert "This is you: another administrator deactivates your account." in page
        # Posted anyway, it is refused in a sentence and changes nothing.
        refused = client.post(
            f"/users/{ids[me]}/active",
            data={"csrf_token": csrf_of(page), "active": "false", "reason": "leaving"},
        )
        assert refused.status_code == 409
        assert "You cannot deactivate yourself: ask another administrator." in refused.text
        assert session.get(User, ids[me]).is_active

    def test_the_site_has_an_icon(self, client, session) -> None:
        icon = client.get("/favicon.ico")
        assert icon.status_code == 200
        assert icon.headers["content-type"] == "image/x-icon"
        assert icon.content[:4] == b"\x00\x00\x01\x00"
        _lead(client, session)
        page = client.get("/").text
        assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
        assert '<link rel="icon" href="/favicon.ico" sizes="32x32">' in page
        assert client.get("/static/favicon.svg").status_code == 200


class TestSortableLists:
    def test_the_deviation_list_sorts_by_a_column_and_keeps_the_filters(
        self, client, session
    ) -> None:
        _lead(client, session)
        major = make_deviation(session, severity="major", title="B mentor absent")
        critical = make_deviation(session, severity="critical", title="C data lost")
        minor = make_deviation(session, severity="minor", title="A late log")
        session.flush()
        page = client.get("/deviations?open=true&sort=-severity").text
        assert page.index(critical.number) < page.index(major.number) < page.index(minor.number)
        header = re.search(r'<th scope="col" aria-sort="descending">(.*?)</th>', page, re.S)
        assert header
        assert "Severity" in header.group(1)
        # The sorted header sorts the other way next, and every header keeps the filters.
        assert 'href="/deviations?open=true&amp;sort=severity"' in header.group(1)
        assert 'href="/deviations?open=true&amp;sort=title"' in page
        # The filter form keeps the order.
        assert '<input type="hidden" name="sort" value="-severity">' in page
        by_title = client.get("/deviations?sort=title").text
        assert (
            by_title.index(minor.number)
            < by_title.index(major.number)
            < by_title.index(critical.number)
        )
        bad = client.get("/deviations?sort=colour")
        assert bad.status_code == 200
        assert "Sort by one of:" in bad.text

    @pytest.mark.parametrize(
        ("path", "sort", "name"),
        [
            ("/actions", "-due", "Due"),
            ("/participants", "field", "Professional field"),
            ("/pairs", "-matched", "Matched"),
        ],
    )
    def test_the_other_lists_sort_by_their_columns(self, client, session, path, sort, name) -> None:
        _lead(client, session)
        page = client.get(f"{path}?sort={sort}")
        assert page.status_code == 200
        state = "descending" if sort.startswith("-") else "ascending"
        header = re.search(rf'<th scope="col" aria-sort="{state}">(.*?)</th>', page.text, re.S)
        assert header
        assert name in header.group(1)

    def test_the_api_sorts_pairs_and_participants_in_the_service(self, session) -> None:
        from qms.pairs import service as pairs
        from qms.participants import service as participants
        from tests.factories import ADMIN, make_cohort, make_pair, make_participant

        programme = make_programme(session, max_mentees_per_mentor=3)
        cohort = make_cohort(session, programme)
        mentor = make_participant(session, cohort, "mentor", field="Zoology")
        first = make_participant(session, cohort, "mentee", field="Acoustics")
        second = make_participant(session, cohort, "mentee", field="Botany")
        early = make_pair(session, mentor, first, matched_on=date(2026, 1, 5))
        late = make_pair(session, mentor, second, matched_on=date(2026, 2, 5))
        found = participants.list_participants(
            session, actor=ADMIN, cohort_id=cohort.id, sort="field"
        ).items
        assert [p.field for p in found] == ["Acoustics", "Botany", "Zoology"]
        matched = pairs.list_pairs(session, actor=ADMIN, cohort_id=cohort.id, sort="-matched")
        assert [p.id for p in matched.items] == [late.id, early.id]


class TestAuditTrailLeavesOutMyViews:
    def test_own_page_views_only_when_asked(self, client, session) -> None:
        me = web_user(session, Role.auditor)
        sign_in(client, me)
        client.get("/deviations")  # an auditor's reads are in the trail
        deviation = make_deviation(session, title="Seen by others")
        session.flush()
        page = client.get("/audit-trail").text
        assert "GET /deviations" not in page
        assert deviation.number in page  # other events are there
        assert 'name="mine" value="true"' in page
        assert "Show my own page views" in page
        mine = client.get("/audit-trail?mine=true").text
        assert "GET /deviations" in mine
        assert re.search(r'name="mine" value="true"[^>]*checked', mine)


def _problems(page: str) -> list[str]:
    """Return the refusal's list of problems, each as its HTML (its link, if any, and its text)."""
    box = re.search(r'<ul class="problems">(.*?)</ul>', page, re.S)
    return [li.strip() for li in re.findall(r"<li>(.*?)</li>", box.group(1), re.S)] if box else []


class TestNoDeadEnds:
    """A move is offered only where it can succeed; a refusal is said whole, whatever its field."""

    @pytest.fixture
    def pair(self, session) -> Any:
        from tests.factories import make_cohort, make_pair, make_participant

        today = date.today()
        cohort = make_cohort(
            session,
            make_programme(session),
            start_on=today - timedelta(days=60),
            end_on=today + timedelta(days=300),
        )
        found = make_pair(
            session, make_participant(session, cohort, "mentor"), make_participant(session, cohort)
        )
        session.flush()
        return found

    def test_a_matched_pair_offers_no_meeting_form_and_says_to_start_it(
        self, client, session, pair
    ) -> None:
        sign_in(client, web_user(session, Role.coordinator))
        page = client.get(f"/pairs/{pair.id}").text
        assert f'action="/pairs/{pair.id}/meetings"' not in page
        assert "Start the pair first: its meetings are recorded from the day it starts." in page
        # The way there: the start's form, whose date field the link opens.
        assert '<a href="#f-active-on">Move to active</a>' in page
        assert 'id="f-active-on"' in page

    def test_a_meeting_sent_anyway_is_refused_with_its_reason(self, client, session, pair) -> None:
        from qms.pairs.models import Meeting

        sign_in(client, web_user(session, Role.coordinator))
        token = csrf_of(client.get(f"/pairs/{pair.id}").text)
        refused = client.post(
            f"/pairs/{pair.id}/meetings",
            data={
                "csrf_token": token,
                "held_on": date.today().isoformat(),
                "minutes": "60",
                "mode": "video",
            },
        )
        assert refused.status_code == 422
        # The reason belongs to no field of the page: it is listed as text, not as a dead link.
        assert _problems(refused.text) == [
            f"<strong>Pair</strong>: {pair.code} has not started: start the pair before "
            "recording its meetings."
        ]
        assert session.scalar(select(func.count()).select_from(Meeting)) == 0

    def test_once_started_a_meeting_is_recorded_and_a_bad_date_links_to_its_field(
        self, client, session, pair
    ) -> None:
        sign_in(client, web_user(session, Role.coordinator))
        token = csrf_of(client.get(f"/pairs/{pair.id}").text)
        started = client.post(
            f"/pairs/{pair.id}/move",
            data={"csrf_token": token, "to": "active", "version": str(pair.version)},
            follow_redirects=False,
        )
        assert started.status_code == 303
        page = client.get(f"/pairs/{pair.id}").text
        assert f'action="/pairs/{pair.id}/meetings"' in page
        assert "Start the pair first" not in page
        early = client.post(
            f"/pairs/{pair.id}/meetings",
            data={"csrf_token": token, "held_on": "2000-01-01", "minutes": "60", "mode": "video"},
        )
        assert early.status_code == 422
        [problem] = _problems(early.text)
        # The link goes to the field as this page shows it (the meeting form's own id).
        assert problem.startswith('<a href="#f-meeting-held_on"><strong>')
        assert 'id="f-meeting-held_on"' in early.text
        recorded = client.post(
            f"/pairs/{pair.id}/meetings",
            data={
                "csrf_token": token,
                "held_on": date.today().isoformat(),
                "minutes": "60",
                "mode": "video",
                "topics": "The first interview",
            },
            follow_redirects=False,
        )
        assert recorded.status_code == 303
        assert "<td>The first interview</td>" in client.get(f"/pairs/{pair.id}").text


class TestParticipantEditFolded:
    def test_the_edit_form_opens_when_asked_for_or_refused(self, client, session) -> None:
        from tests.factories import make_cohort, make_participant

        participant = make_participant(session, make_cohort(session, make_programme(session)))
        session.flush()
        sign_in(client, web_user(session, Role.coordinator))
        page = client.get(f"/participants/{participant.id}").text
        folded = re.search(
            r'<details class="move panel">\s*<summary>Edit the participant&#39;s details</summary>'
            rf'\s*<form method="post" action="/participants/{participant.id}"',
            page,
        )
        assert folded, "the edit form is not folded behind its summary"
        refused = client.post(
            f"/participants/{participant.id}",
            data={
                "csrf_token": csrf_of(page),
                "version": str(participant.version),
                "field": "",
                "screened_on": "soon",
            },
        )
        assert refused.status_code == 422
        assert re.search(
            r"<details class=\"move panel\" open>\s*<summary>Edit the participant&#39;s details",
            refused.text,
        )


class TestImportBatchPage:
    def test_the_batch_reads_in_words_with_its_mapping_and_a_plain_title(
        self,
        client,
        session,
        survey,  # noqa: F811  (the fixture imported above)
    ) -> None:
        export = survey_exports.google_forms(survey["codes"])
        saved = client.post(
            "/api/v1/instruments/MENTEE-END/mappings",
            headers=survey["lead"],
            json={"name": "google", "source": "Google Forms", "columns": export.mapping},
        )
        assert saved.status_code == 201, saved.text
        batch = _post(client, survey["importer"], export, mapping="google", mode="partial")
        assert batch.status_code == 201, batch.text
        _lead(client, session)
        page = client.get(f"/imports/{batch.json()['id']}").text
        title = re.search(r"<title>(.*?)</title>", page, re.S)
        assert title is not None
        assert title.group(1) == f"Batch {batch.json()['id']} · mentor-qms"
        kind = re.search(r"<dt>Kind</dt><dd>(.*?)</dd>", page)
        assert kind is not None
        assert "wide: one respondent per row" in kind.group(1)
        assert "partial: the good rows are written" in kind.group(1)
        assert " · wide · " not in kind.group(1)
        assert "<dt>Saved mapping</dt><dd>google</dd>" in page
