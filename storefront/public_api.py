"""The public API as the pages call it: in-process over HTTP (the same app, its own routes and rules), so every page is
a client of exactly the contract other clients use. A call never raises: a failure is an `Answer` saying what went wrong."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import Request

# A part of the design that is not built yet answers 404 (no route) or 5xx; the pages then say so and carry on.
NOT_BUILT_OR_DOWN = frozenset({404, 405, 501, 502, 503, 504})


@dataclass(frozen=True)
class Answer:
    """One API answer: its status and JSON body (the error shape `{"error", "detail"}` when it failed)."""

    status: int
    body: Any = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def error(self) -> str:
        return self.body.get("error", "") if isinstance(self.body, dict) else ""

    @property
    def problem(self) -> str:
        """What went wrong, in words a shopper or seller can act on."""
        if self.status >= 500:
            return "This part of the shop is not answering right now. Please try again in a moment."
        if isinstance(self.body, dict):
            detail = self.body.get("detail")
            if isinstance(detail, list):  # a request that did not match the schema lists each problem
                return "; ".join(f"{'.'.join(map(str, d.get('loc', [])[1:]))}: {d.get('msg', '')}" for d in detail)
            if detail:
                return str(detail)
        return f"The request was refused ({self.status})."


class PublicApi:
    """Calls the app's own routes, as the signed-in shopper (bearer token) or seller (API key) when given."""

    def __init__(self, http: httpx.AsyncClient, *, token: str | None = None, api_key: str | None = None) -> None:
        self.http = http
        self.headers: dict[str, str] = {}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        if api_key:
            self.headers["X-Api-Key"] = api_key

    async def call(self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any) -> Answer:
        try:
            response = await self.http.request(method, path, headers={**self.headers, **(headers or {})}, **kwargs)
        except httpx.HTTPError as error:
            return Answer(503, {"error": "unreachable", "detail": str(error)})
        try:
            body = response.json()
        except ValueError:
            body = {"error": "not_json", "detail": response.text[:200]}
        return Answer(response.status_code, body)

    async def get(self, path: str, **kwargs: Any) -> Answer:
        return await self.call("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Answer:
        return await self.call("POST", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> Answer:
        return await self.call("PUT", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> Answer:
        return await self.call("DELETE", path, **kwargs)


def in_process_client(request: Request) -> httpx.AsyncClient:
    """An HTTP client whose requests go straight into this app, from the page's own client address (so the API's
    per-address limits count the real visitor)."""
    client = (request.client.host, request.client.port) if request.client else ("127.0.0.1", 0)
    transport = httpx.ASGITransport(app=request.app, raise_app_exceptions=False, client=client)
    return httpx.AsyncClient(transport=transport, base_url="http://shop.internal", timeout=30)
