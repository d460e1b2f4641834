"""Bootstrap creates every store's schema and can run again without harm."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.bootstrap import bootstrap_all
from app.topics import TOPICS
from infra import connections
from infra.schema.search_index import items_alias

pytestmark = pytest.mark.stack


def _migration_head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from app.bootstrap import ALEMBIC_INI

    return ScriptDirectory.from_config(Config(str(ALEMBIC_INI))).get_current_head()


async def _topic_partitions(settings) -> dict[str, int]:
    admin = connections.kafka_admin(settings)
    await admin.start()
    described = await admin.describe_topics([t.name for t in TOPICS])
    await admin.close()
    return {topic["topic"]: len(topic["partitions"]) for topic in described}


async def test_bootstrap_twice_leaves_every_schema_in_place(settings):
    import asyncio

    await asyncio.to_thread(bootstrap_all, settings)
    report = await asyncio.to_thread(bootstrap_all, settings)

    es = connections.elasticsearch(settings)
    alias_exists = await es.indices.exists_alias(name=items_alias(settings.elasticsearch_index_prefix))
    await es.close()
    mongo = connections.mongo(settings)
    index_names = set((await mongo[settings.mongo_database]["items"].index_information()).keys())
    await mongo.close()
    engine = connections.mysql(settings)
    async with engine.connect() as conn:
        revision = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    await engine.dispose()
    assert any("0 topics created" in line for line in report)
    assert any("nothing new" in line for line in report if line.startswith("cassandra"))
    assert await _topic_partitions(settings) == {t.name: t.partitions for t in TOPICS}
    assert alias_exists
    assert "seller_sku" in index_names
    assert revision == _migration_head()


def test_cassandra_migrations_apply_each_numbered_file_once(settings, unique_name, tmp_path, monkeypatch):
    from app import bootstrap

    (tmp_path / "keyspace.cql").write_text((bootstrap.CQL_DIR / "keyspace.cql").read_text())
    (tmp_path / "0001_orders.cql").write_text("CREATE TABLE {keyspace}.orders (order_id text PRIMARY KEY);")
    monkeypatch.setattr(bootstrap, "CQL_DIR", tmp_path)

    first = bootstrap.migrate_cassandra(settings, keyspace=unique_name)
    second = bootstrap.migrate_cassandra(settings, keyspace=unique_name)

    cluster = connections.cassandra(settings)
    cluster.connect().execute(f"DROP KEYSPACE {unique_name}", timeout=60)
    cluster.shutdown()
    assert first.endswith("applied ['0001_orders']")
    assert second.endswith("applied nothing new")


async def test_a_renamed_consumer_group_takes_over_the_old_offsets_once(settings):
    """A consumer moved out of the faust app starts where the agent stopped, and a group with offsets keeps its own."""
    import uuid

    from aiokafka import TopicPartition

    from app.bootstrap import take_over_offsets
    from inbound.events import ITEMS_TOPIC

    old, new = f"test-old-{uuid.uuid4().hex[:8]}", f"test-new-{uuid.uuid4().hex[:8]}"
    left = {TopicPartition(ITEMS_TOPIC, 0): 0, TopicPartition(ITEMS_TOPIC, 1): 0}
    await _commit(settings, old, left)

    first = await take_over_offsets(settings, old, {ITEMS_TOPIC: new})
    await _commit(settings, old, {tp: 0 for tp in [TopicPartition(ITEMS_TOPIC, 2)]})
    again = await take_over_offsets(settings, old, {ITEMS_TOPIC: new})

    assert first == [new] and again == []
    assert await _committed(settings, new) == left


async def _commit(settings, group: str, offsets: dict) -> None:
    consumer = connections.kafka_consumer_at(settings.kafka_bootstrap, group_id=group)
    await consumer.start()
    consumer.assign(list(offsets))
    await consumer.commit(offsets)
    await consumer.stop()


async def _committed(settings, group: str) -> dict:
    admin = connections.kafka_admin(settings)
    await admin.start()
    offsets = await admin.list_consumer_group_offsets(group)
    await admin.close()
    return {tp: meta.offset for tp, meta in offsets.items()}
