"""The item store on the real MongoDB-wire server: version-guarded writes, tombstones, lookups in request order."""

from __future__ import annotations

import asyncio

import pytest

from item_service.service import apply_batch
from tests.item_service.conftest import LATER, NOW, delete, new_item_id, upsert

pytestmark = pytest.mark.stack


def document(record, stored: dict | None = None, now: str = NOW) -> dict:
    return apply_batch({record.item_id: stored} if stored else {}, [record], now=now).documents[0]


async def test_written_item_is_returned_without_storage_fields(item_store):
    record = upsert(title="Desk lamp")

    written = await item_store.write_newer([document(record)])

    item = await item_store.get(record.item_id)
    assert written == 1 and item["title"] == "Desk lamp" and item["version"] == 1
    assert "_id" not in item and "deleted" not in item


async def test_newer_version_replaces_the_stored_item(item_store):
    first = document(upsert(title="Old name"))
    await item_store.write_newer([first])

    await item_store.write_newer([document(upsert(first["item_id"], version=2, title="New name"), first, LATER)])

    item = await item_store.get(first["item_id"])
    assert item["title"] == "New name" and item["version"] == 2 and item["updated_at"] == LATER


async def test_stale_write_does_not_overwrite_a_newer_item(item_store):
    newer = document(upsert(version=5, title="Newer"))
    await item_store.write_newer([newer])

    written = await item_store.write_newer([document(upsert(newer["item_id"], version=4, title="Older"))])

    assert written == 0
    assert (await item_store.get(newer["item_id"]))["title"] == "Newer"


async def test_racing_writers_of_a_new_item_leave_the_newest_version(item_store):
    item_id = new_item_id()
    older, newer = document(upsert(item_id, version=1)), document(upsert(item_id, version=2))

    await asyncio.gather(item_store.write_newer([older]), item_store.write_newer([newer]))

    assert (await item_store.current_versions([item_id])) == {item_id: 2}


async def test_tombstone_hides_the_item_but_keeps_its_version(item_store):
    live = document(upsert(version=1))
    await item_store.write_newer([live])

    await item_store.write_newer([document(delete(live["item_id"], version=2), live)])

    assert await item_store.get(live["item_id"]) is None
    assert await item_store.get_many([live["item_id"]]) == []
    stored = await item_store.current_docs([live["item_id"]])
    assert stored[live["item_id"]]["deleted"] is True and stored[live["item_id"]]["version"] == 2


async def test_get_many_keeps_the_requested_order_and_skips_unknown_ids(item_store):
    first, second = document(upsert()), document(upsert())
    await item_store.write_newer([first, second])

    items = await item_store.get_many([second["item_id"], new_item_id(), first["item_id"], second["item_id"]])

    assert [item["item_id"] for item in items] == [second["item_id"], first["item_id"]]


async def test_a_batch_of_new_and_known_items_is_written_in_one_call(item_store):
    known = [document(upsert()) for _ in range(30)]
    await item_store.write_newer(known)
    changed = [document(upsert(d["item_id"], version=2, title="Changed"), d) for d in known]
    fresh = [document(upsert()) for _ in range(30)]

    written = await item_store.write_newer(changed + fresh)

    versions = await item_store.current_versions(d["item_id"] for d in changed + fresh)
    assert written == 60 and sorted(set(versions.values())) == [1, 2] and len(versions) == 60


async def test_insert_absent_writes_only_items_not_stored_and_leaves_stored_ones_alone(item_store):
    stored = document(upsert(version=7, title="Stored"))
    await item_store.write_newer([stored])
    new = document(upsert(title="New"))

    inserted = await item_store.insert_absent([document(upsert(stored["item_id"], version=1, title="Older")), new])

    assert inserted == {new["item_id"]}
    assert (await item_store.get(stored["item_id"]))["title"] == "Stored"
    assert (await item_store.get(new["item_id"]))["title"] == "New"
