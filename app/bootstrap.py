"""Creates every store's schema (topics, index template, indexes, migrations, keyspace, the lake's bucket); safe
to run again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import infra
from app.builder import open_stores
from app.topics import TOPICS
from infra import connections
from infra.schema.mongo_indexes import MONGO_INDEXES, ensure_ferretdb_id_indexes
from infra.schema.search_index import ITEMS_TEMPLATE, items_alias, items_template
from infra.settings import Settings
from search.service import SET_ATTRIBUTE_PAIRS, SET_DELIVERY_SLOTS

CQL_DIR = Path(infra.__file__).parent / "schema" / "cql"
ALEMBIC_INI = Path(infra.__file__).parent / "alembic.ini"


def bootstrap_all(settings: Settings) -> list[str]:
    """Apply every schema; returns one line per store saying what was done."""
    report = asyncio.run(_bootstrap_async(settings))
    report.append(migrate_mysql(settings))
    report.append(migrate_cassandra(settings))
    report.append(create_lake_bucket(settings))
    return report


async def _bootstrap_async(settings: Settings) -> list[str]:
    return [await create_topics(settings), await hand_over_offsets(settings), await create_search_index(settings),
            await create_mongo_indexes(settings)]


async def create_topics(settings: Settings) -> str:
    from aiokafka.admin import NewTopic

    admin = connections.kafka_admin(settings)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in TOPICS if t.name not in existing]
        if missing:
            await admin.create_topics([NewTopic(t.name, t.partitions, 1, topic_configs=t.config) for t in missing])
    finally:
        await admin.close()
    return f"kafka: {len(missing)} topics created, {len(TOPICS) - len(missing)} already there"


async def hand_over_offsets(settings: Settings) -> str:
    """Consumers that used to be faust agents of the `shop-worker` group start where those agents stopped rather than
    replay their topics from offset 0 (harmless, but hours of work on a large catalog)."""
    from app.worker import APP_ID as FAUST_GROUP
    from inbound.agents import GROUP as FEED_STATUS_GROUP
    from item_service.events import OUTCOMES_TOPIC
    from search.agents import GROUPS as SEARCH_GROUPS

    taken = await take_over_offsets(settings, FAUST_GROUP, {**SEARCH_GROUPS, OUTCOMES_TOPIC: FEED_STATUS_GROUP})
    return f"kafka: consumer groups {', '.join(taken)} start where the {FAUST_GROUP} agents stopped" if taken else (
        "kafka: no consumer offsets to hand over")


async def take_over_offsets(settings: Settings, old_group: str, groups: dict[str, str]) -> list[str]:
    """For each `{topic: group}`, a group the cluster does not know yet gets `old_group`'s offsets on that topic; so
    this is a no-op on a fresh stack and on every later run. Returns the groups that took offsets over."""
    from aiokafka import TopicPartition

    admin = connections.kafka_admin(settings)
    await admin.start()
    taken = []
    try:
        # Listing groups needs no group coordinator, which a fresh cluster does not have until a group commits.
        known = {listed[0] for listed in await admin.list_consumer_groups()}
        left = await admin.list_consumer_group_offsets(old_group) if old_group in known else {}
        for topic, group in groups.items():
            offsets = {TopicPartition(tp.topic, tp.partition): meta.offset for tp, meta in left.items()
                       if tp.topic == topic and meta.offset >= 0}
            if not offsets or group in known:
                continue
            consumer = connections.kafka_consumer_at(settings.kafka_bootstrap, group_id=group)
            await consumer.start()
            try:
                consumer.assign(list(offsets))
                await consumer.commit(offsets)
            finally:
                await consumer.stop()
            taken.append(group)
    finally:
        await admin.close()
    return taken


async def create_search_index(settings: Settings) -> str:
    alias = items_alias(settings.elasticsearch_index_prefix)
    async with open_stores(settings) as stores:
        es = stores.elasticsearch
        await es.indices.put_index_template(name=alias, body=items_template(settings.elasticsearch_index_prefix))
        if not await es.indices.exists_alias(name=alias):
            await es.indices.create(index=f"{alias}-v1", aliases={alias: {}})
            return f"elasticsearch: template and index {alias}-v1 created"
        backfilled = {"delivery_slots": await add_delivery_slots(es, alias),
                      "attribute_pairs": await add_attribute_pairs(es, alias)}
    given = ", ".join(f"{count} documents given {field}" for field, count in backfilled.items() if count)
    return "elasticsearch: template updated, index already there" + (f" ({given})" if given else "")


async def add_delivery_slots(es, alias: str) -> int:
    """An index made before `delivery_slots` existed: map the field, then fill it in on the documents that hold stock
    and lack it (idempotent; a fresh index has nothing to do)."""
    slots = ITEMS_TEMPLATE["template"]["mappings"]["properties"]["delivery_slots"]
    await es.indices.put_mapping(index=alias, body={"properties": {"delivery_slots": slots}})
    lacking = {"bool": {"filter": [{"exists": {"field": "stock_warehouses"}}, {"exists": {"field": "size_class"}}],
                        "must_not": [{"exists": {"field": "delivery_slots"}}]}}
    done = await es.update_by_query(index=alias, body={"query": lacking, "script": {
        "source": "Map src = ctx._source;" + SET_DELIVERY_SLOTS, "lang": "painless"}}, conflicts="proceed",
        request_timeout=600)
    return done["updated"]


async def add_attribute_pairs(es, alias: str) -> int:
    """An index made when every attribute name became a field of its own: map `attribute_pairs`, map no more names
    (those mapped stay until `shop reindex` builds the index from the current template), then fill the pairs in on the
    documents with attributes that lack them (idempotent; a fresh index has nothing to do)."""
    pairs = ITEMS_TEMPLATE["template"]["mappings"]["properties"]["attribute_pairs"]
    await es.indices.put_mapping(index=alias, body={"properties": {"attribute_pairs": pairs}})
    live = next(iter((await es.indices.get_mapping(index=alias)).values()))
    if live["mappings"]["properties"]["attributes"].get("enabled", True):  # `enabled` cannot change; `dynamic` can
        await es.indices.put_mapping(index=alias, body={"properties": {"attributes": {"type": "object", "dynamic": False}}})
    lacking = {"bool": {"filter": [{"exists": {"field": "attribute_names"}}],
                        "must_not": [{"exists": {"field": "attribute_pairs"}}]}}
    done = await es.update_by_query(index=alias, body={"query": lacking, "script": {
        "source": "Map src = ctx._source;" + SET_ATTRIBUTE_PAIRS, "lang": "painless"}}, conflicts="proceed",
        request_timeout=600)
    return done["updated"]


async def create_mongo_indexes(settings: Settings) -> str:
    async with open_stores(settings) as stores:
        db = stores.mongo[settings.mongo_database]
        for collection, indexes in MONGO_INDEXES.items():
            for index in indexes:
                await db[collection].create_index(index["keys"], name=index["name"], unique=index.get("unique", False))
    # The local MongoDB-wire server keeps each database in one SQLite file; its lookups by _id need one more index.
    from infra.stack import stack_paths

    sqlite_file = stack_paths(settings).data("mongodb") / f"{settings.mongo_database}.sqlite"
    patched = await asyncio.to_thread(ensure_ferretdb_id_indexes, sqlite_file)
    return f"mongodb: indexes ensured on {', '.join(MONGO_INDEXES)}" + (f" (+ _id path index on {len(patched)})" if patched else "")


def migrate_mysql(settings: Settings, database_url: str | None = None) -> str:
    from alembic import command
    from alembic.config import Config

    config = Config(str(ALEMBIC_INI))
    if database_url:
        config.set_main_option("sqlalchemy.url", database_url)
    command.upgrade(config, "head")
    return "mysql: migrated to head"


def migrate_cassandra(settings: Settings, keyspace: str | None = None) -> str:
    """Ensure the keyspace, then apply the numbered CQL files not yet recorded in `<keyspace>.schema_versions`."""
    keyspace = keyspace or settings.cassandra_keyspace
    cluster = connections.cassandra(settings)
    session = cluster.connect()
    try:
        for statement in _cql_statements((CQL_DIR / "keyspace.cql").read_text(), keyspace):
            session.execute(statement, timeout=60)
        session.execute(f"CREATE TABLE IF NOT EXISTS {keyspace}.schema_versions "
                        "(version text PRIMARY KEY, applied_at timestamp)", timeout=60)
        applied_now = []
        for path in sorted(CQL_DIR.glob("[0-9]*.cql")):
            if _cql_applied(session, keyspace, path.stem):
                continue
            for statement in _cql_statements(path.read_text(), keyspace):
                session.execute(statement, timeout=60)
            session.execute(f"INSERT INTO {keyspace}.schema_versions (version, applied_at) "
                            "VALUES (%s, toTimestamp(now()))", (path.stem,))
            applied_now.append(path.stem)
    finally:
        cluster.shutdown()
    return f"cassandra: keyspace {keyspace}, applied {applied_now or 'nothing new'}"


def create_lake_bucket(settings: Settings) -> str:
    """The bucket of a lake on the stack's S3 server (`SHOP_LAKE_ROOT=s3a://<bucket>/...`). While the lake is a folder
    it is optional, so where no S3 server listens (the Docker Compose file has none) this says so instead of failing."""
    import httpx

    from infra.stack.seaweedfs import S3Client

    secret = settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else ""
    client = S3Client(settings.s3_endpoint, settings.s3_access_key, secret, timeout=30)
    try:
        created = client.create_bucket(settings.s3_lake_bucket)
    except httpx.ConnectError:
        if settings.lake_root.startswith("s3a://"):
            raise
        return f"s3: nothing listens at {settings.s3_endpoint}, bucket {settings.s3_lake_bucket} not created (unused)"
    return f"s3: bucket {settings.s3_lake_bucket} " + ("created" if created else "already there")


def _cql_applied(session, keyspace: str, version: str) -> bool:
    row = session.execute(f"SELECT version FROM {keyspace}.schema_versions WHERE version = %s", (version,)).one()
    return row is not None


def _cql_statements(text: str, keyspace: str) -> list[str]:
    lines = [line for line in text.splitlines() if not line.strip().startswith("--")]
    body = "\n".join(lines).replace("{keyspace}", keyspace)
    return [statement.strip() for statement in body.split(";") if statement.strip()]
