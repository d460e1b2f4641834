"""Builds every client from the settings; the app's lifespan, the worker, jobs and tests all connect through here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from infra.settings import Settings

if TYPE_CHECKING:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.admin import AIOKafkaAdminClient
    from cassandra.cluster import Cluster
    from elasticsearch import AsyncElasticsearch
    from pymongo import AsyncMongoClient
    from pyspark.sql import SparkSession
    from redis.asyncio import Redis
    from sqlalchemy.ext.asyncio import AsyncEngine


def kafka_producer(settings: Settings, **options) -> AIOKafkaProducer:
    return kafka_producer_at(settings.kafka_bootstrap, **options)


def kafka_producer_at(bootstrap: str | list[str], **options) -> AIOKafkaProducer:
    """For a caller handed the brokers rather than the settings (the worker's consumer tasks)."""
    from aiokafka import AIOKafkaProducer

    # acks=all + idempotence: a retried send neither duplicates nor reorders within a partition.
    return AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, **{"linger_ms": 5, **options})


def kafka_consumer(settings: Settings, *topics: str, group_id: str, **options) -> AIOKafkaConsumer:
    return kafka_consumer_at(settings.kafka_bootstrap, *topics, group_id=group_id, **options)


def kafka_consumer_at(bootstrap: str | list[str], *topics: str, group_id: str | None, **options) -> AIOKafkaConsumer:
    from aiokafka import AIOKafkaConsumer

    # Offsets are committed by hand, after what was read is applied.
    return AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False,
                            auto_offset_reset="earliest", **options)


def kafka_admin(settings: Settings) -> AIOKafkaAdminClient:
    from aiokafka.admin import AIOKafkaAdminClient

    return AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, request_timeout_ms=10_000)


def elasticsearch(settings: Settings) -> AsyncElasticsearch:
    from elasticsearch import AsyncElasticsearch

    from infra.es_serializer import OrjsonSerializer

    return AsyncElasticsearch(settings.elasticsearch_url, request_timeout=10, max_retries=2, retry_on_timeout=True,
                              serializer=OrjsonSerializer())


def mongo(settings: Settings) -> AsyncMongoClient:
    from pymongo import AsyncMongoClient

    return AsyncMongoClient(settings.mongo_url, serverSelectionTimeoutMS=5_000, tz_aware=True)


# Each connection keeps its most used statements prepared on the server (asyncmy's statement cache: the binary
# protocol, no parsing per execution and no escaping of arguments): a read through SQLAlchemy costs MariaDB ~11% and
# this process ~4% less CPU (`bench/round_trips.py`; checkout's placement sends its statements in multi-statement
# batches, which are text either way). 40 pooled connections per process stay far below MariaDB's
# `max_prepared_stmt_count` (16,382); a statement it cannot prepare runs as plain text.
PREPARED_PER_CONNECTION = 64


def mysql(settings: Settings, database_url: str | None = None) -> AsyncEngine:
    from sqlalchemy.ext.asyncio import create_async_engine

    from infra.mysql_pool import ping_only_when_idle

    return ping_only_when_idle(create_async_engine(database_url or settings.mysql_url, pool_size=20, max_overflow=20,
                                                   pool_pre_ping=False, pool_reset_on_return=None,
                                                   pool_recycle=3600, connect_args={"stmt_cache_size": PREPARED_PER_CONNECTION}))


def redis(settings: Settings) -> Redis:
    from redis.asyncio import Redis

    return Redis.from_url(settings.redis_url, decode_responses=True)


def cassandra(settings: Settings) -> Cluster:
    """A driver Cluster; call `.connect(keyspace)` for a session and `.shutdown()` when done."""
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
    from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy

    profile = ExecutionProfile(load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy()), request_timeout=20)
    return Cluster(settings.cassandra_hosts, port=settings.cassandra_port, protocol_version=5,
                   execution_profiles={EXEC_PROFILE_DEFAULT: profile}, connect_timeout=10)


def spark(settings: Settings, app_name: str, **config: str) -> SparkSession:
    """A local Spark session with the stack's jars (`spark.jars`: the Kafka source, Delta Lake, S3A; fetched by
    `shop stack up`, not by Spark's own Ivy) and Delta's SQL extensions; `config` adds or overrides settings. With an
    s3a:// lake root, S3A talks to `settings.s3_endpoint` with the settings' keys."""
    from pyspark.sql import SparkSession

    jars = sorted((settings.stack_dir / "artifacts" / "spark" / "lib").glob("*.jar"))
    builder = (
        SparkSession.builder.master(settings.spark_master).appName(app_name)
        .config("spark.driver.memory", settings.spark_driver_memory)
        .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false").config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.jars", ",".join(str(jar) for jar in jars))
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
    )
    hadoop: dict[str, str] = {}
    if settings.lake_root.startswith("s3a://"):
        secret = settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else ""
        hadoop = {
            "fs.s3a.endpoint": settings.s3_endpoint, "fs.s3a.endpoint.region": "us-east-1",
            "fs.s3a.access.key": settings.s3_access_key, "fs.s3a.secret.key": secret,
            "fs.s3a.path.style.access": "true", "fs.s3a.connection.ssl.enabled": "false",
            "fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
            # The keys above and nothing else: no environment variables, no instance-metadata lookups.
            "fs.s3a.aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
        }
        # S3 has no put-if-absent, so Delta's commits on it are atomic only within one driver: fine while a lake has
        # a single writer (the one `shop lake` job); a second concurrent writer could overwrite a commit.
        builder = builder.config("spark.delta.logStore.s3a.impl", "io.delta.storage.S3SingleDriverLogStore")
    for key, value in {**{f"spark.hadoop.{key}": value for key, value in hadoop.items()}, **config}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    if hadoop:
        # A session already running in this process comes back with only its SQL settings changed, so the S3A
        # settings also go straight into its context's Hadoop configuration (a caller's `spark.hadoop.*` still wins).
        running = session.sparkContext._jsc.hadoopConfiguration()
        for key, value in hadoop.items():
            running.set(key, config.get(f"spark.hadoop.{key}", value))
    return session
