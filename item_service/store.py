"""MongoDB adapter of the `items` collection (`_id` = item_id), shaped by FerretDB on SQLite: only a plain `{"_id": id}`
filter is answered from an index (see infra/schema/mongo_indexes.py), any other filter scans the collection, and a bulk
update holds one pooled connection per matched document until the command ends (the pool has 100)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from pymongo import ReplaceOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

DUPLICATE_KEY = 11000
LOOKUP_CONCURRENCY = 8
REPLACE_CHUNK = 20


class ItemStore:
    def __init__(self, db) -> None:
        self.items = db["items"]

    async def current_versions(self, ids: Iterable[str]) -> dict[str, int]:
        return {item_id: doc["version"] for item_id, doc in (await self._find_by_ids(ids, {"version": 1})).items()}

    async def current_docs(self, ids: Iterable[str]) -> dict[str, dict]:
        """Stored documents by item_id, tombstones included (they carry the version a replay must not undo)."""
        return await self._find_by_ids(ids)

    async def write_newer(self, documents: list[dict], *, stored_versions: dict[str, int] | None = None) -> int:
        """Write each document whose version is newer than the stored one; returns how many were written.

        The version check reads before it writes (`stored_versions` when the caller has just read them): one item's
        writes come from the one consumer owning its Kafka partition, and a write that fails (an insert colliding with
        a concurrent one) is retried alone, checked against the version stored at that moment."""
        ids = [document["_id"] for document in documents]
        versions = await self.current_versions(ids) if stored_versions is None else stored_versions
        newer = [document for document in documents if document["version"] > versions.get(document["_id"], -1)]
        fresh = [document for document in newer if document["_id"] not in versions]
        known = [document for document in newer if document["_id"] in versions]
        return await self._insert_fresh(fresh) + await self._replace_known(known)

    async def insert_absent(self, documents: list[dict]) -> set[str]:
        """Insert the documents whose `_id` (and seller sku) is not stored yet; returns the ids inserted."""
        if not documents:
            return set()
        try:
            await self.items.insert_many(documents, ordered=False)
            return {document["_id"] for document in documents}
        except BulkWriteError as error:
            if any(e["code"] != DUPLICATE_KEY for e in error.details["writeErrors"]):
                raise
            taken = {e["index"] for e in error.details["writeErrors"]}
            return {document["_id"] for index, document in enumerate(documents) if index not in taken}

    async def every_item(self, batch_size: int = 1000):
        """Every stored document, tombstones included, in batches (a scan: for snapshots, not for requests)."""
        batch: list[dict] = []
        async for document in self.items.find({}, batch_size=batch_size):
            batch.append(document)
            if len(batch) >= batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    async def get(self, item_id: str) -> dict | None:
        """The live item as the API shows it, or None when unknown or deleted."""
        return _public(await self.items.find_one({"_id": item_id}))

    async def get_many(self, ids: list[str]) -> list[dict]:
        """Live items in the order of `ids` (each once); unknown and deleted ones are left out."""
        found = await self._find_by_ids(ids)
        items = (_public(found.get(item_id)) for item_id in dict.fromkeys(ids))
        return [item for item in items if item is not None]

    async def _find_by_ids(self, ids: Iterable[str], projection: dict | None = None) -> dict[str, dict]:
        # One primary-key lookup per id: a `$in` filter would make FerretDB scan the collection.
        limit = asyncio.Semaphore(LOOKUP_CONCURRENCY)

        async def lookup(item_id: str) -> dict | None:
            async with limit:
                return await self.items.find_one({"_id": item_id}, projection)

        found = await asyncio.gather(*(lookup(item_id) for item_id in dict.fromkeys(ids)))
        return {document["_id"]: document for document in found if document is not None}

    async def _insert_fresh(self, documents: list[dict]) -> int:
        if not documents:
            return 0
        try:
            await self.items.insert_many(documents, ordered=False)
            return len(documents)
        except BulkWriteError as error:
            taken = [e["index"] for e in error.details["writeErrors"] if e["code"] == DUPLICATE_KEY]
            if len(taken) < len(error.details["writeErrors"]):
                raise
            # Another writer created these items meanwhile: write ours only if still newer.
            late = [await self._write_if_newer(documents[index]) for index in taken]
            return len(documents) - len(taken) + sum(late)

    async def _replace_known(self, documents: list[dict]) -> int:
        written = 0
        for start in range(0, len(documents), REPLACE_CHUNK):
            chunk = documents[start:start + REPLACE_CHUNK]
            try:
                await self.items.bulk_write([ReplaceOne({"_id": d["_id"]}, d) for d in chunk], ordered=False)
                written += len(chunk)
            # FerretDB reports a failed op in a bulk as KeyError('nModified') rather than BulkWriteError.
            except (BulkWriteError, KeyError):
                written += sum([await self._write_if_newer(document) for document in chunk])
        return written

    async def _write_if_newer(self, document: dict) -> bool:
        """One document, checked against the stored version just before writing it. A `{"_id", "version": {"$lt"}}`
        filter would do it in one step, but FerretDB answers that by decoding the whole collection (80 s at 200k)."""
        stored = await self._stored_version(document["_id"])
        if stored is None:
            try:
                await self.items.insert_one(document)
                return True
            except DuplicateKeyError:  # created meanwhile: compare with that version instead
                stored = await self._stored_version(document["_id"])
        # Still absent: the duplicate was another key, another item holding this seller's sku; ours is not written.
        if stored is None or document["version"] <= stored:
            return False
        return (await self.items.replace_one({"_id": document["_id"]}, document)).matched_count == 1

    async def _stored_version(self, item_id: str) -> int | None:
        stored = await self.items.find_one({"_id": item_id}, {"version": 1})
        return stored["version"] if stored else None


def _public(document: dict | None) -> dict | None:
    """The item without storage fields; None for a tombstone."""
    if document is None or document.get("deleted", False):
        return None
    return {name: value for name, value in document.items() if name not in ("_id", "deleted")}
