"""The FastAPI application."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

import qms
from api import problems
from api.routers import audit, health, me, programmes
from qms.db import Database, make_engine


def create_app(database: Database | None = None) -> FastAPI:
    """Build the application over a database (default: QMS_DATABASE_URL)."""
    app = FastAPI(
        title="mentor-qms",
        version=qms.__version__,
        description=(
            "A quality management system for mentor programmes: procedures, deviations, "
            "follow-ups, corrective actions and evaluation results, with a hash-chained audit "
            "trail. "
            "Every route but /healthz takes a bearer token."
        ),
    )
    app.state.database = database or Database(make_engine())
    problems.install(app)
    app.include_router(health.router)
    app.include_router(me.router)
    app.include_router(programmes.router)
    app.include_router(audit.router)
    return app


def api_routes(app: FastAPI) -> Iterator[APIRoute]:
    """Yield every API route of the application, however the routers were included."""
    pending: list[Any] = list(app.routes)
    while pending:
        route = pending.pop(0)
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            pending.extend(route.original_router.routes)
        elif hasattr(route, "routes") and not hasattr(route, "path"):
            pending.extend(route.routes)
