"""The `qms` command: tokens on stdout for scripts, and the same services and audit trail."""

from __future__ import annotations

import re
import zipfile
from datetime import date, timedelta

import pytest
from sqlalchemy import inspect, select, text
from typer.testing import CliRunner

from qms import i18n
from qms.cli import app, common
from qms.config import get_settings
from qms.db import make_engine
from qms.pairs.models import Pair
from tests.conftest import make_client
from tests.factories import auth
from tests.test_audit import _drop_append_only_triggers
from tests.test_document_language import _coded_values, _english, _own, written_texts

runner = CliRunner()


@pytest.fixture
def qms(fresh_db, monkeypatch):
    """Run `qms ...` against the test's own database."""
    monkeypatch.setenv(
        "QMS_DATABASE_URL", fresh_db.engine.url.render_as_string(hide_password=False)
    )
    monkeypatch.setattr(common.out, "width", 220)  # a wide terminal: rows stay on one line
    # English, whatever the locale of the machine running the tests.
    monkeypatch.setenv("QMS_LANGUAGE", "en")
    get_settings.cache_clear()

    def run(*args: str, code: int = 0):
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result

    yield run
    get_settings.cache_clear()


class TestUsersAndTokens:
    def test_users_add_prints_the_token_alone_on_stdout(self, qms, fresh_db) -> None:
        result = qms("users", "add", "eva", "--role", "auditor")
        token = result.stdout.strip()
        assert token.startswith("qms_")
        assert "\n" not in token
        assert "eva" in result.stderr
        me = make_client(fresh_db).get("/api/v1/me", headers=auth(token))
        assert me.status_code == 200
        assert me.json()["role"] == "auditor"

    def test_users_password_lets_them_sign_in_on_the_web(self, qms, fresh_db) -> None:
        from tests.web import sign_in

        qms("users", "add", "ingrid", "--role", "coordinator")
        weak = runner.invoke(app, ["users", "password", "ingrid", "--stdin"], input="short\n")
        assert weak.exit_code == 2
        assert "password" in weak.stderr
        assert "at least 12 characters" in weak.stderr
        qms_result = runner.invoke(
            app, ["users", "password", "ingrid"], input="a long passphrase\na long passphrase\n"
        )
        assert qms_result.exit_code == 0, qms_result.stderr
        client = make_client(fresh_db)
        assert sign_in(client, "ingrid", "a long passphrase").status_code == 303
        assert sign_in(client, "ingrid", "wrong passphrase!").status_code == 401

    def test_a_deactivated_user_can_do_nothing_until_activated(self, qms, fresh_db) -> None:
        from tests.web import sign_in

        token = qms("users", "add", "siri", "--role", "coordinator").stdout.strip()
        runner.invoke(app, ["users", "password", "siri", "--stdin"], input="a long passphrase\n")
        client, browser = make_client(fresh_db), make_client(fresh_db)
        assert sign_in(browser, "siri", "a long passphrase").status_code == 303
        assert browser.get("/").status_code == 200
        qms("users", "deactivate", "siri", "--reason", "left the programme")
        # Every token revoked, the open browser session ended, no new sign-in.
        assert client.get("/api/v1/me", headers=auth(token)).status_code == 401
        assert browser.get("/", follow_redirects=False).status_code == 303
        assert sign_in(make_client(fresh_db), "siri", "a long passphrase").status_code == 401
        assert "already" in qms("users", "deactivate", "siri", code=2).stderr
        qms("users", "activate", "siri")
        assert sign_in(make_client(fresh_db), "siri", "a long passphrase").status_code == 303
        # Its old token stays revoked.
        assert client.get("/api/v1/me", headers=auth(token)).status_code == 401

    def test_the_last_admin_stays(self, qms, fresh_db) -> None:
        qms("users", "add", "root-admin", "--role", "admin")
        assert "last active admin" in qms("users", "deactivate", "root-admin", code=2).stderr

    def test_a_revoked_token_answers_401(self, qms, fresh_db) -> None:
        token = qms("users", "add", "olav", "--role", "quality_lead").stdout.strip()
        second = qms("tokens", "create", "olav").stdout.strip()
        client = make_client(fresh_db)
        assert client.get("/api/v1/me", headers=auth(token)).status_code == 200
        qms("tokens", "revoke", "--user", "olav", "--reason", "left")
        assert client.get("/api/v1/me", headers=auth(token)).status_code == 401
        assert client.get("/api/v1/me", headers=auth(second)).status_code == 401

    def test_a_scoped_token_from_the_command_line(self, qms, fresh_db) -> None:
        qms("demo", "--no-serve")
        token = qms("users", "add", "cb", "--role", "auditor", "--programme", "VIA-JOB").stdout
        listed = make_client(fresh_db).get("/api/v1/programmes", headers=auth(token.strip()))
        assert [p["code"] for p in listed.json()["items"]] == ["VIA-JOB"]

    def test_an_unknown_role_is_refused_by_name(self, qms) -> None:
        result = qms("users", "add", "x", "--role", "superuser", code=2)
        assert "admin, quality_lead" in result.stderr

    def test_an_expiry_below_one_day_names_the_option(self, qms) -> None:
        result = qms("users", "add", "y", "--role", "auditor", "--expires-in", "0", code=2)
        assert "expires_in" in result.stderr


class TestAuditVerify:
    def test_verify_says_ok_and_counts(self, qms) -> None:
        qms("users", "add", "a", "--role", "auditor")
        result = qms("audit", "verify")
        assert result.stdout.startswith("OK: 2 events")

    def test_verify_exits_1_on_a_broken_chain(self, qms, fresh_db) -> None:
        from sqlalchemy import text

        qms("users", "add", "a", "--role", "auditor")
        with fresh_db.engine.begin() as conn:
            conn.execute(text("UPDATE audit_chain_head SET count = 5"))
        result = qms("audit", "verify", code=1)
        assert "BROKEN" in result.stdout


class TestDisplayNames:
    def test_a_user_is_added_listed_and_renamed_by_display_name(self, qms, fresh_db) -> None:
        from qms.audit.models import AuditEvent

        qms("users", "add", "kari", "--role", "coordinator", "--display-name", "Kari Nordmann")
        row = next(line for line in qms("users", "list").stdout.splitlines() if "kari" in line)
        assert "Kari Nordmann" in row
        said = qms("users", "display-name", "kari", "Kari Nordmann Berg").stderr
        assert "Kari Nordmann Berg" in said
        assert "Kari Nordmann Berg" in qms("users", "list").stdout
        qms("users", "display-name", "kari", "")
        assert "Kari" not in qms("users", "list").stdout
        with fresh_db.unit_of_work(write=False) as session:
            changed = session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "user.display_name_changed")
                .order_by(AuditEvent.seq)
            ).all()
            assert [e.changes["display_name"] for e in changed] == [
                {"old": "Kari Nordmann", "new": "Kari Nordmann Berg"},
                {"old": "Kari Nordmann Berg", "new": None},
            ]
            assert all(e.actor.startswith("cli:") for e in changed)
        assert "no user named" in qms("users", "display-name", "nobody", "N", code=2).stderr

    def test_owners_are_listed_by_their_display_names(self, qms) -> None:
        qms("demo", "--no-serve")
        listed = qms("actions", "list").stdout
        assert "Siri Bakke" in listed
        assert "Ingrid Solberg" in listed
        assert "demo-coordinator" not in listed
        assert "demo-quality-lead" not in listed


class TestDemo:
    def test_demo_builds_two_programmes_and_prints_tokens(self, qms, fresh_db) -> None:
        result = qms("demo", "--no-serve")
        lines = dict(line.split("=", 1) for line in result.stdout.strip().splitlines())
        signed = fresh_db.engine.dialect.name == "sqlite"  # the key beside the database file
        assert set(lines) == {
            "QMS_QUALITY_LEAD_TOKEN",
            "QMS_AUDITOR_TOKEN",
            "QMS_COORDINATOR_TOKEN",
            "QMS_IMPORTER_TOKEN",
            "QMS_DEMO_PASSWORD",
            *(["QMS_PUBLIC_KEY"] if signed else []),
        }
        if signed:
            # The trail is signed from the first event, and the auditor checks it with the
            # public half printed.
            verified = qms("audit", "verify", "--public-key", lines["QMS_PUBLIC_KEY"])
            assert verified.stdout.startswith("OK: ")
            assert "signed checkpoints hold" in verified.stderr
        client = make_client(fresh_db)
        # The demo users sign in to the web front with the printed password.
        from tests.web import sign_in

        for name in ("demo-quality-lead", "demo-coordinator", "demo-auditor"):
            assert sign_in(client, name, lines["QMS_DEMO_PASSWORD"]).status_code == 303
        auditor = auth(lines["QMS_AUDITOR_TOKEN"])
        programmes = client.get("/api/v1/programmes", headers=auditor).json()["items"]
        assert {p["code"] for p in programmes} == {"VIA-JOB", "CAREER-18"}
        assert all(p["status"] == "running" for p in programmes)
        assert client.get("/api/v1/audit/verify", headers=auditor).json()["ok"] is True
        # The auditor reads, never writes.
        r = client.post(
            "/api/v1/programmes", headers=auditor, json={"code": "X", "name": "x", "organiser": "o"}
        )
        assert r.status_code == 403

    def test_demo_runs_again_on_its_own_data(self, qms) -> None:
        qms("demo", "--no-serve")
        again = qms("demo", "--no-serve")
        assert "there already" in again.stderr

    def test_demo_will_not_load_into_a_database_with_other_data(self, qms) -> None:
        qms("users", "add", "someone", "--role", "admin")
        result = qms("demo", "--no-serve", code=2)
        assert "other data" in result.stderr


def test_commands_refuse_an_unmigrated_database(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("QMS_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["users", "list"])
        assert result.exit_code == 2
        # However narrow the terminal wraps the message.
        assert "qms init" in " ".join(result.stderr.split())
        assert runner.invoke(app, ["init"]).exit_code == 0
        assert runner.invoke(app, ["users", "list"]).exit_code == 0
    finally:
        get_settings.cache_clear()


class TestQualityCommands:
    def test_log_prints_the_number_and_list_and_show_find_it(self, qms) -> None:
        qms("demo", "--no-serve")
        result = qms(
            "deviations", "log",
            "--kind", "nonconformity", "--source", "complaint", "--severity", "minor",
            "--title", "Mentee [not] told of the kick-off date",
            "--description", "The invitation went to an old address.",
            "--programme", "VIA-JOB", "--as", "demo-coordinator",
        )  # fmt: skip
        number = result.stdout.strip()
        assert re.fullmatch(r"DEV-\d{4}-\d{4}", number)
        listed = qms("deviations", "list", "--programme", "VIA-JOB").stdout
        assert number in listed
        assert "Mentee [not] told" in listed
        shown = qms("deviations", "show", number).stdout
        assert "deviation logged" in shown
        # Who logged it, by the name people read them by, not the login the records keep.
        assert "Siri Bakke" in shown
        assert "demo-coordinator" not in shown

    def test_overdue_actions_are_listed(self, qms) -> None:
        qms("demo", "--no-serve")
        listed = qms("actions", "list", "--overdue").stdout
        assert "Monthly check of every pair" in listed
        assert "overdue" in listed
        assert "Fixed meeting day" not in listed

    def test_acting_as_an_auditor_cannot_log(self, qms) -> None:
        qms("demo", "--no-serve")
        result = qms(
            "deviations", "log",
            "--kind", "observation", "--source", "self_reported", "--severity", "minor",
            "--title", "t", "--description", "d", "--as", "demo-auditor", code=2,
        )  # fmt: skip
        assert "does not allow you to log deviations" in result.stderr

    def test_an_unknown_deviation_is_named(self, qms) -> None:
        result = qms("deviations", "show", "DEV-1999-0001", code=2)
        assert "DEV-1999-0001" in result.stderr

    def test_bad_input_names_the_field(self, qms) -> None:
        result = qms(
            "deviations", "log",
            "--kind", "observation", "--source", "self_reported", "--severity", "minor",
            "--title", "t" * 300, "--description", "d", code=2,
        )  # fmt: skip
        assert "title" in result.stderr


class TestRecordCommands:
    def test_the_demo_holds_the_programme_records_the_seeds_describe(self, qms, fresh_db) -> None:
        tokens = dict(line.split("=", 1) for line in qms("demo", "--no-serve").stdout.split())
        client = make_client(fresh_db)
        auditor = auth(tokens["QMS_AUDITOR_TOKEN"])
        pairs = client.get("/api/v1/pairs?limit=200", headers=auditor).json()["items"]
        statuses = [p["status"] for p in pairs]
        assert statuses.count("completed") == 12
        unwound = [p for p in pairs if p["status"] == "unwound"]
        assert len(unwound) == 1
        assert any(p["rematch_of_id"] == unwound[0]["id"] for p in pairs)
        cohorts = client.get("/api/v1/programmes/1/cohorts", headers=auditor).json()
        board = client.get(f"/api/v1/cohorts/{cohorts[0]['id']}/follow-ups", headers=auditor).json()
        assert [i["outcome"] for i in board["items"]].count("at_risk") == 1
        assert board["held"] == 12
        people = client.get("/api/v1/participants?limit=200", headers=auditor).json()["items"]
        assert all(p["personal"] is None for p in people)
        qms("check")
        again = qms("check").stdout
        assert "0 opened" in again

    def test_erase_by_code(self, qms, fresh_db) -> None:
        qms("demo", "--no-serve")
        result = qms("participants", "erase", "P-0001", "--reason", "asked to be forgotten")
        assert "P-0001" in result.stderr
        lead = auth(qms("tokens", "create", "demo-quality-lead").stdout.strip())
        body = make_client(fresh_db).get("/api/v1/participants/1", headers=lead).json()
        assert body["personal"]["name"] is None
        assert body["personal"]["erased_at"] is not None
        assert "OK" in qms("audit", "verify").stdout

    def test_meetings_import_from_a_spreadsheet_export(self, qms, fresh_db, tmp_path) -> None:
        qms("demo", "--no-serve")
        with fresh_db.unit_of_work(write=False) as session:
            pair = session.scalars(select(Pair).where(Pair.code == "PAIR-0014")).one()
            cohort_ends = pair.mentee.cohort.end_on
        # Yesterday, while the demo's running cohort lasts; its last day once it is over.
        day = min(date.today() - timedelta(days=1), cohort_ends)
        good = tmp_path / "meetings.csv"
        good.write_text(
            "\ufeffpair;held_on;minutes;mode;topics\n"
            f"PAIR-0014;{day};75;video;CV review\n"
            f"PAIR-0014;{day};60;phone;\n",
            encoding="utf-8",
        )
        assert "2 meeting(s)" in qms("meetings", "import", str(good)).stderr
        bad = tmp_path / "bad.csv"
        bad.write_text(f"pair,held_on,minutes,mode\nPAIR-0014,{day},-5,video\n")
        assert "row 2, minutes" in qms("meetings", "import", str(bad), code=2).stderr
        unknown = tmp_path / "unknown.csv"
        unknown.write_text(
            f"pair,held_on,minutes,mode\nPAIR-0014,{day},60,video\nPAIR-9999,{day},60,video\n"
        )
        assert (
            "row 3, pair: There is no pair PAIR-9999."
            in qms("meetings", "import", str(unknown), code=2).stderr
        )
        missing = tmp_path / "missing.csv"
        missing.write_text(f"pair,held_on\nPAIR-0014,{day}\n")
        assert (
            "row 1, minutes: The file has no column minutes: add it."
            in qms("meetings", "import", str(missing), code=2).stderr
        )


def test_backup_and_restore_from_the_command_line(
    qms, fresh_db, tmp_path, monkeypatch, server
) -> None:
    qms("demo", "--no-serve")
    file = tmp_path / "demo.backup"
    assert "backed up" in qms("backup", str(file)).stderr
    assert "exists already" in qms("backup", str(file), code=2).stderr
    target = server.new_database()
    try:
        monkeypatch.setenv("QMS_DATABASE_URL", target)
        get_settings.cache_clear()
        result = qms("restore", str(file))
        assert result.stdout.startswith("OK: ")
        assert "not empty" in qms("restore", str(file), code=2).stderr
    finally:
        server.drop(target)
    # A backup whose trail was rewritten is named broken and not left in place.
    _drop_append_only_triggers(fresh_db)
    with fresh_db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET reason = 'rewritten' WHERE seq = 3"))
    tampered = tmp_path / "tampered.backup"
    monkeypatch.setenv(
        "QMS_DATABASE_URL", fresh_db.engine.url.render_as_string(hide_password=False)
    )
    get_settings.cache_clear()
    qms("backup", str(tampered))
    target = server.new_database()
    try:
        monkeypatch.setenv("QMS_DATABASE_URL", target)
        get_settings.cache_clear()
        result = qms("restore", str(tampered), code=1)
        assert result.stdout.startswith("BROKEN at event 3")
        assert "nothing restored" in result.stderr
        engine = make_engine(target)
        try:
            assert inspect(engine).get_table_names() == []
        finally:
            engine.dispose()
    finally:
        server.drop(target)
    stranger = tmp_path / "notes.txt"
    stranger.write_text("not a backup")
    monkeypatch.setenv("QMS_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    assert "is not a SQLite backup" in qms("restore", str(stranger), code=2).stderr


class TestImportCommands:
    def test_the_demo_imports_its_survey_and_outcomes_with_provenance(self, qms, fresh_db) -> None:
        tokens = dict(line.split("=", 1) for line in qms("demo", "--no-serve").stdout.split())
        batches = (
            make_client(fresh_db)
            .get("/api/v1/imports", headers=auth(tokens["QMS_AUDITOR_TOKEN"]))
            .json()
        )
        assert {(b["file_name"], b["rows_written"], b["importer"]) for b in batches} == {
            ("final-survey-2025.csv", 12, "demo-importer"),
            ("outcomes-2025.csv", 12, "demo-importer"),
        }

    def test_instruments_load_and_a_checked_import(self, qms, fresh_db, tmp_path) -> None:
        qms("demo", "--no-serve")
        spec = tmp_path / "mid.yaml"
        spec.write_text(
            "code: MID\nname: Mid-programme survey\nrespondent: both\nquestions:\n"
            "  - {code: PROGRESS, text: Progress so far, type: scale, scale_min: 1, scale_max: 5}\n"
        )
        assert "defined MID" in qms("instruments", "load", str(spec)).stderr
        data = tmp_path / "mid.csv"
        data.write_text(
            "participant,instrument,question,answer,submitted_at\n"
            "P-0001,MID,PROGRESS,4,2025-08-01\nP-0001,MID,PROGRESS,7,2025-08-02\n"
        )
        failed = qms("import", "evaluations", str(data), code=2).stderr
        outside = "The answer is outside the scale: enter a number from 1 to 5."
        assert f"row 3, answer: {outside}" in failed
        dry = qms("import", "evaluations", str(data), "--partial", "--dry-run").stderr
        assert "checked (dry run): 2 rows, 1 written, 1 rejected" in dry
        done = qms("import", "evaluations", str(data), "--partial", "--as", "demo-importer")
        assert "1 written, 1 rejected" in done.stderr
        assert "outside the scale" in done.stdout


def test_an_import_limited_to_a_programme_finds_no_one_outside_it(qms, tmp_path) -> None:
    qms("demo", "--no-serve")
    data = tmp_path / "o.csv"
    data.write_text("participant,outcome,date\nP-0001,education,2026-02-01\n")
    result = qms("import", "outcomes", str(data), "--programme", "CAREER-18", "--dry-run", code=2)
    assert "row 2, participant: There is no participant with this code." in result.stderr
    ok = qms("import", "outcomes", str(data), "--programme", "VIA-JOB", "--dry-run")
    assert "1 written" in ok.stderr


def test_docs_writes_an_issued_document(qms, tmp_path) -> None:
    from docx import Document

    qms("demo", "--no-serve")
    target = tmp_path / "pr05.docx"
    assert "issued document" in qms("docs", "procedure", "PR-05", "-o", str(target)).stderr
    assert Document(str(target)).paragraphs[0].text == "Matching of mentors and mentees"
    assert (
        "There is no document kind"
        in qms("docs", "brochure", "-o", str(tmp_path / "x.docx"), code=2).stderr
    )


@pytest.mark.slow(reason="issues documents and the demo's whole audit pack (about 34 documents)")
def test_docs_writes_reports_and_the_audit_pack(qms, tmp_path) -> None:
    qms("demo", "--no-serve")
    qms("docs", "capa-status", "--programme", "VIA-JOB", "-o", str(tmp_path / "c.docx"))
    qms(
        "docs", "follow-up-report", "2025", "--programme", "VIA-JOB", "-o", str(tmp_path / "f.docx")
    )
    qms("docs", "audit-pack", "--programme", "VIA-JOB", "-o", str(tmp_path / "p.zip"))
    assert "manifest.json" in zipfile.ZipFile(tmp_path / "p.zip").namelist()
    refused = qms("docs", "audit-pack", "-o", str(tmp_path / "x"), code=2).stderr
    assert "This document is of one programme: name it with --programme." in refused


class TestLanguage:
    @pytest.mark.parametrize("language", ["nb", "sv"])
    def test_every_table_and_report_speaks_the_language(self, qms, fresh_db, language: str) -> None:
        qms("demo", "--no-serve")
        with fresh_db.unit_of_work(write=False) as session:
            written = written_texts(session)
        commands = [
            ("users", "list"),
            ("tokens", "list"),
            ("audit", "verify"),
            ("deviations", "list"),
            ("deviations", "show", _first_number(qms)),
            ("actions", "list"),
            ("procedures", "list"),
            ("frameworks", "list"),
            ("frameworks", "show", "MENTOR"),
            ("retention", "report"),
            ("check",),
        ]
        codes = _coded_values()
        # A table cuts a long text short, so a catalogue text that people also wrote in the
        # records (a deviation's description) cannot be told from theirs.
        english = [m for m in _english(language) if not any(m in w for w in written)]
        left: dict[str, list[str]] = {}
        for command in commands:
            result = qms("--language", language, *command)
            said = _own(re.sub(r"\s+", " ", result.stdout + " " + result.stderr), written)
            found = [m for m in english if m in said]
            found += [c for c in codes if re.search(rf"\b{re.escape(c)}\b", said)]
            if found:
                left[" ".join(command)] = found
        assert left == {}

    def test_tables_speak_the_chosen_language_and_show_no_stored_code(self, qms) -> None:
        qms("demo", "--no-serve")
        listed = qms("--language", "nb", "deviations", "list", "--programme", "VIA-JOB").stdout
        for header in ("Status", "Severity", "Due"):
            assert i18n.translate(header, "nb") in listed
        assert "Severity" not in listed
        assert i18n.label("action_required", "nb") in listed
        for code in ("action_required", "self_reported", "deviation_from_plan", "meeting_rule"):
            assert code not in listed
        actions = qms("--language", "nb", "actions", "list").stdout
        assert i18n.label("in_progress", "nb") in actions
        assert "in_progress" not in actions

    def test_the_environment_locale_is_the_default(self, qms, monkeypatch) -> None:
        qms("demo", "--no-serve")
        monkeypatch.delenv("QMS_LANGUAGE")
        monkeypatch.setenv("LANG", "sv_SE.UTF-8")
        monkeypatch.delenv("LC_ALL", raising=False)
        monkeypatch.delenv("LC_MESSAGES", raising=False)
        shown = qms("deviations", "show", _first_number(qms)).stdout
        assert i18n.translate("Timeline", "sv") in shown
        assert "Timeline" not in shown
        # Dates as Swedish writes them, times to the minute.
        assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?!:)", shown)

    def test_users_and_tokens_are_listed_in_the_language(self, qms) -> None:
        qms("demo", "--no-serve")
        users = qms("--language", "nb", "users", "list").stdout
        for header in ("User name", "Role", "Status", "Created"):
            assert i18n.translate(header, "nb") in users
        assert i18n.label("quality_lead", "nb") in users
        assert "quality_lead" not in users
        tokens = qms("--language", "nb", "tokens", "list").stdout
        for header in ("User", "Programme", "Expires", "Revoked"):
            assert i18n.translate(header, "nb") in tokens
        assert "never" not in tokens
        made = qms("--language", "nb", "users", "add", "kari", "--role", "quality_lead")
        assert i18n.label("quality_lead", "nb") in made.stderr
        assert "quality_lead" not in made.stderr

    def test_the_rule_check_speaks_the_language(self, qms) -> None:
        qms("demo", "--no-serve")
        result = qms("--language", "sv", "check").stdout
        assert i18n.translate("Finding", "sv") in result
        assert "Rule check" not in result
        assert "opened" not in result
        for code in ("meeting_rule", "follow_up_overdue", "at_risk_undecided"):
            assert code not in result

    def test_procedures_are_listed_and_synced_in_the_language(self, qms) -> None:
        qms("demo", "--no-serve")
        listed = qms("--language", "sv", "procedures", "list").stdout
        for header in ("Code", "Owner", "Effective from", "Next review"):
            assert i18n.translate(header, "sv") in listed
        assert i18n.label("quality_lead", "sv") in listed
        for code in ("quality_lead", "approved"):
            assert code not in listed
        synced = qms("--language", "sv", "procedures", "sync")
        assert i18n.translate("unchanged", "sv") in synced.stdout
        assert "unchanged" not in synced.stdout + synced.stderr

    def test_frameworks_and_retention_speak_the_language(self, qms) -> None:
        qms("demo", "--no-serve")
        listed = qms("--language", "nb", "frameworks", "list").stdout
        assert i18n.translate("Publisher", "nb") in listed
        # The demo's follow-ups are held in 2026, whatever day the clock shows.
        evidence = qms(
            "--language", "nb", "frameworks", "show", "EMCC", "--evidence",
            "--programme", "VIA-JOB", "--from", "2025-01-01", "--to", "2026-12-31",
        )  # fmt: skip
        assert i18n.translate("Evidence in the period", "nb") in evidence.stdout
        assert i18n.translate("follow-ups held", "nb") in evidence.stdout
        assert "follow-ups held" not in evidence.stdout
        assert "covered" not in evidence.stderr
        retention = qms("--language", "nb", "retention", "report").stdout
        for header in ("Kind of record", "Counted from", "Due now"):
            assert i18n.translate(header, "nb") in retention
        assert i18n.label("personal_data", "nb") in retention
        for code in ("personal_data", "follow_up_notes", "remove", "the day"):
            assert code not in retention

    def test_imports_and_their_rejected_rows_speak_the_language(self, qms, tmp_path) -> None:
        qms("demo", "--no-serve")
        data = tmp_path / "o.csv"
        data.write_text("participant,outcome,date\nP-0001,education,2026-02-01\nP-9999,x,y\n")
        result = qms("--language", "sv", "import", "outcomes", str(data), "--partial", "--dry-run")
        assert i18n.translate("Rejected rows", "sv") in result.stdout
        assert i18n.translate("Column", "sv") in result.stdout
        assert "checked (dry run)" not in result.stderr
        assert "1 skrivna, 1 avvisade" in result.stderr

    def test_errors_and_their_rows_are_named_in_the_language(self, qms, tmp_path) -> None:
        qms("demo", "--no-serve")
        missing = tmp_path / "missing.csv"
        missing.write_text("pair,held_on\nPAIR-0014,2026-01-05\n")
        refused = qms("--language", "nb", "meetings", "import", str(missing), code=2).stderr
        assert i18n.translate("error:", "nb") in refused
        assert "Filen mangler påkrevde kolonner." in refused
        assert "rad 1, minutes: Filen har ingen kolonne minutes: legg den til." in refused
        assert "row 1" not in refused

    def test_docs_speak_the_language(self, qms, tmp_path) -> None:
        qms("demo", "--no-serve")
        target = tmp_path / "pr05.docx"
        issued = qms("--language", "sv", "docs", "procedure", "PR-05", "-o", str(target)).stderr
        assert "issued document" not in issued
        assert (
            i18n.translate("issued document %(number)s to %(file)s (sha256 %(digest)s…)", "sv")[:12]
            in issued
        )
        refused = qms("--language", "sv", "docs", "audit-pack", "-o", str(tmp_path / "x"), code=2)
        assert "Det här dokumentet gäller ett program: ange det med --programme." in refused.stderr
        assert "This document is of one programme" not in refused.stderr

    def test_an_unknown_language_is_refused_by_its_option(self, qms) -> None:
        result = qms("--language", "da", "deviations", "list", code=2)
        assert "--language" in result.stderr
        assert "en, nb, sv" in result.stderr


def _first_number(qms) -> str:
    """Return the number of the first deviation the demo logged."""
    listed = qms("--language", "en", "deviations", "list", "--limit", "200").stdout
    return sorted(re.findall(r"DEV-\d{4}-\d{4}", listed))[0]


class TestCheckClearedFinding:
    def test_a_cleared_indicator_finding_is_shown_with_its_value_now(self, qms, fresh_db) -> None:
        from qms.indicators import service as indicators
        from qms.indicators.schemas import IndicatorCreate, IndicatorValueCreate
        from tests.factories import ADMIN, make_programme

        with fresh_db.unit_of_work() as session:
            programme = make_programme(session)
            definition = indicators.define(
                session,
                actor=ADMIN,
                programme_id=programme.id,
                data=IndicatorCreate(
                    code="INQUIRIES",
                    name="Inquiries",
                    unit="count",
                    computation="entered",
                    planned=12,
                    threshold=4,
                ),
            )
            for start, end, value in (
                (date(2025, 1, 1), date(2025, 6, 30), 2),
                (date(2025, 7, 1), date(2025, 12, 31), 7),
            ):
                indicators.enter_value(
                    session,
                    actor=ADMIN,
                    indicator_id=definition.id,
                    data=IndicatorValueCreate(period_start=start, period_end=end, value=value),
                )
        found = qms("check", "--on", "2025-06-30").stdout
        assert "Inquiries: 2.0" in found
        cleared = qms("--language", "nb", "check", "--on", "2025-12-31").stdout
        assert "Inquiries: 2.0" not in cleared
        assert "Inquiries" in cleared
        assert "31.12.2025" in cleared  # the value as of the date, said in the language


class TestDatabaseThatIsNotThere:
    @pytest.fixture
    def elsewhere(self, tmp_path, monkeypatch):
        """A folder with no database in it, and the default database URL (./qms.db)."""
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("QMS_DATABASE_URL", raising=False)
        monkeypatch.setenv("QMS_LANGUAGE", "en")
        monkeypatch.setattr(common.out, "width", 220)
        monkeypatch.setattr(common.err, "width", 220)
        get_settings.cache_clear()
        yield tmp_path
        get_settings.cache_clear()

    @pytest.mark.parametrize(
        "args", [("deviations", "list"), ("procedures", "sync"), ("audit", "verify")]
    )
    def test_a_command_refuses_a_database_that_does_not_exist(self, elsewhere, args) -> None:
        result = runner.invoke(app, list(args))
        assert result.exit_code == 2, (result.stdout, result.stderr)
        assert not (elsewhere / "qms.db").exists()
        message = " ".join(result.stderr.split())
        assert str(elsewhere / "qms.db") in message
        assert "qms init" in message

    def test_init_says_which_database_it_made(self, elsewhere) -> None:
        result = runner.invoke(app, ["init"])
        assert result.exit_code == 0, result.stderr
        assert (elsewhere / "qms.db").exists()
        message = " ".join(result.stderr.split())
        assert "created" in message
        assert str(elsewhere / "qms.db") in message
        again = runner.invoke(app, ["init"])
        assert again.exit_code == 0, again.stderr
        assert "created" not in again.stderr
        assert str(elsewhere / "qms.db") in " ".join(again.stderr.split())
        assert runner.invoke(app, ["deviations", "list"]).exit_code == 0


class TestAccountLists:
    def test_users_and_tokens_as_csv_and_json_name_the_programme_by_its_code(self, qms) -> None:
        import csv
        import io
        import json

        qms("demo", "--no-serve")
        qms("users", "add", "revisor", "--role", "auditor")
        qms("tokens", "create", "revisor", "--programme", "VIA-JOB")
        users = json.loads(qms("users", "list", "--format", "json").stdout)["items"]
        assert {"name": "revisor", "role": "auditor", "status": "active"}.items() <= next(
            u for u in users if u["name"] == "revisor"
        ).items()
        rows = list(csv.DictReader(io.StringIO(qms("tokens", "list", "--format", "csv").stdout)))
        (row,) = [r for r in rows if r["User"] == "revisor" and r["Programme"]]
        # The programme by its code, never its id; the secret never, the prefix only.
        assert row["Programme"] == "VIA-JOB"
        assert row["Prefix"].startswith("qms_")
        table = qms("tokens", "list", "--user", "revisor").stdout
        assert "VIA-JOB" in table


class TestComments:
    def test_a_comment_added_by_number_is_listed_with_its_author(self, qms) -> None:
        import csv
        import io
        import json

        qms("demo", "--no-serve")
        listed = json.loads(qms("deviations", "list", "--format", "json").stdout)["items"]
        number = listed[0]["number"]
        added = qms("comments", "add", number.lower(), "The meeting log was checked on site.")
        assert number in added.stderr
        [row] = list(
            csv.DictReader(io.StringIO(qms("comments", "list", number, "--format", "csv").stdout))
        )
        assert row["Comment"] == "The meeting log was checked on site."
        assert row["Who"]
        assert "The meeting log was checked on site." in qms("comments", "list", number).stdout

    def test_a_record_that_takes_no_comments_or_none_at_all_is_named(self, qms) -> None:
        qms("demo", "--no-serve")
        refused = qms("comments", "add", "VIA-JOB", "A remark", code=2)
        assert "VIA-JOB takes no comments" in " ".join(refused.stderr.split())
        unknown = qms("comments", "list", "DEV-1999-0001", code=2)
        assert "No record DEV-1999-0001" in " ".join(unknown.stderr.split())
