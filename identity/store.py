"""MySQL adapter of the shoppers, with a Redis read-through cache of profiles (dropped whenever a profile changes)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from identity.service import EmailTaken
from identity.tables import User

users = User.metadata.tables[User.__tablename__]
PROFILE_COLUMNS = (users.c.user_id, users.c.email, users.c.name, users.c.default_pincode, users.c.created_at,
                   users.c.updated_at)


def profile_key(user_id: str) -> str:
    return f"user:profile:{user_id}"


class UserStore:
    def __init__(self, engine: AsyncEngine, redis, cache_seconds: int) -> None:
        self.engine, self.redis, self.cache_seconds = engine, redis, cache_seconds

    async def create(self, *, email: str, name: str, password_hash: str, default_pincode: str | None) -> dict[str, Any]:
        """A new shopper's profile; EmailTaken when the e-mail belongs to another shopper."""
        now = _now()
        row = {"user_id": uuid.uuid4().hex, "email": email, "name": name, "default_pincode": default_pincode,
               "created_at": now, "updated_at": now}
        try:
            async with self.engine.begin() as db:
                await db.execute(insert(users).values(password_hash=password_hash, **row))
        except IntegrityError as error:
            raise EmailTaken(email) from error
        return _profile(row)

    async def credentials(self, email: str) -> tuple[str, str] | None:
        """(user_id, password_hash) of the shopper with this e-mail, for logging in."""
        async with self.engine.connect() as db:
            row = (await db.execute(select(users.c.user_id, users.c.password_hash)
                                    .where(users.c.email == email))).first()
        return (row.user_id, row.password_hash) if row else None

    async def profile(self, user_id: str) -> dict[str, Any] | None:
        """The shopper's profile, from Redis when cached there, else from MySQL (and then cached)."""
        if cached := await self.redis.get(profile_key(user_id)):
            return json.loads(cached)
        async with self.engine.connect() as db:
            row = (await db.execute(select(*PROFILE_COLUMNS).where(users.c.user_id == user_id))).mappings().first()
        if row is None:
            return None
        profile = _profile(row)
        await self.redis.set(profile_key(user_id), json.dumps(profile), ex=self.cache_seconds)
        return profile

    async def update(self, user_id: str, changes: dict[str, Any]) -> dict[str, Any] | None:
        """Apply `changes` (name, default_pincode, password_hash); the new profile, or None for no such shopper."""
        if changes:
            async with self.engine.begin() as db:
                result = await db.execute(update(users).where(users.c.user_id == user_id)
                                          .values(updated_at=_now(), **changes))
            # After the commit, so readers from now on miss and read the new row. (A reader that fetched the old
            # row just before the commit and caches it after this delete leaves it stale until the TTL.)
            await self.redis.delete(profile_key(user_id))
            if result.rowcount == 0:
                return None
        return await self.profile(user_id)


def _profile(row) -> dict[str, Any]:
    return {"user_id": row["user_id"], "email": row["email"], "name": row["name"],
            "default_pincode": row["default_pincode"], "created_at": _rfc3339(row["created_at"]),
            "updated_at": _rfc3339(row["updated_at"])}


def _now() -> datetime:
    """Naive UTC, as the tables store it."""
    return datetime.now(UTC).replace(tzinfo=None)


def _rfc3339(moment: datetime) -> str:
    return moment.replace(tzinfo=UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
