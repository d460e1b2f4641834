"""The search indexer's consumers in `shop worker`: feed records from `catalog.items` (group `search`) and stock
pictures from `inventory.stock_changed` (group `search-stock`) keep the item index current.

Each batch is one bulk request; what cannot be parsed or indexed goes to its topic's dead-letter topic
(`catalog.items.dlq`, `inventory.stock_changed.dlq`) with its reason. Offsets
are committed only after a batch is indexed and its dead letters are in Kafka; Elasticsearch being away is waited out,
and a redelivered batch changes nothing (documents carry the versions they were built from)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from elasticsearch import TransportError
from pydantic import BaseModel, ValidationError
from tenacity import AsyncRetrying, retry_if_exception, wait_exponential_jitter

from inbound.events import ITEMS_DLQ_TOPIC, ITEMS_TOPIC, ItemRecord
from infra.consumer import add_consumer, consume_batches, dead_letter_records, first_error, send_all
from inventory.events import STOCK_CHANGED_DLQ_TOPIC, STOCK_CHANGED_TOPIC, StockChanged
from search.store import IndexUnavailable, SearchIndex

log = logging.getLogger(__name__)
GROUPS = {ITEMS_TOPIC: "search", STOCK_CHANGED_TOPIC: "search-stock"}
DEAD_LETTERS = {ITEMS_TOPIC: ITEMS_DLQ_TOPIC, STOCK_CHANGED_TOPIC: STOCK_CHANGED_DLQ_TOPIC}
Apply = Callable[[list], Awaitable[dict[int, str]]]


def register(worker, index: SearchIndex, *, batch_size: int, within: float) -> None:
    add_consumer(worker, "index_items", log, consume, ITEMS_TOPIC, ItemRecord, index.apply_records, batch_size, within)
    # Inventory publishes here once stock is set; until then this consumer simply waits on an empty topic.
    add_consumer(worker, "index_stock", log, consume, STOCK_CHANGED_TOPIC, StockChanged, index.apply_stock, batch_size,
                 within)


async def consume(bootstrap: list[str] | str, topic: str, record_type: type[BaseModel], apply: Apply, batch_size: int,
                  within: float) -> None:
    await consume_batches(bootstrap, topic, group=GROUPS[topic], batch_size=batch_size, within=within,
                          apply_batch=partial(index_and_publish, record_type, apply, DEAD_LETTERS[topic]), log=log,
                          moved_warning=f"search: partitions of {topic} moved during a batch; it will be delivered "
                                        f"again (no change)")


async def index_and_publish(record_type: type[BaseModel], apply: Apply, dead_letter_topic: str, producer,
                            messages: list) -> None:
    dead = await index_messages(record_type, apply, messages)
    for message, reason in dead:
        log.warning("dead-lettering %s[%s]@%s: %s", message.topic, message.partition, message.offset, reason)
    await send_all(producer, dead_letter_records(dead_letter_topic, dead, consumer="search"))


async def index_messages(record_type: type[BaseModel], apply: Apply, messages: list) -> list[tuple[Any, str]]:
    """Index one batch; returns the messages that cannot be indexed, with their reasons."""
    parsed, dead = [], []
    for message in messages:
        try:
            parsed.append((message, record_type.model_validate_json(message.value or b"")))
        except ValidationError as error:
            dead.append((message, f"malformed {record_type.__name__}: {first_error(error)}"))
    refused = await until_applied(apply, [record for _, record in parsed])
    dead += [(parsed[position][0], f"refused by the index: {reason}") for position, reason in refused.items()]
    return dead


async def until_applied(apply: Apply, records: list) -> dict[int, str]:
    """Retries while Elasticsearch is unavailable, never giving up: moving on would lose the batch."""
    retrying = AsyncRetrying(retry=retry_if_exception(_unavailable), wait=wait_exponential_jitter(multiplier=0.5, max=30),
                             before_sleep=lambda state: log.warning("index unavailable, retrying: %r",
                                                                    state.outcome and state.outcome.exception()))
    async for attempt in retrying:
        with attempt:
            return await apply(records)
    return {}


def _unavailable(error: BaseException) -> bool:
    if isinstance(error, IndexUnavailable):
        return True
    return isinstance(error, TransportError) and (not isinstance(error.status_code, int) or error.status_code >= 429)
