"""Cassandra adapter of the order archive: writes an order's rows to every table it belongs in (concurrently, with
prepared statements), reads them back to verify them, and answers the three questions asked of it: one order by id, a
shopper's orders and a seller's orders, newest first, paged across their partitions (a shopper's years, a seller's
months). Connects on first use, so a process starts even while Cassandra is away."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from archival.model import Position, created_us, month_of, seller_view, sellers_of, year_of
from infra.cassandra_async import answer, execute

STATEMENTS = {
    "by_id": "INSERT INTO {ks}.orders_by_id (order_id, user_id, status, created_at, currency, total, doc, archived_at) "
             "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    "by_user": "INSERT INTO {ks}.orders_by_user (user_id, year, created_us, order_id, status, doc) VALUES (?, ?, ?, ?, ?, ?)",
    "user_year": "INSERT INTO {ks}.user_order_years (user_id, year) VALUES (?, ?)",
    "by_seller": "INSERT INTO {ks}.orders_by_seller (seller_id, month, created_us, order_id, status, doc) "
                 "VALUES (?, ?, ?, ?, ?, ?)",
    "seller_month": "INSERT INTO {ks}.seller_order_months (seller_id, month) VALUES (?, ?)",
    "get": "SELECT doc FROM {ks}.orders_by_id WHERE order_id = ?",
    "get_user_row": "SELECT doc FROM {ks}.orders_by_user WHERE user_id = ? AND year = ? AND created_us = ? AND order_id = ?",
    "get_seller_row": "SELECT doc FROM {ks}.orders_by_seller WHERE seller_id = ? AND month = ? AND created_us = ? "
                      "AND order_id = ?",
    "years": "SELECT year FROM {ks}.user_order_years WHERE user_id = ?",
    "months": "SELECT month FROM {ks}.seller_order_months WHERE seller_id = ?",
    "user_page": "SELECT doc FROM {ks}.orders_by_user WHERE user_id = ? AND year = ? LIMIT ?",
    "user_page_below": "SELECT doc FROM {ks}.orders_by_user WHERE user_id = ? AND year = ? AND (created_us, order_id) < (?, ?) "
                       "LIMIT ?",
    "seller_page": "SELECT doc FROM {ks}.orders_by_seller WHERE seller_id = ? AND month = ? LIMIT ?",
    "seller_page_below": "SELECT doc FROM {ks}.orders_by_seller WHERE seller_id = ? AND month = ? "
                         "AND (created_us, order_id) < (?, ?) LIMIT ?",
}
WRITES = {"by_id", "by_user", "user_year", "by_seller", "seller_month"}


def encode(doc: dict) -> str:
    """The stored form of a document: canonical JSON, so the read-back compares byte for byte."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Consistency:
    write: str = "ONE"
    read: str = "ONE"


class OrderArchive:
    def __init__(self, cluster: Any, keyspace: str, consistency: Consistency = Consistency(),
                 concurrency: int = 128) -> None:
        self.cluster, self.keyspace, self.consistency = cluster, keyspace, consistency
        self.concurrency = concurrency
        self._ready: asyncio.Future | None = None

    async def _session(self) -> tuple[Any, dict[str, Any]]:
        """The keyspace's session and its prepared statements, made once (a failed attempt is tried again)."""
        if self._ready is None or (self._ready.done() and self._ready.exception() is not None):
            self._ready = asyncio.ensure_future(asyncio.to_thread(self._connect))
        return await asyncio.shield(self._ready)

    def _connect(self) -> tuple[Any, dict[str, Any]]:
        from cassandra import ConsistencyLevel

        session = self.cluster.connect()
        write = ConsistencyLevel.name_to_value[self.consistency.write]
        read = ConsistencyLevel.name_to_value[self.consistency.read]
        prepared = {}
        for name, cql in STATEMENTS.items():
            statement = session.prepare(cql.replace("{ks}", self.keyspace))
            statement.consistency_level = write if name in WRITES else read
            prepared[name] = statement
        return session, prepared

    # --- writing and verifying ---
    async def write(self, docs: list[dict]) -> None:
        """Every row of every order (idempotent: the same document writes the same rows)."""
        session, ps = await self._session()
        now = datetime.now(UTC)
        await self._run(session, [request for doc in docs for request in _rows(ps, doc, now)])

    async def unverified(self, docs: list[dict]) -> list[str]:
        """The ids of the orders whose rows do not all read back as written (empty when every one does)."""
        session, ps = await self._session()
        checks: list[tuple[str, Any, tuple, str]] = []
        for doc in docs:
            micros, stored = created_us(doc), encode(doc)
            checks.append((doc["order_id"], ps["get"], (doc["order_id"],), stored))
            checks.append((doc["order_id"], ps["get_user_row"],
                           (doc["user_id"], year_of(micros), micros, doc["order_id"]), stored))
            for seller_id in sellers_of(doc):
                checks.append((doc["order_id"], ps["get_seller_row"],
                               (seller_id, month_of(micros), micros, doc["order_id"]),
                               encode(seller_view(doc, seller_id))))
        found = await self._run(session, [(statement, params) for _, statement, params, _ in checks])
        return sorted({order_id for (order_id, _, _, stored), rows in zip(checks, found)
                       if not rows or rows[0].doc != stored})

    async def _run(self, session: Any, requests: list[tuple[Any, tuple]]) -> list[list]:
        """The requests, at most `concurrency` in flight; their rows in order. The first failure is raised once the
        requests in flight have ended."""
        results: list[list] = [[] for _ in requests]
        for start in range(0, len(requests), self.concurrency):
            chunk = requests[start:start + self.concurrency]
            answers = await asyncio.gather(*(answer(session.execute_async(statement, params))
                                             for statement, params in chunk), return_exceptions=True)
            for n, rows in enumerate(answers, start):
                if isinstance(rows, BaseException):
                    raise rows
                results[n] = list(rows or [])
        return results

    # --- reading ---
    async def get(self, order_id: str) -> dict | None:
        session, ps = await self._session()
        rows = await execute(session, ps["get"], (order_id,))
        return json.loads(rows[0].doc) if rows else None

    async def for_user(self, user_id: str, below: Position | None, limit: int) -> list[dict]:
        """The shopper's archived orders, newest first, below `below` (from the newest when None)."""
        session, ps = await self._session()
        years = [row.year for row in await execute(session, ps["years"], (user_id,))]
        return await self._page(session, ps["user_page"], ps["user_page_below"], user_id, years, year_of, below, limit)

    async def for_seller(self, seller_id: str, below: Position | None, limit: int) -> list[dict]:
        """The seller's view of its archived orders, newest first, below `below`."""
        session, ps = await self._session()
        months = [row.month for row in await execute(session, ps["months"], (seller_id,))]
        return await self._page(session, ps["seller_page"], ps["seller_page_below"], seller_id, months, month_of,
                                below, limit)

    async def _page(self, session: Any, first: Any, after: Any, owner: str, buckets: list[int], bucket_of,
                    below: Position | None, limit: int) -> list[dict]:
        """Up to `limit` documents from the owner's buckets (newest first), starting below `below`."""
        found: list[dict] = []
        start = bucket_of(below[0]) if below else None
        for bucket in sorted(buckets, reverse=True):
            if start is not None and bucket > start:
                continue
            if below is not None and bucket == start:
                rows = await execute(session, after, (owner, bucket, below[0], below[1], limit - len(found)))
            else:
                rows = await execute(session, first, (owner, bucket, limit - len(found)))
            found += [json.loads(row.doc) for row in rows]
            if len(found) >= limit:
                break
        return found


def _rows(ps: dict[str, Any], doc: dict, now: datetime) -> list[tuple[Any, tuple]]:
    micros, stored = created_us(doc), encode(doc)
    year = year_of(micros)
    created = datetime.fromisoformat(doc["created_at"])
    rows = [
        (ps["by_id"], (doc["order_id"], doc["user_id"], doc["status"], created, doc["total"]["currency"],
                       Decimal(doc["total"]["amount"]), stored, now)),
        (ps["by_user"], (doc["user_id"], year, micros, doc["order_id"], doc["status"], stored)),
        (ps["user_year"], (doc["user_id"], year)),
    ]
    for seller_id in sellers_of(doc):
        month = month_of(micros)
        rows.append((ps["by_seller"], (seller_id, month, micros, doc["order_id"], doc["status"],
                                       encode(seller_view(doc, seller_id)))))
        rows.append((ps["seller_month"], (seller_id, month)))
    return rows
