"""Checkout: orders/s and latency of `POST /v1/orders` at 64 concurrent clients, against the bare transaction it wraps.

    .venv/bin/python -m bench.checkout [--items 2000] [--seconds 20] [--clients 64] [--count-orders 300]
                                       [--client httpx|aiohttp] [--profile]

Needs the local stack. Starts one `shop serve` process (one uvicorn worker, payment window set to a day so no expiry
touches the run) and drives it over loopback with httpx, or with aiohttp (`--client aiohttp`), whose client spends
about a twentieth of httpx's CPU per request and so leaves more of a small machine to the server. Two scenarios: many
items (a random one of `--items` per order) and one hot item (every order on it). The baseline is the bare transaction
with asyncmy, one connection per client: conditional `UPDATE stock_levels ... on_hand - reserved >= 1` + `INSERT` of the order
row + `COMMIT`, same items, same concurrency. Each measured run also reports the CPU each process spent per order and
the orders/s the machine's cores could sustain at that cost; a last run, `GET /healthz` on the same server, shows what
the HTTP client, uvicorn and FastAPI alone cost per request.
SQL statements per placement are read two ways: MariaDB's global counters around each measured run (minus the
background rate of other sessions, measured just before), and exactly, for `Checkout.place_order` run in-process on an
engine of one connection (the server's count for that session; by first keyword for what goes through SQLAlchemy).
Removes everything it created at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import uuid
from collections import Counter
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import aiohttp
import asyncmy
import httpx
from sqlalchemy.ext.asyncio import create_async_engine

from app.builder import Stores, open_stores
from bench.checkout_data import PINCODE, buyers, fastest_warehouse, remove_run, stocked_items
from bench.harness import api_server, closed_loop, cpu_figures, cpu_spent, report, stack_pids
from bench.profile import CHECKOUT_PARTS, sampled, shares, top_functions
from bench.sql_counts import COUNTERS, background_rate, server_counters, statements_sent
from infra.mysql_pool import ping_only_when_idle
from infra.settings import get_settings

WINDOW_SECONDS = 86_400  # no payment window of the run closes before the run removes its orders
WARMUP_SECONDS = 3

UPDATE_STOCK = ("UPDATE stock_levels SET reserved = reserved + 1, updated_at = CURRENT_TIMESTAMP "
                "WHERE item_id = %s AND warehouse_id = %s AND on_hand - reserved >= 1")
INSERT_ORDER = ("INSERT INTO orders (order_id, user_id, idempotency_key, request_hash, status, pincode, currency, "
                "total, payment_id, created_at, expires_at, updated_at) VALUES (%s, %s, %s, %s, 'CREATED', %s, 'INR', "
                "250.00, %s, %s, %s, %s)")


@asynccontextmanager
async def http_placer(base_url: str, shoppers: list[tuple[str, str]], pick, clients: int, library: str = "httpx"):
    """One order per call through `POST /v1/orders`, with client `n`'s shopper; refusals counted by status.
    `library` is the HTTP client: httpx (the default), or aiohttp, which spends far less CPU per request, so on a
    small machine the server gets more of it."""
    refused: Counter = Counter()

    def request(client: int) -> tuple[dict, dict]:
        return ({"pincode": PINCODE, "lines": [{"item_id": pick(), "quantity": 1}]},
                {"Authorization": f"Bearer {shoppers[client][1]}", "Idempotency-Key": uuid.uuid4().hex})

    def counted(status: int) -> bool:
        if status != 201:
            refused[status] += 1
        return status == 201

    if library == "aiohttp":
        async with aiohttp.ClientSession(base_url, connector=aiohttp.TCPConnector(limit=clients),
                                         timeout=aiohttp.ClientTimeout(total=60)) as session:
            async def place(client: int) -> bool:
                body, headers = request(client)
                async with session.post("/v1/orders", json=body, headers=headers) as response:
                    await response.read()
                    return counted(response.status)

            yield place, refused
        return
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as http:
        async def place(client: int) -> bool:
            body, headers = request(client)
            try:
                return counted((await http.post("/v1/orders", json=body, headers=headers)).status_code)
            except httpx.HTTPError as error:
                refused[type(error).__name__] += 1
                return False

        yield place, refused


@asynccontextmanager
async def framework_floor(base_url: str, clients: int):
    """`GET /healthz` (no store, no body, no auth) on the same server and client library: what one request costs the
    HTTP client, uvicorn and FastAPI before any order logic, the part of an order's CPU no store change can remove."""
    async with aiohttp.ClientSession(base_url, connector=aiohttp.TCPConnector(limit=clients)) as session:
        async def ping(client: int) -> bool:
            async with session.get("/healthz") as response:
                await response.read()
                return response.status == 200

        yield ping, Counter()


@asynccontextmanager
async def bare_placer(settings, shoppers: list[tuple[str, str]], pick, warehouse_id: str, clients: int):
    """One bare transaction per call on client `n`'s own asyncmy connection."""
    connections = [await connect(settings) for _ in range(clients)]
    refused: Counter = Counter()

    async def place(client: int) -> bool:
        conn, now = connections[client], datetime.now(UTC).replace(tzinfo=None)
        async with conn.cursor() as cursor:
            if await cursor.execute(UPDATE_STOCK, (pick(), warehouse_id)) != 1:
                await conn.rollback()
                refused["out of stock"] += 1
                return False
            await cursor.execute(INSERT_ORDER, (uuid.uuid4().hex, shoppers[client][0], f"bare-{uuid.uuid4().hex}",
                                                uuid.uuid4().hex, PINCODE, uuid.uuid4().hex, now,
                                                now + timedelta(seconds=WINDOW_SECONDS), now))
        await conn.commit()
        return True

    try:
        yield place, refused
    finally:
        for conn in connections:
            conn.close()


async def connect(settings):
    return await asyncmy.connect(host=settings.mysql_host, port=settings.mysql_port, user=settings.mysql_user,
                                 password=settings.mysql_password.get_secret_value(), db=settings.mysql_database)


async def timed(probe, placer, clients: int, seconds: float, pids: dict[str, int],
                unit: str = "order") -> tuple[dict, dict]:
    """Warm up, then `seconds` of closed-loop load: its figures with the CPU each process spent per order, and the
    server's statements per successful order during exactly that span, raw and net of the background rate of other
    sessions (measured just before)."""
    rate = await background_rate(probe)  # first: idle keep-alive connections would be closed by the server meanwhile
    async with placer as (place, refused):
        await closed_loop(clients, WARMUP_SECONDS, place)
        refused.clear()
        before = await server_counters(probe)
        with cpu_spent(pids) as spent:
            figures = await closed_loop(clients, seconds, place)
        after = await server_counters(probe)
    figures.update(cpu_figures(spent, figures["ok"], unit, figures["seconds"]))
    per_order = {f"{name} per order (raw)": (after[name] - before[name]) / figures["ok"] for name in COUNTERS}
    per_order["Questions per order (net of background)"] = (
        (after["Questions"] - before["Questions"] - rate["Questions"] * figures["seconds"]) / figures["ok"])
    per_order["background Questions/s (other sessions)"] = rate["Questions"]
    return {**figures, "refused": dict(refused)}, per_order


async def exact_statements(settings, shoppers, item_ids, count: int) -> dict:
    """`Checkout.place_order` of the builder's stores (payment window as the API's in this run) on an engine of one
    connection pooled as the API's, `count` orders in a row."""
    stores = Stores(settings.model_copy(update={"payment_window_seconds": WINDOW_SECONDS}))
    # Given before first use, so `stores.checkout` is built on it: the server's count for its one session is then
    # every statement the placements send.
    stores.mysql = engine = ping_only_when_idle(create_async_engine(settings.mysql_url, pool_size=1, max_overflow=0,
                                                                    pool_pre_ping=False, pool_reset_on_return=None))
    try:
        async with statements_sent(engine) as counts:
            for n in range(count):
                await stores.checkout.place_order(shoppers[n % len(shoppers)][0], uuid.uuid4().hex, PINCODE,
                                                  [(random.choice(item_ids), 1)])
    finally:
        await asyncio.gather(engine.dispose(), stores.aclose())
    # SQLAlchemy's hooks see only what goes through SQLAlchemy (the transaction's COMMIT); the placement's statements
    # run on the driver beneath it (infra/driver_sql.py), so the server's count for the session is the whole number.
    through_sqlalchemy = sum(v for k, v in counts.items() if k.isupper())
    return {**{f"{k} per order": v / count for k, v in sorted(counts.items())},
            "statements through SQLAlchemy per order (all above in capitals)": through_sqlalchemy / count}


async def run(args) -> None:
    settings, prefix = get_settings(), f"bench-co-{uuid.uuid4().hex[:8]}"
    async with open_stores(settings) as stores:
        warehouse_id = await fastest_warehouse(stores.serviceability)
        shoppers = await buyers(stores.users, settings.jwt_secret.get_secret_value(), prefix, args.clients)
        item_ids: list[str] = []
        try:
            item_ids = await stocked_items(stores, prefix, args.items, args.units, warehouse_id)
            item_ids += await stocked_items(stores, f"{prefix}-hot", 1, args.hot_units, warehouse_id)
            await measure(args, settings, shoppers, item_ids, warehouse_id)
        finally:
            report("removed", await remove_run(stores, [u for u, _ in shoppers], item_ids))


async def measure(args, settings, shoppers, item_ids, warehouse_id) -> None:
    many, hot = item_ids[:-1], item_ids[-1]
    spread, single = (lambda: random.choice(many)), (lambda: hot)
    probe = await connect(settings)
    results = {}
    stack = {name: pid for name, pid in stack_pids(settings).items() if name in ("mysql", "mongodb", "redis")}
    with api_server(settings, {"SHOP_PAYMENT_WINDOW_SECONDS": str(WINDOW_SECONDS)}, args.workers) as (base_url, api_pid):
        pids = {"API server": api_pid, "benchmark client": os.getpid(), **stack}
        scenarios = {"many items": spread, "one hot item": single}
        for scenario, pick in [(name, scenarios[name]) for name in args.scenario]:
            api, api_sql = await timed(probe, http_placer(base_url, shoppers, pick, args.clients, args.client),
                                       args.clients, args.seconds, pids)
            bare, bare_sql = await timed(probe, bare_placer(settings, shoppers, pick, warehouse_id, args.clients),
                                         args.clients, args.seconds, pids)
            results[scenario] = api, bare
            report(f"API: POST /v1/orders, {scenario}, {args.clients} {args.client} clients, "
                   f"{args.workers} uvicorn process(es)", api)
            report(f"API: MariaDB counters during that run, {scenario}", api_sql)
            report(f"bare: UPDATE + INSERT + COMMIT with asyncmy, {scenario}, {args.clients} connections", bare)
            report(f"bare: MariaDB counters during that run, {scenario}", bare_sql)
        floor, _ = await timed(probe, framework_floor(base_url, args.clients), args.clients, args.seconds, pids,
                               unit="request")
        report(f"framework floor: GET /healthz, {args.clients} aiohttp clients, same server", floor)
        if args.profile:  # runs of their own: sampling costs the sampled process a little, so no figure above has it
            for scenario, pick in [(name, scenarios[name]) for name in args.scenario]:
                slug = scenario.replace(" ", "-")
                with sampled(api_pid, f"checkout-{slug}.txt") as profile:
                    await timed(probe, http_placer(base_url, shoppers, pick, args.clients, args.client),
                                args.clients, args.seconds, pids)
                stacks = profile.read()
                report(f"profile: the API's CPU by part, {scenario} ({profile.path})", shares(stacks, CHECKOUT_PARTS))
                report(f"profile: the API's top functions (self), {scenario}", top_functions(stacks))
    probe.close()
    report(f"SQL per placement, exact: Checkout.place_order in-process, {args.count_orders} orders, one connection",
           await exact_statements(settings, shoppers, many, args.count_orders))
    for scenario, (api, bare) in results.items():
        report(f"ratio API / bare, {scenario}", {
            "orders/s": api["per_s"] / bare["per_s"], "p50 latency": api["p50_ms"] / bare["p50_ms"],
            "p99 latency": api["p99_ms"] / bare["p99_ms"]})
    # A closed loop holds `clients` requests in flight, so the mean latency is clients / rate (Little's law).
    report("what the aim needs", {f"orders/s for a mean latency of 100 ms at {args.clients} clients": args.clients / 0.1})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=2_000)
    parser.add_argument("--units", type=int, default=1_000, help="units on hand of each of the many items")
    parser.add_argument("--hot-units", type=int, default=500_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--count-orders", type=int, default=300)
    parser.add_argument("--client", choices=("httpx", "aiohttp"), default="aiohttp", help="HTTP client library")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn processes of the API")
    parser.add_argument("--profile", action="store_true",
                        help="then run each scenario once more with py-spy sampling the API, and print its CPU by part")
    parser.add_argument("--scenario", action="append", choices=("many items", "one hot item"),
                        help="run only this scenario (repeatable; default both)")
    args = parser.parse_args()
    args.scenario = args.scenario or ["many items", "one hot item"]
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
