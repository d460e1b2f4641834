"""A pure ASGI middleware that refuses request bodies over a size limit with 413 in the API's error shape, before the
app reads past the limit: at once when Content-Length says so, else as soon as the streamed bytes pass it."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra.errors import error_response

log = logging.getLogger(__name__)


class BodySizeLimit:
    """`max_bytes` for every request; `larger` gives paths matching a regular expression limits of their own."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, larger: Iterable[tuple[str, int]] = ()) -> None:
        self.app, self.max_bytes = app, max_bytes
        self.larger = [(re.compile(pattern), limit) for pattern, limit in larger]

    def limit_for(self, path: str) -> int:
        return next((limit for pattern, limit in self.larger if pattern.fullmatch(path)), self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        if _declared_length(scope) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        await _LimitedRequest(self.app, limit).run(scope, receive, send)


class _LimitedRequest:
    """One request whose body is counted as the app reads it: past the limit the caller gets 413 and the app a
    disconnect (what it sees when a client goes away), and whatever the app answers after that is dropped."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit
        self.received, self.refused, self.response_started = 0, False, False

    async def run(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted_receive() -> Message:
            if self.refused:
                return {"type": "http.disconnect"}
            message = await receive()
            self.received += len(message.get("body", b"")) if message["type"] == "http.request" else 0
            if self.received <= self.limit:
                return message
            self.refused = True
            if not self.response_started:
                await _too_large(self.limit)(scope, receive, send)
            return {"type": "http.disconnect"}

        async def guarded_send(message: Message) -> None:
            if not self.refused:
                self.response_started |= message["type"] == "http.response.start"
                await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not self.refused:
                raise
            log.debug("the app gave up on a body cut off at %d bytes", self.limit, exc_info=True)


def _declared_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


def _too_large(limit: int) -> JSONResponse:
    return error_response(413, "body_too_large", f"the request body is larger than {limit} bytes; send less",
                          max_bytes=limit)
