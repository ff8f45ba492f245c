"""The reader's language: the catalogues are complete, current and used by pages and documents."""

from __future__ import annotations

import ast
import enum
import importlib
import io
import os
import pkgutil
import re
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import docx
import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

import qms
from qms import i18n
from qms.i18n import catalogues
from qms.i18n.values import VALUES
from qms.permissions import Action, Role
from tests.factories import auth, make_token
from tests.web import sign_in, web_user

TRANSLATED = [language for language in i18n.LANGUAGES if language != i18n.DEFAULT_LANGUAGE]
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|\{[a-z_]*\}")


def _catalogue(language: str) -> Catalog:
    with (i18n.LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


def _stored_values() -> list[enum.StrEnum]:
    """Every member of every enum the records store (the permission table's actions aside)."""
    members: list[enum.StrEnum] = []
    for info in pkgutil.walk_packages(qms.__path__, "qms."):
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and issubclass(obj, enum.StrEnum)
                and obj.__module__ == module.__name__
                and obj is not Action
            ):
                members.extend(obj)
    return members


class TestCatalogues:
    def test_the_template_holds_exactly_the_texts_the_code_marks(self, tmp_path: Path) -> None:
        fresh = tmp_path / "messages.pot"
        catalogues.extract(fresh)
        kept = catalogues.msgids(i18n.LOCALE_DIR / "messages.pot")
        marked = catalogues.msgids(fresh)
        assert len(marked) > 500
        assert sorted(marked - kept) == [], "run: python -m qms.i18n.catalogues"
        assert sorted(kept - marked) == [], "run: python -m qms.i18n.catalogues"

    def test_the_short_date_patterns_kept_are_cldr_s_and_write_dates_as_babel_does(self) -> None:
        from babel import dates as babel_dates

        from qms.i18n import cldr

        assert cldr.SHORT_DAY.keys() == set(i18n.LANGUAGES)
        assert catalogues.CLDR_MODULE.read_text(encoding="utf-8") == catalogues.cldr_module(), (
            "run: python -m qms.i18n.catalogues"
        )
        days = [date(2026, 1, 5), date(2026, 11, 30), date(2027, 12, 31), date(2030, 6, 1)]
        for language in i18n.LANGUAGES:
            locale = i18n.LOCALES[language]
            assert [i18n.format_day(d, language) for d in days] == [
                babel_dates.format_date(d, "short", locale=locale) for d in days
            ]

    @pytest.mark.parametrize("language", TRANSLATED)
    def test_every_text_is_translated_and_none_is_fuzzy(self, language: str) -> None:
        catalogue = _catalogue(language)
        template = catalogues.msgids(i18n.LOCALE_DIR / "messages.pot")
        entries = {str(m.id): m for m in catalogue if m.id}
        assert sorted(template - set(entries)) == []
        assert [m for m, e in entries.items() if not e.string] == []
        assert [m for m, e in entries.items() if e.fuzzy] == []
        assert not catalogue.fuzzy
        mismatched = [
            m
            for m, e in entries.items()
            if sorted(PLACEHOLDER.findall(m)) != sorted(PLACEHOLDER.findall(str(e.string)))
        ]
        assert mismatched == []

    @pytest.mark.parametrize("language", TRANSLATED)
    def test_babel_finds_no_broken_format_in_a_translation(self, language: str) -> None:
        # A translation that drops or renames a %(placeholder)s would fail when it is shown.
        problems = [
            (str(m.id), [str(e) for e in errors]) for m, errors in _catalogue(language).check()
        ]
        assert problems == []

    def test_every_stored_value_has_its_words_in_the_catalogue(self) -> None:
        values = _stored_values()
        assert len(values) > 100
        assert sorted({str(v) for v in values} - set(VALUES)) == []
        template = catalogues.msgids(i18n.LOCALE_DIR / "messages.pot")
        assert sorted(set(VALUES.values()) - template) == []

    @pytest.mark.parametrize("language", TRANSLATED)
    def test_a_label_is_never_the_stored_code(self, language: str) -> None:
        from qms.i18n import label

        for value in ("action_required", "verified_effective", "quality_lead", "at_risk"):
            shown = label(value, language)
            assert "_" not in shown, (value, shown)
            assert shown != label(value, "en"), (value, shown)


class TestChoosingTheLanguage:
    @pytest.mark.parametrize(
        ("header", "language"),
        [
            ("nb-NO,nb;q=0.9,en;q=0.5", "nb"),
            ("no", "nb"),
            ("nn-NO", "nb"),
            ("sv-SE,sv;q=0.9", "sv"),
            ("sv", "sv"),
            ("en-US", "en"),
            ("de-DE", None),
            ("", None),
            # The weights decide, not the order; q=0 means "not this one".
            ("en;q=0.1, nb;q=0.9", "nb"),
            ("sv;q=0, en", "en"),
            ("de, sv;q=0.5", "sv"),
        ],
    )
    def test_the_browser_preference_is_negotiated(self, header: str, language: str) -> None:
        assert i18n.negotiate(header) == language

    def test_swedish_pages_from_the_browser_or_by_choice(self, client, session) -> None:
        sign_in(client, web_user(session, Role.quality_lead))
        sv = client.get("/deviations", headers={"Accept-Language": "sv-SE,sv;q=0.9"})
        assert '<html lang="sv">' in sv.text
        log = i18n.translate("Log a deviation", "sv")
        assert log != "Log a deviation"
        assert log in sv.text
        assert "Log a deviation" not in sv.text
        # The switch offers the two other languages, each named in itself.
        assert 'href="/language?set=en"' in sv.text
        assert 'href="/language?set=nb"' in sv.text
        assert "Norsk bokmål" in sv.text
        client.get("/language?set=sv")
        assert log in client.get("/deviations").text
        client.get("/language?set=en")
        assert "Log a deviation" in client.get("/deviations").text


def test_a_fourth_language_is_a_catalogue_and_its_translations(tmp_path: Path) -> None:
    """`pybabel init -l da` and a translation are all a new language needs: it is offered, named
    in itself, formats as Denmark does and is read from its catalogue."""
    root = Path(qms.__file__).resolve().parent.parent
    shutil.copytree(root / "qms", tmp_path / "qms", ignore=shutil.ignore_patterns("__pycache__"))
    locale = tmp_path / "qms" / "locale"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "--quiet", "init",
         "--input-file", str(locale / "messages.pot"), "--output-dir", str(locale),
         "--locale", "da"],
        check=True,
    )  # fmt: skip
    po = locale / "da" / "LC_MESSAGES" / "messages.po"
    po.write_text(
        po.read_text().replace(
            'msgid "Log a deviation"\nmsgstr ""',
            'msgid "Log a deviation"\nmsgstr "Registrér en afvigelse"',
        )
    )
    shown = subprocess.run(
        [sys.executable, "-c",
         "from datetime import date; from qms import i18n; "
         "print(i18n.LANGUAGES, i18n.NAMES['da'], i18n.negotiate('da-DK,en;q=0.5'), "
         "i18n.translate('Log a deviation', 'da'), i18n.format_day(date(2026, 11, 30), 'da'), "
         "i18n.format_number(2.5, 'da'), sep='|')"],
        check=True, capture_output=True, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    ).stdout.strip()  # fmt: skip
    assert shown.split("|") == [
        "('en', 'da', 'nb', 'sv')",
        "Dansk",
        "da",
        "Registrér en afvigelse",
        "30.11.2026",
        "2,5",
    ]


class TestDocuments:
    @pytest.mark.parametrize("language", TRANSLATED)
    def test_a_document_carries_its_title_and_page_labels_in_the_language(
        self, client, session, language: str
    ) -> None:
        headers = auth(make_token(session, Role.quality_lead))
        r = client.get(f"/api/v1/documents/master-list?language={language}", headers=headers)
        assert r.status_code == 200, r.text
        document = docx.Document(io.BytesIO(r.content))
        text = "\n".join(p.text for p in document.paragraphs)
        title = i18n.translate("Master list of procedures", language)
        assert title != "Master list of procedures"
        assert title in text
        footer = "\n".join(p.text for p in document.sections[0].footer.paragraphs)
        page = i18n.translate("Page %(page)s of %(pages)s", language) % {"page": 1, "pages": 1}
        assert page != "Page 1 of 1"
        assert page in footer
        assert "Page" not in footer

    def test_an_unknown_language_is_refused_by_name(self, client, session) -> None:
        headers = auth(make_token(session, Role.quality_lead))
        r = client.get("/api/v1/documents/master-list?language=da", headers=headers)
        assert r.status_code == 422
        assert "language" in r.text


class TestFormats:
    def test_dates_numbers_and_per_cents_as_each_language_writes_them(self) -> None:
        day = date(2026, 11, 30)
        assert [i18n.format_day(day, lang) for lang in ("en", "nb", "sv")] == [
            "30/11/2026",
            "30.11.2026",
            "2026-11-30",
        ]
        assert i18n.format_day(day, "nb", long=True) == "30. november 2026"
        assert [i18n.format_number(2.5, lang) for lang in ("en", "nb", "sv")] == [
            "2.5",
            "2,5",
            "2,5",
        ]
        assert i18n.format_percent(0.917, "nb") == "92\xa0%"
        assert i18n.format_percent(0.917, "en") == "92%"

    def test_a_moment_is_shown_to_the_minute_in_the_organisations_time_zone(self) -> None:
        moment = datetime(2026, 6, 30, 22, 5, 59, 123456, tzinfo=UTC)
        # Midnight has passed in Oslo (UTC+2 in summer): the date is the next day's.
        assert i18n.format_moment(moment, "nb") == "01.07.2026, 00:05"
        assert i18n.format_moment(moment, "sv") == "2026-07-01 00:05"


class TestRefusalsSayWhatToDo:
    """A refusal names the field and says what to do, in the reader's language."""

    def _log(self, client, session, language: str | None, **fields: object):
        headers = auth(make_token(session, Role.quality_lead))
        if language:
            headers["Accept-Language"] = language
        body = {
            "kind": "nonconformity",
            "source": "self_reported",
            "severity": "minor",
            "title": "x" * 201,
            "description": "d",
            **fields,
        }
        body = {k: v for k, v in body.items() if v is not None}
        return client.post("/api/v1/deviations", headers=headers, json=body)

    @pytest.mark.parametrize(
        ("language", "too_long", "missing"),
        [
            (None, "Write at most 200 characters.", "Fill in this field."),
            ("nb-NO", "Skriv høyst 200 tegn.", "Fyll ut dette feltet."),
            ("sv-SE", "Skriv högst 200 tecken.", "Fyll i det här fältet."),
        ],
    )
    def test_rest_messages_follow_accept_language_and_titles_stay(
        self, client, session, language: str | None, too_long: str, missing: str
    ) -> None:
        r = self._log(client, session, language, description=None)
        assert r.status_code == 422
        body = r.json()
        # What scripts read stays the same in every language.
        assert body["title"] == "Validation failed"
        messages = {e["field"]: e["message"] for e in body["errors"]}
        assert messages == {"title": too_long, "description": missing}
        assert "String should" not in r.text
        assert "Field required" not in r.text

    def test_an_address_is_asked_for_with_an_example(self, client, session) -> None:
        from tests.factories import make_cohort, make_programme

        cohort = make_cohort(session, make_programme(session))
        headers = {**auth(make_token(session, Role.coordinator)), "Accept-Language": "sv"}
        r = client.post(
            "/api/v1/participants",
            headers=headers,
            json={
                "cohort_id": cohort.id,
                "role": "mentee",
                "personal": {"name": "A", "email": "not-an-address"},
            },
        )
        assert r.status_code == 422, r.text
        errors = {e["field"]: e["message"] for e in r.json()["errors"]}
        assert errors["personal.email"] == "Ange en e-postadress, till exempel namn@example.org."
        assert "pattern" not in r.text

    def test_a_form_refused_in_swedish_says_so_beside_the_field(self, client, session) -> None:
        from tests.web import csrf_of, error_beside

        sign_in(client, web_user(session, Role.quality_lead))
        client.get("/language?set=sv")
        token = csrf_of(client.get("/deviations/new").text)
        r = client.post(
            "/deviations/new",
            data={
                "csrf_token": token,
                "title": "",
                "description": "d",
                "severity": "grave",
                "kind": "nonconformity",
                "source": "self_reported",
            },
        )
        assert r.status_code == 422
        assert error_beside(r.text, "title") == "Fyll i det här fältet."
        # The choices by the words the form shows, listed as Swedish lists them.
        assert error_beside(r.text, "severity") == "Välj ett av: mindre, större eller kritisk."
        assert "se fälten som är markerade nedan" in r.text


# Where a refusal's message is given: the first argument of a domain error (the second of a
# page's WebProblem), the second of a FieldError.
REFUSALS = {
    "QMSError": 0,
    "NotFound": 0,
    "Unauthenticated": 0,
    "Forbidden": 0,
    "Conflict": 0,
    "InvalidTransition": 0,
    "StaleVersion": 0,
    "PreconditionRequired": 0,
    "TooLarge": 0,
    "ValidationFailed": 0,
    "WebProblem": 1,
    "FieldError": 1,
}


def _unsaid_refusals() -> list[str]:
    """Every refusal in the code whose message is written as a plain or formatted string: it
    could not be said in the reader's language (a `Text`, a text translated with `t()` or a
    message passed on is fine)."""
    found = []
    root = Path(qms.__file__).resolve().parent.parent
    for path in sorted([*root.glob("qms/**/*.py"), *root.glob("api/**/*.py")]):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name not in REFUSALS or len(node.args) <= REFUSALS[name]:
                continue
            message = node.args[REFUSALS[name]]
            # A text translated on the spot (the command line's t("…") % {…}) is said already.
            if isinstance(message, ast.BinOp) and isinstance(message.left, ast.Call):
                continue
            if isinstance(message, ast.Constant | ast.JoinedStr | ast.BinOp):
                found.append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def _hidden_from_extraction() -> list[str]:
    """Every text marked for the catalogue inside an f-string: on Python 3.11 an f-string is one
    token to Babel's extractor, so the text never reaches the catalogue and is shown in English."""
    keywords = {keyword.split(":")[0] for keyword in catalogues.KEYWORDS}
    found = []
    root = Path(qms.__file__).resolve().parent.parent
    for path in sorted([*root.glob("qms/**/*.py"), *root.glob("api/**/*.py")]):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.JoinedStr):
                continue
            for inner in ast.walk(node):
                name = getattr(getattr(inner, "func", None), "id", None)
                if isinstance(inner, ast.Call) and name in keywords and inner.args:
                    if isinstance(inner.args[0], ast.Constant):
                        found.append(f"{path.relative_to(root)}:{inner.lineno}")
    return found


def test_no_text_for_the_catalogue_hides_in_an_f_string() -> None:
    assert _hidden_from_extraction() == []


class TestEveryRefusalIsSaidInTheLanguage:
    def test_no_refusal_is_a_plain_english_string(self) -> None:
        assert _unsaid_refusals() == []

    @pytest.mark.parametrize("language", TRANSLATED)
    def test_refusals_across_the_records_come_in_the_language(
        self, client, session, language: str
    ) -> None:
        from tests.factories import make_deviation

        theirs = {**auth(make_token(session, Role.quality_lead)), "Accept-Language": language}
        auditor = {**auth(make_token(session, Role.auditor)), "Accept-Language": language}
        deviation = make_deviation(session, severity="major")
        session.commit()
        asked = [
            ("get", "/api/v1/deviations/424242", theirs, None),
            ("get", "/api/v1/actions/424242", theirs, None),
            ("get", "/api/v1/deviations?bogus=1", theirs, None),
            ("post", "/api/v1/deviations", auditor, {"title": "t"}),
            (
                "post",
                f"/api/v1/deviations/{deviation.id}/transitions",
                theirs,
                {"to": "closed"},
            ),
            (
                "post",
                f"/api/v1/deviations/{deviation.id}/transitions",
                theirs,
                {"to": "grave"},
            ),
            ("get", "/api/v1/deviations", {"Accept-Language": language}, None),
        ]
        codes = {m.value for m in _stored_values() if "_" in m.value}
        for method, path, headers, body in asked:
            extra = {"If-Match": '"1"'} if method == "post" else {}
            said = client.request(method, path, headers={**headers, **extra}, json=body).json()
            english_headers = {k: v for k, v in headers.items() if k != "Accept-Language"}
            plain = client.request(
                method, path, headers={**english_headers, **extra}, json=body
            ).json()
            messages = [said["detail"], *(e["message"] for e in said.get("errors") or [])]
            originals = [plain["detail"], *(e["message"] for e in plain.get("errors") or [])]
            assert said["title"] == plain["title"], path
            for message, original in zip(messages, originals, strict=True):
                assert message != original, (path, message)
                # A script reads the code to send beside its label: "under utredning
                # ('investigating')"; a person never reads a code alone.
                bare = re.sub(r"\('[a-z_]+'\)", "", message)
                assert not [c for c in codes if c in bare], (path, message)


class TestTheAuditTrailPage:
    def test_events_records_and_fields_are_named_in_the_language(self, client, session) -> None:
        from tests.factories import make_deviation

        make_deviation(session)
        sign_in(client, web_user(session, Role.auditor))
        client.get("/language?set=nb")
        page = client.get("/audit-trail")
        assert page.status_code == 200
        visible = re.sub(r"<[^>]+>", " ", page.text)
        assert i18n.label("deviation.created", "nb") in visible
        assert "deviation.created" not in visible
        # A changed field is named by its label, not its column.
        assert i18n.label("severity", "nb") in visible


class TestTimelines:
    def test_a_deviations_timeline_reads_as_sentences_with_record_numbers(
        self, client, session
    ) -> None:
        from qms.deviations import service as deviations
        from qms.deviations.schemas import DeviationTransition
        from tests.factories import ADMIN, make_action, make_deviation, make_user

        deviation = make_deviation(session, severity="minor")
        for target in ("investigating", "action_required"):
            deviations.transition(
                session,
                actor=ADMIN,
                deviation_id=deviation.id,
                data=DeviationTransition.model_validate({"to": target}),
                if_match=deviation.version,
            )
        action = make_action(session, [deviation], make_user(session, Role.quality_lead))
        session.flush()
        sign_in(client, web_user(session, Role.quality_lead))
        client.get("/language?set=nb")
        page = client.get(f"/deviations/{deviation.id}")
        assert page.status_code == 200
        visible = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))
        nb = i18n.translate
        assert nb("Deviation %(record)s logged", "nb") % {"record": deviation.number} in visible
        status = nb("Status: %(old)s → %(new)s", "nb") % {
            "old": i18n.label("investigating", "nb"),
            "new": i18n.label("action_required", "nb"),
        }
        assert status in visible
        linked = nb("Corrective action %(numbers)s linked", "nb") % {"numbers": action.number}
        assert linked in visible
        # No event's name, internal id or list in brackets.
        for raw in ("deviation.transitioned", "deviation.action_linked", "action.created", "[]"):
            assert raw not in visible, raw
        assert f"(action {action.id})" not in visible


class TestTheRetentionPage:
    def test_kinds_and_dispositions_are_named_in_the_language(self, client, session) -> None:
        sign_in(client, web_user(session, Role.quality_lead))
        client.get("/language?set=sv")
        page = client.get("/retention")
        assert page.status_code == 200
        visible = re.sub(r"<[^>]+>", " ", page.text)
        assert i18n.label("personal_data", "sv") in visible
        for code in ("personal_data", "follow_up_notes", "evaluation_response", "pseudonymise"):
            assert not re.search(rf"\b{code}\b", visible), code
