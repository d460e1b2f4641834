"""HTTP routes: whether an item can reach a pincode and how soon, the warehouses, and the pincodes each one serves."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel

from infra.errors import ApiError
from logistics.service import PINCODE_PATTERN, stocked_warehouses
from logistics.store import ServiceabilityStore

router = APIRouter(tags=["serviceability"])


class ItemLookup(Protocol):
    async def get(self, item_id: str) -> dict | None: ...


class ServiceabilityOut(BaseModel):
    deliverable: bool
    eta_hours: float | None
    warehouse_id: str | None


class WarehouseOut(BaseModel):
    warehouse_id: str
    name: str
    pincode: str


class WarehousePincodeOut(BaseModel):
    pincode: str
    eta_hours: float
    size_classes: list[str]


async def serviceability_store(request: Request) -> ServiceabilityStore:
    return request.app.state.stores.serviceability


async def item_store(request: Request) -> ItemLookup:
    return request.app.state.stores.item_store


Network = Annotated[ServiceabilityStore, Depends(serviceability_store)]
Pincode = Annotated[str, Query(pattern=PINCODE_PATTERN, description="6-digit Indian pincode", examples=["110001"])]


@router.get("/v1/serviceability", response_model=ServiceabilityOut)
async def item_serviceability(
    item_id: Annotated[str, Query(min_length=1)], pincode: Pincode, network: Network,
    items: Annotated[ItemLookup, Depends(item_store)],
) -> ServiceabilityOut:
    """Whether the item can reach the pincode from a warehouse that stocks it, the soonest eta, and from where."""
    item = await items.get(item_id)
    if item is None:
        raise ApiError(404, "item_not_found", f"no item {item_id}", item_id=item_id)
    estimate = await network.serviceability(stocked_warehouses(item), item.get("size_class"), pincode)
    return ServiceabilityOut(**estimate._asdict())


@router.get("/v1/warehouses", response_model=list[WarehouseOut])
async def list_warehouses(network: Network) -> list[dict]:
    return await network.warehouses()


@router.get("/v1/warehouses/{warehouse_id}/pincodes", response_model=list[WarehousePincodeOut])
async def warehouse_pincodes(
    warehouse_id: Annotated[str, Path()], network: Network, limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> list[dict]:
    """The pincodes the warehouse delivers to, fastest first, with the size classes each route carries."""
    pincodes = await network.warehouse_pincodes(warehouse_id, limit)
    if pincodes is None:
        raise ApiError(404, "warehouse_not_found", f"no warehouse {warehouse_id}", warehouse_id=warehouse_id)
    return pincodes
