"""`GET /v1/search`: full-text item search with filters, facets, sorting, pages and delivery estimates."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from aiokafka import AIOKafkaProducer
from elasticsearch import ConnectionError as IndexUnreachable
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from infra.errors import ApiError
from logistics.cache import DeliverabilityCache
from search.events import SEARCH_PERFORMED_TOPIC, SearchPerformed
from search.query import InvalidSearch, SearchParams, SortOrder, check
from search.service import attribute_name
from search.store import SearchIndex

router = APIRouter(tags=["search"])
log = logging.getLogger(__name__)
PUBLISH_TIMEOUT_SECONDS = 1.0


class Money(BaseModel):
    amount: str
    currency: str | None


class SearchHit(BaseModel):
    item_id: str
    title: str | None
    price: Money | None
    category: str | None
    brand: str | None
    in_stock: bool
    deliverable: bool | None  # None when no pincode was given
    eta_hours: float | None


class SearchPage(BaseModel):
    total: int
    page: int
    items: list[SearchHit]
    facets: dict[str, list[dict[str, Any]]]
    next_cursor: str | None


async def search_index(request: Request) -> SearchIndex:
    return request.app.state.stores.search_index


async def deliverability(request: Request) -> DeliverabilityCache:
    return request.app.state.stores.search_deliverability


async def analytics_producer(request: Request) -> AIOKafkaProducer:
    return request.app.state.stores.analytics_producer


async def search_params(  # async: FastAPI would run a plain function on a thread pool, a hop per search
    request: Request,
    *,
    q: Annotated[str | None, Query(max_length=200)] = None,
    category: Annotated[list[str], Query(default_factory=list, description="Repeat to match any of several")],
    brand: Annotated[list[str], Query(default_factory=list, description="Repeat to match any of several")],
    min_price: Annotated[Decimal | None, Query(ge=0)] = None,
    max_price: Annotated[Decimal | None, Query(ge=0)] = None,
    pincode: Annotated[str | None, Query(pattern=r"^[1-9][0-9]{5}$")] = None,
    in_stock: bool = True,
    sort: SortOrder = "relevance",
    page: int = 1,
    size: int = 20,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    facets: Annotated[str | None, Query(description="Attribute names to facet on, comma-separated")] = None,
) -> SearchParams:
    """Also reads `attr.<name>=<value>` (repeatable) for attribute filters."""
    attributes: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        if key.startswith("attr.") and len(key) > 5:
            attributes.setdefault(attribute_name(key[5:]), []).append(value)
    params = SearchParams(
        q=(q or "").strip() or None, categories=category, brands=brand, min_price=min_price, max_price=max_price,
        attributes=attributes, pincode=pincode, in_stock=in_stock, sort=sort, page=page, size=size, cursor=cursor,
        facet_names=[attribute_name(n) for n in (facets or "").split(",") if n.strip()])
    try:
        check(params, request.app.state.stores.search_max_page_size)
    except InvalidSearch as error:
        raise ApiError(422, error.code, error.detail) from error
    return params


async def shopper_id(request: Request) -> str | None:
    """The signed-in shopper, when an authentication layer has identified one."""
    return getattr(request.state, "shopper_id", None)


@router.get("/v1/search", response_model=SearchPage)
async def search(
    params: Annotated[SearchParams, Depends(search_params)],
    index: Annotated[SearchIndex, Depends(search_index)],
    network: Annotated[DeliverabilityCache, Depends(deliverability)],
    shopper: Annotated[str | None, Depends(shopper_id)],
    analytics: Annotated[AIOKafkaProducer, Depends(analytics_producer)],
) -> dict:
    """Items matching `q` (typos tolerated) and the filters; `attr.<name>=<value>` filters on an attribute (repeat it
    to accept several values). With `pincode`, only items deliverable there, each with its fastest `eta_hours`."""
    deliverable = await network.deliverable_from(params.pincode) if params.pincode else None
    try:
        page = await index.search(params, deliverable)
    except IndexUnreachable as error:
        raise ApiError(503, "search_unavailable", "search is unavailable for a moment; try again") from error
    await publish_search(analytics, performed(params, page, shopper))
    return page


def performed(params: SearchParams, page: dict, shopper: str | None) -> SearchPerformed:
    filters = params.model_dump(exclude={"q", "page", "size", "cursor", "facet_names"}, exclude_defaults=True,
                                mode="json")
    top = [item["item_id"] for item in page["items"][:10]]
    return SearchPerformed(search_id=uuid.uuid4().hex, shopper_id=shopper, query=params.q, filters=filters,
                           page=page["page"], total=page["total"], top_item_ids=top, at=datetime.now(UTC).isoformat())


async def publish_search(producer, event: SearchPerformed) -> None:
    """Analytics must not fail or slow a search: the send is queued, not waited for, and a failure is only logged."""
    key = (event.shopper_id or event.search_id).encode()
    try:
        await asyncio.wait_for(producer.send(SEARCH_PERFORMED_TOPIC, key=key, value=event.model_dump_json().encode()),
                               PUBLISH_TIMEOUT_SECONDS)
    except Exception:
        log.exception("could not publish %s for search %s", SEARCH_PERFORMED_TOPIC, event.search_id)
