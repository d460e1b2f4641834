"""How an order row and its lines look to the API (`order_view`) and on `orders.events` (`event_of`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from orders.events import EventType, OrderEvent, OrderLineSnapshot

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def rfc3339(moment: datetime) -> str:
    return moment.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")


def money(amount: Decimal, currency: str) -> dict:
    return {"amount": f"{Decimal(amount):.2f}", "currency": currency}


TIMELINE = (("CREATED", "created_at"), ("PLACED", "placed_at"), ("SHIPPED", "shipped_at"),
            ("DELIVERED", "delivered_at"), ("CANCELLED", "cancelled_at"))


def order_view(row: dict, lines: list[dict], payment_events: Sequence[dict] = (), refunds: Sequence[dict] = ()) -> dict:
    """The order as the API shows it, live or archived (the archive stores exactly this)."""
    currency = row["currency"]
    return {
        "order_id": row["order_id"], "user_id": row["user_id"], "status": row["status"],
        "cancel_reason": row["cancel_reason"], "pincode": row["pincode"], "created_at": rfc3339(row["created_at"]),
        "expires_at": rfc3339(row["expires_at"]), "updated_at": rfc3339(row["updated_at"]),
        "replaces_order_id": row["replaces_order_id"], "total": money(row["total"], currency),
        "lines": [{"item_id": line["item_id"], "title": line["title"], "quantity": line["quantity"],
                   "unit_price": money(line["unit_price"], currency), "seller_id": line["seller_id"],
                   "warehouse_id": line["warehouse_id"], "eta_hours": line["eta_hours"]} for line in lines],
        "timeline": [{"status": status, "at": rfc3339(row[column])} for status, column in TIMELINE
                     if row.get(column) is not None],
        "payment": {"payment_id": row["payment_id"], "events": payment_events_view(payment_events, currency)},
        "refunds": refunds_view(refunds, currency),
    }


def payment_events_view(events: Sequence[dict], currency: str) -> list[dict]:
    return [{"event_id": e["event_id"], "outcome": e["outcome"], "amount": money(e["amount"], currency),
             "result": e["result"], "received_at": rfc3339(e["received_at"])} for e in events]


def refunds_view(refunds: Sequence[dict], currency: str) -> list[dict]:
    return [{"amount": money(r["amount"], currency), "reason": r["reason"], "status": r["status"],
             "created_at": rfc3339(r["created_at"])} for r in refunds]


def event_of(event_type: EventType, row: dict, lines: list[dict]) -> OrderEvent:
    return OrderEvent(
        type=event_type, order_id=row["order_id"], user_id=row["user_id"], status=row["status"],
        cancel_reason=row["cancel_reason"], pincode=row["pincode"], currency=row["currency"], total=row["total"],
        payment_id=row["payment_id"], replaces_order_id=row["replaces_order_id"], at=row["updated_at"].replace(tzinfo=UTC),
        lines=[OrderLineSnapshot(item_id=l["item_id"], seller_id=l["seller_id"], warehouse_id=l["warehouse_id"],
                                 title=l["title"], quantity=l["quantity"], unit_price=l["unit_price"]) for l in lines],
    )


def micros(doc: dict) -> int:
    """An order's place in newest-first lists: its creation time in microseconds since the epoch."""
    moment = datetime.fromisoformat(doc["created_at"])
    return (moment - EPOCH) // timedelta(microseconds=1)


def from_micros(value: int) -> datetime:
    """The MySQL DATETIME (UTC, no tzinfo) of a time in microseconds since the epoch."""
    return (EPOCH + timedelta(microseconds=value)).replace(tzinfo=None)


def newest_first(live: list[dict], archived: list[dict], limit: int) -> list[dict]:
    """One newest-first list of orders read from MySQL and from the archive: an order read in both (it was archived
    between the two reads) counts once."""
    merged = {doc["order_id"]: doc for doc in archived}
    merged.update((doc["order_id"], doc) for doc in live)
    return sorted(merged.values(), key=lambda doc: (micros(doc), doc["order_id"]), reverse=True)[:limit]
