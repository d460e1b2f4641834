"""Stock rules, no I/O: which warehouse serves a line, which changes cross zero, and what a reconciliation finds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from inventory.events import StockChanged, WarehouseStock

# stock per item: {item_id: {warehouse_id: quantity}}
Stock = Mapping[str, Mapping[str, int]]


@dataclass(frozen=True)
class Pick:
    """Units of one item taken from (or put back into) one warehouse."""

    item_id: str
    warehouse_id: str
    quantity: int


def fastest_stocked(on_hand: Mapping[str, int], etas: Mapping[str, float], quantity: int) -> str | None:
    """The warehouse that can deliver soonest among those holding `quantity` units; None when there is none."""
    candidates = [(eta, warehouse) for warehouse, eta in etas.items() if on_hand.get(warehouse, 0) >= quantity]
    return min(candidates)[1] if candidates else None


def after(stock: Stock, picks: Iterable[Pick], sign: int) -> dict[str, dict[str, int]]:
    """The stock once `picks` are taken (sign -1) or put back (sign +1)."""
    result = {item: dict(rows) for item, rows in stock.items()}
    for pick in picks:
        rows = result.setdefault(pick.item_id, {})
        rows[pick.warehouse_id] = rows.get(pick.warehouse_id, 0) + sign * pick.quantity
    return result


def crossings(before: Stock, now: Stock, version: int) -> list[StockChanged]:
    """A `StockChanged` for every item where some warehouse went from none to some units or from some to none:
    exactly the changes that alter where search can show the item (in stock at all, and from which warehouses)."""
    changed = []
    for item_id, rows in now.items():
        old = before.get(item_id, {})
        if any((old.get(warehouse, 0) > 0) != (quantity > 0) for warehouse, quantity in rows.items()):
            changed.append(picture(item_id, rows, version))
    return changed


def picture(item_id: str, rows: Mapping[str, int], version: int) -> StockChanged:
    warehouses = [WarehouseStock(warehouse_id=w, available=q) for w, q in sorted(rows.items()) if q > 0]
    return StockChanged(item_id=item_id, warehouses=warehouses, in_stock=bool(warehouses), version=version)


@dataclass(frozen=True)
class Drift:
    item_id: str
    warehouse_id: str
    recorded: int
    expected: int


def drifts(recorded: Stock, expected: Stock) -> list[Drift]:
    """Rows whose recorded stock differs from what the movements add up to."""
    found = []
    for item_id in sorted(set(recorded) | set(expected)):
        rows, wanted = recorded.get(item_id, {}), expected.get(item_id, {})
        for warehouse_id in sorted(set(rows) | set(wanted)):
            if rows.get(warehouse_id, 0) != wanted.get(warehouse_id, 0):
                found.append(Drift(item_id, warehouse_id, rows.get(warehouse_id, 0), wanted.get(warehouse_id, 0)))
    return found


# --- the seller feed's stock and the stock picture callers read ---
MAX_QUANTITY = 2**31 - 1  # the stock column is a signed INT
MAX_ID_LENGTH = 64


class InvalidStock(Exception):
    """Feed stock that cannot be stored (an id too long, a quantity too large); the record goes to the DLQ with this."""


def check_feed_stock(item_id: str, stock: Iterable[tuple[str, int]]) -> None:
    if not 0 < len(item_id) <= MAX_ID_LENGTH:
        raise InvalidStock(f"item_id must be 1 to {MAX_ID_LENGTH} characters")
    for warehouse_id, quantity in stock:
        if not 0 < len(warehouse_id) <= MAX_ID_LENGTH:
            raise InvalidStock(f"warehouse_id {warehouse_id[:80]!r} must be 1 to {MAX_ID_LENGTH} characters")
        if not 0 <= quantity <= MAX_QUANTITY:
            raise InvalidStock(f"quantity {quantity} of {warehouse_id} must be 0 to {MAX_QUANTITY}")


@dataclass(frozen=True)
class FeedStock:
    """The stock one feed record states for its item, as the complete list of warehouses holding it."""

    item_id: str
    version: int
    quantities: Mapping[str, int]


def newest_feed_stock(stated: Iterable[FeedStock]) -> list[FeedStock]:
    """Per item, the newest statement; of equal versions the first, as the store's version guard would keep."""
    newest: dict[str, FeedStock] = {}
    for stock in stated:
        if stock.item_id not in newest or stock.version > newest[stock.item_id].version:
            newest[stock.item_id] = stock
    return list(newest.values())


def feed_levels(stated: Mapping[str, int], current: Mapping[str, int]) -> dict[str, int]:
    """What to set for a feed's stock list: the listed warehouses, and none left in warehouses the list no longer names
    (the item service and search take the list as the whole picture too)."""
    return {**{warehouse: 0 for warehouse, quantity in current.items() if quantity > 0}, **stated}


@dataclass(frozen=True)
class FeedChanges:
    """What a batch of feed statements does to locked stock rows."""

    rows: list[tuple[str, str, int, int]]  # (item_id, warehouse_id, quantity, feed_version) to write
    movements: list[tuple[Pick, int]]  # (row, delta) of every quantity that changes
    now: dict[str, dict[str, int]]  # the stated items' stock afterwards


def feed_changes(before: Stock, applied_versions: Stock, stated: Iterable[FeedStock]) -> FeedChanges:
    """Each item's newest statement sets the rows whose feed version is older; `applied_versions` holds each row's
    last applied feed version (absent: none)."""
    rows, movements, now = [], [], {}
    for statement in newest_feed_stock(stated):
        current, applied = before.get(statement.item_id, {}), applied_versions.get(statement.item_id, {})
        levels = {warehouse: quantity for warehouse, quantity in feed_levels(statement.quantities, current).items()
                  if statement.version > applied.get(warehouse, 0)}
        rows += [(statement.item_id, warehouse, quantity, statement.version) for warehouse, quantity in levels.items()]
        movements += [(Pick(statement.item_id, warehouse, quantity), quantity - current.get(warehouse, 0))
                      for warehouse, quantity in levels.items() if current.get(warehouse) != quantity]
        now[statement.item_id] = {**current, **levels}
    return FeedChanges(rows, movements, now)


def availability(item_id: str, rows: Mapping[str, int]) -> dict:
    """The stock picture callers read: every warehouse row of the item, and the total."""
    warehouses = [{"warehouse_id": warehouse, "available": quantity} for warehouse, quantity in sorted(rows.items())]
    return {"item_id": item_id, "warehouses": warehouses, "total_available": sum(rows.values())}
