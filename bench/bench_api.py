"""The deviation register's list endpoint against the floor the stack allows, in the same run.

Builds a database with 100,000 deviations (inserted directly, for speed of setup), then:

1. under uvicorn over loopback, GET /api/v1/deviations?status=open&severity=major (the second page
   of 50, by cursor, as a quality lead and as an auditor) against a bare FastAPI route, served
   the same way, that reads the same 50 rows with the driver (sqlite3 or psycopg) and returns
   them as JSON (bench/bare_list.py). The servers take turns, round by round; the list should
   reach at least a third of the bare route's throughput;
2. the same list against GET /healthz through the same in-process client (at least a quarter).

Prints requests/s for each and the ratios.

Usage: python bench/bench_api.py [--deviations 100000] [--requests 300]
       [--database-url postgresql://postgres@127.0.0.1/test]  (a scratch database is made beside it)
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from api.app import create_app
from qms import migrate
from qms.accounts import service as accounts
from qms.db import Database, make_engine, normalise_url
from qms.deviations.models import Deviation
from qms.permissions import Actor, Role

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parent.parent
ADMIN = Actor(user_id=None, name="bench", role=Role.admin)
KINDS = ("nonconformity", "deviation_from_plan", "observation")
SEVERITIES = ("minor", "major", "critical")
STATUSES = ("open", "investigating", "action_required", "closed")


def build(database: Database, count: int) -> dict[str, str]:
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
        tokens = {}
        for role in (Role.quality_lead, Role.auditor):
            name = f"bench-{role.value}"
            accounts.create_user(session, actor=ADMIN, name=name, role=role)
            tokens[role.value] = accounts.create_token(session, actor=ADMIN, user_name=name).secret
    if database.engine.dialect.name == "postgresql":
        # The statistics autovacuum gathers on a database in use: without them PostgreSQL plans
        # the freshly loaded table blind (a bitmap over every open and major row, sorted: about
        # 20 ms where the key's index read backwards takes 0.1 ms), and the server's time hides
        # both routes' own.
        with database.engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
    return tokens


def rate(client: TestClient, url: str, headers: dict[str, str], requests: int) -> float:
    client.get(url, headers=headers)  # warm
    start = time.perf_counter()
    for _ in range(requests):
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.text
    return requests / (time.perf_counter() - start)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(factory: str, url: str) -> tuple[subprocess.Popen[bytes], str]:
    """Start uvicorn (one worker) on loopback with the app the factory makes."""
    port = free_port()
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", factory, "--factory", "--host", "127.0.0.1"),
            *("--port", str(port), "--log-level", "warning"),
        ],
        env={**os.environ, "QMS_DATABASE_URL": url, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            httpx.get(base + "/openapi.json", timeout=2)
            return server, base
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit(f"{factory} did not start")


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) a process has used, from /proc: steadier than the clock on
    a machine others load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def served_rates(
    url: str, tokens: dict[str, str], page_two: str, after: int, requests: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Requests/s of the bare route and of the service's list for each role, under uvicorn,
    taking turns round by round; and each one's server CPU time per request (ms)."""
    ours, ours_base = serve("api.app:create_app", url)
    bare, bare_base = serve("bench.bare_list:create_app", url)
    clients = {
        "bare": httpx.Client(base_url=bare_base),
        **{
            role: httpx.Client(base_url=ours_base, headers={"Authorization": f"Bearer {token}"})
            for role, token in tokens.items()
        },
    }
    paths = dict.fromkeys(tokens, page_two) | {"bare": f"/deviations?after={after}"}
    pids = {name: (bare if name == "bare" else ours).pid for name in clients}
    spent = dict.fromkeys(clients, 0.0)
    cpu = dict.fromkeys(clients, 0.0)
    done = dict.fromkeys(clients, 0)
    try:
        for name, client in clients.items():
            for _ in range(20):  # warm
                assert client.get(paths[name]).status_code == 200
        rounds = 10
        for _ in range(rounds):
            for name, client in clients.items():
                start, used = time.perf_counter(), cpu_seconds(pids[name])
                for _ in range(max(1, requests // rounds)):
                    response = client.get(paths[name])
                    assert response.status_code == 200, response.text
                    assert len(response.json()["items"]) == 50
                    done[name] += 1
                spent[name] += time.perf_counter() - start
                cpu[name] += cpu_seconds(pids[name]) - used
    finally:
        for client in clients.values():
            client.close()
        for server in (ours, bare):
            server.terminate()
            server.wait(10)
    return (
        {name: done[name] / spent[name] for name in clients},
        {name: 1000 * cpu[name] / done[name] for name in clients},
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deviations", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server's database to make a scratch database beside (e.g. "
        "postgresql://postgres@127.0.0.1/test)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        if args.database_url:
            server = create_engine(normalise_url(args.database_url), isolation_level="AUTOCOMMIT")
            name = f"qms_bench_api_{os.getpid()}"
            with server.connect() as conn:
                conn.execute(text(f"CREATE DATABASE {name}"))
            url = (
                make_url(normalise_url(args.database_url))
                .set(database=name)
                .render_as_string(hide_password=False)
            )
        else:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
        try:
            migrate.upgrade(url)
            database = Database(make_engine(url))
            tokens = build(database, args.deviations)
            client = TestClient(create_app(database))
            headers = {"Authorization": f"Bearer {tokens['quality_lead']}"}
            first = client.get(
                "/api/v1/deviations?status=open&severity=major&limit=50", headers=headers
            ).json()
            page_two = (
                "/api/v1/deviations?status=open&severity=major&limit=50"
                f"&cursor={first['next_cursor']}"
            )
            health = rate(client, "/healthz", {}, args.requests)
            listing = rate(client, page_two, headers, args.requests)
            database.dispose()
            served, cpu = served_rates(
                url, tokens, page_two, first["items"][-1]["id"], args.requests
            )
        finally:
            if args.database_url:
                with server.connect() as conn:
                    conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                server.dispose()
    print(f"deviations: {args.deviations}; requests each: {args.requests}; {url.split(':')[0]}")
    print("under uvicorn over loopback, one worker each, taking turns:")
    bare = served["bare"]
    print(
        f"  bare route, the same 50 rows read with the driver, as JSON: {bare:,.0f} requests/s, "
        f"server CPU {cpu['bare']:.2f} ms a request"
    )
    for role, label in (
        ("quality_lead", "a quality lead"),
        ("auditor", "an auditor (reads logged)"),
    ):
        print(
            f"  GET /api/v1/deviations (open, major, second page of 50) as {label}: "
            f"{served[role]:,.0f} requests/s, server CPU {cpu[role]:.2f} ms a request"
        )
        print(
            f"    ratio to bare: {served[role] / bare:.2f} by throughput, "
            f"{cpu['bare'] / cpu[role]:.2f} by server CPU (at least 0.33 wanted)"
        )
    print("in-process client:")
    print(f"  GET /healthz: {health:,.0f} requests/s")
    print(f"  GET /api/v1/deviations (open, major, second page of 50): {listing:,.0f} requests/s")
    print(f"  ratio list/healthz: {listing / health:.2f} (at least 0.25 wanted)")


if __name__ == "__main__":
    main()
