"""MySQL adapter of carts and wishlists. Every change writes its event to the outbox in the same transaction, and
takes the shopper's row lock first, so one shopper's changes (and an order taking the cart) go one at a time."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import column, delete, func, insert, select, table, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from cart.events import CART_TOPIC, WISHLIST_TOPIC, CartEvent, CartEventType, WishlistEvent, WishlistEventType
from cart.service import (
    MAX_CART_LINES,
    MAX_WISHLIST_ITEMS,
    Line,
    NotInCart,
    NotInWishlist,
    UnknownShopper,
    cart_change,
    check_quantity,
    check_room,
)
from cart.tables import CartLine, WishlistItem
from infra.outbox import add_event, add_events

cart_table = CartLine.metadata.tables[CartLine.__tablename__]
wishlist_table = WishlistItem.metadata.tables[WishlistItem.__tablename__]
shoppers = table("users", column("user_id"))


class CartStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def lines(self, user_id: str) -> list[Line]:
        async with self.engine.connect() as db:
            return await _lines(db, user_id)

    async def set_quantity(self, user_id: str, item_id: str, quantity: int) -> str | None:
        """Add the item or change its quantity; returns the event type, None when the line already had it."""
        check_quantity(quantity)
        async with self.engine.begin() as db:
            await _lock_shopper(db, user_id)
            previous = await db.scalar(select(cart_table.c.quantity).where(*_line_of(cart_table, user_id, item_id)))
            change = cart_change(previous or 0, quantity)
            if change == "item_added":
                check_room(await _count(db, cart_table, user_id), MAX_CART_LINES)
                await db.execute(insert(cart_table).values(user_id=user_id, item_id=item_id, quantity=quantity,
                                                           added_at=_now()))
            elif change == "quantity_changed":
                await db.execute(update(cart_table).where(*_line_of(cart_table, user_id, item_id))
                                 .values(quantity=quantity))
            if change:
                await _cart_event(db, change, user_id, item_id, quantity, previous or 0)
            return change

    async def remove(self, user_id: str, item_id: str) -> None:
        async with self.engine.begin() as db:
            await _lock_shopper(db, user_id)
            previous = await db.scalar(select(cart_table.c.quantity).where(*_line_of(cart_table, user_id, item_id)))
            if previous is None:
                raise NotInCart(item_id)
            await db.execute(delete(cart_table).where(*_line_of(cart_table, user_id, item_id)))
            await _cart_event(db, "item_removed", user_id, item_id, 0, previous)

    async def wishlist(self, user_id: str) -> list[Line]:
        query = (select(wishlist_table.c.item_id, wishlist_table.c.added_at).where(wishlist_table.c.user_id == user_id)
                 .order_by(wishlist_table.c.added_at, wishlist_table.c.item_id))
        async with self.engine.connect() as db:
            return [Line(row.item_id, 1, row.added_at) for row in await db.execute(query)]

    async def wish(self, user_id: str, item_id: str) -> bool:
        """Put the item on the wishlist; False when it was there already."""
        async with self.engine.begin() as db:
            await _lock_shopper(db, user_id)
            if await db.scalar(select(wishlist_table.c.item_id).where(*_line_of(wishlist_table, user_id, item_id))):
                return False
            check_room(await _count(db, wishlist_table, user_id), MAX_WISHLIST_ITEMS)
            await db.execute(insert(wishlist_table).values(user_id=user_id, item_id=item_id, added_at=_now()))
            await _wishlist_event(db, "item_added", user_id, item_id)
            return True

    async def unwish(self, user_id: str, item_id: str) -> None:
        async with self.engine.begin() as db:
            await _lock_shopper(db, user_id)
            removed = await db.execute(delete(wishlist_table).where(*_line_of(wishlist_table, user_id, item_id)))
            if removed.rowcount == 0:
                raise NotInWishlist(item_id)
            await _wishlist_event(db, "item_removed", user_id, item_id)


async def cart_lines(conn_or_engine: AsyncConnection | AsyncEngine, user_id: str) -> list[tuple[str, int]]:
    """(item_id, quantity) of the shopper's cart. Inside the caller's transaction (a connection) it also locks the
    shopper, so the cart cannot change until that transaction ends (an order placed from the cart)."""
    if isinstance(conn_or_engine, AsyncEngine):
        async with conn_or_engine.connect() as db:
            return [(line.item_id, line.quantity) for line in await _lines(db, user_id)]
    await _lock_shopper(conn_or_engine, user_id)
    return [(line.item_id, line.quantity) for line in await _lines(conn_or_engine, user_id)]


async def clear_cart(conn: AsyncConnection, user_id: str) -> None:
    """Empty the cart inside the caller's transaction (an order took its lines); each line's removal is an event,
    all queued in one statement."""
    await _lock_shopper(conn, user_id)
    at = datetime.now(UTC)
    removals = [(CART_TOPIC, user_id, CartEvent(type="item_removed", user_id=user_id, item_id=line.item_id, quantity=0,
                                                 previous_quantity=line.quantity, reason="ordered", at=at))
                for line in await _lines(conn, user_id)]
    await add_events(conn, removals)
    await conn.execute(delete(cart_table).where(cart_table.c.user_id == user_id))


async def _lock_shopper(db: AsyncConnection, user_id: str) -> None:
    if await db.scalar(select(shoppers.c.user_id).where(shoppers.c.user_id == user_id).with_for_update()) is None:
        raise UnknownShopper(user_id)


async def _lines(db: AsyncConnection, user_id: str) -> list[Line]:
    query = (select(cart_table.c.item_id, cart_table.c.quantity, cart_table.c.added_at)
             .where(cart_table.c.user_id == user_id).order_by(cart_table.c.added_at, cart_table.c.item_id))
    return [Line(row.item_id, row.quantity, row.added_at) for row in await db.execute(query)]


def _line_of(table_, user_id: str, item_id: str) -> tuple:
    return table_.c.user_id == user_id, table_.c.item_id == item_id


async def _count(db: AsyncConnection, table_, user_id: str) -> int:
    return await db.scalar(select(func.count()).select_from(table_).where(table_.c.user_id == user_id)) or 0


async def _cart_event(db: AsyncConnection, change: CartEventType, user_id: str, item_id: str, quantity: int,
                      previous: int) -> None:
    event = CartEvent(type=change, user_id=user_id, item_id=item_id, quantity=quantity, previous_quantity=previous,
                      at=datetime.now(UTC))
    await add_event(db, CART_TOPIC, user_id, event)


async def _wishlist_event(db: AsyncConnection, change: WishlistEventType, user_id: str, item_id: str) -> None:
    await add_event(db, WISHLIST_TOPIC, user_id, WishlistEvent(type=change, user_id=user_id, item_id=item_id,
                                                               at=datetime.now(UTC)))


def _now() -> datetime:
    """Naive UTC, as the tables store it."""
    return datetime.now(UTC).replace(tzinfo=None)
