"""How an order row and its lines look to the API (`order_view`) and on `orders.events` (`event_of`)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from orders.events import EventType, OrderEvent, OrderLineSnapshot


def rfc3339(moment: datetime) -> str:
    return moment.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")


def money(amount: Decimal, currency: str) -> dict:
    return {"amount": f"{Decimal(amount):.2f}", "currency": currency}


def order_view(row: dict, lines: list[dict]) -> dict:
    return {
        "order_id": row["order_id"], "status": row["status"], "cancel_reason": row["cancel_reason"],
        "pincode": row["pincode"], "created_at": rfc3339(row["created_at"]), "expires_at": rfc3339(row["expires_at"]),
        "updated_at": rfc3339(row["updated_at"]), "replaces_order_id": row["replaces_order_id"],
        "total": money(row["total"], row["currency"]),
        "lines": [{"item_id": line["item_id"], "title": line["title"], "quantity": line["quantity"],
                   "unit_price": money(line["unit_price"], row["currency"]), "seller_id": line["seller_id"],
                   "warehouse_id": line["warehouse_id"], "eta_hours": line["eta_hours"]} for line in lines],
        "payment": {"payment_id": row["payment_id"]},
    }


def event_of(event_type: EventType, row: dict, lines: list[dict]) -> OrderEvent:
    return OrderEvent(
        type=event_type, order_id=row["order_id"], user_id=row["user_id"], status=row["status"],
        cancel_reason=row["cancel_reason"], pincode=row["pincode"], currency=row["currency"], total=row["total"],
        payment_id=row["payment_id"], replaces_order_id=row["replaces_order_id"], at=row["updated_at"].replace(tzinfo=UTC),
        lines=[OrderLineSnapshot(item_id=l["item_id"], seller_id=l["seller_id"], warehouse_id=l["warehouse_id"],
                                 title=l["title"], quantity=l["quantity"], unit_price=l["unit_price"]) for l in lines],
    )
