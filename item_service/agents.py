"""The item consumer: applies `catalog.items` to MongoDB a batch at a time, reports every record's fate on
`catalog.items.outcomes`, and sends unreadable or refused records to `catalog.items.dlq` with their reason.

It runs inside `shop worker` as a consumer group of its own (`item-service`), not as a faust agent: two faust agents on
one topic share the app's group, so one stalling stalls the other once faust's buffer fills, and a rebalance can leave
faust waiting forever for records one of them never got. Offsets are committed only after a batch is applied and its
outcomes are in Kafka, so nothing is skipped; a redelivered batch changes nothing. MongoDB being away is waited out; a
record MongoDB refuses for good is narrowed out of its batch, reported `dead_lettered` and dead-lettered, the rest of
the batch applied."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from functools import partial

from pydantic import ValidationError

from inbound.events import ITEMS_DLQ_TOPIC, ITEMS_TOPIC, ItemRecord
from infra.consumer import (
    add_consumer,
    apply_or_refuse,
    consume_batches,
    dead_letter_records,
    first_error,
    send_all,
    text,
)
from infra.store_errors import mongo_transient
from item_service import service
from item_service.events import OUTCOMES_TOPIC, RecordOutcome
from item_service.store import ItemStore

log = logging.getLogger(__name__)
GROUP = "item-service"


def register(worker, items: ItemStore, *, batch_size: int, within: float) -> None:
    add_consumer(worker, "apply_catalog_items", log, consume, items, batch_size, within)


async def consume(bootstrap: list[str] | str, items: ItemStore, batch_size: int, within: float, *,
                  group: str = GROUP) -> None:
    await consume_batches(bootstrap, ITEMS_TOPIC, group=group, batch_size=batch_size, within=within,
                          apply_batch=partial(apply_and_publish, items), log=log,
                          moved_warning="items: partitions moved during a batch; its records will be delivered "
                                        "again (no change)")


async def apply_and_publish(items: ItemStore, producer, messages: list) -> None:
    began = time.perf_counter()
    outcomes, refused = await apply_messages(items, messages)
    await publish(producer, outcomes, refused)
    seconds = time.perf_counter() - began  # the commit that follows, in the loop, is not in this figure
    log.info("items: %d records in %.3fs (%.0f/s)", len(messages), seconds, len(messages) / max(seconds, 1e-6))


async def apply_messages(items: ItemStore, messages: list) -> tuple[list[RecordOutcome], list[tuple[object, str]]]:
    """Apply one batch; returns the outcome of every record that names its feed, and the messages refused, with
    their reasons."""
    records, readable, outcomes, refused = [], [], [], []
    for message in messages:
        try:
            records.append(ItemRecord.model_validate_json(message.value or b""))
            readable.append(message)
        except ValidationError as error:
            reason = f"unreadable record: {first_error(error)}"
            refused.append((message, reason))
            outcome = service.outcome_of_unreadable(message.value, text(message.key), reason)
            outcomes.extend([outcome] if outcome else [])
    if records:
        result = await until_applied(items, records)
        outcomes.extend(result.outcomes)
        refused.extend((message, outcome.errors[0]) for message, outcome in zip(readable, result.outcomes)
                       if outcome.status == "dead_lettered")
    return outcomes, refused


async def until_applied(items: ItemStore, records: list[ItemRecord]) -> service.BatchResult:
    """MongoDB being away is waited out, never skipped: the batch is retried until it is applied. A record MongoDB
    refuses for good (a document it cannot keep) is dead_lettered, and the rest of the batch applied."""
    # Halves in version order, as apply_batch applies each item's records: a batch in halves ends as it would whole.
    applied = await apply_or_refuse(log, mongo_transient, partial(_apply_records, items), records,
                                    order=lambda record: record.version)
    outcomes: dict[int, RecordOutcome] = {}
    documents: list[dict] = []
    for positions, result in applied.parts:
        outcomes.update(zip(positions, result.outcomes))
        documents += result.documents
    for position, reason in applied.refused.items():
        record = records[position]
        outcomes[position] = service.dead_lettered(record.feed_id, record.index, record.item_id,
                                                   f"refused by the item store: {reason}")
    return service.BatchResult(documents, [outcomes[position] for position in range(len(records))])


async def _apply_records(items: ItemStore, records: list[ItemRecord]) -> service.BatchResult:
    """Items that open with an upsert are first inserted as if new, which a growing catalog mostly is; only the rest,
    and those found stored after all, pay for reading the stored document (one lookup per id on FerretDB)."""
    now, outcomes, written = utc_now(), {}, []
    opening = service.opening_with_upsert(records)
    hopeful = [p for p, record in enumerate(records) if record.item_id in opening]
    if hopeful:
        as_new = service.apply_batch({}, [records[p] for p in hopeful], now=now)
        inserted = await items.insert_absent(as_new.documents)
        outcomes = {p: outcome for p, outcome in zip(hopeful, as_new.outcomes) if records[p].item_id in inserted}
        written = [document for document in as_new.documents if document["_id"] in inserted]
    rest = [p for p in range(len(records)) if p not in outcomes]
    stored = await items.current_docs({records[p].item_id for p in rest})
    result = service.apply_batch(stored, [records[p] for p in rest], now=now)
    versions = {item_id: document["version"] for item_id, document in stored.items()}
    await items.write_newer(result.documents, stored_versions=versions)
    outcomes.update(zip(rest, result.outcomes))
    return service.BatchResult(written + result.documents, [outcomes[p] for p in range(len(records))])


async def publish(producer, outcomes: list[RecordOutcome], refused: list[tuple[object, str]]) -> None:
    """Outcomes first, then dead letters, all in Kafka before the batch's offsets are committed."""
    await send_all(producer, [
        *((OUTCOMES_TOPIC, outcome.feed_id.encode(), outcome.model_dump_json().encode()) for outcome in outcomes),
        *dead_letter_records(ITEMS_DLQ_TOPIC, refused, consumer="item_service"),
    ])


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
