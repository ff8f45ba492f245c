"""Where the deviation list's time goes: py-spy over the service under uvicorn.

Builds the same database as bench/bench_api.py (SQLite, or a scratch PostgreSQL database), serves
the service with uvicorn (one worker) under py-spy, reads the second page of open major deviations
over loopback a number of times, and prints the functions that cost most: by their own samples,
and with what they call (the request's own thread only, the server's idle waits left out).

py-spy samples every thread of the server (cProfile would see only the event loop's, not the
worker thread that runs the route). Install it beside the test extra: pip install py-spy

Usage: python bench/profile_list.py [--deviations 20000] [--requests 1000] [--top 30]
       [--role auditor] [--database-url postgresql://postgres@127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_api import ROOT, build, free_port

from qms import migrate
from qms.db import Database, make_engine, normalise_url

# Frames where a thread waits rather than works.
# (psycopg's Connection.wait: the client waiting for the database server's answer.)
IDLE = ("Condition.wait", "EpollSelector.select", "Queue.get", "Connection.wait")
# Frames of the server's start (importing and building the app), not of a request.
STARTING = ("Config.load_app", "_find_and_load ")
SHORTEN = re.compile(r"^.*?/(site-packages|python3\.\d+)/|" + re.escape(str(ROOT)) + "/")


def summarise(raw: Path, top: int, *, route_only: bool = True) -> None:
    """Print the top frames by own samples and by inclusive samples, from py-spy's raw output,
    counting only stacks that are not idle: those that run the route (FastAPI's endpoint runner),
    or with route_only=False every thread's (the event loop's parsing, dependencies and
    serialisation, the token's check in the thread pool)."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [SHORTEN.sub("", f) for f in stack.split(";")]
        runs_route = any("_run_sync_endpoint" in f or "run_endpoint_function" in f for f in frames)
        if route_only and not runs_route:
            continue
        if frames[-1].startswith(IDLE) or any(f.startswith(STARTING) for f in frames):
            continue
        n = int(count)
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    print(f"{total} samples {'in the route' if route_only else 'in every thread, not idle'}")
    print("by own samples:")
    for frame, n in own.most_common(top):
        print(f"  {n:6d} {n / total:6.1%}  {frame}")
    print("by inclusive samples:")
    for frame, n in inclusive.most_common(top):
        print(f"  {n:6d} {n / total:6.1%}  {frame}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deviations", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--role", choices=("quality_lead", "auditor"), default="quality_lead")
    parser.add_argument("--database-url")
    parser.add_argument(
        "--every-thread",
        action="store_true",
        help="also every thread's samples: the token's check, parsing, serialising the answer",
    )
    args = parser.parse_args()
    spy = shutil.which("py-spy")
    if spy is None:
        raise SystemExit("py-spy is not installed: pip install py-spy")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.database_url:
            server = create_engine(normalise_url(args.database_url), isolation_level="AUTOCOMMIT")
            name = f"qms_profile_{os.getpid()}"
            with server.connect() as conn:
                conn.execute(text(f"CREATE DATABASE {name}"))
            url = (
                make_url(normalise_url(args.database_url))
                .set(database=name)
                .render_as_string(hide_password=False)
            )
        else:
            url = f"sqlite:///{folder / 'profile.db'}"
        try:
            migrate.upgrade(url)
            database = Database(make_engine(url))
            tokens = build(database, args.deviations)
            database.dispose()
            port = free_port()
            raw = folder / "list.raw"
            served = subprocess.Popen(
                [
                    *(spy, "record", "--rate", "250", "--format", "raw", "--output", str(raw)),
                    *("--", sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory"),
                    *("--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"),
                ],
                env={**os.environ, "QMS_DATABASE_URL": url, "PYTHONPATH": str(ROOT)},
                cwd=ROOT,
            )
            base = f"http://127.0.0.1:{port}"
            headers = {"Authorization": f"Bearer {tokens[args.role]}"}
            try:
                for _ in range(150):
                    try:
                        httpx.get(base + "/healthz", timeout=2)
                        break
                    except httpx.TransportError:
                        time.sleep(0.2)
                with httpx.Client(base_url=base, headers=headers) as client:
                    first = client.get("/api/v1/deviations?status=open&severity=major&limit=50")
                    page_two = (
                        "/api/v1/deviations?status=open&severity=major&limit=50"
                        f"&cursor={first.json()['next_cursor']}"
                    )
                    for _ in range(args.requests):
                        assert client.get(page_two).status_code == 200
            finally:
                served.send_signal(signal.SIGINT)
                served.wait(60)
            print(
                f"{args.requests} reads of the second page of 50, {url.split(':')[0]}, {args.role}"
            )
            summarise(raw, args.top)
            if args.every_thread:
                summarise(raw, args.top, route_only=False)
        finally:
            if args.database_url:
                with server.connect() as conn:
                    conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                server.dispose()


if __name__ == "__main__":
    main()
