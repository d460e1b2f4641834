"""Order archive: finished orders archived per second by `shop archive` (each written to all its Cassandra tables, read
back and compared, then deleted from MySQL), against the bare cassandra-driver inserting the same rows; and history
reads, `GET /v1/history/users/{id}/orders`, against the same queries sent straight to Cassandra.

    .venv/bin/python -m bench.archive [--orders 50000] [--shoppers 100] [--rounds 2] [--concurrency 128]
                                      [--clients 1 --clients 16] [--seconds 15]
    .venv/bin/python -m bench.archive --remove-leftovers   # what a stopped run left in the stores

Needs the local stack. Set-up: `--shoppers` shoppers each take five orders of two sellers' items through the API (in
process, as the tests do) to every way an order finishes (delivered twice, cancelled unpaid, paid then cancelled and
refunded, payment failed); those orders are then cloned in MySQL (`tests/archival/clones.py`) until `--orders`
finished orders exist, and their documents (`FinishedOrders.documents`) are kept for the baseline.
Archive, in `--rounds` parts, alternating (so whatever else the shared machine runs falls on both), each after
Cassandra has finished its compactions and gone quiet:
- baseline: the part's rows, built from the same documents as the archive builds them, each distinct row once, with the
  same prepared INSERTs into the five tables of a keyspace of its own made with the same CQL, sent by the driver's
  `execute_concurrent` at `--concurrency` requests in flight (the archiver's own bound); nothing read back, no MySQL;
  the rows are built before the clock starts;
- `python -m app.cli archive --older-than 0 --steps [--limit <the part's size>]` as a subprocess (the last round with
  no limit), timed from its start to its exit, its CPU from the kernel's account of the child. It archives whatever
  finished orders MySQL holds, so its rate counts what its summary says it archived.
Both print orders/s and the CPU each process spent per order (the archiver, or the benchmark process that drives the
baseline; Cassandra's JVM; MariaDB), per round and over all rounds, and their ratio.
History: one `shop serve` on a free port; each request asks for a random shopper's first page (`size=20`; each
shopper holds about `--orders / --shoppers` archived orders), in a closed loop at each `--clients`; the direct
baseline sends the API's two prepared statements (the shopper's years, then the page of the newest year, `LIMIT 20`)
over the driver from this process at the same concurrency. Removes everything it made at the end (its orders in MySQL
and in the archive, the baseline's keyspace, the shoppers and items).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import aiohttp
import psutil

from app.bootstrap import migrate_cassandra
from app.builder import open_stores
from archival.archive import STATEMENTS, WRITES, stored_form
from archival.finished import FinishedOrders
from bench.archive_data import Made, finished_orders, leftovers, remove_made
from bench.harness import api_server, closed_loop, cpu_figures, cpu_spent, report, stack_pids
from infra import connections
from infra.cassandra_async import answer
from infra.settings import get_settings

PAGE = 20
WARMUP_SECONDS = 3
SUMMARY = re.compile(r"archived (\d+) orders in (\d+) batches; (\d+) did not verify, (\d+) changed")


@dataclass
class Measured:
    """One timed run: what it moved, how long it took, the CPU seconds each process spent, and other figures."""

    title: str
    orders: int
    seconds: float
    spent: dict[str, float]
    figures: dict = field(default_factory=dict)

    def report(self) -> None:
        report(self.title, {"orders": self.orders, "seconds": self.seconds, "orders/s": self.orders / self.seconds,
                            **self.figures, **cpu_figures(self.spent, self.orders, "order", self.seconds),
                            "other processes (cores busy)": others(self.spent, self.seconds)})

    def cpu_per_order(self) -> float:
        return sum(used for name, used in self.spent.items() if name != "machine") / self.orders


def total(title: str, runs: list[Measured]) -> Measured:
    spent: dict[str, float] = defaultdict(float)
    for measured in runs:
        for name, used in measured.spent.items():
            spent[name] += used
    return Measured(title, sum(m.orders for m in runs), sum(m.seconds for m in runs), dict(spent))


async def run(args) -> None:
    settings, started = get_settings(), time.monotonic()
    made = Made(f"bench-ar-{uuid.uuid4().hex[:8]}")
    keyspace = f"bench_archive_{uuid.uuid4().hex[:8]}"
    async with open_stores(settings) as stores:
        try:
            await finished_orders(settings, stores, made, args.shoppers, args.orders)
            finished = FinishedOrders(stores.mysql)
            docs = [doc for start in range(0, len(made.orders), 1000)
                    for doc in await finished.documents(made.orders[start:start + 1000])]
            due = len(await finished.due(datetime.now(UTC).replace(tzinfo=None), 10_000_000))
            report("set-up", {"finished orders made (through the API, then cloned)": len(made.orders),
                              "of them through the API": len(made.templates),
                              "finished orders due in MySQL, all": due, "seconds": time.monotonic() - started})
            session = await stores.cassandra_session()
            pids = {"cassandra": stack_pids(settings)["cassandra"], "mysql": stack_pids(settings)["mysql"]}
            await asyncio.to_thread(migrate_cassandra, settings, keyspace)
            bare, archived = await archive_rounds(settings, session, keyspace, docs, pids, args)
            bare_all, archived_all = total("bare insert, all rounds", bare), total("archiver, all rounds", archived)
            bare_all.report()
            archived_all.report()
            report("ratio archiver / bare insert, orders/s", {
                **{f"round {n}": a.orders / a.seconds / (b.orders / b.seconds)
                   for n, (b, a) in enumerate(zip(bare, archived), 1)},
                "all rounds": archived_all.orders / archived_all.seconds / (bare_all.orders / bare_all.seconds),
                "all rounds, of the ceilings (CPU per order of the measured processes)":
                    bare_all.cpu_per_order() / archived_all.cpu_per_order()})
            await history(settings, session, pids["cassandra"], made, args)
        finally:
            try:
                session = await stores.cassandra_session()
                await asyncio.to_thread(session.execute, f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)
            finally:
                report("removed", await remove_made(stores, made))
                report("whole run", {"seconds": time.monotonic() - started})


async def remove_leftovers() -> None:
    """What earlier runs left behind (`--remove-leftovers`), and their baseline keyspaces."""
    async with open_stores(get_settings()) as stores:
        for made in await leftovers(stores):
            report(f"removed the leftovers of {made.prefix}", await remove_made(stores, made))
        session = await stores.cassandra_session()
        for (name,) in await asyncio.to_thread(session.execute, "SELECT keyspace_name FROM system_schema.keyspaces"):
            if name.startswith("bench_archive_"):
                await asyncio.to_thread(session.execute, f"DROP KEYSPACE {name}", timeout=120)
                report("dropped", {"keyspace": name})


async def archive_rounds(settings, session, keyspace: str, docs: list[dict], pids: dict[str, int], args
                         ) -> tuple[list[Measured], list[Measured]]:
    """The documents in `--rounds` parts, and per part the bare insert of its rows, then the archiver over as many
    orders (the last round: over every order still due); each after Cassandra has gone quiet. Alternating the two
    spreads whatever else the shared machine runs over both."""
    bare: list[Measured] = []
    archived: list[Measured] = []
    size = -(-len(docs) // args.rounds)
    for n, start in enumerate(range(0, len(docs), size), 1):
        part, last = docs[start:start + size], start + size >= len(docs)
        report(f"round {n}: waited for Cassandra to go quiet", await asyncio.to_thread(quiet, session, pids["cassandra"]))
        bare.append(await asyncio.to_thread(bare_insert, settings, keyspace, part, pids, args.concurrency))
        bare[-1].title = f"round {n}: {bare[-1].title}"
        bare[-1].report()
        report(f"round {n}: waited for Cassandra to go quiet", await asyncio.to_thread(quiet, session, pids["cassandra"]))
        archived.append(await asyncio.to_thread(archive, pids, None if last else len(part)))
        archived[-1].title = f"round {n}: {archived[-1].title}"
        archived[-1].report()
    return bare, archived


# --- archiving ---
def archive(pids: dict[str, int], limit: int | None) -> Measured:
    """`shop archive --older-than 0 [--limit N]` as its own process: its orders/s, CPU per order of it, Cassandra and
    MariaDB, and where its time went (from the `--steps` lines)."""
    steps: list[tuple[float, str, int]] = []
    lines: list[str] = []
    command = ["archive", "--older-than", "0", "--steps", *(["--limit", str(limit)] if limit else [])]
    began = time.monotonic()
    child = subprocess.Popen([sys.executable, "-m", "app.cli", *command], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, env={**os.environ, "COLUMNS": "200"})

    def read() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("step "):
                _, step, count = line.split()
                steps.append((time.monotonic(), step, int(count)))
            else:
                lines.append(line.rstrip())

    reader = threading.Thread(target=read)
    reader.start()
    with cpu_spent(pids) as spent:
        _, status, usage = os.wait4(child.pid, 0)  # the kernel's account of the child's CPU, taken as it ends
    ended = time.monotonic()
    child.returncode = os.waitstatus_to_exitcode(status)
    reader.join()
    found = next((SUMMARY.search(line) for line in lines if SUMMARY.search(line)), None)
    if found is None:
        raise RuntimeError("shop archive printed no summary:\n" + "\n".join(lines[-20:]))
    archived, batches, unverified, changed = (int(n) for n in found.groups())
    return Measured(f"archiver: shop {' '.join(command)}, as its own process", archived, ended - began,
                    {"archiver": usage.ru_utime + usage.ru_stime, **spent},
                    {"batches": batches, "did not verify / changed meanwhile": f"{unverified} / {changed}",
                     "exit code": child.returncode, **step_times(began, ended, steps)})


def step_times(began: float, ended: float, steps: list[tuple[float, str, int]]) -> dict:
    """Seconds spent in each step of the batches (each step's time runs from the end of the step before it), before
    the first batch (start-up, counting what is due) and after the last (late refunds, shutting down)."""
    spent: dict[str, float] = defaultdict(float)
    names = {"read": "due + documents (MySQL)", "written": "write (Cassandra)", "verified": "read back + compare",
             "removed": "remove (MySQL transaction)"}
    previous = None
    for at, step, _ in steps:
        if previous is not None:
            spent[names[step]] += at - previous
        previous = at
    first = steps[0][0] if steps else ended
    return {"s before the first batch": first - began,
            **{f"s in batches: {name}": spent[name] for name in names.values()},
            "s after the last batch": ended - (previous or ended)}


# --- the baseline ---
def bare_insert(settings, keyspace: str, docs: list[dict], pids: dict[str, int], concurrency: int) -> Measured:
    """The documents' distinct rows into the baseline's keyspace with the same prepared INSERTs, `concurrency` in
    flight."""
    from cassandra import ConsistencyLevel
    from cassandra.concurrent import execute_concurrent

    cluster = connections.cassandra(settings)
    try:
        session = cluster.connect()
        prepared = {}
        for name in WRITES:
            prepared[name] = session.prepare(STATEMENTS[name].replace("{ks}", keyspace))
            prepared[name].consistency_level = ConsistencyLevel.name_to_value[settings.cassandra_write_consistency]
        building = time.monotonic()
        now = datetime.now(UTC)
        rows = dict.fromkeys((name, params) for doc in docs for name, params in rows_of(doc, now))
        requests = [(prepared[name], params) for name, params in rows]
        built = time.monotonic() - building
        began = time.monotonic()
        with cpu_spent({"benchmark (driver)": os.getpid(), **pids}) as spent:
            for ok, error in execute_concurrent(session, requests, concurrency=concurrency, raise_on_first_error=True,
                                                results_generator=True):
                assert ok, error
        seconds = time.monotonic() - began
    finally:
        cluster.shutdown()
    return Measured(f"bare insert: execute_concurrent of the same rows, {concurrency} in flight, own keyspace",
                    len(docs), seconds, spent, {"rows": len(requests), "rows/s": len(requests) / seconds,
                                                "s building the rows (not timed)": built})


def rows_of(doc: dict, now: datetime) -> list[tuple[str, tuple]]:
    """An order's rows, by the INSERT they go to: what the archive writes of it."""
    stored = stored_form(doc)
    micros, year, month = stored.micros, stored.year, stored.month
    rows = [("by_id", (doc["order_id"], doc["user_id"], doc["status"], datetime.fromisoformat(doc["created_at"]),
                       doc["total"]["currency"], Decimal(doc["total"]["amount"]), stored.text, now)),
            ("by_user", (doc["user_id"], year, micros, doc["order_id"], doc["status"], stored.text)),
            ("user_year", (doc["user_id"], year))]
    for seller_id, view in stored.views.items():
        rows += [("by_seller", (seller_id, month, micros, doc["order_id"], doc["status"], view)),
                 ("seller_month", (seller_id, month))]
    return rows


def others(spent: dict[str, float], seconds: float) -> float:
    """Cores that processes other than the measured ones kept busy meanwhile (the machine is shared)."""
    return (spent["machine"] - sum(used for name, used in spent.items() if name != "machine")) / seconds


def quiet(session, pid: int, timeout: float = 90) -> dict:
    """Wait until Cassandra runs no compaction and its JVM used under a tenth of a core over the last second."""
    process, began = psutil.Process(pid), time.monotonic()
    process.cpu_percent()
    while time.monotonic() - began < timeout:
        time.sleep(1)
        tasks = list(session.execute("SELECT kind FROM system_views.sstable_tasks"))
        if process.cpu_percent() < 10 and not tasks:
            break
    return {"seconds": time.monotonic() - began}


# --- history reads ---
async def history(settings, session, cassandra_pid: int, made: Made, args) -> None:
    """Each shopper's first page through the API, and its two queries straight to Cassandra (rows as plain tuples,
    the leanest the driver gives), at each concurrency."""
    from cassandra.cluster import EXEC_PROFILE_DEFAULT
    from cassandra.query import tuple_factory

    shoppers = made.shoppers
    prepared = {name: await asyncio.to_thread(session.prepare,
                                              STATEMENTS[name].replace("{ks}", settings.cassandra_keyspace))
                for name in ("years", "user_page")}
    tuples = session.execution_profile_clone_update(EXEC_PROFILE_DEFAULT, row_factory=tuple_factory)

    async def query(name: str, params: tuple) -> list:
        return list(await answer(session.execute_async(prepared[name], params, execution_profile=tuples)) or [])

    stack = {"cassandra": cassandra_pid}
    with api_server(settings) as (base_url, api_pid):
        async with aiohttp.ClientSession(base_url, connector=aiohttp.TCPConnector(limit=max(args.clients)),
                                         timeout=aiohttp.ClientTimeout(total=60)) as http:
            async def through_api(client: int) -> bool:
                user_id, token = random.choice(shoppers)
                async with http.get(f"/v1/history/users/{user_id}/orders", params={"size": str(PAGE)},
                                    headers={"Authorization": f"Bearer {token}"}) as response:
                    body = await response.json()
                    return response.status == 200 and len(body["orders"]) == PAGE

            async def direct(client: int) -> bool:
                user_id, _ = random.choice(shoppers)
                years = [year for (year,) in await query("years", (user_id,))]
                return len(await query("user_page", (user_id, max(years), PAGE))) == PAGE

            pids = {"API server": api_pid, "benchmark client": os.getpid(), **stack}
            results = {}
            for clients in args.clients:
                for name, attempt in (("API", through_api), ("direct", direct)):
                    await asyncio.to_thread(quiet, session, cassandra_pid)
                    await closed_loop(clients, WARMUP_SECONDS, attempt)
                    with cpu_spent(pids if name == "API" else {"benchmark client": os.getpid(), **stack}) as spent:
                        figures = await closed_loop(clients, args.seconds, attempt)
                    figures.update(cpu_figures(spent, max(figures["ok"], 1), "request", figures["seconds"]))
                    figures["other processes (cores busy)"] = others(spent, figures["seconds"])
                    results[name, clients] = figures
                    title = (f"GET /v1/history/users/{{id}}/orders?size={PAGE}" if name == "API" else
                             f"direct: years + first page LIMIT {PAGE}, prepared, over the driver")
                    report(f"{title}, {clients} concurrent clients", figures)
    for clients in args.clients:
        api, direct_ = results["API", clients], results["direct", clients]
        report(f"ratio API / direct, {clients} clients", {"p50": api["p50_ms"] / direct_["p50_ms"],
                                                         "p99": api["p99_ms"] / direct_["p99_ms"],
                                                         "requests/s": api["per_s"] / direct_["per_s"]})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=50_000, help="finished orders to make (at least)")
    parser.add_argument("--shoppers", type=int, default=100, help="shoppers whose orders are made through the API")
    parser.add_argument("--concurrency", type=int, default=128, help="requests in flight of the bare insert")
    parser.add_argument("--clients", type=int, action="append", help="concurrent history clients (repeatable; "
                                                                       "default 1 and 16)")
    parser.add_argument("--seconds", type=float, default=15, help="each history run")
    parser.add_argument("--rounds", type=int, default=2, help="parts the orders are archived in, each after the "
                        "bare insert of as many")
    parser.add_argument("--remove-leftovers", action="store_true", help="only remove what earlier runs that were "
                        "stopped left in the stores, and exit")
    args = parser.parse_args()
    args.clients = args.clients or [1, 16]
    asyncio.run(remove_leftovers() if args.remove_leftovers else run(args))


if __name__ == "__main__":
    main()
