"""The lake's event tables: one per business topic, typed by the topic's record (`events.py`), with the moment each
event happened (its own time field, else Kafka's timestamp) and the date partition it lands in."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from cart.events import CART_TOPIC, WISHLIST_TOPIC, CartEvent, WishlistEvent
from inbound.events import ITEMS_TOPIC, REJECTED_TOPIC, ItemRecord, RejectedRecord
from inventory.events import STOCK_CHANGED_TOPIC, StockChanged
from orders.events import ORDERS_TOPIC, OrderEvent
from search.events import SEARCH_PERFORMED_TOPIC, SearchPerformed


@dataclass(frozen=True)
class EventTable:
    name: str  # the table's folder under the lake root
    topic: str
    record: type[BaseModel]
    time_field: str | None  # the record's own event time (a datetime, or RFC 3339 text); None: Kafka's timestamp


EVENT_TABLES = (
    EventTable("orders", ORDERS_TOPIC, OrderEvent, "at"),
    EventTable("cart", CART_TOPIC, CartEvent, "at"),
    EventTable("wishlist", WISHLIST_TOPIC, WishlistEvent, "at"),
    EventTable("searches", SEARCH_PERFORMED_TOPIC, SearchPerformed, "at"),
    EventTable("stock_changes", STOCK_CHANGED_TOPIC, StockChanged, None),
    EventTable("catalog_items", ITEMS_TOPIC, ItemRecord, "received_at"),
    EventTable("catalog_rejected", REJECTED_TOPIC, RejectedRecord, None),
)
QUARANTINE = "quarantine"  # events that are not their topic's record: raw value, where it came from, and why
BY_TOPIC = {table.topic: table for table in EVENT_TABLES}

# Dimensions analysts join against, snapshotted from the stores by `shop lake dimensions` (replaced whole each time).
DIMENSIONS = {
    "dim_items": "item_id string, seller_id string, title string, category string, brand string, "
                 "price decimal(38,6), currency string, size_class string, deleted boolean, snapshot_at timestamp",
    "dim_warehouses": "warehouse_id string, name string, pincode string, snapshot_at timestamp",
}
