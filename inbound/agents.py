"""The feed's stream agent: each item's fate (applied / dead_lettered), as item_service reports it, into the feed."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from tenacity import before_sleep_log, retry, retry_if_exception_type, wait_exponential

from inbound.events import ITEMS_DLQ_TOPIC, DeadLetter
from inbound.store import FeedStore
from item_service.events import OUTCOMES_TOPIC, RecordOutcome

log = logging.getLogger(__name__)
RAW = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}


def register(worker: Any, feeds: FeedStore, *, batch_size: int, within: float) -> None:
    outcomes = worker.topic(OUTCOMES_TOPIC, **RAW)
    dead_letters = worker.topic(ITEMS_DLQ_TOPIC, **RAW)

    @worker.agent(outcomes, name="inbound.record_outcomes")
    async def record_outcomes(stream: Any) -> None:
        async for events in stream.take_events(batch_size, within=within):
            read, malformed = read_outcomes(events)
            for letter in malformed:
                await (await dead_letters.send(key=letter.key.encode() if letter.key else None,
                                               value=letter.model_dump_json().encode()))
            await _record(feeds, read)


def read_outcomes(events: list[Any]) -> tuple[list[RecordOutcome], list[DeadLetter]]:
    """The batch's outcomes, and a dead letter for each message that is not one."""
    read, malformed = [], []
    for event in events:
        message = event.message
        try:
            read.append(RecordOutcome.model_validate_json(message.value or b""))
        except ValidationError as error:
            malformed.append(DeadLetter(
                reason=f"not a RecordOutcome: {_first_problem(error)}", topic=message.topic,
                partition=message.partition, offset=message.offset, key=_text(message.key), value=_text(message.value),
            ))
    return read, malformed


# MySQL being away is waited out: the batch is acknowledged only once its statuses are written.
@retry(retry=retry_if_exception_type((DBAPIError, OSError)), wait=wait_exponential(multiplier=0.2, max=30),
       before_sleep=before_sleep_log(log, logging.WARNING))
async def _record(feeds: FeedStore, outcomes: list[RecordOutcome]) -> None:
    if outcomes:
        await feeds.record_outcomes(outcomes)


def _first_problem(error: ValidationError) -> str:
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem["loc"])
    return f"{where}: {problem['msg']}" if where else problem["msg"]


def _text(raw: bytes | None) -> str | None:
    return raw.decode("utf-8", "replace") if raw is not None else None
