"""The one builder of clients and stores: the API, the worker, the CLI, the demo, the jobs and the benchmarks all get
theirs from a `Stores`. Each client is made on first use, once per process (so one MySQL engine, one MongoDB client, ...),
and `aclose()` closes what was made, in one go."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any

from analytics.config import LakeConfig
from analytics.report_store import ReportReader
from archival.archive import Consistency, OrderArchive
from archival.archiver import Archiver
from archival.finished import FinishedOrders
from cart.store import CartStore
from identity.api import AuthConfig
from identity.store import UserStore
from identity.throttle import AttemptLimits, PasswordThrottle
from inbound.feed import FeedLimits
from inbound.store import FeedStore
from infra import connections
from infra.schema.search_index import items_alias
from infra.settings import Settings
from inventory.store import StockStore
from item_service.store import ItemStore
from logistics.cache import DeliverabilityCache
from logistics.store import ServiceabilityStore
from notifications.channels import Channel, build_channels
from notifications.service import enabled_channels
from notifications.store import NotificationStore
from orders.flows import Checkout
from orders.payment_store import PaymentStore
from orders.payments import ExternalGateway, PaymentGateway, SimulatedGateway
from orders.store import OrderStore
from orders.windows import PaymentWindows
from recommendations.activity import ShopperActivity
from recommendations.commands import kind_weights
from recommendations.serving import Recommender
from recommendations.store import ModelReader
from search.query import SearchLimits
from search.store import SearchIndex

if TYPE_CHECKING:
    from aiokafka import AIOKafkaProducer
    from cassandra.cluster import Cluster, Session
    from elasticsearch import AsyncElasticsearch
    from pymongo import AsyncMongoClient
    from redis.asyncio import Redis
    from sqlalchemy.ext.asyncio import AsyncEngine


class Stores:
    """Clients and every folder's stores for one process, built from the settings on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._closers: list[Callable[[], Awaitable[Any]]] = []
        self._producers_started = False
        self._cassandra_session: asyncio.Future[Session] | None = None

    # --- clients: one of each per process ---
    @cached_property
    def mysql(self) -> AsyncEngine:
        engine = connections.mysql(self.settings)
        self._closers.append(engine.dispose)
        return engine

    @cached_property
    def mongo(self) -> AsyncMongoClient:
        client = connections.mongo(self.settings)
        self._closers.append(client.close)
        return client

    @cached_property
    def elasticsearch(self) -> AsyncElasticsearch:
        client = connections.elasticsearch(self.settings)
        self._closers.append(client.close)
        return client

    @cached_property
    def redis(self) -> Redis:
        client = connections.redis(self.settings)
        self._closers.append(client.aclose)
        return client

    @cached_property
    def cassandra(self) -> Cluster:
        """A driver Cluster; stores that need one open a session per keyspace."""
        cluster = connections.cassandra(self.settings)
        self._closers.append(lambda: asyncio.to_thread(cluster.shutdown))
        return cluster

    async def cassandra_session(self) -> Session:
        """The process's one session without a keyspace (readiness, system tables), connected off the event loop once;
        callers arriving while it connects share that connect, and a failed connect is retried by the next caller."""
        connecting = self._cassandra_session
        if connecting is None or (connecting.done() and connecting.exception() is not None):
            connecting = self._cassandra_session = asyncio.ensure_future(asyncio.to_thread(self.cassandra.connect))
        return await asyncio.shield(connecting)

    @cached_property
    def producer(self) -> AIOKafkaProducer:
        """Sends that someone waits for (the seller feed). Started by `start_producers`."""
        return connections.kafka_producer(self.settings)

    @cached_property
    def analytics_producer(self) -> AIOKafkaProducer:
        """Fire-and-forget analytics (one event per search): nobody waits for them, so they wait longer to share a
        request. Started by `start_producers`."""
        return connections.kafka_producer(self.settings, linger_ms=self.settings.analytics_linger_ms)

    async def start_producers(self) -> None:
        await asyncio.gather(self.producer.start(), self.analytics_producer.start())
        self._producers_started = True
        self._closers.extend([self.producer.stop, self.analytics_producer.stop])

    # --- each folder's stores ---
    @cached_property
    def item_store(self) -> ItemStore:
        return ItemStore(self.mongo[self.settings.mongo_database])

    @cached_property
    def search_index(self) -> SearchIndex:
        return SearchIndex(self.elasticsearch, items_alias(self.settings.elasticsearch_index_prefix))

    @cached_property
    def feed_store(self) -> FeedStore:
        return FeedStore(self.mysql)

    @cached_property
    def serviceability(self) -> ServiceabilityStore:
        return ServiceabilityStore(self.redis)

    @cached_property
    def search_deliverability(self) -> DeliverabilityCache:
        return DeliverabilityCache(self.serviceability, self.settings.search_deliverability_cache_seconds)

    @cached_property
    def stock(self) -> StockStore:
        return StockStore(self.mysql)

    @cached_property
    def users(self) -> UserStore:
        return UserStore(self.mysql, self.redis, self.settings.profile_cache_seconds)

    @cached_property
    def cart_store(self) -> CartStore:
        return CartStore(self.mysql)

    @cached_property
    def notification_store(self) -> NotificationStore:
        return NotificationStore(self.mysql)

    @cached_property
    def report_reader(self) -> ReportReader:
        return ReportReader(self.redis, self.settings.reports_prefix)

    @cached_property
    def recommender(self) -> Recommender:
        settings = self.settings
        reader = ModelReader(self.cassandra, settings.cassandra_keyspace, settings.cassandra_read_consistency)
        return Recommender(reader, ShopperActivity(self.mysql), self.item_store, self.stock, kind_weights(settings))

    @cached_property
    def order_archive(self) -> OrderArchive:
        settings = self.settings
        return OrderArchive(self.cassandra, settings.cassandra_keyspace,
                            Consistency(write=settings.cassandra_write_consistency,
                                        read=settings.cassandra_read_consistency))

    @cached_property
    def archiver(self) -> Archiver:
        return Archiver(FinishedOrders(self.mysql), self.order_archive, batch_size=self.settings.archive_batch)

    @cached_property
    def checkout(self) -> Checkout:
        """The order flows, wired the same way for the API and the worker."""
        windows = PaymentWindows(self.redis, db=self.redis.connection_pool.connection_kwargs.get("db", 0))
        return Checkout(OrderStore(self.mysql, self.order_archive), PaymentStore(self.mysql), windows, self.item_store,
                        self.serviceability,
                        self.payment_gateway, window_seconds=self.settings.payment_window_seconds,
                        late_policy=self.settings.late_payment_policy)

    @cached_property
    def payment_gateway(self) -> PaymentGateway:
        """The simulator only when development switched it on (the settings refuse it elsewhere, or without a secret)."""
        secret = _secret(self.settings.payment_webhook_secret)
        return SimulatedGateway(secret) if self.settings.payment_simulator and secret else ExternalGateway()

    @cached_property
    def password_throttle(self) -> PasswordThrottle:
        limits = AttemptLimits(window_seconds=self.settings.auth_rate_window_seconds,
                               per_address=self.settings.auth_attempts_per_address,
                               per_email=self.settings.login_attempts_per_email)
        return PasswordThrottle(self.redis, limits, concurrency=self.settings.password_hash_concurrency,
                                queue=self.settings.password_hash_queue)

    # --- what routes and consumers are configured with ---
    @cached_property
    def auth(self) -> AuthConfig:
        return AuthConfig(jwt_secret=_secret(self.settings.jwt_secret), admin_key=_secret(self.settings.admin_key),
                          token_minutes=self.settings.access_token_minutes)

    @cached_property
    def feed_limits(self) -> FeedLimits:
        return FeedLimits(chunk_records=self.settings.feed_chunk_records, max_records=self.settings.feed_max_records)

    @cached_property
    def search_limits(self) -> SearchLimits:
        settings = self.settings
        return SearchLimits(max_page_size=settings.search_max_page_size,
                            max_query_length=settings.search_max_query_length,
                            max_attribute_filters=settings.search_max_attribute_filters,
                            max_filter_values=settings.search_max_filter_values, max_facets=settings.search_max_facets,
                            max_name_length=settings.search_max_attribute_name_length,
                            max_value_length=settings.search_max_filter_value_length)

    @property
    def payment_webhook_secret(self) -> str | None:
        return _secret(self.settings.payment_webhook_secret)

    @cached_property
    def notification_channels(self) -> dict[str, Channel]:
        return build_channels(enabled_channels(self.settings.notification_channels), smtp_host=self.settings.smtp_host,
                              smtp_port=self.settings.smtp_port, smtp_sender=self.settings.smtp_sender)

    @property
    def batching(self) -> dict[str, Any]:
        """How the stream consumers batch their bulk writes."""
        return {"batch_size": self.settings.consumer_batch_size, "within": self.settings.consumer_batch_seconds}

    async def aclose(self) -> None:
        """Close every client made so far (Kafka producers first: they may still be flushing)."""
        closers, self._closers = self._closers[::-1], []
        await asyncio.gather(*(close() for close in closers), return_exceptions=True)


@asynccontextmanager
async def open_stores(settings: Settings, *, producers: bool = False) -> AsyncIterator[Stores]:
    """`Stores` for the length of a block: the API's lifespan, a command, a job, a benchmark."""
    stores = Stores(settings)
    try:
        if producers:
            await stores.start_producers()
        yield stores
    finally:
        await stores.aclose()


def lake_config(settings: Settings) -> LakeConfig:
    """Where the lake is and how its streaming job reads Kafka."""
    return LakeConfig(root=settings.lake_root or str(settings.stack_dir / "lake"), bootstrap=settings.kafka_bootstrap,
                      trigger_seconds=settings.lake_trigger_seconds,
                      max_offsets_per_trigger=settings.lake_max_offsets_per_trigger,
                      starting_offsets=settings.lake_starting_offsets)


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None
