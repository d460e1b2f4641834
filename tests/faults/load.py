"""The fault tests' load: bounded sets of requests through the real API, each sent again (the same body, the same
Idempotency-Key or gateway event id) while the answer is a 5xx or no answer at all, as a real client or gateway would;
and the phases that put part of a load before a fault, part while the engine is down, and the rest after."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from tests.orders.conftest import Buyer, Shop

ATTEMPT_SECONDS = 30  # an answer that does not come is a failed attempt too
RETRY_FOR_SECONDS = 100  # how long a request is sent again before the test gives up on it


@dataclass
class Tally:
    """What a load sent: every attempt, and the attempts that failed (a 5xx, or no answer) and were sent again."""

    sent: int = 0
    failed: int = 0
    failures: Counter[str] = field(default_factory=Counter)  # what the failed attempts got, for the report

    def summary(self) -> str:
        return f"{self.sent} requests sent, {self.failed} failed and sent again ({dict(self.failures) or 'none'})"


async def until_answered(tally: Tally, send: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
    """The first answer to `send()` that is not a 5xx, sending it again with backoff meanwhile."""
    give_up_at, pause = time.monotonic() + RETRY_FOR_SECONDS, 0.1
    while True:
        tally.sent += 1
        try:
            async with asyncio.timeout(ATTEMPT_SECONDS):
                response = await send()
            if response.status_code < 500:
                return response
            failure = f"{response.status_code}"
        except (httpx.HTTPError, TimeoutError) as error:
            failure = type(error).__name__
        tally.failed += 1
        tally.failures[failure] += 1
        if time.monotonic() > give_up_at:
            raise AssertionError(f"no answer but {failure} for {RETRY_FOR_SECONDS}s")
        await asyncio.sleep(pause)
        pause = min(pause * 2, 1.0)


Operation = Callable[[], Awaitable[object]]


async def run_all(operations: list[Operation], clients: int, on_done: Callable[[], None] = lambda: None) -> None:
    """Runs the operations with at most `clients` of them at a time (a client takes the next when it is done)."""
    slots = asyncio.Semaphore(clients)

    async def one(operation: Operation) -> None:
        async with slots:
            await operation()
        on_done()

    await asyncio.gather(*(one(operation) for operation in operations))


async def around_fault(fault: Callable[[asyncio.Event], Awaitable[float]], *, before: list[Operation],
                       during: list[Operation], after: list[Operation], clients: int = 8) -> float:
    """A load in three parts around `fault` (which sets the event once the engine is down): it strikes when half of
    `before` is done, so the rest of it is in flight at that moment; `during` starts once the engine is down, `after`
    once the fault is over (the engine healthy again). Returns the fault's seconds of outage."""
    done, half_done = 0, asyncio.Event()

    def count() -> None:
        nonlocal done
        done += 1
        if done >= len(before) // 2:
            half_done.set()

    loads = [asyncio.ensure_future(run_all(before, clients, count))]
    await _until(half_done, loads[0])
    down = asyncio.Event()
    faulting = asyncio.ensure_future(fault(down))
    try:
        await _until(down, faulting)
        loads.append(asyncio.ensure_future(run_all(during, clients)))
        seconds = await faulting
        loads.append(asyncio.ensure_future(run_all(after, clients)))
    finally:
        await asyncio.gather(*loads)
    return seconds


async def _until(event: asyncio.Event, task: asyncio.Future) -> None:
    """Until `event` is set, or `task` is done: then what it raised is raised here (the task is left running)."""
    waiter = asyncio.ensure_future(event.wait())
    await asyncio.wait([waiter, task], return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if task.done() and not event.is_set():
        task.result()


@dataclass
class OrderLoad:
    """Shoppers placing orders through the API: the n-th order has the lines `lines(n)` and its own Idempotency-Key,
    kept across its attempts."""

    shop: Shop
    buyers: list[Buyer]
    lines: Callable[[int], list[tuple[str, int]]]
    tally: Tally = field(default_factory=Tally)
    placed: dict[int, dict] = field(default_factory=dict)  # order number -> the order its 201 answer gave
    keys: dict[int, str] = field(default_factory=dict)
    refused: Counter[str] = field(default_factory=Counter)  # what the orders that got no order were answered
    replayed: int = 0  # answers that were the order an earlier, failed-looking attempt had already made
    count: int = 0

    def numbers(self, count: int) -> range:
        """The numbers of the next `count` orders."""
        self.count += count
        return range(self.count - count, self.count)

    async def place(self, number: int) -> dict | None:
        """Order `number`, sent until answered; the order, or None when it was refused (say, out of stock)."""
        key = self.keys.setdefault(number, f"faults-{number}-{uuid.uuid4().hex}")
        buyer = self.buyers[number % len(self.buyers)]
        answer = await until_answered(self.tally, lambda: self.shop.order(buyer, self.lines(number), key=key))
        if answer.status_code != 201:
            self.refused[f"{answer.status_code} {answer.json()['error']}"] += 1
            return None
        self.replayed += answer.headers.get("Idempotent-Replayed") == "true"
        self.placed[number] = answer.json()
        return self.placed[number]

    def orders(self, count: int) -> list[Operation]:
        """The next `count` orders, to run."""
        return [lambda n=n: self.place(n) for n in self.numbers(count)]

    async def place_many(self, count: int, clients: int = 8) -> None:
        await run_all(self.orders(count), clients)

    @property
    def order_ids(self) -> list[str]:
        return [order["order_id"] for order in self.placed.values()]

    def summary(self) -> str:
        return (f"{self.count} orders, {len(self.placed)} accepted (201; {self.replayed} of them on a retry, answered "
                f"with the order the first attempt had made), refused {dict(self.refused) or 'none'}; "
                f"{self.tally.summary()}")
