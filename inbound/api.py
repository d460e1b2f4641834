"""HTTP routes of the seller feed: post a feed (streamed, 202 with per-record verdicts) and read a feed's status."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, Depends, Header, Path, Query, Request
from pydantic import BaseModel

from inbound.feed import FeedInterrupted, FeedLimits, FeedTooLarge, ingest_feed
from inbound.parse import PARSERS, parser_for
from inbound.service import rfc3339
from inbound.store import FeedStore
from infra.errors import ApiError
from infra.paging import MAX_PAGE

router = APIRouter(tags=["seller feed"])

Status = Literal["accepted", "rejected", "applied", "dead_lettered"]


class Rejection(BaseModel):
    index: int
    sku: str | None
    errors: list[str]


class FeedAccepted(BaseModel):
    feed_id: str
    accepted: int
    rejected: list[Rejection]


class RecordVerdict(Rejection):
    item_id: str | None
    status: Status


class FeedStatus(BaseModel):
    feed_id: str
    seller_id: str
    created_at: str
    state: str
    counts: dict[str, int]
    records: list[RecordVerdict]


async def feed_store(request: Request) -> FeedStore:
    return request.app.state.stores.feed_store


async def feed_limits(request: Request) -> FeedLimits:
    return request.app.state.stores.feed_limits


async def feed_producer(request: Request) -> AIOKafkaProducer:
    return request.app.state.stores.producer


Feeds = Annotated[FeedStore, Depends(feed_store)]


async def calling_seller(feeds: Feeds, x_api_key: Annotated[str | None, Header()] = None) -> str:
    """The seller whose X-Api-Key came with the request: the one seller-key check of every seller route."""
    if not x_api_key:
        raise ApiError(401, "missing_api_key", "send the seller's API key in the X-Api-Key header")
    seller_id = await feeds.seller_for_key(x_api_key)
    if seller_id is None:
        raise ApiError(401, "unknown_api_key", "the X-Api-Key is not a key of any seller")
    return seller_id


CallingSeller = Annotated[str, Depends(calling_seller)]


async def own_seller(seller_id: Annotated[str, Path(max_length=64)], caller: CallingSeller) -> str:
    """The path's seller, once the X-Api-Key header proves the caller is that seller."""
    if caller != seller_id:
        raise ApiError(403, "not_your_seller", "the X-Api-Key belongs to another seller", seller_id=seller_id)
    return seller_id


Seller = Annotated[str, Depends(own_seller)]
FEED_BODY = {"requestBody": {"required": True, "content": {media: {"schema": {}} for media in PARSERS}}}


@router.post("/v1/sellers/{seller_id}/items", status_code=202, response_model=FeedAccepted, openapi_extra=FEED_BODY)
async def post_items(request: Request, seller_id: Seller, feeds: Feeds,
                     limits: Annotated[FeedLimits, Depends(feed_limits)],
                     producer: Annotated[AIOKafkaProducer, Depends(feed_producer)]) -> dict[str, Any]:
    """Records as a JSON array, NDJSON or CSV; each is judged on its own, accepted ones go to `catalog.items`."""
    parse = parser_for(request.headers.get("content-type"))
    if parse is None:
        raise ApiError(415, "unsupported_media_type", f"send the feed as one of {', '.join(PARSERS)}",
                       content_type=request.headers.get("content-type"))
    try:
        summary = await ingest_feed(parse(request.stream()), seller_id, feeds=feeds,
                                    producer=producer, limits=limits)
    except FeedTooLarge as error:
        raise ApiError(413, "feed_too_large", str(error), feed_id=error.feed_id, max_records=error.max_records)
    except FeedInterrupted as error:
        raise ApiError(503, "feed_interrupted", str(error), feed_id=error.feed_id, taken=error.taken)
    return summary.as_json()


@router.get("/v1/sellers/{seller_id}/feeds/{feed_id}", response_model=FeedStatus)
async def get_feed(seller_id: Seller, feed_id: str, feeds: Feeds, page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
                   size: Annotated[int, Query(ge=1, le=1000)] = 100, status: Status | None = None) -> dict[str, Any]:
    """The feed's counts per status and one page of its records' verdicts, in feed order."""
    feed = await feeds.feed(feed_id, seller_id)
    if feed is None:
        raise ApiError(404, "feed_not_found", f"seller {seller_id} has no feed {feed_id}", feed_id=feed_id)
    verdicts = await feeds.feed_records(feed_id, page=page, size=size, status=status)
    return {**feed, "created_at": rfc3339(feed["created_at"]), "records": [vars(v) for v in verdicts]}
