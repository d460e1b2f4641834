"""Records the seller feed publishes: accepted item records on `catalog.items`, rejected ones on `catalog.items.rejected`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from infra.schema.topics import A_WEEK, TopicSpec

ITEMS_TOPIC = "catalog.items"
REJECTED_TOPIC = "catalog.items.rejected"
ITEMS_DLQ_TOPIC = "catalog.items.dlq"
TOPICS = (TopicSpec(ITEMS_TOPIC, 6), TopicSpec(REJECTED_TOPIC, 3, A_WEEK), TopicSpec(ITEMS_DLQ_TOPIC, 3))

SizeClass = Literal["small", "medium", "large", "bulky"]
SIZE_CLASSES: tuple[str, ...] = ("small", "medium", "large", "bulky")
Operation = Literal["upsert", "patch", "delete"]


class StockLine(BaseModel):
    warehouse_id: str
    quantity: int = Field(ge=0)


class ItemFields(BaseModel):
    """The item's own data. On `upsert` every required field is set; on `patch` only the fields being changed; on `delete` none."""

    title: str | None = None
    description: str | None = None
    category: str | None = None
    brand: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    attributes: dict[str, Any] | None = None
    size_class: SizeClass | None = None
    stock: list[StockLine] | None = None
    images: list[str] | None = None


class ItemRecord(BaseModel):
    """One accepted feed record, keyed by item_id on `catalog.items`.

    `version` orders the records of one item: a consumer applies a record only when its version is newer than what it has,
    so replays and out-of-order delivery change nothing.
    """

    item_id: str
    seller_id: str
    sku: str
    op: Operation
    version: int
    feed_id: str
    index: int  # position of the record in its feed, so outcomes can be reported per record
    received_at: str  # RFC 3339 UTC
    fields: ItemFields = Field(default_factory=ItemFields)


class RejectedRecord(BaseModel):
    """A feed record that failed validation, with the reasons; keyed by feed_id on `catalog.items.rejected`."""

    feed_id: str
    seller_id: str
    index: int
    sku: str | None
    errors: list[str]
    raw: Any
