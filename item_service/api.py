"""HTTP routes of items as stored in MongoDB: one item by id, or many at once in the order asked."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from infra.errors import ApiError
from item_service.store import ItemStore

MAX_BATCH_IDS = 500
MAX_ID_LENGTH = 64  # item ids are 32 hex characters

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
    # The length is checked as the list is read: past MAX_BATCH_IDS no further id is validated.
    ids: list[Annotated[str, Field(max_length=MAX_ID_LENGTH)]] = Field(min_length=1, max_length=MAX_BATCH_IDS)


class BatchGetResponse(BaseModel):
    items: list[Item]
    missing: list[str]


@router.get("/{item_id}", response_model=Item, responses={404: {"description": "unknown or deleted item"}})
async def get_item(item_id: str, items: Items) -> dict:
    item = await items.get(item_id)
    if item is None:
        raise ApiError(404, "item_not_found", f"no item {item_id}", item_id=item_id)
    return item


async def batch_ids(request: Request) -> list[str]:
    """The ids of a batch-get body (its size capped by the API's body limit), refused as too many before any is
    validated; other mistakes are the usual 422 `invalid_request`."""
    try:
        return BatchGetRequest.model_validate_json(await request.body()).ids
    except ValidationError as error:
        too_long = next((e for e in error.errors() if e["type"] == "too_long" and e["loc"] == ("ids",)), None)
        if too_long is not None:
            raise ApiError(422, "too_many_ids", f"at most {MAX_BATCH_IDS} ids per request, got "
                           f"{too_long['ctx']['actual_length']}", limit=MAX_BATCH_IDS) from None
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])}
                                      for e in error.errors(include_url=False, include_input=False)]) from None


BATCH_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": BatchGetRequest.model_json_schema()}}}}


@router.post("/batch-get", response_model=BatchGetResponse, openapi_extra=BATCH_BODY,
             responses={422: {"description": "no ids, too many, or an id too long"}})
async def batch_get_items(ids: Annotated[list[str], Depends(batch_ids)], items: Items) -> dict:
    """Items in the order of `ids`; ids of unknown or deleted items are listed in `missing`."""
    found = await items.get_many(ids)
    found_ids = {item["item_id"] for item in found}
    return {"items": found, "missing": [item_id for item_id in dict.fromkeys(ids) if item_id not in found_ids]}
