"""Cassandra adapter of the recommendation models (`infra/schema/cql/0002_recommendations.cql`).

Writing (`ModelWriter`, the training job's, synchronous): a new version's rows into every table while readers keep
reading the current one; then `switch()` points `rec_current` at it with one write, and `drop_old()` removes the rows
of versions retired longer ago than the grace period. Reading (`ModelReader`, the API's, asynchronous): the pointer
first (kept for `pointer_seconds`, far shorter than the grace period, so a version a reader holds still has its rows),
then only that version's rows: nobody reads half a model."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from infra.cassandra_async import answer

MODEL = "default"
OVERALL = ""  # the category of a shopper's overall list and of the overall popular list

READS = {
    "current": "SELECT version FROM {ks}.rec_current WHERE name = ?",
    "version": "SELECT version, state, trained_at, data_until, params, rebuy_categories, item_buckets, rank, gram "
               "FROM {ks}.rec_versions WHERE version = ?",
    "for_user": "SELECT items FROM {ks}.rec_for_user WHERE user_id = ? AND version = ? AND category = ?",
    "profile": "SELECT factors, history FROM {ks}.rec_user_profile WHERE user_id = ? AND version = ?",
    "similar": "SELECT items FROM {ks}.rec_similar WHERE item_id = ? AND version = ?",
    "popular": "SELECT items FROM {ks}.rec_popular WHERE version = ? AND category = ?",
    "factors": "SELECT item_id, category, popularity, factors FROM {ks}.rec_item_factors WHERE version = ? AND bucket = ?",
}
WRITES = {
    "version": "INSERT INTO {ks}.rec_versions (version, state, trained_at, data_until, params, rebuy_categories, "
               "item_buckets, rank, gram, users, items) VALUES (?, 'writing', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "for_user": "INSERT INTO {ks}.rec_for_user (user_id, version, category, items) VALUES (?, ?, ?, ?)",
    "profile": "INSERT INTO {ks}.rec_user_profile (user_id, version, factors, history) VALUES (?, ?, ?, ?)",
    "similar": "INSERT INTO {ks}.rec_similar (item_id, version, items) VALUES (?, ?, ?)",
    "factors": ("INSERT INTO {ks}.rec_item_factors (version, bucket, item_id, category, popularity, factors) "
                "VALUES (?, ?, ?, ?, ?, ?)"),
    "popular": "INSERT INTO {ks}.rec_popular (version, category, items) VALUES (?, ?, ?)",
    "switch": "INSERT INTO {ks}.rec_current (name, version, switched_at) VALUES (?, ?, ?)",
    "state": "UPDATE {ks}.rec_versions SET state = ?, retired_at = ? WHERE version = ?",
    "drop_user": "DELETE FROM {ks}.rec_for_user WHERE user_id = ? AND version < ?",
    "drop_profile": "DELETE FROM {ks}.rec_user_profile WHERE user_id = ? AND version < ?",
    "drop_similar": "DELETE FROM {ks}.rec_similar WHERE item_id = ? AND version < ?",
    "drop_factors": "DELETE FROM {ks}.rec_item_factors WHERE version = ? AND bucket = ?",
    "drop_popular": "DELETE FROM {ks}.rec_popular WHERE version = ?",
    "drop_version": "DELETE FROM {ks}.rec_versions WHERE version = ?",
    "versions": "SELECT version, state, retired_at, item_buckets FROM {ks}.rec_versions",
}


def vector(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float32)


def blob(values: np.ndarray) -> bytes:
    return np.asarray(values, dtype=np.float32).tobytes()


def bucket_of(item_id: str, buckets: int) -> int:
    """A stable bucket of an item (the same in every process: not Python's salted `hash`)."""
    import zlib

    return zlib.crc32(item_id.encode()) % buckets


@dataclass(frozen=True)
class ModelVersion:
    """What serving needs of a version besides its rows."""

    version: int
    trained_at: datetime
    data_until: datetime  # the newest interaction it was trained on
    params: dict  # ALS hyperparameters, interaction weights and the blend the served score uses
    rebuy_categories: frozenset[str]
    item_buckets: int
    gram: np.ndarray  # Y^T Y of the item factors (rank x rank)


@dataclass
class ItemFactors:
    """A version's item factors, loaded whole: row i of `matrix` belongs to `item_ids[i]`."""

    item_ids: list[str]
    categories: list[str]
    popularity: np.ndarray
    matrix: np.ndarray
    index: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.index = {item_id: n for n, item_id in enumerate(self.item_ids)}


def _items(text: str | None) -> list[dict] | None:
    return None if text is None else json.loads(text)


class ModelReader:
    def __init__(self, cluster: Any, keyspace: str, read_consistency: str = "ONE", pointer_seconds: float = 1.0
                 ) -> None:
        self.cluster, self.keyspace, self.read_consistency = cluster, keyspace, read_consistency
        self.pointer_seconds = pointer_seconds
        self._ready: asyncio.Future | None = None
        self._pointer: tuple[float, ModelVersion | None] | None = None
        self._versions: dict[int, ModelVersion] = {}
        self._factors: dict[int, asyncio.Future] = {}

    async def _session(self) -> tuple[Any, dict[str, Any]]:
        if self._ready is None or (self._ready.done() and self._ready.exception() is not None):
            self._ready = asyncio.ensure_future(asyncio.to_thread(self._connect))
        return await asyncio.shield(self._ready)

    def _connect(self) -> tuple[Any, dict[str, Any]]:
        from cassandra import ConsistencyLevel

        session = self.cluster.connect()
        prepared = {}
        for name, cql in READS.items():
            prepared[name] = session.prepare(cql.replace("{ks}", self.keyspace))
            prepared[name].consistency_level = ConsistencyLevel.name_to_value[self.read_consistency]
        return session, prepared

    async def _rows(self, name: str, params: tuple) -> list:
        session, ps = await self._session()
        return list(await answer(session.execute_async(ps[name], params)) or [])

    async def current(self) -> ModelVersion | None:
        """The version readers use now (None before the first training)."""
        now = time.monotonic()
        if self._pointer is not None and now - self._pointer[0] < self.pointer_seconds:
            return self._pointer[1]
        rows = await self._rows("current", (MODEL,))
        version = None if not rows else await self._version(rows[0].version)
        self._pointer = (now, version)
        return version

    async def _version(self, number: int) -> ModelVersion | None:
        if number not in self._versions:
            rows = await self._rows("version", (number,))
            if not rows:
                return None
            row = rows[0]
            rank = row.rank
            self._versions[number] = ModelVersion(
                row.version, row.trained_at.replace(tzinfo=UTC), row.data_until.replace(tzinfo=UTC),
                json.loads(row.params), frozenset(row.rebuy_categories or ()), row.item_buckets,
                vector(row.gram).reshape(rank, rank))
        return self._versions[number]

    async def for_user(self, version: ModelVersion, user_id: str, category: str = OVERALL) -> list[dict] | None:
        rows = await self._rows("for_user", (user_id, version.version, category))
        return _items(rows[0].items) if rows else None

    async def profile(self, version: ModelVersion, user_id: str) -> tuple[np.ndarray, dict[str, list]] | None:
        """The shopper's factors and history: {item_id: [summed weight, times had, strongest kind]}."""
        rows = await self._rows("profile", (user_id, version.version))
        return (vector(rows[0].factors), json.loads(rows[0].history)) if rows else None

    async def similar(self, version: ModelVersion, item_id: str) -> list[dict] | None:
        rows = await self._rows("similar", (item_id, version.version))
        return _items(rows[0].items) if rows else None

    async def popular(self, version: ModelVersion, category: str = OVERALL) -> list[dict]:
        rows = await self._rows("popular", (version.version, category))
        return (_items(rows[0].items) or []) if rows else []

    async def item_factors(self, version: ModelVersion) -> ItemFactors:
        """The version's item factors, read once per process (the two newest versions are kept)."""
        if version.version not in self._factors or (self._factors[version.version].done()
                                                    and self._factors[version.version].exception() is not None):
            self._factors[version.version] = asyncio.ensure_future(self._load_factors(version))
            for old in sorted(self._factors)[:-2]:
                del self._factors[old]
        return await asyncio.shield(self._factors[version.version])

    async def _load_factors(self, version: ModelVersion) -> ItemFactors:
        parts = await asyncio.gather(*(self._rows("factors", (version.version, bucket))
                                       for bucket in range(version.item_buckets)))
        rows = sorted((row for part in parts for row in part), key=lambda row: row.item_id)
        matrix = np.stack([vector(row.factors) for row in rows]) if rows else np.zeros((0, version.gram.shape[0]),
                                                                                       np.float32)
        return ItemFactors([row.item_id for row in rows], [row.category or "" for row in rows],
                           np.array([row.popularity or 0.0 for row in rows]), matrix)


class ModelWriter:
    """One version's rows, written by the training job; `switch()` once every row is in."""

    def __init__(self, session: Any, keyspace: str, write_consistency: str = "ONE", concurrency: int = 64) -> None:
        from cassandra import ConsistencyLevel

        self.session, self.keyspace, self.concurrency = session, keyspace, concurrency
        self.prepared = {}
        for name, cql in WRITES.items():
            self.prepared[name] = session.prepare(cql.replace("{ks}", keyspace))
            self.prepared[name].consistency_level = ConsistencyLevel.name_to_value[write_consistency]
        self.current = session.prepare(READS["current"].replace("{ks}", keyspace))

    def _all(self, name: str, params: Iterable[tuple]) -> int:
        from cassandra.concurrent import execute_concurrent_with_args

        rows = list(params)
        for ok, error in execute_concurrent_with_args(self.session, self.prepared[name], rows,
                                                      concurrency=self.concurrency, raise_on_first_error=False,
                                                      results_generator=True):
            if not ok:
                raise error
        return len(rows)

    def begin(self, version: ModelVersion, users: int, items: int) -> None:
        self._all("version", [(version.version, version.trained_at, version.data_until, json.dumps(version.params),
                               set(version.rebuy_categories), version.item_buckets, version.gram.shape[0],
                               blob(version.gram), users, items)])

    def for_users(self, version: int, rows: Iterable[tuple[str, str, list[dict]]]) -> int:
        """(user_id, category, items) each."""
        return self._all("for_user", ((user, version, category, json.dumps(items)) for user, category, items in rows))

    def profiles(self, version: int, rows: Iterable[tuple[str, np.ndarray, dict[str, list]]]) -> int:
        return self._all("profile", ((user, version, blob(factors), json.dumps(history))
                                     for user, factors, history in rows))

    def similar(self, version: int, rows: Iterable[tuple[str, list[dict]]]) -> int:
        return self._all("similar", ((item, version, json.dumps(items)) for item, items in rows))

    def item_factors(self, version: ModelVersion, rows: Iterable[tuple[str, str, float, np.ndarray]]) -> int:
        """(item_id, category, popularity, factors) each."""
        return self._all("factors", ((version.version, bucket_of(item, version.item_buckets), item, category,
                                      popularity, blob(factors)) for item, category, popularity, factors in rows))

    def popular(self, version: int, rows: Iterable[tuple[str, list[dict]]]) -> int:
        return self._all("popular", ((version, category, json.dumps(items)) for category, items in rows))

    def switch(self, version: int) -> int | None:
        """Points readers at `version` (one write) and marks the version it replaces retired; returns that one."""
        now = datetime.now(UTC)
        previous = self.session.execute(self.current, (MODEL,)).one()
        self._all("switch", [(MODEL, version, now)])
        self._all("state", [("current", None, version)])
        if previous is not None and previous.version != version:
            self._all("state", [("retired", now, previous.version)])
            return previous.version
        return None

    def drop_old(self, current: int, grace: timedelta, users: Iterable[str], items: Iterable[str]) -> list[int]:
        """Removes every version retired longer than `grace` ago (and any never finished that is older than the
        current one): rows of the current model's shoppers and items below the oldest version still kept, and the
        dropped versions' factor and popular partitions. Returns the versions dropped."""
        now = datetime.now(UTC)
        versions = list(self.session.execute(self.prepared["versions"]))
        gone = [row for row in versions if row.version < current and (
            row.state == "writing" or (row.state == "retired" and row.retired_at is not None
                                       and row.retired_at.replace(tzinfo=UTC) < now - grace))]
        if not gone:
            return []
        kept = [row.version for row in versions if row not in gone]
        below = min([v for v in kept if v <= current] or [current])
        self._all("drop_user", ((user, below) for user in users))
        self._all("drop_profile", ((user, below) for user in users))
        self._all("drop_similar", ((item, below) for item in items))
        self._all("drop_factors", ((row.version, bucket) for row in gone for bucket in range(row.item_buckets or 0)))
        self._all("drop_popular", ((row.version,) for row in gone))
        self._all("drop_version", ((row.version,) for row in gone))
        return sorted(row.version for row in gone)
