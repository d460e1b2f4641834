"""The orders' background loops in `shop worker`: the Redis expiry listener, the durable sweeper, and the refunds.

The listener is the fast path for unpaid orders; the sweeper is the guarantee (Redis expiry events come late under load
and are lost while nobody listens). Both cancel through the same transaction, which only takes orders still CREATED and
past their deadline, so whichever comes first wins and stock goes back exactly once. Refunds are recorded `pending` in
the transaction that cancels a paid order; `settle_refunds` asks the gateway to pay them back, outside any transaction."""

from __future__ import annotations

import asyncio
import logging

from infra.consumer import add_task
from orders.flows import Checkout

log = logging.getLogger(__name__)
REFUND_EVERY_SECONDS = 5.0  # refunds are not urgent to the second, and each one is a call to the gateway


def register(worker, checkout: Checkout, *, sweep_seconds: float, sweep_batch: int) -> None:
    add_task(worker, "cancel_on_expiry_events", log, listen_for_expiries, checkout, sweep_batch)
    add_task(worker, "sweep_unpaid_orders", log, sweep, checkout, sweep_seconds, sweep_batch)
    add_task(worker, "settle_refunds", log, settle_refunds, checkout, REFUND_EVERY_SECONDS, sweep_batch)


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


async def settle_refunds(checkout: Checkout, every_seconds: float, batch: int) -> None:
    while True:
        settled = await checkout.settle_refunds(batch)
        if settled.get("unanswered"):
            log.warning("orders: %d refunds left pending: the payment gateway did not answer", settled["unanswered"])
        if settled:
            log.info("orders: refunds settled through the gateway: %s", settled)
        if settled.get("unanswered") or sum(settled.values()) < batch:  # caught up, or the gateway is away
            await asyncio.sleep(every_seconds)
