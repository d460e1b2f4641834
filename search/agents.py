"""The search indexer's consumers in `shop worker`: feed records from `catalog.items` (group `search`) and stock
pictures from `inventory.stock_changed` (group `search-stock`) keep the item index current.

Each batch is one bulk request; what cannot be parsed or indexed goes to its topic's dead-letter topic
(`catalog.items.dlq`, `inventory.stock_changed.dlq`) with its reason: a document the index refuses by the bulk answer,
and a record that makes the whole request fail for good (found by applying the batch in halves). Offsets are committed
only after a batch is indexed and its dead letters are in Kafka; Elasticsearch being away or overloaded is waited out,
and a redelivered batch changes nothing (documents carry the versions they were built from)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from pydantic import BaseModel, ValidationError

from inbound.events import ITEMS_DLQ_TOPIC, ITEMS_TOPIC, ItemRecord
from infra.consumer import add_consumer, apply_or_refuse, consume_batches, dead_letter_records, first_error, send_all
from infra.store_errors import elasticsearch_transient
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
                  within: float, *, group: str | None = None) -> None:
    await consume_batches(bootstrap, topic, group=group or GROUPS[topic], batch_size=batch_size, within=within,
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
    """Retries while Elasticsearch is unavailable, never giving up: moving on would lose the batch. Returns {position:
    reason} of the records refused: by the bulk answer, or alone once a request refused as a whole is narrowed down."""
    # In version order, as the index applies each item's records: a batch in halves ends as it would whole.
    applied = await apply_or_refuse(log, _unavailable, apply, records, order=lambda record: record.version)
    refused = dict(applied.refused)
    for positions, refused_in_part in applied.parts:
        refused.update({positions[position]: reason for position, reason in refused_in_part.items()})
    return dict(sorted(refused.items()))


def _unavailable(error: BaseException) -> bool:
    return isinstance(error, IndexUnavailable) or elasticsearch_transient(error)
