"""The orders' background loops in `shop worker`: the outbox relay, the Redis expiry listener and the durable sweeper.

The listener is the fast path for unpaid orders; the sweeper is the guarantee (Redis expiry events come late under load
and are lost while nobody listens). Both cancel through the same transaction, which only takes orders still CREATED and
past their deadline, so whichever comes first wins and stock goes back exactly once."""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaProducer
from faust.transport.drivers.aiokafka import server_list
from tenacity import AsyncRetrying, before_sleep_log, retry_if_exception_type, wait_exponential

from infra.outbox import OutboxRelay
from orders.flows import Checkout

log = logging.getLogger(__name__)


def register(worker, checkout: Checkout, mysql, *, sweep_seconds: float, sweep_batch: int) -> None:
    bootstrap = server_list(worker.conf.broker_consumer, 9092)

    @worker.task
    async def relay_outbox() -> None:
        await _forever(relay, mysql, bootstrap)

    @worker.task
    async def cancel_on_expiry_events() -> None:
        await _forever(listen_for_expiries, checkout, sweep_batch)

    @worker.task
    async def sweep_unpaid_orders() -> None:
        await _forever(sweep, checkout, sweep_seconds, sweep_batch)


async def relay(mysql, bootstrap: list[str]) -> None:
    """Every folder's outbox events to Kafka (one relay holds the lock; another worker's waits to take over)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=2)
    await producer.start()
    try:
        await OutboxRelay(mysql, producer).run_forever()
    finally:
        await producer.stop()


async def listen_for_expiries(checkout: Checkout, batch: int) -> None:
    async for order_id in checkout.windows.expired():
        cancelled = await checkout.expire_due(batch, [order_id])
        if cancelled:
            log.info("orders: %s cancelled on its expiry event", order_id)


async def sweep(checkout: Checkout, every_seconds: float, batch: int) -> None:
    while True:
        cancelled = await checkout.expire_due(batch)
        if cancelled:
            log.info("orders: swept %d unpaid orders past their deadline", len(cancelled))
        if len(cancelled) < batch:  # caught up; a full batch means more are due right now
            await asyncio.sleep(every_seconds)


async def _forever(loop, *args) -> None:
    retrying = AsyncRetrying(retry=retry_if_exception_type(Exception), wait=wait_exponential(0.2, max=10),
                             before_sleep=before_sleep_log(log, logging.WARNING))
    async for attempt in retrying:
        with attempt:
            await loop(*args)
