"""Request bodies are refused (413) once they pass their limit — before they are read whole.

A stated Content-Length over the limit is answered at once; a body without one (chunked, slow,
endless) is counted as it arrives and cut off at the limit, so no upload can hold more memory
than the limit allows.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qms.config import get_settings

IMPORT_PREFIX = "/api/v1/imports/"
IMPORT_PAGE = "/imports/new"
# An evidence upload (REST or page): the file and the few form fields around it.
EVIDENCE_SUFFIX = "/evidence"
EVIDENCE_FORM_BYTES = 64 * 1024


def limit_for(path: str) -> int:
    """Return the body limit for a path: imports (over REST or from their page) take files,
    everything else takes JSON or a form."""
    settings = get_settings()
    takes_files = path.startswith(IMPORT_PREFIX) or path == IMPORT_PAGE
    if path.endswith(EVIDENCE_SUFFIX):
        # The file's own limit is judged by the route, which names it; this only caps the body.
        return max(settings.evidence_max_bytes + EVIDENCE_FORM_BYTES, settings.max_body_bytes)
    return settings.import_max_bytes if takes_files else settings.max_body_bytes


async def _problem(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "type": "about:blank",
            "title": "Payload too large",
            "status": 413,
            "detail": f"the request body is larger than {limit} bytes",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """ASGI middleware that enforces the body limits."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope.get("path", ""))
        headers: dict[bytes, bytes] = dict(scope.get("headers", []))
        stated = headers.get(b"content-length")
        if stated is not None and stated.isdigit() and int(stated) > limit:
            await _problem(send, limit)
            return
        received = 0
        started = refused = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Answer now and tell the app the client has gone: it stops reading, and
                    # whatever it tries to answer after this is dropped.
                    refused = True
                    if not started:
                        await _problem(send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except Exception:
            if not refused:
                raise
