"""The API's error shape: `{"error": "<code>", "detail": "...", ...}` with a 4xx status the caller can act on."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException


class ApiError(Exception):
    """Raise from an api.py route: `raise ApiError(404, "item_not_found", "no item abc", item_id="abc")`."""

    def __init__(self, status: int, error: str, detail: str, *, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail, self.extra = status, error, detail, extra
        self.headers = headers  # e.g. WWW-Authenticate on a 401


def error_response(status: int, error: str, detail: str, *, headers: dict[str, str] | None = None,
                   **extra: Any) -> JSONResponse:
    """The error shape as a response (also an ASGI app, for middleware that answers before any route)."""
    return JSONResponse({"error": error, "detail": detail, **extra}, status_code=status, headers=headers)


class ErrorBody(BaseModel):
    """Every 4xx body; some errors add fields that name what was wrong (`items`, `limit`, ...)."""

    model_config = ConfigDict(extra="allow")

    error: str
    detail: str


class InvalidRequestBody(ErrorBody):
    """A 422: a request that does not match the schema lists each problem with where it is; a refusal by the rules
    (an empty cart, a cap) says why in `detail`."""

    errors: list[dict[str, Any]] = Field(default_factory=list)


def describe_errors_in_openapi(app: FastAPI) -> None:
    """The OpenAPI document shows the 422 the handlers below really send, not FastAPI's default shape, so clients
    and fuzzers read the answers as they are."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schema.get("components", {}).get("schemas", {}).pop("ValidationError", None)
            if "HTTPValidationError" in schema.get("components", {}).get("schemas", {}):
                schema["components"]["schemas"]["HTTPValidationError"] = InvalidRequestBody.model_json_schema()
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise the document


def install_error_handlers(app: FastAPI) -> None:
    describe_errors_in_openapi(app)

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.error, exc.detail, headers=exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        return JSONResponse({"error": "invalid_request", "detail": "the request does not match the schema",
                             "errors": errors}, status_code=422)

    from cassandra import OperationTimedOut, ReadTimeout, Unavailable, WriteTimeout
    from cassandra.cluster import NoHostAvailable

    async def cassandra_away(_: Request, exc: Exception) -> JSONResponse:
        return error_response(503, "archive_unavailable", f"the order archive (Cassandra) did not answer: "
                              f"{type(exc).__name__}; try again shortly", headers={"Retry-After": "5"})

    for away in (NoHostAvailable, OperationTimedOut, Unavailable, ReadTimeout, WriteTimeout):
        app.add_exception_handler(away, cassandra_away)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
        return JSONResponse({"error": code, "detail": str(exc.detail)}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))
