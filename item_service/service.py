"""The rules for applying catalog records to stored items: only a newer version changes an item, a patch merges into the
latest state, a delete leaves a tombstone. No I/O: the caller passes the stored documents and the clock."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeGuard

from inbound.events import ItemFields, ItemRecord, minor_unit_exponent, minor_units, refusal
from item_service.events import RecordOutcome

# Fields a patch does not copy as given: money is stored composed, stock as plain objects, attributes merged.
COMPOSED_FIELDS = ("price", "currency", "stock", "attributes")


class Refused(Exception):
    """A record that cannot be applied to the item's current state; it is dead-lettered with this reason."""


@dataclass
class BatchResult:
    documents: list[dict]  # the final document of every item the batch changed
    outcomes: list[RecordOutcome]  # one per record, in the order the records were given


def apply_batch(stored: dict[str, dict], records: list[ItemRecord], *, now: str) -> BatchResult:
    """Apply `records` on top of `stored` (current documents by item_id); each item's records go in version order."""
    positions: dict[str, list[int]] = {}
    for position, record in enumerate(records):
        positions.setdefault(record.item_id, []).append(position)
    outcomes: dict[int, RecordOutcome] = {}
    documents: list[dict] = []
    for item_id, item_positions in positions.items():
        current = stored.get(item_id)
        latest = current
        for position in sorted(item_positions, key=lambda p: records[p].version):
            latest, outcomes[position] = apply_record(latest, records[position], now)
        if latest is not current and latest is not None:
            documents.append(latest)
    return BatchResult(documents, [outcomes[position] for position in range(len(records))])


def opening_with_upsert(records: list[ItemRecord]) -> set[str]:
    """Items whose oldest record in the batch is an upsert: if they are not stored yet, the batch alone decides them."""
    first: dict[str, ItemRecord] = {}
    for record in records:
        if record.item_id not in first or record.version < first[record.item_id].version:
            first[record.item_id] = record
    return {item_id for item_id, record in first.items() if record.op == "upsert"}


def apply_record(current: dict | None, record: ItemRecord, now: str) -> tuple[dict | None, RecordOutcome]:
    """The item after `record`, and what became of the record; the same `current` object when nothing changed."""
    if current is not None and record.version <= current["version"]:
        return current, _outcome(record, stale=True)
    try:
        if reason := refusal(record):
            raise Refused(reason)
        return _changed(current, record, now), _outcome(record)
    except Refused as refused:
        return current, dead_lettered(record.feed_id, record.index, record.item_id, str(refused))


def _changed(current: dict | None, record: ItemRecord, now: str) -> dict:
    if record.op == "delete":
        return tombstone(current, record, now)
    if record.op == "patch":
        return patched(current, record, now)
    return upserted(current, record, now)


def upserted(current: dict | None, record: ItemRecord, now: str) -> dict:
    fields = record.fields
    if fields.price is None or fields.currency is None:  # `refusal` refuses such an upsert before it gets here
        raise Refused("upsert lacks price or currency")
    return {
        **_identity(record),
        "title": fields.title, "description": fields.description or "", "category": fields.category,
        "brand": fields.brand, **money(fields.price, fields.currency), "attributes": dict(fields.attributes or {}),
        "size_class": fields.size_class, "stock": _stock(fields), "images": list(fields.images or []),
        "version": record.version, "deleted": False,
        "created_at": current["created_at"] if _live(current) else now, "updated_at": now,
    }


def patched(current: dict | None, record: ItemRecord, now: str) -> dict:
    """Only the fields the patch gives change; attributes merge key by key (a null value removes the key)."""
    if not _live(current):
        raise Refused("patch of a deleted item" if current else "patch of an unknown item")
    fields = record.fields
    given = {name: value for name, value in fields if value is not None and name not in COMPOSED_FIELDS}
    document = {**current, **given, "version": record.version, "updated_at": now}
    if fields.stock is not None:
        document["stock"] = _stock(fields)
    if fields.price is not None or fields.currency is not None:
        price = fields.price if fields.price is not None else Decimal(current["price"]["amount"])
        document.update(money(price, fields.currency or current["price"]["currency"]))
    if fields.attributes is not None:
        document["attributes"] = merged_attributes(current.get("attributes") or {}, fields.attributes)
    return document


def tombstone(current: dict | None, record: ItemRecord, now: str) -> dict:
    """What remains of a deleted item: enough to refuse older replays, nothing to show."""
    created_at = current.get("created_at", now) if current else now
    return {**_identity(record), "deleted": True, "version": record.version, "created_at": created_at,
            "updated_at": now}


def merged_attributes(stored: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = {**stored, **changes}
    return {name: value for name, value in merged.items() if value is not None}


def money(price: Decimal, currency: str) -> dict:
    """The API's money shape plus `price_minor`, the amount in the currency's minor units (paise, cents). The record
    contract refuses a record whose own price and currency do not fit; a patch of only one of them is refused here when
    it does not fit with the other as stored."""
    try:
        minor = minor_units(price, currency)
    except ValueError as problem:
        raise Refused(f"price {problem}") from None
    amount = Decimal(minor).scaleb(-minor_unit_exponent(currency))
    return {"price": {"amount": f"{amount:f}", "currency": currency}, "price_minor": minor}


def dead_lettered(feed_id: str, index: int, item_id: str, reason: str) -> RecordOutcome:
    return RecordOutcome(feed_id=feed_id, index=index, item_id=item_id, status="dead_lettered", errors=[reason])


def outcome_of_unreadable(raw: bytes | None, key: str | None, reason: str) -> RecordOutcome | None:
    """A dead_lettered outcome for a message that is not a valid record, if its feed_id and index can still be read."""
    try:
        payload = json.loads(raw or b"")
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    feed_id, index, item_id = payload.get("feed_id"), payload.get("index"), payload.get("item_id")
    if not isinstance(feed_id, str) or not isinstance(index, int) or isinstance(index, bool):
        return None
    return dead_lettered(feed_id, index, item_id if isinstance(item_id, str) else key or "", reason)


def _outcome(record: ItemRecord, *, stale: bool = False) -> RecordOutcome:
    return RecordOutcome(feed_id=record.feed_id, index=record.index, item_id=record.item_id, status="applied",
                         stale=stale)


def _identity(record: ItemRecord) -> dict:
    return {"_id": record.item_id, "item_id": record.item_id, "seller_id": record.seller_id, "sku": record.sku}


def _live(document: dict | None) -> TypeGuard[dict]:
    return document is not None and not document.get("deleted", False)


def _stock(fields: ItemFields) -> list[dict]:
    return [line.model_dump() for line in fields.stock or []]
