"""Builders for the lake tests: one Spark session for the run, a lake of each test's own (a fresh folder that reads
Kafka from where the topics ended when the test began, so it holds exactly the test's events), events sent as the
folders' records (or as malformed bytes), and `shop lake` run as a process that can be killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

import pytest
from aiokafka import TopicPartition

from analytics.config import LakeConfig
from analytics.tables import EVENT_TABLES
from app.topics import TOPICS
from infra import connections


@pytest.fixture(scope="session")
def spark(settings):
    from analytics.session import lake_spark

    session = lake_spark(settings, "tests-lake")
    yield session
    session.stop()


async def end_offsets(settings) -> str:
    """Spark's `startingOffsets` JSON: where every lake topic ends now."""
    partitions = {spec.name: spec.partitions for spec in TOPICS}
    consumer = connections.kafka_consumer(settings, group_id=None)
    await consumer.start()
    try:
        wanted = [TopicPartition(t.topic, p) for t in EVENT_TABLES for p in range(partitions[t.topic])]
        ends = await consumer.end_offsets(wanted)
    finally:
        await consumer.stop()
    offsets: dict[str, dict[str, int]] = {}
    for partition, offset in ends.items():
        offsets.setdefault(partition.topic, {})[str(partition.partition)] = offset
    return json.dumps(offsets)


@dataclass
class TestLake:
    config: LakeConfig
    prefix: str  # of its reports' Redis keys

    def environment(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "SHOP_LAKE_ROOT": self.config.root, "SHOP_LAKE_STARTING_OFFSETS":
                self.config.starting_offsets, "SHOP_REPORTS_PREFIX": self.prefix,
                "SHOP_LAKE_TRIGGER_SECONDS": str(self.config.trigger_seconds),
                "SHOP_LAKE_DIMENSIONS_SECONDS": "0", **extra}  # the test's own dimensions, not the stores'


    def read(self, spark, table: str):
        return spark.read.format("delta").load(self.config.table(table))


@pytest.fixture
async def lake(settings, tmp_path: Path) -> TestLake:
    name = uuid.uuid4().hex[:10]
    config = LakeConfig(root=str(tmp_path / "lake"), bootstrap=settings.kafka_bootstrap, trigger_seconds=1.0,
                        starting_offsets=await end_offsets(settings))
    return TestLake(config, f"test-reports-{name}")


async def send(settings, messages: list[tuple[str, str, bytes]]) -> None:
    """(topic, key, raw value) each, acknowledged."""
    producer = connections.kafka_producer(settings)
    await producer.start()
    try:
        for topic, key, value in messages:
            await producer.send(topic, key=key.encode(), value=value)
        await producer.flush()
    finally:
        await producer.stop()


def order_event(at: datetime, lines: list[tuple[str, int, str]], *, kind: str = "order_placed",
                order_id: str | None = None) -> tuple[str, str, bytes]:
    """An `orders.events` record: lines of (item_id, quantity, unit price)."""
    order_id = order_id or uuid.uuid4().hex
    total = sum(Decimal(price) * quantity for _, quantity, price in lines)
    event = {"event_id": uuid.uuid4().hex, "type": kind, "order_id": order_id, "user_id": "u-lake", "status": "PLACED",
             "cancel_reason": None, "pincode": "560001", "currency": "INR", "total": str(total),
             "payment_id": uuid.uuid4().hex, "replaces_order_id": None, "at": rfc3339(at),
             "lines": [{"item_id": item, "seller_id": f"s-{item}", "warehouse_id": "W1", "title": f"Title {item}",
                        "quantity": quantity, "unit_price": price} for item, quantity, price in lines]}
    return "orders.events", order_id, json.dumps(event).encode()


def wishlist_event(at: datetime, item_id: str) -> tuple[str, str, bytes]:
    event = {"event_id": uuid.uuid4().hex, "type": "item_added", "user_id": f"u-{uuid.uuid4().hex[:6]}",
             "item_id": item_id, "at": rfc3339(at)}
    return "wishlist.events", event["user_id"], json.dumps(event).encode()


def search_event(at: datetime, query: str, total: int) -> tuple[str, str, bytes]:
    event = {"search_id": uuid.uuid4().hex, "shopper_id": None, "query": query, "filters": {"pincode": "560001"},
             "page": 1, "total": total, "top_item_ids": [], "at": rfc3339(at)}
    return "search.performed", event["search_id"], json.dumps(event).encode()


def rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


class LakeProcess:
    """`shop lake` (streaming) as a process group of its own, so kill -9 takes its JVM too."""

    started: ClassVar[list[LakeProcess]] = []

    def __init__(self, environment: dict[str, str], *args: str) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "app.cli", "lake", *args], env=environment,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        LakeProcess.started.append(self)

    def kill9(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def output(self) -> str:
        """What a killed process printed."""
        assert self.process.stdout is not None
        return self.process.stdout.read().decode(errors="replace")

    def wait(self, timeout: float) -> tuple[int, str]:
        try:
            out, _ = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            raise
        return self.process.returncode, out.decode(errors="replace")


@pytest.fixture(autouse=True)
def no_lake_left_running() -> Iterator[None]:
    """Whatever happens in a test, the `shop lake` processes it started end with it."""
    yield
    while LakeProcess.started:
        LakeProcess.started.pop().kill9()


def until(check, timeout: float, every: float = 0.5):
    """Polls `check()` until it is true or the time is up; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)
