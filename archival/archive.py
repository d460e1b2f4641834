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
from infra.cassandra_async import answer

STATEMENTS = {
    "by_id": "INSERT INTO {ks}.orders_by_id (order_id, user_id, status, created_at, currency, total, doc, archived_at) "
             "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    "by_user": "INSERT INTO {ks}.orders_by_user (user_id, year, created_us, order_id, status, doc) VALUES (?, ?, ?, ?, ?, ?)",
    "user_year": "INSERT INTO {ks}.user_order_years (user_id, year) VALUES (?, ?)",
    "by_seller": "INSERT INTO {ks}.orders_by_seller (seller_id, month, created_us, order_id, status, doc) "
                 "VALUES (?, ?, ?, ?, ?, ?)",
    "seller_month": "INSERT INTO {ks}.seller_order_months (seller_id, month) VALUES (?, ?)",
    "get": "SELECT doc FROM {ks}.orders_by_id WHERE order_id = ?",
    # The read-back of a batch: orders by their ids, and rows of one partition by their keys, many a request.
    "get_by_ids": "SELECT order_id, doc FROM {ks}.orders_by_id WHERE order_id IN ?",
    "get_user_rows": "SELECT created_us, order_id, doc FROM {ks}.orders_by_user WHERE user_id = ? AND year = ? "
                     "AND (created_us, order_id) IN ?",
    "get_seller_rows": "SELECT created_us, order_id, doc FROM {ks}.orders_by_seller WHERE seller_id = ? AND month = ? "
                       "AND (created_us, order_id) IN ?",
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
IN_KEYS = 100  # rows read back by one request


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
        self._tuples: Any = None  # the execution profile of every read here: rows as plain tuples
        # The documents last written and how they were stored, by order id: their read-back compares with these
        # rather than encoding the same documents again.
        self._written: dict[str, tuple[dict, Stored]] = {}

    async def _session(self) -> tuple[Any, dict[str, Any]]:
        """The keyspace's session and its prepared statements, made once (a failed attempt is tried again)."""
        if self._ready is None or (self._ready.done() and self._ready.exception() is not None):
            self._ready = asyncio.ensure_future(asyncio.to_thread(self._connect))
        return await asyncio.shield(self._ready)

    def _connect(self) -> tuple[Any, dict[str, Any]]:
        from cassandra import ConsistencyLevel
        from cassandra.cluster import EXEC_PROFILE_DEFAULT
        from cassandra.query import tuple_factory

        session = self.cluster.connect()
        # The driver's default rows are namedtuples of a class it makes anew for every answer (hundreds of
        # microseconds of CPU a read); these reads take their columns by position.
        self._tuples = session.execution_profile_clone_update(EXEC_PROFILE_DEFAULT, row_factory=tuple_factory)
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
        self._written = {doc["order_id"]: (doc, stored_form(doc)) for doc in docs}
        # A row several orders of the batch share (a shopper's year, a seller's month) is written once.
        await self._run(session, list(dict.fromkeys(request for doc in docs
                                                    for request in _rows(ps, doc, now, self._stored(doc)))))

    async def unverified(self, docs: list[dict]) -> list[str]:
        """The ids of the orders whose rows do not all read back as written (empty when every one does). Every
        row written with a document is read back by its full key and compared: the rows by id `IN_KEYS` orders a
        request, and a shopper's year's or a seller's month's rows together with the batch's other rows of that
        partition (up to `IN_KEYS` a request), not one request a row."""
        session, ps = await self._session()
        expected: dict[tuple, tuple[str, str]] = {}  # (partition, row's key) -> (order id, its stored text)
        keys: dict[tuple, list] = {}  # what to read: per partition (the rows by id as one), the rows' keys
        for doc in docs:
            order_id, stored = doc["order_id"], self._stored(doc)
            key = (stored.micros, order_id)
            places = [(("get_by_ids",), order_id, stored.text),
                      (("get_user_rows", doc["user_id"], stored.year), key, stored.text)]
            places += [(("get_seller_rows", seller_id, stored.month), key, text)
                       for seller_id, text in stored.views.items()]
            for partition, key, text in places:
                keys.setdefault(partition, []).append(key)
                expected[partition, key] = order_id, text
        reads = [(partition, (ps[partition[0]], (*partition[1:], wanted[start:start + IN_KEYS])))
                 for partition, wanted in keys.items() for start in range(0, len(wanted), IN_KEYS)]
        found = await self._run(session, [request for _, request in reads], self._tuples)
        read = {(partition, row[0] if len(row) == 2 else row[:2]): row[-1]  # (order_id, doc), (created_us, order_id, doc)
                for (partition, _), rows in zip(reads, found) for row in rows}
        return sorted({order_id for place, (order_id, text) in expected.items() if read.get(place) != text})

    def _stored(self, doc: dict) -> Stored:
        """How the document is stored, worked out once when this very document was written."""
        written = self._written.get(doc["order_id"])
        return written[1] if written is not None and written[0] is doc else stored_form(doc)

    async def _run(self, session: Any, requests: list[tuple[Any, tuple]], profile: Any = None) -> list[list]:
        """The requests, at most `concurrency` in flight; their rows (first page) in order. The first failure is
        raised once the requests in flight have ended. The driver's own executor starts each next request from its
        event thread as one ends, and the event loop is woken once, when all have ended."""
        from cassandra.cluster import EXEC_PROFILE_DEFAULT
        from cassandra.concurrent import execute_concurrent_async

        if not requests:
            return []
        ended = await asyncio.wrap_future(execute_concurrent_async(session, requests, concurrency=self.concurrency,
                                                                   raise_on_first_error=True,
                                                                   execution_profile=profile or EXEC_PROFILE_DEFAULT))
        return [list(rows.current_rows) for _, rows in ended]

    # --- reading ---
    async def _read(self, session: Any, statement: Any, params: tuple) -> list[tuple]:
        """One bounded read's rows (its first page), as tuples."""
        return list(await answer(session.execute_async(statement, params, execution_profile=self._tuples)) or [])

    async def get(self, order_id: str) -> dict | None:
        session, ps = await self._session()
        rows = await self._read(session, ps["get"], (order_id,))
        return json.loads(rows[0][0]) if rows else None

    async def for_user(self, user_id: str, below: Position | None, limit: int) -> list[dict]:
        """The shopper's archived orders, newest first, below `below` (from the newest when None)."""
        session, ps = await self._session()
        years = [year for (year,) in await self._read(session, ps["years"], (user_id,))]
        return await self._page(session, ps["user_page"], ps["user_page_below"], user_id, years, year_of, below, limit)

    async def for_seller(self, seller_id: str, below: Position | None, limit: int) -> list[dict]:
        """The seller's view of its archived orders, newest first, below `below`."""
        session, ps = await self._session()
        months = [month for (month,) in await self._read(session, ps["months"], (seller_id,))]
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
                rows = await self._read(session, after, (owner, bucket, below[0], below[1], limit - len(found)))
            else:
                rows = await self._read(session, first, (owner, bucket, limit - len(found)))
            found += [json.loads(doc) for (doc,) in rows]
            if len(found) >= limit:
                break
        return found


@dataclass(frozen=True)
class Stored:
    """An order as the archive stores it: its creation time in microseconds, its shopper's year and its sellers'
    month (the partitions), its document's text and each seller's view's text."""

    micros: int
    year: int
    month: int
    text: str
    views: dict[str, str]


def stored_form(doc: dict) -> Stored:
    micros = created_us(doc)
    return Stored(micros, year_of(micros), month_of(micros), encode(doc),
                  {seller_id: encode(seller_view(doc, seller_id)) for seller_id in sellers_of(doc)})


def _rows(ps: dict[str, Any], doc: dict, now: datetime, stored: Stored) -> list[tuple[Any, tuple]]:
    micros, year, month = stored.micros, stored.year, stored.month
    created = datetime.fromisoformat(doc["created_at"])
    rows = [
        (ps["by_id"], (doc["order_id"], doc["user_id"], doc["status"], created, doc["total"]["currency"],
                       Decimal(doc["total"]["amount"]), stored.text, now)),
        (ps["by_user"], (doc["user_id"], year, micros, doc["order_id"], doc["status"], stored.text)),
        (ps["user_year"], (doc["user_id"], year)),
    ]
    for seller_id, view in stored.views.items():
        rows.append((ps["by_seller"], (seller_id, month, micros, doc["order_id"], doc["status"], view)))
        rows.append((ps["seller_month"], (seller_id, month)))
    return rows
