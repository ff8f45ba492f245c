"""Walk the application's routes, however the routers were included."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute


def api_routes(app: FastAPI) -> Iterator[APIRoute]:
    """Yield every route of the REST API (not the web front's pages), however included."""
    return (route for route in all_routes(app) if route.include_in_schema)


def page_routes(app: FastAPI) -> Iterator[APIRoute]:
    """Yield every page of the web front (the routes left out of the OpenAPI)."""
    return (route for route in all_routes(app) if not route.include_in_schema)


def all_routes(app: FastAPI) -> Iterator[APIRoute]:
    """Yield every route of the application, however the routers were included."""
    pending: list[Any] = list(app.routes)
    while pending:
        route = pending.pop(0)
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            pending.extend(route.original_router.routes)
        elif hasattr(route, "routes") and not hasattr(route, "path"):
            pending.extend(route.routes)
