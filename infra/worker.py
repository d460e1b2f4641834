"""The stream worker: one faust app; the composition root builds each folder's stores and attaches its consumers and
tasks (each consumer runs as a task with a consumer group of its own, see `infra/consumer.py`)."""

from __future__ import annotations

import faust

from infra import connections
from infra.resources import build_checkout
from infra.schema.search_index import items_alias
from infra.settings import Settings

APP_ID = "shop-worker"  # also the consumer group that faust agents of this app consumed in


def create_worker(settings: Settings) -> faust.App:
    from inbound import agents as inbound_agents
    from inbound.store import FeedStore
    from item_service import agents as item_agents
    from item_service.store import ItemStore
    from inventory import agents as inventory_agents
    from inventory.store import StockStore
    from notifications import agents as notification_agents
    from notifications.channels import build_channels
    from notifications.service import enabled_channels
    from notifications.store import NotificationStore
    from orders import agents as order_agents
    from search import agents as search_agents
    from search.serviceability.store import ServiceabilityStore
    from search.store import SearchIndex

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
    )
    batching = {"batch_size": settings.consumer_batch_size, "within": settings.consumer_batch_seconds}
    items = ItemStore(connections.mongo(settings)[settings.mongo_database])
    search_index = SearchIndex(connections.elasticsearch(settings), items_alias(settings.elasticsearch_index_prefix))
    feeds = FeedStore(connections.mysql(settings))
    item_agents.register(worker, items, **batching)
    search_agents.register(worker, search_index, **batching)
    inbound_agents.register(worker, feeds, **batching)
    inventory_agents.register(worker, StockStore(connections.mysql(settings)), **batching)
    channels = build_channels(enabled_channels(settings.notification_channels), smtp_host=settings.smtp_host,
                              smtp_port=settings.smtp_port, smtp_sender=settings.smtp_sender)
    mysql, redis = connections.mysql(settings), connections.redis(settings)
    checkout = build_checkout(settings, mysql, redis, items, ServiceabilityStore(redis))
    order_agents.register(worker, checkout, mysql, sweep_seconds=settings.expiry_sweep_seconds,
                          sweep_batch=settings.expiry_sweep_batch)
    notification_agents.register(worker, NotificationStore(connections.mysql(settings)), channels, **batching)
    return worker
