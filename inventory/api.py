"""HTTP routes of the inventory: an item's stock per warehouse, and its seller setting the stock of one warehouse."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

from inbound.api import CallingSeller
from infra.errors import ApiError
from inventory import service
from inventory.service import MAX_ID_LENGTH, MAX_QUANTITY
from inventory.store import StockStore

router = APIRouter(prefix="/v1/inventory", tags=["inventory"])


class ItemLookup(Protocol):
    async def get(self, item_id: str) -> dict | None: ...


class WarehouseNetwork(Protocol):
    async def warehouses(self) -> list[dict]: ...


class WarehouseStock(BaseModel):
    warehouse_id: str
    on_hand: int = Field(description="units on the shelf, as last counted and less what has shipped")
    reserved: int = Field(description="units promised to open orders (placed, not yet shipped or cancelled)")
    available: int = Field(description="units that can still be sold: on_hand - reserved, never below zero")


class StockPicture(BaseModel):
    item_id: str
    warehouses: list[WarehouseStock]
    total_available: int


class StockSet(BaseModel):
    quantity: int = Field(ge=0, le=MAX_QUANTITY, strict=True, description="units on hand in the warehouse")


async def stock_store(request: Request) -> StockStore:
    return request.app.state.stores.stock


async def item_store(request: Request) -> ItemLookup:
    return request.app.state.stores.item_store


async def network(request: Request) -> WarehouseNetwork:
    return request.app.state.stores.serviceability


Stock = Annotated[StockStore, Depends(stock_store)]
Items = Annotated[ItemLookup, Depends(item_store)]


async def known_item(item_id: str, items: ItemLookup) -> dict:
    item = await items.get(item_id)
    if item is None:
        raise ApiError(404, "item_not_found", f"no item {item_id}", item_id=item_id)
    return item


async def known_warehouse(warehouse_id: str, network: WarehouseNetwork) -> None:
    known = {warehouse["warehouse_id"] for warehouse in await network.warehouses()}
    if not known:
        raise ApiError(422, "unknown_warehouse", "no logistics network is loaded, so every warehouse is unknown "
                       "(load one with `shop logistics load`)", warehouse_id=warehouse_id)
    if warehouse_id not in known:
        raise ApiError(422, "unknown_warehouse", f"no warehouse {warehouse_id} in the logistics network",
                       warehouse_id=warehouse_id)


@router.get("/{item_id}", response_model=StockPicture, responses={404: {"description": "unknown or deleted item"}})
async def get_stock(item_id: str, stock: Stock, items: Items) -> dict:
    """Units on hand, reserved and available per warehouse, and available in all."""
    await known_item(item_id, items)
    return service.availability(item_id, await stock.stock_levels(item_id))


@router.put("/{item_id}/warehouses/{warehouse_id}", response_model=StockPicture,
            responses={401: {"description": "missing or unknown X-Api-Key"},
                       403: {"description": "the item belongs to another seller"},
                       404: {"description": "unknown or deleted item"},
                       422: {"description": "unknown warehouse, or a quantity that is not a whole number >= 0"}})
async def set_stock(item_id: str, warehouse_id: Annotated[str, Path(max_length=MAX_ID_LENGTH)], body: StockSet,
                    seller_id: CallingSeller, stock: Stock, items: Items,
                    warehouses: Annotated[WarehouseNetwork, Depends(network)]) -> dict:
    """Set the units on hand in one warehouse (the item's seller only; open reservations stay, so only what is not
    promised becomes sellable); returns the item's whole stock picture."""
    item = await known_item(item_id, items)
    if item.get("seller_id") != seller_id:
        raise ApiError(403, "not_your_item", "the item belongs to another seller", item_id=item_id)
    await known_warehouse(warehouse_id, warehouses)
    levels = await stock.set_levels(item_id, {warehouse_id: body.quantity})
    return service.availability(item_id, levels)
