"""Liveness and readiness: /readyz makes one real request to every backing store the API depends on."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.builder import Stores

router = APIRouter(tags=["operations"])
CHECK_TIMEOUT_SECONDS = 3


async def get_stores(request: Request) -> Stores:
    return request.app.state.stores


@router.get("/healthz")
async def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(resources: Annotated[Stores, Depends(get_stores)]) -> JSONResponse:
    checks = {
        "kafka": _kafka(resources), "elasticsearch": _elasticsearch(resources), "mongodb": _mongo(resources),
        "mysql": _mysql(resources), "redis": _redis(resources), "cassandra": _cassandra(resources),
    }
    outcomes = await asyncio.gather(*(asyncio.wait_for(c, CHECK_TIMEOUT_SECONDS) for c in checks.values()),
                                    return_exceptions=True)
    report = {name: "ok" if outcome is True else f"failing: {outcome!r}" for name, outcome in zip(checks, outcomes)}
    ready = all(value == "ok" for value in report.values())
    return JSONResponse({"ready": ready, "checks": report}, status_code=200 if ready else 503)


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
    def query() -> bool:
        session = resources.cassandra.connect()
        return session.execute("SELECT release_version FROM system.local").one() is not None

    return await asyncio.to_thread(query)
