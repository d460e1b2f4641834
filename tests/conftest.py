"""Shared test wiring: service-backed tests are marked `stack` and skip nothing: a missing stack is an error."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from infra import connections
from infra.outbox import RELAY_LOCK, OutboxRelay
from infra.settings import Settings, get_settings

# The tests run as development on the local stack, with the simulated payment gateway (as the demo and the benchmarks
# do; `.env` leaves it off). Every TestClient calls from one address ("testclient"), and so do other runs on a shared
# stack, so that address's sign-up/login window is opened wide; tests/identity pins the limit on addresses of its own.
TEST_ENVIRONMENT = {"SHOP_ENVIRONMENT": "development", "SHOP_PAYMENT_SIMULATOR": "true",
                    "SHOP_AUTH_ATTEMPTS_PER_ADDRESS": "1000000"}


def pytest_configure(config):
    os.environ.update(TEST_ENVIRONMENT)  # before any settings are read, and inherited by the processes tests start
    get_settings.cache_clear()


FAULT_TESTS = Path(__file__).parent / "faults"


def pytest_collection_modifyitems(config, items):
    # Tests that restart engines run last, so the rest see a steady stack: first the fault tests (each kills the
    # worker or restarts one engine, and leaves the stack healthy), then those that stop the whole stack.
    items.sort(key=restart_rank)


def restart_rank(item) -> int:
    if item.get_closest_marker("restarts_stack") is None:
        return 0
    return 1 if item.path.is_relative_to(FAULT_TESTS) else 2


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
async def mysql(settings) -> AsyncIterator:
    """One MySQL engine for the session, built by the project's own connection code."""
    engine = connections.mysql(settings)
    yield engine
    await engine.dispose()


async def next_matching(consumer, predicate, timeout: float = 60) -> Any:
    """The first message on a tail for which predicate(message) holds (the wait covers a backlog other tests left)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batches = await consumer.getmany(timeout_ms=500)
        for message in (m for messages in batches.values() for m in messages):
            if predicate(message):
                return message
    raise AssertionError(f"no matching message within {timeout}s")


@pytest.fixture
def unique_name() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def running_worker():
    """The real `shop worker` process (all agents) for tests that follow records through Kafka."""
    import subprocess
    import sys
    import threading
    import time

    worker = subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    ready = threading.Event()
    lines: list[str] = []

    def follow() -> None:
        for line in worker.stdout:
            lines.append(line)
            if "Worker ready" in line:
                ready.set()

    threading.Thread(target=follow, daemon=True).start()
    if not ready.wait(120):
        worker.kill()
        raise RuntimeError("worker did not become ready:\n" + "".join(lines[-40:]))
    time.sleep(1)  # partitions assigned just after "ready"
    yield worker
    worker.terminate()
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:  # stuck retrying a write: nothing to lose, the offsets were not committed
        worker.kill()
        worker.wait(timeout=10)


async def start_group_at_end(settings, group: str, topic: str) -> None:
    """Commits the topic's end offsets for `group`, so a consumer of that group reads only what comes next."""
    from aiokafka import TopicPartition

    from app.topics import TOPICS

    consumer = connections.kafka_consumer(settings, group_id=group)
    await consumer.start()
    count = next(spec.partitions for spec in TOPICS if spec.name == topic)
    partitions = [TopicPartition(topic, p) for p in range(count)]
    consumer.assign(partitions)
    await consumer.commit(await consumer.end_offsets(partitions))
    await consumer.stop()


@pytest.fixture
async def consumer_of_its_own(settings):
    """Runs an agent's `consume(brokers, *args, group=...)` as a task with a consumer group of its own that starts at
    the current end of `topic`: the shared groups of `shop worker` are left alone. Returns the task."""
    import asyncio
    import contextlib

    tasks: list[asyncio.Task] = []

    async def start(consume, *args: Any, topic: str) -> asyncio.Task:
        group = f"test-{uuid.uuid4().hex[:12]}"
        await start_group_at_end(settings, group, topic)
        tasks.append(asyncio.create_task(consume(settings.kafka_bootstrap, *args, group=group)))
        return tasks[-1]

    yield start
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


@pytest.fixture
async def producer(settings):
    from infra import connections

    kafka = connections.kafka_producer(settings)
    await kafka.start()
    yield kafka
    await kafka.stop()


@pytest.fixture
async def tail(settings):
    """Opens a consumer on a topic positioned at its current end, so it sees only what comes next."""
    import asyncio

    from aiokafka import TopicPartition

    from app.topics import TOPICS
    from infra import connections

    consumers = []

    async def open_tail(topic: str):
        consumer = connections.kafka_consumer(settings, group_id=None)
        await consumer.start()
        consumers.append(consumer)
        count = next(spec.partitions for spec in TOPICS if spec.name == topic)
        partitions = [TopicPartition(topic, p) for p in range(count)]
        consumer.assign(partitions)
        for partition, offset in (await consumer.end_offsets(partitions)).items():
            consumer.seek(partition, offset)
        return consumer

    yield open_tail
    await asyncio.gather(*(consumer.stop() for consumer in consumers))


SHOPPER_PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Shopper:
    user_id: str
    email: str
    headers: dict[str, str]  # {"Authorization": "Bearer ..."}


def sign_up(client, pincode: str = "560001") -> Shopper:
    """A new shopper with a unique e-mail, signed up and logged in through the API (`client`: a TestClient)."""
    email = f"shopper-{uuid.uuid4().hex[:12]}@example.com"
    created = client.post("/v1/users", json={"email": email, "name": "Test Shopper", "password": SHOPPER_PASSWORD,
                                             "default_pincode": pincode})
    assert created.status_code == 201, created.text
    token = client.post("/v1/auth/token", data={"username": email, "password": SHOPPER_PASSWORD})
    assert token.status_code == 200, token.text
    return Shopper(created.json()["user_id"], email, {"Authorization": f"Bearer {token.json()['access_token']}"})


async def relay_pending(engine, producer) -> None:
    """Sends the outbox once, unless a running worker's relay holds the relay lock (then that relay sends it)."""
    async with engine.connect() as conn:
        if not (await conn.execute(text("SELECT GET_LOCK(:n, 0)"), {"n": RELAY_LOCK})).scalar():
            return
        try:
            await OutboxRelay(engine, producer).relay_once()
        finally:
            await conn.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": RELAY_LOCK})
