"""The feed-status consumer: each record's fate (applied / dead_lettered), as item_service reports it on
`catalog.items.outcomes`, goes into its feed.

It runs inside `shop worker` as its own consumer group (`feed-status`). A batch's offsets are committed only after its
statuses are written and its dead letters are in Kafka; MySQL being away is waited out, an outcome the table refuses for
good is narrowed out of its batch and dead-lettered, and a redelivered batch writes the same statuses again."""

from __future__ import annotations

import logging
from functools import partial

from pydantic import ValidationError

from inbound.events import ITEMS_DLQ_TOPIC
from inbound.store import FeedStore
from infra.consumer import add_consumer, apply_or_refuse, consume_batches, dead_letter_records, first_error, send_all
from infra.store_errors import mysql_transient
from item_service.events import OUTCOMES_TOPIC, RecordOutcome

log = logging.getLogger(__name__)
GROUP = "feed-status"


def register(worker, feeds: FeedStore, *, batch_size: int, within: float) -> None:
    add_consumer(worker, "record_outcomes", log, consume, feeds, batch_size, within)


async def consume(bootstrap: list[str] | str, feeds: FeedStore, batch_size: int, within: float, *,
                  group: str = GROUP) -> None:
    await consume_batches(bootstrap, OUTCOMES_TOPIC, group=group, batch_size=batch_size, within=within,
                          apply_batch=partial(record_and_publish, feeds), log=log,
                          moved_warning="feed status: partitions moved during a batch; it will be delivered again "
                                        "(same statuses)")


async def record_and_publish(feeds: FeedStore, producer, messages: list) -> None:
    outcomes, malformed = read_outcomes(messages)
    applied = await apply_or_refuse(log, mysql_transient, feeds.record_outcomes, [outcome for _, outcome in outcomes])
    refused = [(outcomes[position][0], f"refused by the feed status table: {reason}")
               for position, reason in applied.refused.items()]
    await send_all(producer, dead_letter_records(ITEMS_DLQ_TOPIC, malformed + refused, consumer="feed_status"))


def read_outcomes(messages: list) -> tuple[list[tuple[object, RecordOutcome]], list[tuple[object, str]]]:
    """Each message that is an outcome with its outcome, and each that is not with its reason."""
    read, malformed = [], []
    for message in messages:
        try:
            read.append((message, RecordOutcome.model_validate_json(message.value or b"")))
        except ValidationError as error:
            malformed.append((message, f"not a RecordOutcome: {first_error(error)}"))
    return read, malformed
