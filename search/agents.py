"""Stream agents keeping the item index current: feed records from `catalog.items`, stock pictures from inventory.

Each batch is one bulk request; what cannot be parsed or indexed goes to `catalog.items.dlq` with its reason.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence

from elasticsearch import TransportError
from pydantic import BaseModel, ValidationError
from tenacity import AsyncRetrying, retry_if_exception, wait_exponential_jitter

from inbound.events import ITEMS_DLQ_TOPIC, ITEMS_TOPIC, ItemRecord
from inventory.events import STOCK_CHANGED_TOPIC, StockChanged
from search.store import IndexUnavailable, SearchIndex

log = logging.getLogger(__name__)
RAW = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}


def register(worker, index: SearchIndex, *, batch_size: int, within: float) -> None:
    items = worker.topic(ITEMS_TOPIC, **RAW)
    stock = worker.topic(STOCK_CHANGED_TOPIC, **RAW)
    dlq = worker.topic(ITEMS_DLQ_TOPIC, **RAW)

    @worker.agent(items, name="search.index_items")
    async def index_items(stream) -> None:
        async for events in stream.take_events(batch_size, within=within):
            await index_batch(events, ItemRecord, index.apply_records, dlq)

    # Inventory publishes here once checkout exists; until then the agent simply waits on an empty topic.
    @worker.agent(stock, name="search.index_stock")
    async def index_stock(stream) -> None:
        async for events in stream.take_events(batch_size, within=within):
            await index_batch(events, StockChanged, index.apply_stock, dlq)


Apply = Callable[[list], Awaitable[dict[int, str]]]


async def index_batch(events: Sequence, record_type: type[BaseModel], apply: Apply, dlq) -> None:
    parsed, dead = [], []
    for event in events:
        try:
            parsed.append((event, record_type.model_validate_json(event.message.value or b"")))
        except ValidationError as error:
            dead.append((event, f"malformed {record_type.__name__}: {_first_errors(error)}"))
    refused = await until_applied(apply, [record for _, record in parsed])
    dead += [(parsed[position][0], f"refused by the index: {reason}") for position, reason in refused.items()]
    for event, reason in dead:
        log.warning("dead-lettering %s[%s]@%s: %s", event.message.topic, event.message.partition,
                    event.message.offset, reason)
        # Wait for the broker's acknowledgement: the batch is acked (and its offsets committed) right after.
        await (await dlq.send(key=event.message.key, value=dead_letter(event.message, reason)))


async def until_applied(apply: Apply, records: list) -> dict[int, str]:
    """Retries while Elasticsearch is unavailable, never giving up: moving on would lose the batch."""
    retrying = AsyncRetrying(retry=retry_if_exception(_unavailable), wait=wait_exponential_jitter(multiplier=0.5, max=30),
                             before_sleep=lambda state: log.warning("index unavailable, retrying: %r",
                                                                    state.outcome.exception()))
    async for attempt in retrying:
        with attempt:
            return await apply(records)
    return {}


def dead_letter(message, reason: str) -> bytes:
    raw = message.value.decode("utf-8", "replace") if message.value is not None else None
    key = message.key.decode("utf-8", "replace") if message.key is not None else None
    return json.dumps({"reason": reason, "topic": message.topic, "partition": message.partition,
                       "offset": message.offset, "key": key, "value": raw}).encode()


def _unavailable(error: BaseException) -> bool:
    if isinstance(error, IndexUnavailable):
        return True
    return isinstance(error, TransportError) and (not isinstance(error.status_code, int) or error.status_code >= 429)


def _first_errors(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in error.errors()[:3])
