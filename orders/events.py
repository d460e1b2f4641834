"""Records the orders publish on `orders.events`, keyed by order_id, relayed from the outbox after commit.

Every event carries the order's whole picture after the transition, so a consumer (notifications, analytics,
archival) needs nothing else; `event_id` is unique per event and lets consumers drop redeliveries.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from infra.schema.topics import TopicSpec

ORDERS_TOPIC = "orders.events"
ORDERS_DLQ_TOPIC = "orders.events.dlq"
TOPICS = (TopicSpec(ORDERS_TOPIC, 6), TopicSpec(ORDERS_DLQ_TOPIC, 3))

OrderStatus = Literal["CREATED", "PLACED", "SHIPPED", "DELIVERED", "CANCELLED"]
EventType = Literal["order_created", "order_placed", "order_cancelled", "order_shipped", "order_delivered",
                    "payment_refunded"]


class OrderLineSnapshot(BaseModel):
    item_id: str
    seller_id: str
    warehouse_id: str
    title: str
    quantity: int
    unit_price: Decimal


class OrderEvent(BaseModel):
    event_id: str = ""  # filled by the outbox when empty
    type: EventType
    order_id: str
    user_id: str
    status: OrderStatus
    cancel_reason: str | None = None
    pincode: str
    currency: str
    total: Decimal
    payment_id: str
    replaces_order_id: str | None = None
    lines: list[OrderLineSnapshot] = Field(default_factory=list)
    at: datetime
