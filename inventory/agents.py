"""The feed-stock consumer: sets the units on hand from the `stock` lists of `catalog.items` records, newest feed
version wins; reservations of open orders are never touched, and a statement that repeats what the feed last said for
a row (a replayed file, whose records without a version carry a later receive time) changes nothing.

It runs inside `shop worker` as its own consumer group (`inventory`), like the item service's, so neither stalls the
other. Offsets are committed only after a batch is applied and its dead letters are in Kafka; a redelivered batch
changes nothing (the store ignores feed versions it has already applied). MySQL being away (or a deadlock) is waited
out; a record whose stock the store refuses for good is narrowed out of its batch and dead-lettered, the rest applied."""

from __future__ import annotations

import logging
from functools import partial

from pydantic import ValidationError

from inbound.events import ITEMS_DLQ_TOPIC, ITEMS_TOPIC, ItemRecord
from infra.consumer import add_consumer, apply_or_refuse, consume_batches, dead_letter_records, first_error, send_all
from infra.store_errors import mysql_transient
from inventory import service
from inventory.service import FeedStock, InvalidStock
from inventory.store import StockStore

log = logging.getLogger(__name__)
GROUP = "inventory"
ITEMS_PER_TRANSACTION = 500  # enough to spread a transaction's round trips thin, few enough to hold locks briefly


def register(worker, stock: StockStore, *, batch_size: int, within: float) -> None:
    add_consumer(worker, "apply_feed_stock", log, consume, stock, batch_size, within)


async def consume(bootstrap: list[str] | str, stock: StockStore, batch_size: int, within: float, *,
                  group: str = GROUP) -> None:
    await consume_batches(bootstrap, ITEMS_TOPIC, group=group, batch_size=batch_size, within=within,
                          apply_batch=partial(apply_and_publish, stock), log=log,
                          moved_warning="inventory: partitions moved during a batch; its records will be delivered "
                                        "again (no change)")


async def apply_and_publish(stock: StockStore, producer, messages: list) -> None:
    refused = await apply_messages(stock, messages)
    await send_all(producer, dead_letter_records(ITEMS_DLQ_TOPIC, refused, consumer="inventory"))


async def apply_messages(stock: StockStore, messages: list) -> list[tuple[object, str]]:
    """Set the stock the batch's records state; returns the messages that cannot be used, with their reasons."""
    stated, refused = [], {}
    for position, message in enumerate(messages):
        try:
            record = ItemRecord.model_validate_json(message.value or b"")
            if record.op == "delete" or record.fields.stock is None:
                continue
            lines = [(line.warehouse_id, line.quantity) for line in record.fields.stock]
            service.check_feed_stock(record.item_id, lines)
        except ValidationError as error:
            refused[position] = f"unreadable record: {first_error(error)}"
        except InvalidStock as error:
            refused[position] = f"unusable stock: {error}"
        else:
            stated.append((position, FeedStock(record.item_id, record.version, dict(lines))))
    for start in range(0, len(stated), ITEMS_PER_TRANSACTION):
        chunk = stated[start:start + ITEMS_PER_TRANSACTION]
        applied = await apply_or_refuse(log, mysql_transient, partial(set_newest, stock), [s for _, s in chunk])
        refused.update({chunk[p][0]: f"refused by the stock store: {why}" for p, why in applied.refused.items()})
    return [(messages[position], refused[position]) for position in sorted(refused)]


async def set_newest(stock: StockStore, stated: list[FeedStock]) -> None:
    """One transaction: per item, the newest of these statements."""
    await stock.apply_feed_stock(service.newest_feed_stock(stated))
