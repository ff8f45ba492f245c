"""The floor for the deviation list: a bare FastAPI route reading the same rows with the driver.

Served by uvicorn beside the service in bench/bench_api.py. GET /deviations?after=<id> returns the
50 open major deviations below that id, newest first, every column, as JSON: no ORM, no token, no
models, no workflow. Whatever the service's list costs beyond this is the service's own work.

The database is named by QMS_DATABASE_URL (sqlite:///… or postgresql://…).
"""

from __future__ import annotations

import os
import sqlite3
from datetime import date, datetime
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

QUERY = (
    "SELECT * FROM deviation WHERE status = 'open' AND severity = 'major' AND id < {mark} "
    "ORDER BY id DESC LIMIT 50"
)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def create_app() -> FastAPI:
    """Build the bare app over the database QMS_DATABASE_URL names."""
    url = os.environ["QMS_DATABASE_URL"]
    app = FastAPI()
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]

        def rows(after: int) -> list[dict[str, Any]]:
            with sqlite3.connect(path) as conn:
                conn.row_factory = sqlite3.Row
                found = conn.execute(QUERY.format(mark="?"), (after,)).fetchall()
            return [dict(r) for r in found]

    else:
        import psycopg
        from psycopg.rows import dict_row

        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        connection = psycopg.connect(dsn, autocommit=True, row_factory=dict_row)

        def rows(after: int) -> list[dict[str, Any]]:
            with connection.cursor() as cur:
                cur.execute(QUERY.format(mark="%s"), (after,))  # type: ignore[arg-type]
                return [{k: _plain(v) for k, v in r.items()} for r in cur.fetchall()]

    @app.get("/deviations")
    def deviations(after: int) -> JSONResponse:
        return JSONResponse({"items": rows(after)})

    return app
