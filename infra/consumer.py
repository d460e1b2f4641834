"""The batch loop and helpers of the plain-aiokafka consumers in `shop worker` (items, search, feed stock, feed status,
notifications):
a batch is applied and what it produced is in Kafka before its offsets are committed, so a crash redelivers a batch
rather than skipping it; a server that is away is waited out with backoff, never skipped; a record a store refuses for
good is narrowed out of its batch (`apply_or_refuse`) and dead-lettered, so it holds up no one."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aiokafka.errors import CommitFailedError
from pydantic import BaseModel, ValidationError
from tenacity import AsyncRetrying, before_sleep_log, retry_if_exception, retry_if_exception_type, wait_exponential

from infra import connections
from infra.store_errors import refusal_reason

ATTEMPT_SECONDS = 120
Result = TypeVar("Result")
Record = TypeVar("Record")
# The errors retrying can fix: exception types, or a classifier of infra/store_errors.py.
Transient = tuple[type[BaseException], ...] | Callable[[BaseException], bool]


class DeadLetter(BaseModel):
    """A message a consumer could not use, on a `<topic>.dlq`: why, where it was, and its raw text."""

    reason: str
    topic: str
    partition: int
    offset: int
    key: str | None
    value: str | None


async def consume_batches(bootstrap: str | list[str], topic: str, *, group: str, batch_size: int, within: float,
                          apply_batch: Callable[[Any, list], Awaitable[None]], log: logging.Logger,
                          moved_warning: str) -> None:
    """Hands each batch with the producer to `apply_batch`, which returns once the batch's sends are in Kafka."""
    consumer = connections.kafka_consumer_at(bootstrap, topic, group_id=group, max_poll_records=batch_size)
    producer = connections.kafka_producer_at(bootstrap)
    try:
        await consumer.start()
        await producer.start()
        while True:
            batch = await consumer.getmany(timeout_ms=int(within * 1000), max_records=batch_size)
            messages = [message for messages in batch.values() for message in messages]
            if messages:
                await apply_batch(producer, messages)
                try:
                    await consumer.commit()
                except CommitFailedError:
                    # Another member owns the partitions now and gets the batch again; applying it twice is harmless.
                    log.warning(moved_warning)
    finally:
        await asyncio.gather(consumer.stop(), producer.stop(), return_exceptions=True)


def add_consumer(worker, name: str, log: logging.Logger, consume: Callable[..., Awaitable[None]], *args: Any) -> None:
    """Runs `consume(brokers, *args)` as a task of the faust worker, for as long as the worker runs."""
    brokers = worker_brokers(worker)

    async def consumer_task() -> None:
        await keep_consuming(log, consume, brokers, *args)

    _add_named_task(worker, name, consumer_task)


def add_task(worker, name: str, log: logging.Logger, loop: Callable[..., Awaitable[None]], *args: Any) -> None:
    """Runs `loop(*args)` as a task of the faust worker; when it fails it is run again, with backoff."""

    async def background_task() -> None:
        retrying = AsyncRetrying(retry=retry_if_exception_type(Exception), wait=wait_exponential(0.2, max=10),
                                 before_sleep=before_sleep_log(log, logging.WARNING))
        await retrying(loop, *args)

    _add_named_task(worker, name, background_task)


def worker_brokers(worker) -> list[str]:
    """The brokers the faust worker was configured with, for clients of a task's own."""
    from faust.transport.drivers.aiokafka import server_list

    return server_list(worker.conf.broker_consumer, 9092)


def _add_named_task(worker, name: str, task: Callable[[], Awaitable[None]]) -> None:
    task.__qualname__ = task.__name__ = name  # faust's traces and logs name the task by it
    worker.task(task)


async def keep_consuming(log: logging.Logger, consume: Callable[..., Awaitable[None]], *args: Any) -> None:
    """Kafka (or a store) being away at start or later is waited out: `consume` is run again, with a new consumer that
    resumes from the last committed offset."""
    retrying = AsyncRetrying(retry=retry_if_exception_type(Exception), wait=wait_exponential(0.5, max=30),
                             before_sleep=before_sleep_log(log, logging.WARNING))
    await retrying(consume, *args)


async def until_done(log: logging.Logger, transient: Transient, attempt: Callable[..., Awaitable[Result]],
                     *args: Any) -> Result:
    """Runs `attempt` again, with backoff, for as long as it fails with a `transient` error."""
    retry = retry_if_exception_type(transient) if isinstance(transient, tuple) else retry_if_exception(transient)
    retrying = AsyncRetrying(retry=retry, wait=wait_exponential(0.2, max=30),
                             before_sleep=before_sleep_log(log, logging.WARNING))
    return await retrying(_within_time, attempt, *args)


@dataclass
class Applied(Generic[Result]):
    """What `apply_or_refuse` did: the parts it applied, in order (their records' positions, and what `apply` returned
    for them), and why each record refused for good was refused, by position."""

    parts: list[tuple[list[int], Result]] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)


async def apply_or_refuse(log: logging.Logger, transient: Callable[[BaseException], bool],
                          apply: Callable[[list[Record]], Awaitable[Result]], records: list[Record], *,
                          order: Callable[[Record], Any] | None = None) -> Applied[Result]:
    """Applies `records` (a bulk write), waiting out `transient` errors as `until_done` does. An error retrying cannot
    fix is narrowed down by halves, each applied in turn, first half first, until the records that fail alone are
    refused with the reason; the rest of the batch is applied. Halves split the records as given, or sorted by `order`
    (say, their version, when `apply` applies each key's records by version): one key's records keep their order."""
    applied: Applied[Result] = Applied()
    positions = list(range(len(records)))
    pending = [sorted(positions, key=lambda p: order(records[p])) if order else positions] if records else []
    while pending:
        part = pending.pop()
        try:
            result = await until_done(log, transient, apply, [records[position] for position in part])
        except Exception as error:  # noqa: BLE001 (until_done retries transient ones: no retry fixes this one)
            reason = refusal_reason(error)
            if len(part) > 1:
                log.warning("%d records refused as a whole (%s); applying them in halves", len(part), reason)
                pending += [part[len(part) // 2:], part[:len(part) // 2]]
            else:
                log.warning("a record is refused for good, to be dead-lettered: %s", reason)
                applied.refused[part[0]] = reason
        else:
            applied.parts.append((part, result))
    return applied


async def _within_time(attempt: Callable[..., Awaitable[Result]], *args: Any) -> Result:
    # A server that accepts connections but stops answering must fail the attempt too, or nothing would retry.
    async with asyncio.timeout(ATTEMPT_SECONDS):
        return await attempt(*args)


async def send_all(producer, records: Iterable[tuple[str, bytes | None, bytes]]) -> None:
    """Sends (topic, key, value) records in order and returns once Kafka has every one."""
    sent = [await producer.send(topic, key=key, value=value) for topic, key, value in records]
    await asyncio.gather(*sent)


def dead_letter(message, reason: str, *, consumer: str) -> dict:
    """The shared dead-letter shape, plus which consumer refused the message (others may refuse the same one)."""
    letter = DeadLetter(reason=reason, topic=message.topic, partition=message.partition, offset=message.offset,
                        key=text(message.key), value=text(message.value))
    return {**letter.model_dump(), "consumer": consumer}


def dead_letter_records(topic: str, refused: Iterable[tuple[Any, str]], *,
                        consumer: str) -> list[tuple[str, bytes | None, bytes]]:
    """`(message, reason)` pairs as records for `send_all` to the dead-letter `topic`, each keyed as its message."""
    return [(topic, message.key, json.dumps(dead_letter(message, reason, consumer=consumer)).encode())
            for message, reason in refused]


def first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else first["msg"]


def text(raw: bytes | None) -> str | None:
    return raw.decode("utf-8", errors="replace") if raw is not None else None
