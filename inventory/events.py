"""Records the inventory publishes: `inventory.stock_changed` when an item's sellable stock changes, keyed by item_id."""

from __future__ import annotations

from pydantic import BaseModel

from infra.schema.topics import TopicSpec

STOCK_CHANGED_TOPIC = "inventory.stock_changed"
STOCK_CHANGED_DLQ_TOPIC = "inventory.stock_changed.dlq"
TOPICS = (TopicSpec(STOCK_CHANGED_TOPIC, 6), TopicSpec(STOCK_CHANGED_DLQ_TOPIC, 3))


class WarehouseStock(BaseModel):
    warehouse_id: str
    available: int


class StockChanged(BaseModel):
    """The item's full current stock picture; `version` increases with every change so consumers can drop stale ones."""

    item_id: str
    warehouses: list[WarehouseStock]
    in_stock: bool
    version: int
