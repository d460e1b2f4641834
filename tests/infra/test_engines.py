"""Each engine of the local stack does real work through the project's own connection code."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from infra import connections

pytestmark = pytest.mark.stack


async def test_kafka_consumer_group_reads_what_was_produced(settings, unique_name):
    from aiokafka.admin import NewTopic

    admin = connections.kafka_admin(settings)
    await admin.start()
    await admin.create_topics([NewTopic(unique_name, 3, 1)])
    await admin.close()
    producer = connections.kafka_producer(settings)
    await producer.start()
    for n in range(30):
        await producer.send(unique_name, key=f"item-{n % 5}".encode(), value=str(n).encode())
    await producer.stop()

    consumer = connections.kafka_consumer(settings, unique_name, group_id=f"{unique_name}-group")
    await consumer.start()
    received = []
    while len(received) < 30:
        batch = await consumer.getmany(timeout_ms=5_000)
        assert batch, "consumer stopped receiving before all 30 records arrived"
        received += [record for records in batch.values() for record in records]
    await consumer.commit()
    await consumer.stop()

    assert sorted(int(r.value) for r in received) == list(range(30))
    assert {r.partition for r in received if r.key == b"item-1"} == {received[[r.key for r in received].index(b"item-1")].partition}


async def test_elasticsearch_finds_a_misspelt_title(settings, unique_name):
    es = connections.elasticsearch(settings)
    await es.indices.create(index=unique_name, mappings={"properties": {
        "title": {"type": "text"}, "brand": {"type": "keyword"}}})

    await es.index(index=unique_name, id="1", document={"title": "Cotton crew neck shirt", "brand": "Acme"}, refresh=True)
    found = await es.search(index=unique_name, query={"match": {"title": {"query": "cottn shrt", "fuzziness": "AUTO"}}},
                            aggs={"brands": {"terms": {"field": "brand"}}})

    await es.indices.delete(index=unique_name)
    await es.close()
    assert [hit["_id"] for hit in found["hits"]["hits"]] == ["1"]
    assert found["aggregations"]["brands"]["buckets"] == [{"key": "Acme", "doc_count": 1}]


async def test_mongodb_upsert_then_find(settings, unique_name):
    client = connections.mongo(settings)
    items = client[settings.mongo_database][unique_name]

    await items.update_one({"_id": "i1"}, {"$set": {"title": "TV", "attributes": {"screen_in": 55}}}, upsert=True)
    await items.update_one({"_id": "i1"}, {"$set": {"attributes.panel": "LED"}}, upsert=True)
    found = await items.find_one({"attributes.screen_in": 55})

    await items.drop()
    await client.close()
    assert found == {"_id": "i1", "title": "TV", "attributes": {"screen_in": 55, "panel": "LED"}}


async def test_mysql_check_constraint_refuses_negative_stock_and_rolls_back(settings, unique_name):
    engine = connections.mysql(settings)
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO stock_levels (item_id, warehouse_id, on_hand) VALUES (:i, 'w1', 1)"),
                           {"i": unique_name})

    with pytest.raises(DBAPIError, match="stock_never_negative"):
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE stock_levels SET on_hand = on_hand - 2 WHERE item_id = :i"), {"i": unique_name})

    async with engine.begin() as conn:
        left = (await conn.execute(text("SELECT on_hand FROM stock_levels WHERE item_id = :i"), {"i": unique_name})).scalar()
        await conn.execute(text("DELETE FROM stock_levels WHERE item_id = :i"), {"i": unique_name})
    await engine.dispose()
    assert left == 1


async def test_redis_announces_an_expired_key(settings, unique_name):
    client = connections.redis(settings)
    pubsub = client.pubsub()
    await pubsub.subscribe("__keyevent@0__:expired")
    await pubsub.get_message(timeout=1)  # the subscribe confirmation

    await client.set(f"payment-window:{unique_name}", "1", px=100)
    expired = []
    async with asyncio.timeout(10):
        while unique_name not in "".join(expired):
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
            if message:
                expired.append(message["data"])

    await pubsub.aclose()
    await client.aclose()
    assert f"payment-window:{unique_name}" in expired


def test_cassandra_reads_back_in_clustering_order(settings, unique_name):
    cluster = connections.cassandra(settings)
    session = cluster.connect(settings.cassandra_keyspace)
    session.execute(f"CREATE TABLE {unique_name} (user_id text, placed_at int, order_id text, "
                    "PRIMARY KEY (user_id, placed_at)) WITH CLUSTERING ORDER BY (placed_at DESC)")

    for placed_at in (2, 3, 1):
        session.execute(f"INSERT INTO {unique_name} (user_id, placed_at, order_id) VALUES ('u1', %s, %s)",
                        (placed_at, f"o{placed_at}"))
    rows = list(session.execute(f"SELECT order_id FROM {unique_name} WHERE user_id = 'u1'"))

    session.execute(f"DROP TABLE {unique_name}")
    cluster.shutdown()
    assert [row.order_id for row in rows] == ["o3", "o2", "o1"]


def test_spark_aggregates_a_dataframe(settings):
    spark = connections.spark(settings, "shop-test")
    orders = spark.createDataFrame([("shirt", 2), ("tv", 1), ("shirt", 3)], ["item", "quantity"])

    totals = {row.item: row.total for row in orders.groupBy("item").sum("quantity")
              .withColumnRenamed("sum(quantity)", "total").collect()}

    spark.stop()
    assert totals == {"shirt": 5, "tv": 1}
