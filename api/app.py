"""The FastAPI application."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError

import qms
from api import openapi, problems, uploads, web
from api.limits import BodyLimit
from api.routers import (
    actions,
    audit,
    audits,
    comments,
    competence,
    complaints,
    context,
    deviations,
    documents,
    evaluations,
    evidence,
    followups,
    frameworks,
    health,
    imports,
    indicators,
    me,
    objectives,
    pairs,
    participants,
    procedures,
    programmes,
    providers,
    retention,
    reviews,
    risks,
    webhooks,
)
from api.routing import api_routes
from qms.access.service import AccessLog
from qms.accounts import failures
from qms.config import get_settings
from qms.db import Database, make_engine, utcnow

log = logging.getLogger("qms.api")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Uploads left by a process killed during an import (the whole file each) are removed.
    uploads.remove_leftovers()
    access_log: AccessLog = app.state.access_log
    access_log.start()
    drawer = None
    if get_settings().charts_ahead:
        from qms.charts.ahead import Drawer

        drawer = Drawer(app.state.database)
        drawer.start()
    yield
    if drawer is not None:
        drawer.close()
    # Auditors' reads still in the buffer are written before the service stops.
    access_log.close()
    # Failed authentications not yet summarised in the trail are written on a clean shutdown;
    # a database already gone by then is no reason for the shutdown to fail.
    try:
        with app.state.database.unit_of_work() as session:
            failures.summarise_all(session, now=utcnow())
    except SQLAlchemyError as error:
        log.warning("failed sign-ins of the last minute not summarised at shutdown: %s", error)


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
        lifespan=_lifespan,
        generate_unique_id_function=openapi.operation_id,
        openapi_tags=openapi.TAGS,
    )
    app.state.database = database or Database(make_engine())
    app.state.access_log = AccessLog(app.state.database)
    problems.install(app)
    problems.document(app)
    openapi.install(app)
    app.add_middleware(BodyLimit)
    app.include_router(health.router)
    app.include_router(me.router)
    app.include_router(programmes.router)
    app.include_router(participants.router)
    app.include_router(pairs.router)
    app.include_router(followups.router)
    app.include_router(procedures.router)
    app.include_router(deviations.router)
    app.include_router(imports.router)
    app.include_router(evaluations.router)
    app.include_router(documents.router)
    app.include_router(indicators.router)
    app.include_router(actions.router)
    app.include_router(audit.router)
    app.include_router(frameworks.router)
    app.include_router(audits.router)
    app.include_router(reviews.router)
    app.include_router(retention.router)
    app.include_router(webhooks.router)
    app.include_router(evidence.router)
    app.include_router(comments.router)
    app.include_router(competence.router)
    app.include_router(risks.router)
    app.include_router(complaints.router)
    app.include_router(context.router)
    app.include_router(objectives.router)
    app.include_router(providers.router)
    web.install(app)
    return app


__all__ = ["api_routes", "create_app"]
