"""What each of checkout's calls to a store costs the API's client against what it costs the store: CPU per call of
this process and of the store's server, calls made one after another on one connection, so nothing else is measured.

The calls are the ones `POST /v1/orders` makes: the item read (MongoDB wire), the serviceability read and the payment
window (Redis), and the placement transaction (MariaDB: `OrderStore.place` with its quote made beforehand); and one
read through SQLAlchemy (a shopper's latest orders) with the driver's text protocol and with server-side prepared
statements (`infra.connections.PREPARED_PER_CONNECTION`; the placement's batches are text either way). Rounds alternate between the kinds,
and the figures are medians over rounds. `python -m bench.round_trips [--calls 2000] [--rounds 5]`
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.builder import open_stores
from bench.checkout_data import PINCODE, buyers, fastest_warehouse, remove_run, stocked_items
from bench.harness import cpu_spent, report, stack_pids
from infra.connections import PREPARED_PER_CONNECTION
from infra.mysql_pool import ping_only_when_idle
from infra.settings import get_settings
from orders.store import NewOrder, OrderStore

UNITS = 10_000_000
ORDERS_OF = text("SELECT order_id, status, total FROM orders WHERE user_id = :u ORDER BY created_at DESC LIMIT 5")


def engine(settings, prepared: bool):
    """One connection, pooled as the API's (`infra.connections.mysql`), with or without prepared statements."""
    return ping_only_when_idle(create_async_engine(
        settings.mysql_url, pool_size=1, max_overflow=0, pool_pre_ping=False, pool_reset_on_return=None,
        connect_args={"stmt_cache_size": PREPARED_PER_CONNECTION} if prepared else {}))


async def measured(call: Callable[[int], Awaitable[object]], calls: int, pids: dict[str, int]) -> dict[str, float]:
    """Microseconds of CPU per call of each process in `pids`."""
    for n in range(50):  # connections open, statements prepared, caches warm
        await call(n)
    with cpu_spent(pids) as spent:
        for n in range(calls):
            await call(n)
    return {name: 1e6 * seconds / calls for name, seconds in spent.items() if name != "machine"}


async def run(args) -> None:
    settings, prefix = get_settings(), f"bench-rt-{uuid.uuid4().hex[:8]}"
    stack = stack_pids(settings)
    async with open_stores(settings) as stores:
        warehouse_id = await fastest_warehouse(stores.serviceability)
        shoppers = await buyers(stores.users, settings.jwt_secret.get_secret_value(), prefix, 1)
        item_ids: list[str] = []
        windows = stores.checkout.windows
        engines = {prepared: engine(settings, prepared) for prepared in (False, True)}
        try:
            item_ids = await stocked_items(stores, prefix, 200, UNITS, warehouse_id)
            user_id = shoppers[0][0]
            quote = await stores.checkout._quote(PINCODE, [(item_ids[0], 1)])

            def placing(prepared: bool) -> Callable[[int], Awaitable[object]]:
                orders = OrderStore(engines[prepared])
                return lambda n: orders.place(NewOrder(user_id, uuid.uuid4().hex, PINCODE, 3600), quote)

            def reading(prepared: bool) -> Callable[[int], Awaitable[object]]:
                async def read(n: int) -> None:
                    async with engines[prepared].connect() as conn:
                        await conn.execute(ORDERS_OF, {"u": user_id})
                return read

            deadline = datetime.now() + timedelta(hours=1)
            kinds = {
                "item read (find_one)": (lambda n: stores.item_store.get_many([item_ids[n % len(item_ids)]]),
                                         "mongodb"),
                "serviceability read (Redis GET)": (lambda n: stores.serviceability.deliverable_from(PINCODE),
                                                    "redis"),
                "payment window (Redis SET)": (lambda n: windows.open(f"{prefix}-{n}", deadline), "redis"),
                "placement (7 statements in 3 round trips), engine without prepared statements": (placing(False),
                                                                                                  "mysql"),
                "placement (7 statements in 3 round trips), engine with prepared statements": (placing(True), "mysql"),
                "a shopper's latest orders through SQLAlchemy, text protocol": (reading(False), "mysql"),
                "a shopper's latest orders through SQLAlchemy, prepared": (reading(True), "mysql"),
            }
            rounds: dict[str, list[dict[str, float]]] = defaultdict(list)
            for _ in range(args.rounds):
                for name, (call, store) in kinds.items():
                    rounds[name].append(await measured(call, args.calls, {"client": os.getpid(), store: stack[store]}))
            for name, (_, store) in kinds.items():
                client = statistics.median(r["client"] for r in rounds[name])
                server = statistics.median(r[store] for r in rounds[name])
                report(f"{name}: CPU us per call, median of {args.rounds} rounds of {args.calls}", {
                    "client (this process)": client, f"server ({store})": server, "client / server": client / server})
        finally:
            await asyncio.gather(*(e.dispose() for e in engines.values()))
            await windows.close([f"{prefix}-{n}" for n in range(args.calls + 50)])
            report("removed", await remove_run(stores, [u for u, _ in shoppers], item_ids))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
