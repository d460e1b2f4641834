"""HTTP routes of items as stored in MongoDB: one item by id, or many at once in the order asked."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from infra.errors import ApiError
from item_service.store import ItemStore

MAX_BATCH_IDS = 500

router = APIRouter(prefix="/v1/items", tags=["items"])


async def item_store(request: Request) -> ItemStore:
    return request.app.state.stores.item_store


Items = Annotated[ItemStore, Depends(item_store)]


class Money(BaseModel):
    amount: str
    currency: str


class Item(BaseModel):
    """An item as stored; fields beyond these (added by later feeds) are returned as they are."""

    model_config = ConfigDict(extra="allow")

    item_id: str
    seller_id: str
    sku: str
    title: str
    description: str = ""
    category: str
    brand: str | None = None
    price: Money
    price_minor: int
    attributes: dict[str, Any] = {}
    size_class: str
    stock: list[dict[str, Any]] = []
    images: list[str] = []
    version: int
    created_at: str
    updated_at: str


class BatchGetRequest(BaseModel):
    ids: list[str] = Field(min_length=1, json_schema_extra={"maxItems": MAX_BATCH_IDS})


class BatchGetResponse(BaseModel):
    items: list[Item]
    missing: list[str]


@router.get("/{item_id}", response_model=Item, responses={404: {"description": "unknown or deleted item"}})
async def get_item(item_id: str, items: Items) -> dict:
    item = await items.get(item_id)
    if item is None:
        raise ApiError(404, "item_not_found", f"no item {item_id}", item_id=item_id)
    return item


@router.post("/batch-get", response_model=BatchGetResponse, responses={422: {"description": "no ids or too many"}})
async def batch_get_items(request: BatchGetRequest, items: Items) -> dict:
    """Items in the order of `ids`; ids of unknown or deleted items are listed in `missing`."""
    if len(request.ids) > MAX_BATCH_IDS:
        raise ApiError(422, "too_many_ids", f"at most {MAX_BATCH_IDS} ids per request, got {len(request.ids)}",
                       limit=MAX_BATCH_IDS)
    found = await items.get_many(request.ids)
    found_ids = {item["item_id"] for item in found}
    return {"items": found, "missing": [item_id for item_id in dict.fromkeys(request.ids) if item_id not in found_ids]}
