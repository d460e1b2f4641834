"""The stream worker: one faust app; each folder's consumers and background loops attach to it with stores from one
`Stores` (each consumer runs as a task with a consumer group of its own, see `infra/consumer.py`)."""

from __future__ import annotations

import logging
from typing import Any

import faust

from app.builder import Stores
from archival.model import parse_duration
from archival.schedule import archive_on_schedule
from inbound import agents as inbound_agents
from infra.consumer import add_task, worker_brokers
from infra.outbox import relay_to_kafka
from infra.schema.topics import TopicSpec
from infra.settings import Settings
from inventory import agents as inventory_agents
from item_service import agents as item_agents
from notifications import agents as notification_agents
from orders import agents as order_agents
from search import agents as search_agents

APP_ID = "shop-worker"  # also the consumer group that faust agents of this app consumed in
# faust's leader-election topic for the worker app: the app may not declare topics, and without this one its consumer
# logs an error at start and at every metadata refresh.
LEADER_TOPIC = TopicSpec(f"{APP_ID}-__assignor-__leader", 1)
log = logging.getLogger(__name__)


def create_worker(settings: Settings) -> faust.App:
    worker = faust.App(
        APP_ID,
        broker=f"kafka://{settings.kafka_bootstrap}",
        store="memory://",
        topic_replication_factor=1,
        topic_partitions=6,
        topic_allow_declare=False,  # topics are created with explicit partition counts by `shop stack up`
        web_enabled=False,
        autodiscover=False,
        producer_acks=-1,
        # A worker that replaces a killed one joins the group once the dead member's session ends: 10 s, not 60.
        broker_session_timeout=10,
    )
    stores = Stores(settings)
    batching = stores.batching
    item_agents.register(worker, stores.item_store, **batching)
    search_agents.register(worker, stores.search_index, **batching)
    inbound_agents.register(worker, stores.feed_store, **batching)
    inventory_agents.register(worker, stores.stock, **batching)
    notification_agents.register(worker, stores.notification_store, stores.notification_channels, **batching)
    order_agents.register(worker, stores.checkout, sweep_seconds=settings.expiry_sweep_seconds,
                          sweep_batch=settings.expiry_sweep_batch)
    add_task(worker, "relay_outbox", log, relay_to_kafka, stores.mysql, worker_brokers(worker))
    if settings.archive_interval > 0:
        add_task(worker, "archive_finished_orders", log, archive_on_schedule, stores.mysql, stores.archiver,
                 parse_duration(settings.archive_after), settings.archive_interval)

    # mode types signal handlers with a subscripted TypeVar that no handler can match.
    @worker.on_before_shutdown.connect  # type: ignore[arg-type]
    async def close_stores(app: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        await stores.aclose()

    return worker
