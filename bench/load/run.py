"""A bounded mixed workload against the service under uvicorn with two workers.

The service runs as its own process on loopback (uvicorn, 2 workers) over SQLite or PostgreSQL,
loaded with the demo data; this process drives it from several threads: auditors reading lists
over REST (55 %) and the pages in a browser session (15 %), quality leads issuing documents (3 %),
running the rules (1 %), logging deviations and moving them (16 %), a script importing small
files (10 %). It counts
errors (anything but the expected answer: must be 0) and reports throughput and p50/p95/p99,
and the same figures for /healthz alone driven by as many threads for as long in the same run:
how far the mix is from what the machine and the stack allow.

Usage:
  python bench/load/run.py                       # SQLite, in a temporary folder
  python bench/load/run.py --database-url postgresql://postgres@127.0.0.1/qms_load  (empty db)
  options: --seconds 20 --threads 8
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from qms import migrate
from qms.accounts import service as accounts
from qms.accounts import web as web_accounts
from qms.db import Database, make_engine
from qms.demo import load
from qms.permissions import Actor, Role

ADMIN = Actor(user_id=None, name="load", role=Role.admin)
PASSWORD = "load reader password"
PAGES = ["/", "/deviations", "/actions", "/procedures", "/audits"]


def prepare(url: str) -> dict[str, str]:
    migrate.upgrade(url)
    database = Database(make_engine(url))
    tokens = {}
    with database.unit_of_work() as session:
        load(session, operator=ADMIN)
        for name, role in (
            ("load-auditor", Role.auditor),
            ("load-lead", Role.quality_lead),
            ("load-importer", Role.importer),
        ):
            accounts.create_user(session, actor=ADMIN, name=name, role=role)
            tokens[role.value] = accounts.create_token(session, actor=ADMIN, user_name=name).secret
        web_accounts.set_password(session, actor=ADMIN, user_name="load-auditor", password=PASSWORD)
    database.dispose()
    return tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    folder = tempfile.mkdtemp()
    url = args.database_url or f"sqlite:///{Path(folder) / 'load.db'}"
    tokens = prepare(url)
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api.app:create_app",
            "--factory",
            "--workers",
            "2",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env={**os.environ, "QMS_DATABASE_URL": url},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        latencies: dict[str, list[float]] = {}
        errors: Counter[str] = Counter()
        lock = threading.Lock()
        stop = time.monotonic() + args.seconds

        def timed(kind: str, call, ok: set[int]) -> httpx.Response | None:
            start = time.perf_counter()
            try:
                response = call()
            except httpx.HTTPError as exc:
                with lock:
                    errors[f"{kind}: {type(exc).__name__}"] += 1
                return None
            elapsed = time.perf_counter() - start
            with lock:
                latencies.setdefault(kind, []).append(elapsed)
                if response.status_code not in ok:
                    errors[f"{kind}: {response.status_code}"] += 1
            return response

        def signed_in(browser: httpx.Client) -> None:
            form = browser.get("/sign-in").text
            token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            answer = browser.post(
                "/sign-in",
                data={"csrf_token": token, "name": "load-auditor", "password": PASSWORD},
            )
            assert answer.status_code == 303, answer.status_code

        def worker(number: int) -> None:
            rng = random.Random(number)
            auditor = {"Authorization": f"Bearer {tokens['auditor']}"}
            lead = {"Authorization": f"Bearer {tokens['quality_lead']}"}
            importer = {"Authorization": f"Bearer {tokens['importer']}"}
            with (
                httpx.Client(base_url=base, timeout=30) as client,
                httpx.Client(base_url=base, timeout=30) as browser,
            ):
                signed_in(browser)
                sent = 0
                while time.monotonic() < stop:
                    roll = rng.random()
                    if roll < 0.15:
                        page = rng.choice(PAGES)
                        timed("page", lambda p=page: browser.get(p), {200})
                    elif roll < 0.70:
                        path = rng.choice(
                            [
                                "/api/v1/deviations?limit=50",
                                "/api/v1/programmes",
                                "/api/v1/pairs?limit=50",
                                "/api/v1/actions?overdue=true",
                            ]
                        )
                        timed("read", lambda p=path: client.get(p, headers=auditor), {200})
                    elif roll < 0.73:
                        # A quality lead issues a document while the others write.
                        path = rng.choice(
                            [
                                "/api/v1/documents/capa-status",
                                "/api/v1/documents/master-list",
                                "/api/v1/documents/deviation-register?severity=critical",
                            ]
                        )
                        timed("issue", lambda p=path: client.get(p, headers=lead), {200})
                    elif roll < 0.74:
                        timed(
                            "rules",
                            lambda: client.post("/api/v1/checks/run", json={}, headers=lead),
                            {200},
                        )
                    elif roll < 0.90:
                        body = {
                            "kind": "observation",
                            "source": "self_reported",
                            "severity": "minor",
                            "title": f"Load {number}-{sent}",
                            "description": "Logged under load.",
                        }
                        created = timed(
                            "log",
                            lambda b=body: client.post("/api/v1/deviations", json=b, headers=lead),
                            {201},
                        )
                        if created is not None and created.status_code == 201:
                            dev = created.json()
                            timed(
                                "move",
                                lambda d=dev: client.post(
                                    f"/api/v1/deviations/{d['id']}/transitions",
                                    json={"to": "investigating"},
                                    headers={**lead, "If-Match": f'"{d["version"]}"'},
                                ),
                                {200},
                            )
                    else:
                        csv = (
                            "participant,outcome,date,note\n"
                            f"P-0001,education,2027-{1 + number % 12:02d}-{1 + sent % 28:02d},"
                            f"load {number}-{sent}\n"
                        )
                        timed(
                            "import",
                            lambda c=csv: client.post(
                                "/api/v1/imports/outcomes",
                                headers=importer,
                                files={"file": ("o.csv", c.encode())},
                                data={"mode": "partial"},
                            ),
                            {200, 201},
                        )
                    sent += 1

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.threads)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        # The machine's own limit in the same run: /healthz alone, from as many threads, as long.
        health: list[float] = []
        health_stop = time.monotonic() + args.seconds

        def health_worker() -> None:
            with httpx.Client(base_url=base, timeout=30) as client:
                while time.monotonic() < health_stop:
                    start = time.perf_counter()
                    response = client.get("/healthz")
                    elapsed = time.perf_counter() - start
                    with lock:
                        health.append(elapsed)
                        if response.status_code != 200:
                            errors[f"healthz: {response.status_code}"] += 1

        threads = [threading.Thread(target=health_worker) for _ in range(args.threads)]
        health_started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        health_wall = time.perf_counter() - health_started
    finally:
        server.terminate()
        server.wait(timeout=30)
    total = sum(len(v) for v in latencies.values())
    every = sorted(x for v in latencies.values() for x in v)
    q = statistics.quantiles(every, n=100)
    engine = "postgresql" if url.startswith("postgres") else "sqlite"
    print(f"{engine}, uvicorn 2 workers, {args.threads} client threads, {wall:.1f} s")
    for kind, values in sorted(latencies.items()):
        kq = statistics.quantiles(values, n=100) if len(values) > 1 else [values[0]] * 99
        print(
            f"  {kind:7s} {len(values):6d} requests  p50 {kq[49] * 1000:6.1f} ms  "
            f"p95 {kq[94] * 1000:6.1f} ms  p99 {kq[98] * 1000:6.1f} ms"
        )
    print(f"errors: {sum(errors.values())} {dict(errors) if errors else ''}")
    print(
        f"throughput: {total / wall:,.0f} requests/s; p50 {q[49] * 1000:.1f} ms, "
        f"p95 {q[94] * 1000:.1f} ms, p99 {q[98] * 1000:.1f} ms"
    )
    hq = statistics.quantiles(sorted(health), n=100)
    print(
        f"/healthz alone, same threads, same run: {len(health) / health_wall:,.0f} requests/s; "
        f"p50 {hq[49] * 1000:.1f} ms, p95 {hq[94] * 1000:.1f} ms, p99 {hq[98] * 1000:.1f} ms"
    )
    print(f"ratio mix/healthz: {total / wall / (len(health) / health_wall):.2f}")


if __name__ == "__main__":
    main()
