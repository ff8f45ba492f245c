"""The deviation register's list endpoint against /healthz, in the same run.

Builds a SQLite database with 100,000 deviations (inserted directly, for speed of setup), then
times GET /api/v1/deviations?status=open&severity=major (the second page, by cursor) and GET
/healthz through the same in-process client. The list's throughput should be at least a quarter
of /healthz's. Prints requests/s for both and the ratio (list / healthz) last.

Usage: python bench/bench_api.py [--deviations 100000] [--requests 300]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import insert

from api.app import create_app
from qms import migrate
from qms.accounts import service as accounts
from qms.db import Database, make_engine
from qms.deviations.models import Deviation
from qms.permissions import Actor, Role

warnings.filterwarnings("ignore")
ADMIN = Actor(user_id=None, name="bench", role=Role.admin)
KINDS = ("nonconformity", "deviation_from_plan", "observation")
SEVERITIES = ("minor", "major", "critical")
STATUSES = ("open", "investigating", "action_required", "closed")


def build(database: Database, count: int) -> str:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with database.unit_of_work() as session:
        rows = []
        for n in range(1, count + 1):
            rows.append(
                {
                    "number": f"DEV-2026-{n:06d}",
                    "year": 2026,
                    "seq": n,
                    "kind": KINDS[n % 3],
                    "source": "self_reported",
                    "severity": SEVERITIES[n % 3],
                    "status": STATUSES[n % 4],
                    "title": f"Finding {n}",
                    "description": "Meetings below the programme rule.",
                    "detected_at": now - timedelta(minutes=n),
                    "detected_by": "bench",
                    "due_on": date(2026, 3, 1),
                    "reported_by": "bench",
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
            )
            if len(rows) == 10_000:
                session.execute(insert(Deviation), rows)
                rows = []
        if rows:
            session.execute(insert(Deviation), rows)
        accounts.create_user(session, actor=ADMIN, name="bench-lead", role=Role.quality_lead)
        return accounts.create_token(session, actor=ADMIN, user_name="bench-lead").secret


def rate(client: TestClient, url: str, headers: dict[str, str], requests: int) -> float:
    client.get(url, headers=headers)  # warm
    start = time.perf_counter()
    for _ in range(requests):
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.text
    return requests / (time.perf_counter() - start)


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
        client = TestClient(create_app(database))
        headers = {"Authorization": f"Bearer {token}"}
        first = client.get(
            "/api/v1/deviations?status=open&severity=major&limit=50", headers=headers
        ).json()
        page_two = (
            f"/api/v1/deviations?status=open&severity=major&limit=50&cursor={first['next_cursor']}"
        )
        health = rate(client, "/healthz", {}, args.requests)
        listing = rate(client, page_two, headers, args.requests)
        database.dispose()
    print(f"deviations: {args.deviations}; requests each: {args.requests}")
    print(f"GET /healthz: {health:,.0f} requests/s")
    print(f"GET /api/v1/deviations (open, major, second page of 50): {listing:,.0f} requests/s")
    print(f"ratio list/healthz: {listing / health:.2f} (at least 0.25 wanted)")


if __name__ == "__main__":
    main()
