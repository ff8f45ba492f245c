"""What speaking Norwegian or Swedish costs over English, for the pages and the documents.

Over the demo data, renders the main pages (the overview, the deviation list, a deviation with
its timeline, the actions, the audit trail) and issues documents (the deviation register, a
deviation report, the quality report) in English, bokmål and Swedish, the languages taking turns
round by round so that the machine's noise falls on all three alike. Prints the time per round of
each language and the ratios nb/en and sv/en last (wanted: within 1.05).

Usage: python bench/bench_i18n.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from qms import migrate
from qms.accounts import service as accounts
from qms.accounts import web as web_accounts
from qms.db import Database, make_engine
from qms.demo import load
from qms.permissions import Actor, Role

ADMIN = Actor(user_id=None, name="bench-admin", role=Role.admin)
PASSWORD = "a long bench passphrase"
LANGUAGES = ("en", "nb", "sv")
PAGES = ("/", "/deviations", "/deviations/2", "/actions", "/audit-trail")
DOCUMENTS = (
    "/api/v1/documents/deviation-register",
    "/api/v1/documents/deviation-report/2",
    "/api/v1/documents/quality-report/1",
)


def _signed_in(database: Database) -> TestClient:
    browser = TestClient(create_app(database))
    form = browser.get("/sign-in").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert csrf is not None
    signed = browser.post(
        "/sign-in",
        data={"csrf_token": csrf.group(1), "name": "bench-lead", "password": PASSWORD},
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text
    return browser


def _round(browser: TestClient, api: TestClient, token: str, language: str) -> float:
    """Read every page and issue every document once in the language; return the seconds."""
    browser.get(f"/language?set={language}")
    headers = {"Authorization": f"Bearer {token}"}
    started = time.perf_counter()
    for path in PAGES:
        page = browser.get(path)
        assert page.status_code == 200, (path, page.status_code)
        assert f'lang="{language}"' in page.text, (path, language)
    for path in DOCUMENTS:
        issued = api.get(path, params={"language": language}, headers=headers)
        assert issued.status_code == 200, (path, issued.text)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        migrate.upgrade(url)
        database = Database(make_engine(url))
        with database.unit_of_work() as session:
            load(session, operator=ADMIN)
            accounts.create_user(session, actor=ADMIN, name="bench-lead", role=Role.quality_lead)
            web_accounts.set_password(
                session, actor=ADMIN, user_name="bench-lead", password=PASSWORD
            )
            token = accounts.create_token(session, actor=ADMIN, user_name="bench-lead").secret
        browser, api = _signed_in(database), TestClient(create_app(database))
        for language in LANGUAGES:  # warm: templates compiled, catalogues loaded
            _round(browser, api, token, language)
        times: dict[str, list[float]] = {language: [] for language in LANGUAGES}
        for n in range(args.rounds):
            # Each round starts with another language, so none is always first.
            for language in LANGUAGES[n % 3 :] + LANGUAGES[: n % 3]:
                times[language].append(_round(browser, api, token, language))
        database.dispose()
    median = {language: statistics.median(values) for language, values in times.items()}
    print(f"rounds: {args.rounds}; each: {len(PAGES)} pages and {len(DOCUMENTS)} documents")
    for language in LANGUAGES:
        print(f"{language}: {median[language] * 1000:,.0f} ms a round (median)")
    print(f"ratio nb/en: {median['nb'] / median['en']:.3f}")
    print(f"ratio sv/en: {median['sv'] / median['en']:.3f}")


if __name__ == "__main__":
    main()
