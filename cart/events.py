"""Records of every cart and wishlist change, on `cart.events` and `wishlist.events` keyed by user_id (for analytics:
abandoned carts, most wishlisted items), relayed from the outbox after commit."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from infra.schema.topics import TopicSpec

CART_TOPIC = "cart.events"
WISHLIST_TOPIC = "wishlist.events"
TOPICS = (TopicSpec(CART_TOPIC, 3), TopicSpec(WISHLIST_TOPIC, 3))

CartEventType = Literal["item_added", "quantity_changed", "item_removed"]
WishlistEventType = Literal["item_added", "item_removed"]


class CartEvent(BaseModel):
    event_id: str = ""  # filled by the outbox when empty
    type: CartEventType
    user_id: str
    item_id: str
    quantity: int  # the line's quantity after the change; 0 once removed
    previous_quantity: int  # 0 before it was added
    reason: Literal["shopper", "ordered"] = "shopper"  # `ordered`: removed because an order took the line
    at: datetime


class WishlistEvent(BaseModel):
    event_id: str = ""
    type: WishlistEventType
    user_id: str
    item_id: str
    at: datetime
