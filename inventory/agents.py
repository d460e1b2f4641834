"""The feed-stock consumer: sets the units on hand from the `stock` lists of `catalog.items` records, newest feed
version wins; reservations of open orders are never touched, and a statement that repeats what the feed last said for
a row (a replayed file, whose records without a version carry a later receive time) changes nothing.

It runs inside `shop worker` as its own consumer group (`inventory`), like the item service's, so neither stalls the
other. Offsets are committed only after a batch is applied and its dead letters are in Kafka; a redelivered batch
changes nothing (the store ignores feed versions it has already applied)."""

from __future__ import annotations

import logging
from functools import partial

from pydantic import ValidationError
from sqlalchemy.exc import InterfaceError, OperationalError

from inbound.events import ITEMS_DLQ_TOPIC, ITEMS_TOPIC, ItemRecord
from infra.consumer import add_consumer, consume_batches, dead_letter_records, first_error, send_all, until_done
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
    stated, refused = [], []
    for message in messages:
        try:
            record = ItemRecord.model_validate_json(message.value or b"")
            if record.op == "delete" or record.fields.stock is None:
                continue
            lines = [(line.warehouse_id, line.quantity) for line in record.fields.stock]
            service.check_feed_stock(record.item_id, lines)
        except ValidationError as error:
            refused.append((message, f"unreadable record: {first_error(error)}"))
        except InvalidStock as error:
            refused.append((message, f"unusable stock: {error}"))
        else:
            stated.append(FeedStock(record.item_id, record.version, dict(lines)))
    newest = service.newest_feed_stock(stated)
    for start in range(0, len(newest), ITEMS_PER_TRANSACTION):
        await until_applied(stock, newest[start:start + ITEMS_PER_TRANSACTION])
    return refused


async def until_applied(stock: StockStore, stated: list[FeedStock]) -> None:
    """MySQL being away (or a deadlock) is waited out, never skipped: the items are retried until their stock is set."""
    await until_done(log, (OperationalError, InterfaceError, TimeoutError), stock.apply_feed_stock, stated)
