"""What a shopper did since the model was trained, read from where it lives now (MySQL: their orders' lines, their cart
and their wishlist), so serving can fold it into their recommendations without a retrain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

SINCE = text(
    "SELECT 'ordered', l.item_id, o.created_at FROM orders o JOIN order_lines l ON l.order_id = o.order_id "
    "WHERE o.user_id = :u AND o.created_at > :since AND o.status <> 'CANCELLED' "
    "UNION ALL SELECT 'carted', item_id, added_at FROM cart_lines WHERE user_id = :u AND added_at > :since "
    "UNION ALL SELECT 'wished', item_id, added_at FROM wishlist_items WHERE user_id = :u AND added_at > :since "
    "LIMIT 500")


@dataclass(frozen=True)
class Interaction:
    kind: str  # ordered, carted, wished
    item_id: str
    at: datetime


class ShopperActivity:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def since(self, user_id: str, since: datetime) -> list[Interaction]:
        """The shopper's orders (not cancelled), cart lines and wishes newer than `since` (at most 500)."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(SINCE, {"u": user_id, "since": since.replace(tzinfo=None)})
            return [Interaction(kind, item_id, at) for kind, item_id, at in rows]
