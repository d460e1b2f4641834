"""`shop reindex`: rebuilds the item index from MongoDB into a new index, then swaps the alias with no downtime.

Searches keep reading the old index until the swap. While the rebuild runs, the agents write to both indexes (the
`-reindexing` alias), and before the swap every document the old index changed since the start is copied over with
its version guards, so writes that raced with the start of the rebuild are not lost either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from search.store import SearchIndex

# Agents decide per batch whether to write to both indexes; a batch that decided just before the rebuild began
# may still be writing for a few seconds. Its documents are copied over by the catch-up step.
CATCH_UP_MARGIN = timedelta(minutes=5)


@dataclass
class Rebuild:
    old: str | None
    new: str
    started: datetime
    loaded: int = 0
    refused: int = 0
    copied: int = 0


async def reindex(index: SearchIndex, db, index_body: dict, *, batch_size: int = 1000,
                  progress: Callable[[str], None] = lambda line: None) -> Rebuild:
    """`db` is the MongoDB database whose `items` are the source of truth; `index_body` the new index's settings and
    mappings."""
    rebuild = await begin(index, index_body)
    progress(f"building {rebuild.new} (searches still read {rebuild.old or 'nothing'})")
    try:
        await load_stored_items(index, rebuild, db["items"], batch_size, progress)
        await finish(index, rebuild)
    except BaseException:
        await index.abandon_rebuild(rebuild.new)
        raise
    progress(f"{index.alias} now reads {rebuild.new}: {rebuild.loaded} items loaded, {rebuild.refused} refused, "
             f"{rebuild.copied} documents caught up; {rebuild.old} deleted")
    return rebuild


async def begin(index: SearchIndex, index_body: dict) -> Rebuild:
    old = await index.live_index()
    rebuild = Rebuild(old=old, new=index.next_index(old), started=datetime.now(UTC))
    await index.begin_rebuild(rebuild.new, index_body)
    return rebuild


async def load_stored_items(index: SearchIndex, rebuild: Rebuild, items, batch_size: int,
                            progress: Callable[[str], None] = lambda line: None) -> None:
    # Short queries page by _id instead of one long-lived cursor, which FerretDB holds open on its SQLite backend.
    query: dict = {}
    while batch := await items.find(query).sort("_id", 1).limit(batch_size).to_list(batch_size):
        await _load(index, rebuild, [item for item in batch if "version" in item])
        progress(f"{rebuild.loaded} items loaded")
        query = {"_id": {"$gt": batch[-1]["_id"]}}


async def finish(index: SearchIndex, rebuild: Rebuild) -> None:
    if rebuild.old:
        since = (rebuild.started - CATCH_UP_MARGIN).isoformat()
        batch: list[dict] = []
        async for document in index.changed_documents(rebuild.old, since):
            batch.append(document)
            if len(batch) >= 1000:
                await _copy(index, rebuild, batch)
                batch = []
        await _copy(index, rebuild, batch)
    await index.finish_rebuild(rebuild.old, rebuild.new)


async def _load(index: SearchIndex, rebuild: Rebuild, items: list[dict]) -> None:
    if items:
        rebuild.refused += len(await index.apply_stored_items(items, rebuild.new))
        rebuild.loaded += len(items)


async def _copy(index: SearchIndex, rebuild: Rebuild, documents: list[dict]) -> None:
    if documents:
        await index.copy_documents(documents, rebuild.new)
        rebuild.copied += len(documents)
