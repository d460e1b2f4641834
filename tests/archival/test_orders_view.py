"""`GET /v1/orders`: the shopper's live and archived orders as one list, newest first, paged by cursor with no order
skipped or repeated, also while the archiver moves orders under the pages being read."""

from __future__ import annotations

import asyncio

import pytest

from tests.archival.conftest import FINISHED, journeys

pytestmark = pytest.mark.stack


async def read_all(shop, buyer, size: int, between_pages=None) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        response = await shop.http.get("/v1/orders", params={"size": size, **({"cursor": cursor} if cursor else {})},
                                       headers=buyer.headers)
        assert response.status_code == 200, response.text
        pages.append([o["order_id"] for o in response.json()["orders"]])
        if between_pages is not None:
            await between_pages(len(pages))
        if not (cursor := response.json()["next"]):
            return pages


async def test_live_and_archived_orders_page_together_newest_first_while_orders_are_archived(shop):
    made = await journeys(shop, delivered=4, cancelled=3, refunded=1, failed=2, open_=3)
    everything = made.finished + made.open
    expected = [o["order_id"] for o in sorted(everything, key=lambda o: (o["created_at"], o["order_id"]),
                                              reverse=True)]
    half = made.finished[::2]  # some archived before the first page: the boundary runs through the list
    await archive_half(shop, half)

    async def archive_more(pages_read: int) -> None:
        if pages_read == 2:  # the rest move to the archive between two pages
            summary = await shop.state.archiver.run(FINISHED)
            assert not summary.unverified

    pages = await read_all(shop, made.buyer, 3, archive_more)
    by_page_number = []
    for page in range(1, len(pages) + 1):
        response = await shop.http.get("/v1/orders", params={"size": 3, "page": page}, headers=made.buyer.headers)
        by_page_number += [o["order_id"] for o in response.json()["orders"]]
    too_deep = await shop.http.get("/v1/orders", params={"size": 100, "page": 100}, headers=made.buyer.headers)

    assert [order_id for page in pages for order_id in page] == expected
    assert by_page_number == expected
    assert too_deep.status_code == 422 and too_deep.json()["error"] == "page_too_deep"


async def archive_half(shop, orders: list[dict]) -> None:
    """Archives exactly these orders (the archiver's own steps, for a chosen set)."""
    archiver = shop.state.archiver
    docs = await archiver.finished.documents([o["order_id"] for o in orders])
    await archiver.archive.write(docs)
    assert await archiver.archive.unverified(docs) == []
    assert len(await archiver.finished.remove(docs)) == len(orders)


async def test_pages_read_while_the_archiver_runs_skip_and_repeat_nothing(shop):
    made = await journeys(shop, delivered=6, cancelled=4, refunded=0, failed=2, open_=2)
    expected = sorted(o["order_id"] for o in made.finished + made.open)
    shop.state.archiver.batch_size = 2  # many small batches: deletes land between the reads of the pages
    running = asyncio.ensure_future(shop.state.archiver.run(FINISHED))
    rounds = []
    try:
        while not running.done():
            rounds.append([order_id for page in await read_all(shop, made.buyer, 2) for order_id in page])
    finally:
        summary = await running
    rounds.append([order_id for page in await read_all(shop, made.buyer, 2) for order_id in page])
    assert not summary.unverified
    for seen in rounds:
        assert sorted(seen) == expected  # every order once, in every round
