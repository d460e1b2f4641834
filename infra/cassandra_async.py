"""The cassandra-driver's requests awaited on an asyncio loop: the driver answers on its own thread, so each answer is
handed to the loop that asked (`call_soon_threadsafe`); no thread waits for a request."""

from __future__ import annotations

import asyncio
from typing import Any


def answer(response: Any) -> asyncio.Future:
    """The rows of the first page of a driver ResponseFuture, as a future of the running loop."""
    loop = asyncio.get_running_loop()
    answered = loop.create_future()

    def settle(rows: Any = None, error: BaseException | None = None) -> None:
        if answered.done():  # the caller gave up already (a timeout)
            return
        if error is not None:
            answered.set_exception(error)
        else:
            answered.set_result(rows)

    response.add_callbacks(lambda rows: loop.call_soon_threadsafe(settle, rows),
                           lambda error: loop.call_soon_threadsafe(settle, None, error))
    return answered


async def execute(session: Any, statement: Any, params: Any = None, timeout: float | None = None) -> list:
    """One statement's rows (its first page: bounded queries only)."""
    return list(await answer(session.execute_async(statement, params, timeout=timeout)) or [])
