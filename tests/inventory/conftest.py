"""Builders for the inventory tests: the real stock store, test items cleaned up afterwards, relaying the outbox,
reading stock events, and running a command of `shop`."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import bindparam, text

from inventory import store as inventory
from inventory.events import StockChanged
from inventory.service import Pick
from inventory.store import StockStore
from tests.conftest import relay_pending


@pytest.fixture(scope="session")
def engine(mysql):
    return mysql


@pytest.fixture(scope="session")
def stock(engine) -> StockStore:
    return StockStore(engine)


@pytest.fixture
async def new_item(engine) -> AsyncIterator:
    """Makes item ids for a test; their stock rows and movements are deleted afterwards, so no drift is left behind."""
    made: list[str] = []

    def make() -> str:
        made.append(uuid.uuid4().hex)
        return made[-1]

    yield make
    if made:
        async with engine.begin() as conn:
            for table in ("stock_levels", "stock_movements"):
                await conn.execute(text(f"DELETE FROM {table} WHERE item_id IN :ids")
                                   .bindparams(bindparam("ids", expanding=True)), {"ids": made})


async def set_directly(engine, item_id: str, warehouse_id: str, quantity: int) -> None:
    """An UPDATE that bypasses the store, as a careless script would."""
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE stock_levels SET on_hand = :q WHERE item_id = :i AND warehouse_id = :w"),
                           {"q": quantity, "i": item_id, "w": warehouse_id})


async def counted(engine, item_id: str) -> dict[str, tuple[int, int]]:
    """The item's rows as stored: {warehouse_id: (on_hand, reserved)}."""
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT warehouse_id, on_hand, reserved FROM stock_levels WHERE item_id = :i"),
                                  {"i": item_id})
        return {warehouse_id: (on_hand, reserved) for warehouse_id, on_hand, reserved in rows}


async def drift_directly(engine, item_id: str, warehouse_id: str, *, on_hand: int, reserved: int) -> None:
    """Both columns set by an UPDATE that bypasses the store (and so records no movement)."""
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE stock_levels SET on_hand = :h, reserved = :r WHERE item_id = :i "
                                "AND warehouse_id = :w"), {"h": on_hand, "r": reserved, "i": item_id, "w": warehouse_id})


async def sell_until_refused(engine, item_id: str, warehouse_id: str, limit: int = 100) -> int:
    """Reserves one unit at a time, each in its own transaction as an order would, until one is refused; how many
    were sold."""
    for sold in range(limit):
        try:
            async with engine.begin() as conn:
                await inventory.lock_stock(conn, [item_id])
                await inventory.take(conn, [Pick(item_id, warehouse_id, 1)], order_id=f"sale-{sold}")
        except inventory.StockShort:
            return sold
    raise AssertionError(f"more than {limit} units sold")


async def stock_events(tail_consumer, engine, producer, item_id: str, count: int, *,
                       settle: float = 2.0, timeout: float = 30) -> list[StockChanged]:
    """The item's `inventory.stock_changed` events (each once, by event_id): waits for `count`, then `settle` seconds
    more so an unexpected extra one would be seen too."""
    found: dict[str, StockChanged] = {}
    deadline, settled = time.monotonic() + timeout, None
    while time.monotonic() < (settled or deadline):
        await relay_pending(engine, producer)
        for messages in (await tail_consumer.getmany(timeout_ms=300)).values():
            for message in messages:
                if message.key == item_id.encode():
                    payload = json.loads(message.value)
                    found[payload["event_id"]] = StockChanged.model_validate(payload)
        if len(found) >= count and settled is None:
            settled = time.monotonic() + settle
    return sorted(found.values(), key=lambda event: event.version)


async def shop(*args: str) -> tuple[int, str]:
    """Runs `python -m app.cli ARGS`; returns the exit code and everything it printed."""
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "app.cli", *args,
                                                   env={**os.environ, "COLUMNS": "200"}, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.STDOUT)
    output, _ = await process.communicate()
    return process.returncode, output.decode()
