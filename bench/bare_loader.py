"""The baseline: the least a loader must do to get records from Kafka into MongoDB and Elasticsearch (no validation,
no versioning, no per-record outcomes), over a fresh topic, collection and index."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

from aiokafka.admin import NewTopic
from elasticsearch.helpers import async_bulk

from infra import connections
from infra.schema.search_index import ITEMS_TEMPLATE


async def run_bare_loader(settings, records: list[dict], partitions: int = 6) -> dict:
    name = f"bench-bare-{uuid.uuid4().hex[:8]}"
    admin = connections.kafka_admin(settings)
    await admin.start()
    await admin.create_topics([NewTopic(name, partitions, 1)])
    mongo, es = connections.mongo(settings), connections.elasticsearch(settings)
    collection = mongo[settings.mongo_database][name.replace("-", "_")]
    await es.indices.create(index=name, body={"settings": ITEMS_TEMPLATE["template"]["settings"],
                                              "mappings": {**ITEMS_TEMPLATE["template"]["mappings"], "dynamic": True}})
    started = time.monotonic()
    consumer = asyncio.create_task(consume(settings, name, collection, es, len(records)))
    await produce(settings, name, records)
    await consumer
    await es.indices.refresh(index=name)
    elapsed = time.monotonic() - started
    stored = (await collection.count_documents({}), (await es.count(index=name))["count"])
    await asyncio.gather(collection.drop(), es.indices.delete(index=name), admin.delete_topics([name]))
    await asyncio.gather(admin.close(), es.close(), mongo.close())
    assert stored == (len(records), len(records)), stored
    return {"seconds": elapsed, "items_per_s": len(records) / elapsed}


async def produce(settings, topic: str, records: list[dict]) -> None:
    producer = connections.kafka_producer(settings)
    await producer.start()
    for start in range(0, len(records), 1000):
        batch = [await producer.send(topic, key=r["sku"].encode(), value=json.dumps(r).encode())
                 for r in records[start:start + 1000]]
        await asyncio.gather(*batch)
    await producer.stop()


async def consume(settings, topic: str, collection, es, expected: int) -> None:
    consumer = connections.kafka_consumer(settings, topic, group_id=f"{topic}-group")
    await consumer.start()
    done = 0
    while done < expected:
        batches = await consumer.getmany(timeout_ms=500, max_records=2000)
        docs = [json.loads(m.value) for messages in batches.values() for m in messages]
        if not docs:
            continue
        actions = [{"_index": topic, "_id": d["sku"], "_source": {k: v for k, v in d.items() if k != "_id"}} for d in docs]
        await asyncio.gather(collection.insert_many([dict(d) for d in docs], ordered=False),
                             async_bulk(es, actions, chunk_size=2000, refresh=False))
        await consumer.commit()
        done += len(docs)
    await consumer.stop()
