"""Stock rules, no I/O: on hand vs. reserved, which warehouse serves a line, which changes cross zero, what a feed's
count changes, and what a reconciliation finds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from inventory.events import StockChanged, WarehouseStock

# units per item: {item_id: {warehouse_id: quantity}}
Stock = Mapping[str, Mapping[str, int]]


@dataclass(frozen=True)
class Level:
    """One stock row: the units on the shelf and those promised to open orders (placed, not yet shipped or
    cancelled). A recount below what is promised is allowed (the shelf is the truth); nothing is sellable then."""

    on_hand: int = 0
    reserved: int = 0

    @property
    def available(self) -> int:
        return max(self.on_hand - self.reserved, 0)


# stock rows per item: {item_id: {warehouse_id: Level}}
Levels = Mapping[str, Mapping[str, Level]]


@dataclass(frozen=True)
class Pick:
    """Units of one item taken from (or put back into) one warehouse."""

    item_id: str
    warehouse_id: str
    quantity: int


@dataclass(frozen=True)
class Change:
    """How one stock row moves: the deltas of its on-hand and reserved units (one row of the movement ledger)."""

    item_id: str
    warehouse_id: str
    on_hand: int
    reserved: int


def sellable(levels: Levels) -> dict[str, dict[str, int]]:
    """Units available per item and warehouse: what orders may reserve and what search shows."""
    return {item: {warehouse: level.available for warehouse, level in rows.items()} for item, rows in levels.items()}


def reservations(picks: Iterable[Pick], sign: int) -> list[Change]:
    """Placing an order reserves its units (sign +1); cancelling or expiring it releases them (sign -1)."""
    return [Change(p.item_id, p.warehouse_id, 0, sign * p.quantity) for p in picks]


def shipments(levels: Levels, picks: Iterable[Pick]) -> list[Change]:
    """Shipping turns a reservation into units gone from the shelf. After a recount below what was promised, the
    shelf cannot go below zero: the shipment takes what the count left."""
    left = {(item, warehouse): level.on_hand for item, rows in levels.items() for warehouse, level in rows.items()}
    changes = []
    for p in picks:
        taken = min(p.quantity, left.get((p.item_id, p.warehouse_id), 0))
        left[p.item_id, p.warehouse_id] = left.get((p.item_id, p.warehouse_id), 0) - taken
        changes.append(Change(p.item_id, p.warehouse_id, -taken, -p.quantity))
    return changes


def recounts(levels: Levels, item_id: str, counts: Mapping[str, int]) -> list[Change]:
    """A count sets what is on the shelf and leaves the reservations as they are."""
    rows = levels.get(item_id, {})
    return [Change(item_id, warehouse, count - rows.get(warehouse, Level()).on_hand, 0)
            for warehouse, count in counts.items() if rows.get(warehouse, Level()).on_hand != count]


def moved(levels: Levels, changes: Iterable[Change]) -> dict[str, dict[str, Level]]:
    """The stock rows once `changes` are made."""
    result = {item: dict(rows) for item, rows in levels.items()}
    for change in changes:
        rows = result.setdefault(change.item_id, {})
        level = rows.get(change.warehouse_id, Level())
        rows[change.warehouse_id] = Level(level.on_hand + change.on_hand, level.reserved + change.reserved)
    return result


def fastest_stocked(available: Mapping[str, int], etas: Mapping[str, float], quantity: int) -> str | None:
    """The warehouse that can deliver soonest among those with `quantity` units available; None when there is none."""
    candidates = [(eta, warehouse) for warehouse, eta in etas.items() if available.get(warehouse, 0) >= quantity]
    return min(candidates)[1] if candidates else None


def crossings(before: Stock, now: Stock, version: int) -> list[StockChanged]:
    """A `StockChanged` for every item where some warehouse went from none to some available units or from some to
    none: exactly the changes that alter where search can show the item (in stock at all, and from which warehouses)."""
    changed = []
    for item_id, rows in now.items():
        old = before.get(item_id, {})
        if any((old.get(warehouse, 0) > 0) != (quantity > 0) for warehouse, quantity in rows.items()):
            changed.append(picture(item_id, rows, version))
    return changed


def picture(item_id: str, rows: Mapping[str, int], version: int) -> StockChanged:
    warehouses = [WarehouseStock(warehouse_id=w, available=q) for w, q in sorted(rows.items()) if q > 0]
    return StockChanged(item_id=item_id, warehouses=warehouses, in_stock=bool(warehouses), version=version)


COLUMNS = ("on_hand", "reserved")  # the stock row's columns the movement ledger adds up


@dataclass(frozen=True)
class Drift:
    """One column of one stock row that differs from what its movements add up to."""

    item_id: str
    warehouse_id: str
    recorded: int
    expected: int
    column: str = "on_hand"


def drifts(recorded: Stock, expected: Stock, column: str = "on_hand") -> list[Drift]:
    """Rows whose recorded `column` differs from what the movements add up to."""
    found = []
    for item_id in sorted(set(recorded) | set(expected)):
        rows, wanted = recorded.get(item_id, {}), expected.get(item_id, {})
        for warehouse_id in sorted(set(rows) | set(wanted)):
            if rows.get(warehouse_id, 0) != wanted.get(warehouse_id, 0):
                found.append(Drift(item_id, warehouse_id, rows.get(warehouse_id, 0), wanted.get(warehouse_id, 0),
                                   column))
    return found


def level_drifts(recorded: Levels, expected: Levels) -> list[Drift]:
    """Drifts of both columns, row by row (on_hand before reserved)."""
    found = [d for column in COLUMNS for d in drifts(_column(recorded, column), _column(expected, column), column)]
    return sorted(found, key=lambda d: (d.item_id, d.warehouse_id, COLUMNS.index(d.column)))


def repaired_levels(recorded: Levels, fixes: Iterable[Drift]) -> dict[str, dict[str, Level]]:
    """The rows with each fixed column set to what its movements add up to."""
    result = {item: dict(rows) for item, rows in recorded.items()}
    for fix in fixes:
        rows = result.setdefault(fix.item_id, {})
        level = rows.get(fix.warehouse_id, Level())
        rows[fix.warehouse_id] = Level(**{**vars(level), fix.column: fix.expected})
    return result


def _column(levels: Levels, column: str) -> dict[str, dict[str, int]]:
    return {item: {warehouse: getattr(level, column) for warehouse, level in rows.items()}
            for item, rows in levels.items()}


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

    rows: list[tuple[str, str, int, int]]  # (item_id, warehouse_id, on_hand, feed_version): counts to set
    movements: list[tuple[Pick, int]]  # (row, delta) of every on-hand quantity that changes
    now: dict[str, dict[str, int]]  # the stated items' on-hand units afterwards
    repeats: list[tuple[str, str, int, int]] = field(default_factory=list)  # newer, but no news: the version only


def feed_changes(before: Stock, applied_versions: Stock, stated: Iterable[FeedStock],
                 last_stated: Stock | None = None) -> FeedChanges:
    """Each item's newest statement sets the on-hand units of the rows whose feed version is older
    (`applied_versions`: each row's last applied feed version, absent: none), except where it repeats what the feed
    last stated for the row (`last_stated`, absent: never stated). A repeat is no news: a record without a version gets
    its receive time as version, so a replayed file is newer than everything and would otherwise undo the counts the
    seller made since; it only advances the row's feed version."""
    rows, repeats, movements, now = [], [], [], {}
    for statement in newest_feed_stock(stated):
        item_id, current = statement.item_id, before.get(statement.item_id, {})
        applied, last = applied_versions.get(item_id, {}), (last_stated or {}).get(item_id, {})
        newer = {warehouse: quantity for warehouse, quantity in feed_levels(statement.quantities, current).items()
                 if statement.version > applied.get(warehouse, 0)}
        levels = {warehouse: quantity for warehouse, quantity in newer.items() if last.get(warehouse) != quantity}
        rows += [(item_id, warehouse, quantity, statement.version) for warehouse, quantity in levels.items()]
        repeats += [(item_id, warehouse, quantity, statement.version) for warehouse, quantity in newer.items()
                    if warehouse not in levels]
        movements += [(Pick(item_id, warehouse, quantity), quantity - current.get(warehouse, 0))
                      for warehouse, quantity in levels.items() if current.get(warehouse) != quantity]
        now[item_id] = {**current, **levels}
    return FeedChanges(rows, movements, now, repeats)


def availability(item_id: str, rows: Mapping[str, Level]) -> dict:
    """The stock picture callers read: every warehouse row of the item (on hand, reserved, available), and the total
    available."""
    warehouses = [{"warehouse_id": warehouse, "on_hand": level.on_hand, "reserved": level.reserved,
                   "available": level.available} for warehouse, level in sorted(rows.items())]
    return {"item_id": item_id, "warehouses": warehouses,
            "total_available": sum(level.available for level in rows.values())}
