"""Redis adapter of the payment windows: one key per unpaid order whose TTL is the window, and the expiry events.

Redis announces an expired key only to listeners connected at that moment, and only when it notices the expiry
(seconds late under load), so the sweeper in `orders/agents.py` is what guarantees the cancellation; this is the fast path.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

PREFIX = "payment-window:"


class PaymentWindows:
    def __init__(self, redis, db: int = 0) -> None:
        self.redis, self.channel = redis, f"__keyevent@{db}__:expired"

    async def open(self, order_id: str, expires_at: datetime) -> None:
        deadline_ms = int(expires_at.replace(tzinfo=UTC).timestamp() * 1000)
        await self.redis.set(PREFIX + order_id, "1", pxat=deadline_ms)

    async def close(self, order_ids: list[str]) -> None:
        if order_ids:
            await self.redis.delete(*(PREFIX + order_id for order_id in order_ids))

    async def is_open(self, order_id: str) -> bool:
        return bool(await self.redis.exists(PREFIX + order_id))

    async def expired(self) -> AsyncIterator[str]:
        """Order ids as their windows expire, for as long as the caller iterates."""
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(self.channel)
        try:
            async for message in pubsub.listen():
                key = message.get("data")
                if message.get("type") == "message" and isinstance(key, str) and key.startswith(PREFIX):
                    yield key.removeprefix(PREFIX)
        finally:
            await pubsub.aclose()
