"""Liveness and readiness: /readyz makes one cheap request to every backing store the API depends on, over the
connections the process already holds, each capped in time; it says only "ok" or "failing" (the why goes to the log)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.builder import Stores
from infra.cassandra_async import answer

router = APIRouter(tags=["operations"])
log = logging.getLogger(__name__)
CHECK_TIMEOUT_SECONDS = 3


async def get_stores(request: Request) -> Stores:
    return request.app.state.stores


@router.get("/healthz")
async def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "a dependency is failing (which one is named)"}})
async def readyz(resources: Annotated[Stores, Depends(get_stores)]) -> JSONResponse:
    """Every dependency's readiness: `ok` or `failing`, 503 unless all are ok."""
    outcomes = await asyncio.gather(*(_probe(name, check(resources)) for name, check in CHECKS.items()))
    report = dict(zip(CHECKS, outcomes))
    ready = all(value == "ok" for value in report.values())
    return JSONResponse({"ready": ready, "checks": report}, status_code=200 if ready else 503)


async def _probe(name: str, check: Awaitable[bool]) -> str:
    try:
        if await asyncio.wait_for(check, CHECK_TIMEOUT_SECONDS):
            return "ok"
        log.warning("readiness: %s answered but is not ready", name)
    except Exception:  # whatever a probe raises means "failing"; the details stay in the server's log
        log.warning("readiness: %s is failing", name, exc_info=True)
    return "failing"


async def _kafka(resources: Stores) -> bool:
    await resources.producer.client.fetch_all_metadata()
    return True


async def _elasticsearch(resources: Stores) -> bool:
    health = await resources.elasticsearch.cluster.health()
    return health["status"] in ("green", "yellow")


async def _mongo(resources: Stores) -> bool:
    return (await resources.mongo.admin.command("ping")).get("ok") == 1


async def _mysql(resources: Stores) -> bool:
    async with resources.mysql.connect() as connection:
        return (await connection.execute(text("SELECT 1"))).scalar() == 1


async def _redis(resources: Stores) -> bool:
    return bool(await resources.redis.ping())


async def _cassandra(resources: Stores) -> bool:
    """On the process's one session, asynchronously: a probe that times out holds no thread."""
    session = await resources.cassandra_session()
    first_page = await answer(session.execute_async("SELECT release_version FROM system.local",
                                                     timeout=CHECK_TIMEOUT_SECONDS))
    return bool(first_page)


CHECKS: dict[str, Callable[[Stores], Awaitable[bool]]] = {
    "kafka": _kafka, "elasticsearch": _elasticsearch, "mongodb": _mongo, "mysql": _mysql, "redis": _redis,
    "cassandra": _cassandra,
}
