"""The web front in a real browser: Debian's Chromium driven by Playwright, against the service
served by uvicorn on loopback. Screenshots of the main pages go to test-output/screenshots (or
$QMS_TEST_OUTPUT/screenshots).

Without /usr/bin/chromium or Playwright these tests are skipped, unless QMS_REQUIRE_BROWSER=1 (as
in CI), when they fail instead.
"""

from __future__ import annotations

import io
import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import docx
import pytest
import uvicorn
from sqlalchemy import select

from api.app import create_app
from qms import demo
from qms.actions.models import CorrectiveAction
from qms.audits.models import InternalAudit, ManagementReview
from qms.competence.models import TrainingRecord
from qms.complaints.models import Complaint
from qms.context.models import ContextIssue, InterestedParty
from qms.db import Database
from qms.deviations.models import Deviation
from qms.evaluations.models import EvaluationBatch
from qms.followups import service as followups
from qms.followups.models import FollowUp
from qms.objectives.models import QualityObjective
from qms.pairs.models import Pair, PairStatus
from qms.participants.models import Participant
from qms.permissions import Actor, Role
from qms.procedures.models import Procedure, ProcedureVersion
from qms.programmes.models import Cohort, Programme
from qms.providers.models import Provider
from qms.risks.models import Risk
from tests.factories import (
    ADMIN,
    make_cohort,
    make_pair,
    make_participant,
    make_programme,
)
from tests.web import PASSWORD, web_user

CHROMIUM = Path("/usr/bin/chromium")
_MISSING = [
    what
    for what, present in (
        ("/usr/bin/chromium (apt-get install chromium)", CHROMIUM.exists()),
        ("Playwright for Python (pip install playwright)", find_spec("playwright") is not None),
        (
            "axe-core (pip install axe-playwright-python)",
            find_spec("axe_playwright_python") is not None,
        ),
    )
    if not present
]
if _MISSING:
    if os.environ.get("QMS_REQUIRE_BROWSER") == "1":
        pytest.fail(f"QMS_REQUIRE_BROWSER=1 but missing: {', '.join(_MISSING)}", pytrace=False)
    pytest.skip(f"missing: {', '.join(_MISSING)}", allow_module_level=True)
from playwright import sync_api  # noqa: E402  (only once it is known to be there)

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SHOTS = Path(os.environ.get("QMS_TEST_OUTPUT", "test-output")) / "screenshots"
# axe-core as axe-playwright-python bundles it, put in every page a context opens.
AXE_SCRIPT = Path(find_spec("axe_playwright_python").origin or "").with_name("axe.min.js")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Site:
    """The service on loopback over a database of the test's own, with a pair due a follow-up."""

    def __init__(self, database: Database) -> None:
        self.database = database
        today = date.today()
        with database.unit_of_work() as session:
            self.lead = web_user(session, Role.quality_lead, "kari-lead")
            self.coordinator = web_user(session, Role.coordinator, "ola-coordinator")
            self.auditor = web_user(session, Role.auditor, "siri-auditor")
            programme = make_programme(session, code="VIA-JOB", name="Mentor programme")
            self.cohort = make_cohort(
                session,
                programme,
                name="Intake 2026",
                start_on=today - timedelta(days=150),
                end_on=today + timedelta(days=200),
            )
            pair = make_pair(
                session,
                make_participant(session, self.cohort, "mentor"),
                make_participant(session, self.cohort, "mentee"),
                started_on=self.cohort.start_on + timedelta(days=10),
            )
            self.pair_code = pair.code
            followups.schedule_pair(session, actor=ADMIN, pair_id=pair.id, on=today)
        self._serve(database)

    def _serve(self, database: Database) -> None:
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(
            create_app(database), host="127.0.0.1", port=port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def site(fresh_db: Database) -> Iterator[Site]:
    served = Site(fresh_db)
    yield served
    served.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _sign_in_by_keyboard(page: Any, site: Site, name: str) -> None:
    page.goto(site.url + "/")
    sync_api.expect(page).to_have_url(site.url + "/sign-in")
    # The user name field has the focus; the rest is typed and tabbed, as with a keyboard only.
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    sync_api.expect(page).to_have_url(site.url + "/")


def _move(page: Any, label: str, *, signed: bool = False, **fields: str) -> None:
    page.locator("summary", has_text=f"Move to {label}").click()
    form = page.locator("details[open] form")
    for field_label, value in fields.items():
        form.get_by_label(field_label.replace("_", " ")).fill(value)
    if signed:
        # A move that signs shows the statement and takes the signer's password again.
        sync_api.expect(form.locator("blockquote.statement")).to_be_visible()
        form.get_by_label("Your password, to sign").fill(PASSWORD)
        form.get_by_role("button", name=f"Sign and move to {label}").click()
        return
    form.get_by_role("button", name=f"Move to {label}").click()


def test_a_quality_lead_logs_a_deviation_and_takes_it_to_closure(browser, site, tmp_path) -> None:
    expect = sync_api.expect
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    _sign_in_by_keyboard(page, site, site.lead)
    expect(page.get_by_role("heading", name="Open deviations by severity")).to_be_visible()
    _shot(page, "overview")

    # Log a deviation; a missing title comes back beside the field.
    page.get_by_role("link", name="Log a deviation").first.click()
    page.get_by_label("What was found").fill("PAIR-0001 met once in March against a rule of two.")
    page.get_by_role("button", name="Log the deviation").click()
    expect(page.locator("#e-title")).to_have_text("Fill in this field.")
    page.get_by_label("Title").fill("Pair below the meeting rule in March")
    page.get_by_label("Severity").select_option("minor")
    page.get_by_label("Programme").select_option(label="VIA-JOB · Mentor programme")
    page.get_by_role("button", name="Log the deviation").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("DEV-")
    number = heading.inner_text().split()[0]
    record_url = page.url

    _move(page, "investigating")
    expect(page.locator(".badge").first).to_have_text("investigating")

    # Plan a corrective action owned by the coordinator.
    page.locator("summary", has_text="Plan a corrective action").click()
    form = page.locator("form[action$='/actions']")
    form.get_by_label("Title").fill("Fixed meeting day for the pair")
    form.get_by_label("What will be done").fill("Agree a fixed day and a video option.")
    form.get_by_label("Owner").select_option(site.coordinator)
    form.get_by_label("Due").fill((date.today() + timedelta(days=30)).isoformat())
    form.get_by_role("button", name="Plan the action").click()
    _move(page, "action required")
    expect(page.locator(".badge").first).to_have_text("action required")
    _shot(page, "deviation-record")

    # The action: started, done, verified with evidence by someone other than its owner.
    page.get_by_role("link", name="CA-").first.click()
    _move(page, "in progress")
    _move(page, "done", What_was_done="Agreed on Tuesdays at five.")
    _move(
        page, "verified effective", signed=True, Evidence="Meeting log: two meetings a month since."
    )
    expect(page.get_by_role("heading", name="Verification")).to_be_visible()
    expect(page.locator(".badge").first).to_have_text("verified effective")
    _shot(page, "action-record")

    # Back to the deviation, which can close now.
    page.goto(record_url)
    _move(
        page, "closed", signed=True, Closure_summary="Meetings back to the rule; action verified."
    )
    expect(page.locator(".badge").first).to_have_text("closed")
    expect(page.get_by_text("Closure summary", exact=True)).to_be_visible()

    # Download its report and read it back.
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the deviation report (.docx)").click()
    saved = tmp_path / "report.docx"
    download.value.save_as(saved)
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(saved.read_bytes())).paragraphs)
    assert number in text

    page.goto(site.url + "/deviations")
    expect(page.get_by_role("link", name=number)).to_be_visible()
    # Filtering by severity (htmx swaps the results in place) keeps the row.
    page.get_by_label("Severity").select_option("major")
    expect(page.get_by_role("link", name=number)).to_have_count(0)
    assert "severity=major" in page.url
    # The filters came back with the results; htmx listens on them once the swap has settled.
    page.wait_for_function("!document.querySelector('.htmx-settling, .htmx-request')")
    page.get_by_label("Severity").select_option("minor")
    expect(page.get_by_role("link", name=number)).to_be_visible()
    _shot(page, "deviations")
    for path, name in (("/documents", "documents"), ("/audit-trail", "audit-trail")):
        page.goto(site.url + path)
        _shot(page, name)
    context.close()


def test_a_coordinator_records_a_follow_up(browser, site) -> None:
    expect = sync_api.expect
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _sign_in_by_keyboard(page, site, site.coordinator)
    page.get_by_role("link", name="Follow-ups", exact=True).click()
    page.get_by_role("link", name="VIA-JOB · Intake 2026").click()
    expect(page.get_by_role("cell", name="due", exact=True)).to_be_visible()
    page.get_by_role("link", name=site.pair_code).click()
    page.get_by_role("group", name="Expectations clarified").get_by_label("yes").check()
    page.get_by_label("Progress towards the goals (1-5)").select_option("4")
    page.get_by_role("group", name="Meeting frequency kept").get_by_label("yes").check()
    page.get_by_label("The relationship (1-5)").select_option("5")
    page.get_by_role("group", name="Extra support needed").get_by_label("no").check()
    page.get_by_label("Outcome").select_option("on_track")
    page.get_by_label("Notes").fill("Goals on track; the mentee has had two interviews.")
    page.get_by_role("button", name="Record the follow-up").click()
    expect(page.locator(".badge").first).to_have_text("held")
    page.get_by_role("link", name="the cohort's board").click()
    expect(page.get_by_role("cell", name="held", exact=True)).to_be_visible()
    _shot(page, "follow-up-board")
    context.close()


def test_a_procedure_is_written_in_the_browser_and_approved_by_another(browser, site) -> None:
    expect = sync_api.expect
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _sign_in_by_keyboard(page, site, site.lead)
    page.get_by_role("link", name="Procedures", exact=True).click()
    page.get_by_role("link", name="Write a procedure").click()
    page.get_by_label("Code").fill("PR-40")
    page.get_by_label("Title").fill("Matching mentors and mentees")
    page.get_by_label("Owner").select_option("coordinator")
    page.get_by_label("ISO 9001 clauses").fill("8.2.2, 8.5.1")
    # Typed as a person types it: Enter makes the line breaks the browser sends.
    page.get_by_label("Text (Markdown)").press_sequentially(
        "# Matching\n\n1. Read both applications.\n2. Meet the mentee first.\n"
    )
    page.get_by_label("What changed").fill("First issue")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("PR-40")
    expect(page.locator("article.rendered ol li")).to_have_count(2)
    _move(page, "in review")
    expect(page.get_by_text("another person approves it")).to_be_visible()
    _shot(page, "procedure-in-review")
    page.get_by_role("button", name="Sign out").click()
    context.close()

    with site.database.unit_of_work() as session:
        approver = web_user(session, Role.admin, "eva-admin")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _sign_in_by_keyboard(page, site, approver)
    page.get_by_role("link", name="Procedures", exact=True).click()
    page.get_by_role("link", name="PR-40").click()
    page.get_by_role("link", name="Version 1").click()
    _move(page, "approved", signed=True)
    expect(page.locator(".badge").first).to_have_text("approved")
    expect(page.get_by_text("Reviewed, no change")).to_be_visible()
    _shot(page, "procedure-approved")
    context.close()
    with site.database.unit_of_work(write=False) as session:
        version = session.scalars(select(ProcedureVersion)).one()
        assert version.content == (
            "# Matching\n\n1. Read both applications.\n2. Meet the mentee first.\n"
        )
        assert (version.author, version.approved_by) == (site.lead, approver)


def test_a_coordinator_enrols_matches_and_records_a_meeting(browser, site) -> None:
    expect = sync_api.expect
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _sign_in_by_keyboard(page, site, site.coordinator)
    codes = []
    for role, name in (("mentor", "Kristin Dahl"), ("mentee", "Omar Saleh")):
        page.get_by_role("link", name="Participants", exact=True).click()
        page.get_by_role("link", name="Enrol a participant").click()
        page.get_by_label("Cohort").select_option(label="VIA-JOB · Intake 2026")
        page.get_by_label("Role").select_option(role)
        page.get_by_label("Professional field").fill("Water engineering")
        page.get_by_label("Name", exact=True).fill(name)
        page.get_by_role("button", name="Enrol").click()
        expect(page.get_by_text(name)).to_be_visible()
        codes.append(page.get_by_role("heading", level=1).inner_text().split()[0])
    page.get_by_role("link", name="Pairs", exact=True).click()
    page.get_by_role("link", name="Match a pair").click()
    for field, code in (("mentor_id", codes[0]), ("mentee_id", codes[1])):
        option = page.locator(f"#f-{field} option", has_text=code)
        page.locator(f"#f-{field}").select_option(option.get_attribute("value"))
    page.get_by_label("Why this match").fill(
        "Both in water engineering; the mentee aims at consulting"
    )
    page.get_by_role("button", name="Match the pair").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{codes[0]} / {codes[1]}")
    # No meeting form before the pair starts: the page says so and opens the way to start it.
    expect(page.get_by_role("button", name="Record the meeting")).to_have_count(0)
    expect(page.get_by_text("Start the pair first")).to_be_visible()
    page.get_by_role("link", name="Move to active").click()
    expect(page.locator("#f-active-on")).to_be_visible()
    page.get_by_role("button", name="Move to active").click()
    page.get_by_label("Held on").fill(date.today().isoformat())
    page.get_by_label("Minutes").fill("75")
    page.get_by_label("How").select_option("video")
    page.get_by_label("Topics").fill("CV and the first interview")
    page.get_by_role("button", name="Record the meeting").click()
    expect(page.get_by_role("cell", name="CV and the first interview")).to_be_visible()
    _shot(page, "pair-record")
    context.close()


def test_an_auditor_sees_no_edit_controls_and_is_refused_a_post(browser, site) -> None:
    expect = sync_api.expect
    # The lead logs one deviation for the auditor to look at.
    lead = browser.new_context().new_page()
    _sign_in_by_keyboard(lead, site, site.lead)
    lead.goto(site.url + "/deviations/new")
    lead.get_by_label("Title").fill("Matching rationale missing")
    lead.get_by_label("What was found").fill("PAIR-0001 has no recorded rationale.")
    lead.get_by_role("button", name="Log the deviation").click()
    record_url = lead.url

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _sign_in_by_keyboard(page, site, site.auditor)
    page.goto(record_url)
    expect(page.get_by_role("heading", level=1)).to_contain_text("DEV-")
    expect(page.get_by_text("Next steps")).to_have_count(0)
    expect(page.get_by_role("link", name="Log a deviation")).to_have_count(0)
    posts = page.locator("form[method=post]").evaluate_all("fs => fs.map(f => f.action)")
    assert {p.removeprefix(site.url) for p in posts} <= {"/sign-out", "/documents/issue"}
    _shot(page, "auditor-deviation")
    # Posting anyway, with the session's own CSRF token, is refused.
    token = page.locator("input[name=csrf_token]").first.input_value()
    refused = page.request.post(
        record_url + "/move", form={"csrf_token": token, "to": "investigating", "version": "1"}
    )
    assert refused.status == 403
    assert "does not allow you to change a deviation&#39;s status" in refused.text()
    page.goto(record_url)
    expect(page.locator(".badge").first).to_have_text("open")
    # The auditor's own page views, asked for: each read of a record is in the trail.
    page.goto(site.url + "/audit-trail?mine=true")
    expect(page.get_by_role("cell", name="records read").first).to_be_visible()
    context.close()


def test_the_pages_fit_a_phone(browser, site) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    _sign_in_by_keyboard(page, site, site.lead)
    for path, name in (
        ("/", "phone-overview"),
        ("/deviations", "phone-deviations"),
        ("/deviations/new", "phone-log-deviation"),
        ("/procedures/new", "phone-write-procedure"),
        ("/audits/new", "phone-plan-audit"),
        ("/reviews/new", "phone-plan-review"),
        ("/imports/new", "phone-upload"),
    ):
        page.goto(site.url + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, (path, overflow)
        _shot(page, name)
    context.close()


def test_norwegian_pages(browser, site) -> None:
    context = browser.new_context(locale="nb-NO")
    page = context.new_page()
    page.goto(site.url + "/sign-in")
    sync_api.expect(page.get_by_role("heading", name="Logg inn")).to_be_visible()
    page.get_by_label("Brukernavn").fill(site.lead)
    page.get_by_label("Passord").fill(PASSWORD)
    page.get_by_role("button", name="Logg inn").click()
    sync_api.expect(
        page.get_by_role("heading", name="Åpne avvik etter alvorlighet")
    ).to_be_visible()
    _shot(page, "oversikt-nb")
    context.close()


# The WCAG 2.0, 2.1 and 2.2 success criteria of levels A and AA that axe-core checks.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]
# Pages shot at a desktop's width and a phone's (390 px), as the quality lead sees them.
MAIN_PAGES = {
    "/": "overview",
    "/my-work": "my-work",
    "/deviations": "deviations",
    "/actions": "actions",
    "/procedures": "procedures",
    "/pairs": "pairs",
    "/participants": "participants",
    "/follow-ups": "follow-ups",
    "/audits": "audits",
    "/reviews": "reviews",
    "/documents": "documents",
    "/audit-trail": "audit-trail",
    "/quality-system": "quality-system",
    "/context": "context",
    "/policy": "policy",
    "/objectives": "objectives",
    "/risks": "risks",
    "/providers": "providers",
    "/competence": "competence",
    "/complaints": "complaints",
}
# The parts of the quality system, reached from /quality-system rather than the navigation.
QUALITY_SYSTEM = [
    "/context",
    "/context/scope",
    "/policy",
    "/objectives",
    "/risks",
    "/providers",
    "/competence",
    "/competence/records",
    "/complaints",
]
# The forms behind the lists' buttons, for whoever may use them.
FORMS = [
    "/deviations/new",
    "/procedures/new",
    "/programmes/new",
    "/participants/new",
    "/pairs/new",
    "/audits/new",
    "/reviews/new",
    "/imports/new",
    "/instruments",
    "/instruments/new",
    "/retention",
    "/context/issues/new",
    "/context/parties/new",
    "/objectives/new",
    "/risks/new",
    "/providers/new",
    "/complaints/new",
]


class DemoSite(Site):
    """The service over the demo data set (two programmes, every kind of record), signed in to
    as its quality lead, coordinator and auditor."""

    def __init__(self, database: Database) -> None:

        with database.unit_of_work() as session:
            operator = Actor(user_id=None, name="cli:test", role=Role.admin)
            demo.load(session, operator=operator)
            self.password = demo.issue_tokens(session, operator=operator).password
        with database.unit_of_work(write=False) as session:

            def first(model: Any, *where: Any) -> int:
                found = select(model.id).where(*where).order_by(model.id).limit(1)
                return int(session.scalars(found).one())

            procedure = first(Procedure, Procedure.code == "PR-08")
            cohort = first(Cohort)
            self.records = {
                "deviation": f"/deviations/{first(Deviation)}",
                "action": f"/actions/{first(CorrectiveAction)}",
                "procedure": f"/procedures/{procedure}",
                "procedure changes": f"/procedures/{procedure}/changes?from=1&to=2",
                "programme": f"/programmes/{first(Programme)}",
                "cohort": f"/follow-ups/cohorts/{cohort}",
                "follow-up": f"/follow-ups/{first(FollowUp)}",
                "follow-up form": f"/follow-ups/{first(FollowUp, FollowUp.held_on.is_(None))}",
                "pair": f"/pairs/{first(Pair, Pair.status == PairStatus.active)}",
                "participant": f"/participants/{first(Participant)}",
                "audit": f"/audits/{first(InternalAudit)}",
                "review": f"/reviews/{first(ManagementReview)}",
                "import": f"/imports/{first(EvaluationBatch)}",
                "audit trail": "/audit-trail?mine=true",
                "context issue": f"/context/issues/{first(ContextIssue)}",
                "interested party": f"/context/parties/{first(InterestedParty)}",
                "objective": f"/objectives/{first(QualityObjective)}",
                "risk": f"/risks/{first(Risk)}",
                "provider": f"/providers/{first(Provider)}",
                "training record": f"/competence/records/{first(TrainingRecord)}",
                "complaint": f"/complaints/{first(Complaint)}",
            }
        self._serve(database)


def _violations(page: Any, where: str) -> list[str]:
    """Run axe-core over the page; each violation as its rule, the element and the page."""
    found = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})",
        WCAG_TAGS,
    )
    return [
        f"{where}: {v['id']} ({v['impact']}) at {' '.join(map(str, n['target']))}: {v['help']}"
        for v in found["violations"]
        for n in v["nodes"]
    ]


@pytest.mark.slow(
    reason="builds the demo and runs axe-core some 220 times: 60 pages of three roles, two widths"
)
def test_every_page_passes_axe_for_each_role_and_fits_a_phone(browser, fresh_db) -> None:
    """Every page of the navigation, its forms and a record of each kind, as each role sees it
    (in English, Norwegian and Swedish): no WCAG 2.2 A or AA violation (nor axe-core's best
    practice) at a desktop's width, and for the quality lead none on the main pages at a phone's
    width either, where no page is wider than the screen."""
    site = DemoSite(fresh_db)
    problems: list[str] = []
    try:
        # Each role in a language of its own: the pages' words differ, their structure must not.
        for login, lang in (
            ("demo-quality-lead", "en"),
            ("demo-coordinator", "nb"),
            ("demo-auditor", "sv"),
        ):
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_init_script(path=str(AXE_SCRIPT))
            page = context.new_page()
            page.goto(site.url + "/sign-in")
            problems += [f"{login} {v}" for v in _violations(page, "/sign-in")]
            page.get_by_label("User name").fill(login)
            page.get_by_label("Password").fill(site.password)
            page.get_by_role("button", name="Sign in").click()
            sync_api.expect(page).to_have_url(site.url + "/")
            page.goto(site.url + f"/language?set={lang}")
            sync_api.expect(page.locator("html")).to_have_attribute("lang", lang)
            nav = page.locator("nav a").evaluate_all("links => links.map(a => a.pathname)")
            paths = [*nav, *QUALITY_SYSTEM, *FORMS, *site.records.values(), "/no-such-page"]
            shots = {**MAIN_PAGES, **{path: kind for kind, path in site.records.items()}}
            for path in paths:
                page.goto(site.url + path)
                problems += [f"{login} {v}" for v in _violations(page, path)]
                if login != "demo-quality-lead":
                    continue
                name = shots.get(path, "").replace(" ", "-")
                if name:
                    _shot(page, f"desktop-{name}")
                page.set_viewport_size({"width": 390, "height": 844})
                overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
                if overflow > 0:
                    problems.append(f"{login} 390 px {path}: {overflow} px wider than the screen")
                if name:
                    # The main pages and the records again (their tables scroll here).
                    problems += [f"{login} 390 px {v}" for v in _violations(page, path)]
                    _shot(page, f"phone-{name}")
                page.set_viewport_size({"width": 1280, "height": 900})
            context.close()
    finally:
        site.stop()
    assert not problems, "\n".join(problems)


def _contrast(rgb: str, against: tuple[int, int, int] = (255, 255, 255)) -> float:
    """The WCAG contrast ratio of a CSS colour (rgb(…)) against another."""

    def luminance(channels: tuple[int, ...]) -> float:
        linear = [
            c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
            for c in (v / 255 for v in channels)
        ]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    channels = tuple(int(v) for v in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3])
    one, other = sorted((luminance(channels), luminance(against)), reverse=True)
    return (one + 0.05) / (other + 0.05)


def _beside(page: Any, control: Any) -> None:
    """Assert that a checkbox or radio sits on its label's line, just before the label's words."""
    gap, middle = control.evaluate(
        """input => {
            const label = input.labels[0];
            const walker = document.createTreeWalker(label, NodeFilter.SHOW_TEXT);
            let node = walker.nextNode();
            while (node && !node.textContent.trim()) node = walker.nextNode();
            const range = document.createRange();
            range.selectNodeContents(node);
            const words = range.getBoundingClientRect(), box = input.getBoundingClientRect();
            return [words.left - box.right,
                    Math.abs((words.top + words.bottom) / 2 - (box.top + box.bottom) / 2)];
        }"""
    )
    assert 0 <= gap <= 16, (page.url, gap)
    assert middle <= 8, (page.url, middle)


def test_on_a_phone_tables_scroll_by_keyboard_and_controls_sit_by_their_labels(
    browser, fresh_db
) -> None:
    expect = sync_api.expect
    site = DemoSite(fresh_db)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        page.goto(site.url + "/sign-in")
        page.get_by_label("User name").fill("demo-quality-lead")
        page.get_by_label("Password").fill(site.password)
        page.get_by_role("button", name="Sign in").click()
        page.goto(site.url + "/deviations")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        # The list is wider than the screen: its own box scrolls, says so, and takes the keyboard.
        table = page.get_by_role("region", name="Deviations")
        assert table.evaluate("box => box.scrollWidth > box.clientWidth")
        hint = table.evaluate("box => getComputedStyle(box, '::before').content")
        assert "Scroll sideways for more columns" in hint
        page.get_by_role("button", name="Filter").focus()
        page.keyboard.press("Tab")
        assert table.evaluate("box => box === document.activeElement")
        page.keyboard.press("ArrowRight")
        expect(table).not_to_have_js_property("scrollLeft", 0)
        # What has the focus shows it, at 3:1 or more against the white around it.
        ring = table.evaluate(
            "box => [getComputedStyle(box).outlineColor, getComputedStyle(box).outlineWidth]"
        )
        assert _contrast(ring[0]) >= 3, ring
        assert float(ring[1].removesuffix("px")) >= 2, ring

        page.goto(site.url + "/imports/new")
        _beside(page, page.locator("#f-dry_run"))
        page.goto(site.url + "/audit-trail")
        _beside(page, page.locator("#f-mine"))
        page.goto(site.url + site.records["follow-up form"])
        group = page.get_by_role("group", name="Expectations clarified")
        for answer in ("yes", "no"):
            _beside(page, group.get_by_label(answer))

        # A participant's details are read once; the form to change them opens when asked for.
        page.goto(site.url + site.records["participant"])
        expect(page.get_by_label("Professional field")).to_be_hidden()
        page.get_by_text("Edit the participant's details").click()
        expect(page.get_by_label("Professional field")).to_be_visible()
        _shot(page, "phone-participant-editing")
    finally:
        context.close()
        site.stop()
