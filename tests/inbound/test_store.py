"""The feed's MySQL store: sellers' keys, feeds and verdicts, outcome updates."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from inbound.service import Verdict, key_hash
from inbound.tables import Seller
from item_service.events import RecordOutcome

pytestmark = pytest.mark.stack


async def test_seller_key_is_recognised_and_only_its_hash_is_stored(feed_store, unique_name):
    seller_id, api_key = await feed_store.create_seller(unique_name)

    async with feed_store.engine.connect() as db:
        row = (await db.execute(select(Seller.__table__).where(Seller.seller_id == seller_id))).mappings().one()
    assert await feed_store.seller_for_key(api_key) == seller_id
    assert row["api_key_hash"] == key_hash(api_key) and api_key not in row.values()


async def test_unknown_key_names_no_seller(feed_store):
    assert await feed_store.seller_for_key("not-a-key") is None


async def test_feed_counts_and_pages_its_verdicts_in_order(feed_store, seller):
    feed_id, _ = await feed_store.open_feed(seller[0])
    verdicts = [Verdict(i, f"s{i}", f"id{i}", "accepted") for i in range(5)]
    verdicts.append(Verdict(5, None, None, "rejected", ["bad"]))

    await feed_store.record_verdicts(feed_id, verdicts)

    feed = await feed_store.feed(feed_id, seller[0])
    assert feed["counts"] == {"accepted": 5, "rejected": 1} and feed["state"] == "receiving"
    assert await feed_store.feed_records(feed_id, page=2, size=2) == verdicts[2:4]
    assert await feed_store.feed_records(feed_id, page=1, size=10, status="rejected") == verdicts[5:]


async def test_feed_of_another_seller_is_not_found(feed_store, seller, unique_name):
    other_id, _ = await feed_store.create_seller(unique_name + "-other")
    feed_id, _ = await feed_store.open_feed(seller[0])

    assert await feed_store.feed(feed_id, other_id) is None


async def test_outcomes_update_accepted_records_only(feed_store, seller):
    feed_id, _ = await feed_store.open_feed(seller[0])
    await feed_store.record_verdicts(feed_id, [Verdict(0, "a", "ia", "accepted"), Verdict(1, "b", "ib", "accepted"),
                                               Verdict(2, "c", None, "rejected", ["bad"])])

    await feed_store.record_outcomes([
        RecordOutcome(feed_id=feed_id, index=0, item_id="ia", status="applied"),
        RecordOutcome(feed_id=feed_id, index=1, item_id="ib", status="dead_lettered", errors=["broken"]),
        RecordOutcome(feed_id=feed_id, index=2, item_id="ic", status="applied"),
        RecordOutcome(feed_id=feed_id, index=99, item_id="iz", status="applied"),
    ])

    records = await feed_store.feed_records(feed_id, page=1, size=10)
    assert [(r.index, r.status, r.errors) for r in records] == [
        (0, "applied", []), (1, "dead_lettered", ["broken"]), (2, "rejected", ["bad"])]
