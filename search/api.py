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
from elasticsearch import RequestError as SearchRefused
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from infra.errors import ApiError, ErrorBody, InvalidRequestBody
from logistics.cache import DeliverabilityCache
from search.events import SEARCH_PERFORMED_TOPIC, SearchPerformed
from search.query import InvalidSearch, SearchLimits, SearchParams, SortOrder, check
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


async def search_limits(request: Request) -> SearchLimits:
    return request.app.state.stores.search_limits


async def search_params(  # async: FastAPI would run a plain function on a thread pool, a hop per search
    request: Request,
    limits: Annotated[SearchLimits, Depends(search_limits)],
    *,
    q: Annotated[str | None, Query(description="At most SHOP_SEARCH_MAX_QUERY_LENGTH (200) characters")] = None,
    # Defaults (copied per request), not default_factory: FastAPI asks pydantic whether a factory takes arguments
    # (inspect.signature, parsing the builtin's text signature) on every request that leaves the parameter out: 11%
    # of the API's CPU per search.
    category: Annotated[list[str], Query(description="Repeat to match any of several")] = [],  # noqa: B006
    brand: Annotated[list[str], Query(description="Repeat to match any of several")] = [],  # noqa: B006
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
        check(params, limits)
    except InvalidSearch as error:
        limit: dict[str, Any] = {} if error.limit is None else {"limit": error.limit}
        raise ApiError(422, error.code, error.detail, **limit) from error
    return params


async def shopper_id(request: Request) -> str | None:
    """The signed-in shopper, when an authentication layer has identified one."""
    return getattr(request.state, "shopper_id", None)


@router.get("/v1/search", response_model=SearchPage, responses={
    400: {"model": ErrorBody, "description": "`search_refused`: Elasticsearch refused the search, with its reason"},
    422: {"model": InvalidRequestBody,
          "description": "a parameter that cannot be used, or a search beyond a limit (`limit` says which number)"},
    503: {"model": ErrorBody, "description": "`search_unavailable`: Elasticsearch cannot be reached; try again"}})
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
    except SearchRefused as error:  # what `check` lets through and Elasticsearch still refuses: a gap to close there
        log.warning("elasticsearch refused a search: %s", error)
        raise ApiError(400, "search_refused", f"the search was refused: {refusal_reason(error)}") from error
    await publish_search(analytics, performed(params, page, shopper))
    return page


def refusal_reason(error: SearchRefused) -> str:
    """Elasticsearch's own words: the first root cause says what in the request it could not use."""
    info = error.info if isinstance(error.info, dict) else {}
    causes = (info.get("error") or {}).get("root_cause") or [{}]
    return str(causes[0].get("reason") or error.error)


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
