"""The web front's deviation list against the REST API's, in the same run.

Over the same database (100,000 deviations, built as in bench_api.py), times the second page of
open major deviations as the browser gets it (GET /deviations: the session cookie checked, the
page rendered from its template with its filters) and as a REST client gets it (GET
/api/v1/deviations: a bearer token, JSON). Prints requests/s for both and the ratio (page / API)
last: what rendering HTML and checking a session cost over the same query.

Usage: python bench/bench_web.py [--deviations 100000] [--requests 300]
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

from bench_api import ADMIN, build, rate
from fastapi.testclient import TestClient

from api.app import create_app
from qms import migrate
from qms.accounts import web as web_accounts
from qms.db import Database, make_engine

PASSWORD = "a long bench passphrase"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deviations", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        migrate.upgrade(url)
        database = Database(make_engine(url))
        token = build(database, args.deviations)
        with database.unit_of_work() as session:
            web_accounts.set_password(
                session, actor=ADMIN, user_name="bench-lead", password=PASSWORD
            )
        api = TestClient(create_app(database))
        headers = {"Authorization": f"Bearer {token}"}
        first = api.get(
            "/api/v1/deviations?status=open&severity=major&limit=50", headers=headers
        ).json()
        cursor = first["next_cursor"]
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
        page_url = f"/deviations?status=open&severity=major&cursor={cursor}"
        page = browser.get(page_url)
        assert page.text.count('<a href="/deviations/') == 50, "the page shows 50 deviations"
        rest = rate(
            api,
            f"/api/v1/deviations?status=open&severity=major&limit=50&cursor={cursor}",
            headers,
            args.requests,
        )
        html = rate(browser, page_url, {}, args.requests)
        database.dispose()
    print(f"deviations: {args.deviations}; requests each: {args.requests}")
    print(f"GET /api/v1/deviations (JSON, bearer token): {rest:,.0f} requests/s")
    print(f"GET /deviations (HTML page, session cookie): {html:,.0f} requests/s")
    print(f"ratio page/API: {html / rest:.2f}")


if __name__ == "__main__":
    main()
