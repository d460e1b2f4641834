"""The fault tests' seller feed: a seller posting numbered feeds of new items through the API (each record its own
sku, explicit version and stock in one warehouse), and what every accepted record must become in each store."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from inbound.service import item_id_for
from tests.faults.load import Tally, run_all, until_answered
from tests.orders.conftest import Shop

FEEDS, PER_FEED = 8, 250  # 2,000 records
WAREHOUSE = "WH-FAULTS"


@dataclass
class SellerFeeds:
    """A seller's feeds, posted through the API (each sent again while it gets a 5xx or no answer), and what their
    records must become."""

    shop: Shop
    category: str
    seller_id: str = ""
    api_key: str = ""
    tally: Tally = field(default_factory=Tally)
    feed_ids: list[str] = field(default_factory=list)
    expected: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # item_id -> (sku, version, units)

    async def post(self, feeds: range) -> None:
        await run_all([lambda n=n: self.post_one(n) for n in feeds], clients=2)

    async def post_one(self, feed: int) -> None:
        records = [{"sku": f"{self.category}-{n}", "title": f"Fault test item {n}", "category": self.category,
                    "price": "99.00", "currency": "INR", "size_class": "small", "version": n + 1,
                    "stock": [{"warehouse_id": WAREHOUSE, "quantity": 1 + n % 9}]}
                   for n in range(feed * PER_FEED, (feed + 1) * PER_FEED)]
        body = b"".join(json.dumps(record).encode() + b"\n" for record in records)
        answer = await until_answered(self.tally, lambda: self.shop.http.post(
            f"/v1/sellers/{self.seller_id}/items", content=body,
            headers={"X-Api-Key": self.api_key, "content-type": "application/x-ndjson"}))
        assert answer.status_code == 202 and answer.json()["accepted"] == PER_FEED, answer.text
        self.feed_ids.append(answer.json()["feed_id"])
        for record in records:
            item_id = item_id_for(self.seller_id, record["sku"])
            self.expected[item_id] = (record["sku"], record["version"], record["stock"][0]["quantity"])

    async def counts(self) -> dict[str, dict[str, int]]:
        """Each posted feed's count of records per status."""
        feeds = [await self.shop.state.feed_store.feed(feed_id, self.seller_id) for feed_id in self.feed_ids]
        return {feed["feed_id"]: feed["counts"] for feed in feeds}

    async def applied(self) -> int:
        return sum(counts.get("applied", 0) for counts in (await self.counts()).values())

    async def indexed(self) -> dict[str, tuple]:
        """(version, in_stock, stock_warehouses) of each expected item's search document."""
        found: dict[str, tuple] = {}
        item_ids = list(self.expected)
        for start in range(0, len(item_ids), 500):
            answer = await self.shop.state.elasticsearch.mget(
                body={"ids": item_ids[start:start + 500]}, index=self.shop.state.search_index.alias,
                _source_includes=["version", "in_stock", "stock_warehouses"])
            found.update({doc["_id"]: (doc["_source"].get("version"), doc["_source"].get("in_stock"),
                                       doc["_source"].get("stock_warehouses"))
                          for doc in answer["docs"] if doc["found"]})
        return found

    async def searchable(self) -> int:
        answer = await self.shop.http.get("/v1/search", params={"category": self.category, "size": 1})
        return answer.json()["total"]


def expected_documents(feeds: SellerFeeds) -> dict[str, tuple]:
    """(version, in_stock, stock_warehouses) each item's search document must have."""
    return {item_id: (version, True, [WAREHOUSE]) for item_id, (_, version, _) in feeds.expected.items()}
