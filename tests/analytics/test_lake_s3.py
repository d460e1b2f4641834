"""The lake on object storage: with an s3a:// root the events job writes its Delta tables and its checkpoint to the
stack's S3 server (SeaweedFS), they read back through S3A, and they are objects in the bucket."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from analytics import job
from analytics.config import LakeConfig
from analytics.session import LAKE_SPARK
from infra import connections
from infra.stack.seaweedfs import S3Client
from orders.events import ORDERS_TOPIC, OrderEvent, OrderLineSnapshot
from tests.analytics.conftest import end_offsets, send

pytestmark = [pytest.mark.stack, pytest.mark.timeout(300)]


async def test_order_events_land_in_a_delta_table_on_the_stacks_s3_server(settings):
    prefix = f"test-lake-{uuid.uuid4().hex[:10]}"
    lake = LakeConfig(root=f"s3a://{settings.s3_lake_bucket}/{prefix}", bootstrap=settings.kafka_bootstrap,
                      starting_offsets=await end_offsets(settings))
    sent = [placed_order(datetime(2026, 3, 4, 10, minute, tzinfo=UTC)) for minute in range(3)]
    await send(settings, [(ORDERS_TOPIC, event.order_id, event.model_dump_json().encode()) for event in sent])

    with spark_for(settings, lake.root) as spark:
        job.start_events(spark, lake, once=True).awaitTermination()
        landed = {(row.event_id, row.order_id) for row in spark.read.format("delta").load(lake.table("orders")).collect()}
    keys = s3(settings).keys(settings.s3_lake_bucket, f"{prefix}/")

    assert landed == {(event.event_id, event.order_id) for event in sent}
    assert any(key.startswith(f"{prefix}/orders/_delta_log/") and key.endswith(".json") for key in keys), keys
    assert any(key.startswith(f"{prefix}/orders/event_date=2026-03-04/") and key.endswith(".parquet") for key in keys)
    assert any(key.startswith(f"{prefix}/_checkpoints/events/offsets/") for key in keys), keys


def placed_order(at: datetime) -> OrderEvent:
    line = OrderLineSnapshot(item_id="i-s3", seller_id="s-s3", warehouse_id="W1", title="Kettle", quantity=2,
                             unit_price=Decimal("19.99"))
    return OrderEvent(event_id=uuid.uuid4().hex, type="order_placed", order_id=uuid.uuid4().hex, user_id="u-s3",
                      status="PLACED", pincode="560001", currency="INR", total=Decimal("39.98"),
                      payment_id=uuid.uuid4().hex, lines=[line], at=at)


@contextmanager
def spark_for(settings, lake_root: str) -> Iterator:
    """A session for a lake at `lake_root`, the lake's own Spark settings. A process has one Spark context: when the
    other lake tests' session is still open, that one comes back (with S3A set up) and stays open for them."""
    from pyspark import SparkContext

    shared = SparkContext._active_spark_context is not None
    spark = connections.spark(settings.model_copy(update={"lake_root": lake_root}), "test-lake-s3", **LAKE_SPARK)
    try:
        yield spark
    finally:
        if not shared:
            spark.stop()


def s3(settings) -> S3Client:
    return S3Client(settings.s3_endpoint, settings.s3_access_key, settings.s3_secret_key.get_secret_value())
