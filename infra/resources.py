"""The composition root: opens every client once (API lifespan, worker, jobs) and closes them in reverse."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from infra import connections
from infra.settings import Settings


@dataclass
class Resources:
    settings: Settings
    producer: Any
    # Fire-and-forget analytics (one event per search): nobody waits for them, so they wait longer to share a request.
    analytics_producer: Any
    elasticsearch: Any
    mongo: Any
    mysql: Any
    redis: Any
    cassandra: Any  # a driver Cluster; sessions are opened per keyspace by the stores that need one


@asynccontextmanager
async def open_resources(settings: Settings) -> AsyncIterator[Resources]:
    producer = connections.kafka_producer(settings)
    analytics_producer = connections.kafka_producer(settings, linger_ms=settings.analytics_linger_ms)
    await asyncio.gather(producer.start(), analytics_producer.start())
    resources = Resources(
        settings=settings, producer=producer, analytics_producer=analytics_producer,
        elasticsearch=connections.elasticsearch(settings),
        mongo=connections.mongo(settings), mysql=connections.mysql(settings), redis=connections.redis(settings),
        cassandra=connections.cassandra(settings),
    )
    try:
        yield resources
    finally:
        await asyncio.gather(
            producer.stop(), analytics_producer.stop(), resources.elasticsearch.close(), resources.mongo.close(),
            resources.mysql.dispose(), resources.redis.aclose(), asyncio.to_thread(resources.cassandra.shutdown),
            return_exceptions=True,
        )


def build_checkout(settings: Settings, mysql: Any, redis: Any, items: Any, serviceability: Any):
    """The order flows, wired the same way for the API and the worker."""
    from orders.flows import Checkout
    from orders.payments import SimulatedGateway
    from orders.store import OrderStore
    from orders.windows import PaymentWindows

    secret = settings.payment_webhook_secret.get_secret_value() if settings.payment_webhook_secret else ""
    windows = PaymentWindows(redis, db=redis.connection_pool.connection_kwargs.get("db", 0))
    return Checkout(OrderStore(mysql), windows, items, serviceability, SimulatedGateway(secret),
                    window_seconds=settings.payment_window_seconds, late_policy=settings.late_payment_policy)
