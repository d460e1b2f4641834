"""The archiver on a schedule inside `shop worker`: every `every_seconds`, one run over the orders due. Workers on many
hosts take turns through a MySQL named lock held for the run, so one archiver runs at a time (a second one would only
repeat work: every step is idempotent, but twice the Cassandra writes)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from archival.archiver import Archiver

log = logging.getLogger(__name__)
ARCHIVER_LOCK = "shop.archiver"


async def archive_on_schedule(engine: AsyncEngine, archiver: Archiver, older_than: timedelta,
                              every_seconds: float) -> None:
    while True:
        summary = await archive_once(engine, archiver, older_than)
        if summary is not None and summary.archived:
            log.info("archive: %s", summary.line())
        await asyncio.sleep(every_seconds)


async def archive_once(engine: AsyncEngine, archiver: Archiver, older_than: timedelta, limit: int | None = None,
                       progress=lambda step, n: None):
    """One run while holding the archiver lock; None when another archiver holds it."""
    async with engine.connect() as lock_conn:
        if not (await lock_conn.execute(text("SELECT GET_LOCK(:n, 0)"), {"n": ARCHIVER_LOCK})).scalar():
            return None
        try:
            return await archiver.run(older_than, limit, progress)
        finally:
            await lock_conn.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": ARCHIVER_LOCK})
