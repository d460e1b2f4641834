"""Builders for the fault tests: the stack's only worker (started and killed by the tests), the API served in-process
answering a failure with a 5xx as a server would, restarts of one engine, MySQL connections made after a fault, what
reached a Kafka topic since a test began, and the summary line each test prints."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
import pytest
from aiokafka import TopicPartition
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api import create_app
from app.topics import TOPICS
from infra import connections
from infra.outbox import RELAY_LOCK
from infra.settings import Settings
from infra.stack import launcher, stack_paths, stack_services
from tests.faults.worker import WorkerProcess, shop_workers, stop_our_other_workers
from tests.orders.conftest import Shop, sample_network  # noqa: F401  (fixture)

T = TypeVar("T")


@pytest.fixture(scope="session")
async def worker(settings) -> AsyncIterator[WorkerProcess]:
    """The one `shop worker` on the stack while the fault tests run, started by them (see `WorkerProcess`)."""
    await asyncio.to_thread(stop_our_other_workers)
    if others := shop_workers():
        pytest.fail(f"other `shop worker` processes run on this stack ({[p.pid for p in others]}): the fault tests "
                    "kill and restart the worker and must run it alone")
    await _until_relay_lock_free(settings)
    handle = WorkerProcess(settings.stack_dir / "logs" / "faults-worker.log")
    yield handle
    await asyncio.to_thread(handle.stop)


async def _until_relay_lock_free(settings: Settings, timeout: float = 30) -> None:
    async with fresh_mysql(settings) as engine, engine.connect() as conn:
        deadline = time.monotonic() + timeout
        while (holder := (await conn.execute(text("SELECT IS_USED_LOCK(:n)"), {"n": RELAY_LOCK})).scalar()) is not None:
            if time.monotonic() > deadline:
                pytest.fail(f"MySQL connection {holder} (another host's worker?) holds the outbox relay lock")
            await asyncio.sleep(0.5)


async def running(worker: WorkerProcess) -> None:
    if not worker.running():
        await asyncio.to_thread(worker.start)


@pytest.fixture
async def shop(settings, sample_network) -> AsyncIterator[Shop]:  # noqa: F811  (the fixture imported above)
    """The API in-process; an error in a route is the 500 a real server answers (not an exception in the test)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://shop.test", timeout=60) as http:
            yield Shop(http, app, settings)


@asynccontextmanager
async def fresh_mysql(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """An engine of its own: pooled connections from before a MySQL restart would fail their first statement."""
    engine = connections.mysql(settings)
    try:
        yield engine
    finally:
        await engine.dispose()


async def restart_engine(settings: Settings, name: str, down: asyncio.Event, hold_seconds: float = 0) -> float:
    """Stops the engine's process group, sets `down`, keeps it down `hold_seconds`, starts it and waits until it is
    healthy (in a thread, so the load goes on); returns the seconds it was away."""
    service = next(service for service in stack_services(settings) if service.name == name)
    loop = asyncio.get_running_loop()

    def while_down() -> None:
        loop.call_soon_threadsafe(down.set)
        time.sleep(hold_seconds)

    return await asyncio.to_thread(launcher.restart, service, stack_paths(settings), while_down=while_down)


class TopicLog:
    """Every message a topic got from the moment it was opened, read on demand by a consumer of its own each time
    (so a Kafka restart between two reads costs nothing)."""

    def __init__(self, settings: Settings, topic: str, positions: dict[TopicPartition, int]) -> None:
        self.settings, self.topic, self.positions = settings, topic, positions
        self.messages: list[Any] = []

    @classmethod
    async def opened(cls, settings: Settings, topic: str) -> TopicLog:
        count = next(spec.partitions for spec in TOPICS if spec.name == topic)
        consumer = connections.kafka_consumer(settings, group_id=None)
        await consumer.start()
        try:
            ends = await consumer.end_offsets([TopicPartition(topic, p) for p in range(count)])
        finally:
            await consumer.stop()
        return cls(settings, topic, dict(ends))

    async def read(self) -> list[Any]:
        """Everything the topic got since it was opened (what is new is read now, up to the current end)."""
        consumer = connections.kafka_consumer(self.settings, group_id=None)
        await consumer.start()
        try:
            async with asyncio.timeout(60):
                await self._read_to_end(consumer)
        finally:
            await consumer.stop()
        return self.messages

    async def _read_to_end(self, consumer) -> None:
        consumer.assign(list(self.positions))
        for partition, offset in self.positions.items():
            consumer.seek(partition, offset)
        ends = await consumer.end_offsets(list(self.positions))
        while any(self.positions[partition] < end for partition, end in ends.items()):
            for partition, messages in (await consumer.getmany(timeout_ms=1000)).items():
                self.messages += messages
                self.positions[partition] = messages[-1].offset + 1


async def until(read: Callable[[], Awaitable[T]], done: Callable[[T], bool], timeout: float,
                every: float = 0.5) -> T:
    """What `read()` returns once `done` holds of it, or when `timeout` seconds are up (for the test to assert on)."""
    deadline = time.monotonic() + timeout
    while not done(value := await read()) and time.monotonic() < deadline:
        await asyncio.sleep(every)
    return value


def report(test: str, **figures: object) -> None:
    """The one-line summary of a fault test (shown with -s), for the README's reliability section."""
    print(f"\n[faults] {test}: " + "; ".join(f"{name.replace('_', ' ')}: {value}" for name, value in figures.items()))
