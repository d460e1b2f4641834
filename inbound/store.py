"""MySQL adapter of the seller feed: sellers and their API keys, feeds and per-record verdicts."""

from __future__ import annotations

import json
import secrets
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from inbound.service import Verdict, key_hash
from inbound.tables import Feed, FeedRecord, Seller
from item_service.events import RecordOutcome

sellers, feeds, records = (Seller.metadata.tables[table.__tablename__] for table in (Seller, Feed, FeedRecord))


class FeedStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def create_seller(self, name: str) -> tuple[str, str]:
        """A new seller and its API key; only the key's hash is kept, so this is the one time it can be shown."""
        seller_id, api_key = uuid.uuid4().hex, secrets.token_urlsafe(32)
        async with self.engine.begin() as db:
            await db.execute(insert(sellers).values(seller_id=seller_id, name=name, api_key_hash=key_hash(api_key),
                                                    created_at=_now()))
        return seller_id, api_key

    async def seller_for_key(self, api_key: str) -> str | None:
        """The seller an API key belongs to, or None for an unknown key."""
        async with self.engine.connect() as db:
            return await db.scalar(select(sellers.c.seller_id).where(sellers.c.api_key_hash == key_hash(api_key)))

    async def seller_exists(self, seller_id: str) -> bool:
        async with self.engine.connect() as db:
            return await db.scalar(select(sellers.c.seller_id).where(sellers.c.seller_id == seller_id)) is not None

    async def open_feed(self, seller_id: str) -> tuple[str, datetime]:
        feed_id, created_at = uuid.uuid4().hex, _now()
        async with self.engine.begin() as db:
            await db.execute(insert(feeds).values(feed_id=feed_id, seller_id=seller_id, created_at=created_at,
                                                  state="receiving", records=0))
        return feed_id, created_at.replace(tzinfo=UTC)

    async def record_verdicts(self, feed_id: str, verdicts: list[Verdict]) -> None:
        """One chunk of verdicts in one multi-row insert."""
        if not verdicts:
            return
        rows = [{"feed_id": feed_id, "record_index": v.index, "sku": v.sku, "item_id": v.item_id, "status": v.status,
                 "errors": v.errors or None} for v in verdicts]
        async with self.engine.begin() as db:
            await db.execute(insert(records), rows)

    async def close_feed(self, feed_id: str, state: str, count: int) -> None:
        async with self.engine.begin() as db:
            await db.execute(update(feeds).where(feeds.c.feed_id == feed_id).values(state=state, records=count))

    async def feed(self, feed_id: str, seller_id: str) -> dict[str, Any] | None:
        """The feed's header and its count of records per status; None when it is not this seller's feed."""
        async with self.engine.connect() as db:
            row = (await db.execute(select(feeds).where(feeds.c.feed_id == feed_id,
                                                        feeds.c.seller_id == seller_id))).mappings().first()
            if row is None:
                return None
            counts = await db.execute(select(records.c.status, func.count()).where(records.c.feed_id == feed_id)
                                      .group_by(records.c.status))
        return {"feed_id": feed_id, "seller_id": seller_id, "created_at": row["created_at"].replace(tzinfo=UTC),
                "state": row["state"], "counts": dict(counts.all())}

    async def feed_records(self, feed_id: str, *, page: int, size: int, status: str | None = None) -> list[Verdict]:
        query = select(records).where(records.c.feed_id == feed_id)
        if status:
            query = query.where(records.c.status == status)
        query = query.order_by(records.c.record_index).limit(size).offset((page - 1) * size)
        async with self.engine.connect() as db:
            rows = (await db.execute(query)).mappings().all()
        return [Verdict(row["record_index"], row["sku"], row["item_id"], row["status"], row["errors"] or [])
                for row in rows]

    async def record_outcomes(self, outcomes: list[RecordOutcome]) -> None:
        """Marks records applied / dead_lettered: one UPDATE per (feed, status, errors) group of the batch."""
        groups: dict[tuple[str, str, str], list[int]] = defaultdict(list)
        for outcome in outcomes:
            groups[(outcome.feed_id, outcome.status, json.dumps(outcome.errors))].append(outcome.index)
        async with self.engine.begin() as db:
            for (feed_id, status, errors), indexes in groups.items():
                await db.execute(
                    update(records)
                    .where(records.c.feed_id == feed_id, records.c.record_index.in_(indexes),
                           records.c.status != "rejected")
                    .values(status=status, errors=json.loads(errors) or None)
                )


def _now() -> datetime:
    """Naive UTC, as the tables store it."""
    return datetime.now(UTC).replace(tzinfo=None)
