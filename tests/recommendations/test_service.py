"""Recommendations end to end on the real stack: a small lake of planted shopping (office shoppers buy whiteboards with
markers in the same orders, kitchen shoppers kettles with mugs), ALS trained on Spark, the model written to a keyspace
of the test's own in Cassandra, and the API serving it from there."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from analytics import dimensions, job
from analytics.config import LakeConfig
from app.bootstrap import migrate_cassandra
from inbound.events import ItemRecord
from infra import connections
from inventory.store import StockStore
from item_service.service import upserted
from recommendations.als import AlsParams
from recommendations.fold_in import fold_in
from recommendations.kinds import KindWeights
from recommendations.serving import ITEM_SECONDS
from recommendations.store import ModelVersion, ModelWriter
from recommendations.training import read_lake, train_model
from tests.orders.conftest import PINCODE, shop_with

pytestmark = pytest.mark.stack

PARAMS = AlsParams(rank=8, reg=0.05, alpha=10.0, iterations=8)
OFFICE = {"whiteboard": 3, "markers": 3, "stapler": 2, "notebook": 2}
KITCHEN = {"kettle": 3, "mug": 3, "teapot": 2, "spoon": 2}
STARTED = datetime(2026, 11, 1, tzinfo=UTC)


class Planted:
    """The test's catalog (item ids by kind), its lake and its keyspace."""

    def __init__(self, tag: str, root: Path) -> None:
        self.tag, self.items, self.categories = tag, {}, {}
        for category, kinds in (("office", OFFICE), ("kitchen", KITCHEN)):
            for kind, count in kinds.items():
                self.items[kind] = [f"{tag}-{kind}-{n}" for n in range(count)]
                self.categories.update({item: category for item in self.items[kind]})
        self.lake = LakeConfig(root=str(root), bootstrap="unused")
        self.keyspace = f"rec_{tag}"
        self.records: list[tuple] = []
        self.offset = 0

    def title(self, item_id: str) -> str:
        kind, n = item_id.split("-")[1:]
        return f"{kind.capitalize()} {n}"

    def order(self, user: str, items: list[str], at: datetime) -> None:
        event = {"event_id": uuid.uuid4().hex, "type": "order_placed", "order_id": uuid.uuid4().hex, "user_id": user,
                 "status": "PLACED", "cancel_reason": None, "pincode": PINCODE, "currency": "INR", "total": "100.00",
                 "payment_id": uuid.uuid4().hex, "replaces_order_id": None, "at": _text(at),
                 "lines": [{"item_id": item, "seller_id": "s1", "warehouse_id": "W1", "title": self.title(item),
                            "quantity": 1, "unit_price": "50.00"} for item in items]}
        self._add("orders.events", event, at)

    def carted(self, user: str, item: str, at: datetime) -> None:
        self._add("cart.events", {"event_id": uuid.uuid4().hex, "type": "item_added", "user_id": user, "item_id": item,
                                  "quantity": 1, "previous_quantity": 0, "reason": "shopper", "at": _text(at)}, at)

    def _add(self, topic: str, event: dict, at: datetime) -> None:
        self.offset += 1
        self.records.append((topic, 0, self.offset, at.replace(tzinfo=None), json.dumps(event).encode()))

    def write_lake(self, spark, batch_id: int) -> None:
        """The records so far into the lake as `shop lake` appends them, and the items dimension."""
        frame = spark.createDataFrame(self.records, "topic string, partition int, offset long, timestamp timestamp, "
                                                    "value binary")
        job.append_batch(self.lake, frame, batch_id)
        self.records = []
        now = datetime.now(UTC)
        rows = [(item, "s1", self.title(item), category, None, None, "INR", "small", False, now)
                for item, category in self.categories.items()]
        dimensions.snapshot(spark, self.lake.table, {"dim_items": rows})


def _text(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def plant_shopping(planted: Planted) -> None:
    """20 office shoppers (whiteboard + markers in one order, then a stapler or notebook), 20 kitchen shoppers
    (kettle + mug, then a teapot or spoon); the n-th of each buys the n-th model of each kind."""
    items = planted.items
    for n in range(20):
        at = STARTED + timedelta(hours=n)
        planted.order(f"{planted.tag}-office-{n}", [items["whiteboard"][n % 3], items["markers"][n % 3]], at)
        planted.order(f"{planted.tag}-office-{n}", [(items["stapler"] + items["notebook"])[n % 4]],
                      at + timedelta(days=1))
        planted.order(f"{planted.tag}-kitchen-{n}", [items["kettle"][n % 3], items["mug"][n % 3]], at)
        planted.order(f"{planted.tag}-kitchen-{n}", [(items["teapot"] + items["spoon"])[n % 4]], at + timedelta(days=1))
    # The shoppers the tests ask about: one bought a whiteboard alone, one only kitchen things.
    planted.order(f"{planted.tag}-boarder", [items["whiteboard"][0]], STARTED + timedelta(days=2))
    planted.order(f"{planted.tag}-cook", [items["kettle"][1], items["mug"][1]], STARTED + timedelta(days=2))


@pytest.fixture(scope="module")
async def planted(settings, spark, tmp_path_factory):
    planted = Planted(uuid.uuid4().hex[:8], tmp_path_factory.mktemp("lake") / "lake")
    await asyncio.to_thread(migrate_cassandra, settings, planted.keyspace)
    plant_shopping(planted)
    await asyncio.to_thread(planted.write_lake, spark, 0)
    yield planted
    cluster = connections.cassandra(settings)
    try:
        cluster.connect().execute(f"DROP KEYSPACE IF EXISTS {planted.keyspace}", timeout=120)
    finally:
        cluster.shutdown()


def train(settings, spark, planted: Planted) -> int:
    cluster = connections.cassandra(settings)
    try:
        writer = ModelWriter(cluster.connect(), planted.keyspace)
        data = read_lake(spark, planted.lake, KindWeights(), half_life_days=90)
        return train_model(spark, data, PARAMS, writer, timedelta(hours=1), say=lambda _: None)
    finally:
        cluster.shutdown()


@pytest.fixture(scope="module")
async def shop(settings, planted, spark):
    """The API on the test's keyspace, the catalog live with stock, and the first model trained."""
    async with shop_with(settings, cassandra_keyspace=planted.keyspace) as opened:
        stock = StockStore(opened.state.mysql)
        for item, category in planted.categories.items():
            record = ItemRecord(item_id=item, seller_id="s1", sku=item, op="upsert", version=1, feed_id=planted.tag,
                                index=0, received_at="2026-01-01T00:00:00Z",
                                fields={"title": planted.title(item), "category": category, "price": "50.00",
                                        "currency": "INR", "size_class": "small", "attributes": {}})
            await opened.state.item_store.write_newer([upserted(None, record, "2026-01-01T00:00:00Z")])
            await stock.set_levels(item, {"WH-BLR-01": 100})
        opened.version = await asyncio.to_thread(train, settings, spark, planted)
        yield opened
        async with opened.state.mysql.begin() as conn:
            for table in ("stock_movements", "stock_levels"):
                await conn.execute(text(f"DELETE FROM {table} WHERE item_id LIKE :p"), {"p": f"{planted.tag}-%"})


async def shopper(shop, user_id: str) -> dict[str, str]:
    from identity.service import issue_token

    token = issue_token(user_id, secret=shop.settings.jwt_secret.get_secret_value(), minutes=30, now=datetime.now(UTC))
    return {"Authorization": f"Bearer {token}"}


async def recommended(shop, user_id: str, **params) -> dict:
    answer = await shop.http.get("/v1/recommendations", params=params, headers=await shopper(shop, user_id))
    assert answer.status_code == 200, answer.text
    return answer.json()


def kinds_of(body: dict) -> list[str]:
    return [entry["item_id"].split("-")[1] for entry in body["items"]]


async def test_a_shopper_who_bought_a_whiteboard_is_shown_markers_from_office_because_of_it(shop, planted):
    body = await recommended(shop, f"{planted.tag}-boarder", limit=5)

    assert body["source"] == "model" and body["model_version"] == shop.version
    assert kinds_of(body)[0] == "markers", body
    assert body["items"][0]["reason"] == "because you bought Whiteboard 0"
    office = await recommended(shop, f"{planted.tag}-boarder", category="office", limit=5)
    assert {entry["category"] for entry in office["items"]} == {"office"}
    assert planted.items["whiteboard"][0] not in [entry["item_id"] for entry in office["items"]]  # no rebuying boards


async def test_a_new_shopper_gets_popular_items_saying_so(shop, planted):
    body = await recommended(shop, f"{planted.tag}-nobody", limit=10)

    assert body["source"] == "popular"
    assert len(body["items"]) == 10
    assert all(entry["reason"].startswith("popular in ") for entry in body["items"])


async def test_the_similar_items_of_a_whiteboard_are_markers(shop, planted):
    answer = await shop.http.get(f"/v1/items/{planted.items['whiteboard'][1]}/similar", params={"limit": 3})

    assert answer.status_code == 200, answer.text
    assert kinds_of(answer.json())[0] == "markers", answer.json()
    assert (await shop.http.get("/v1/items/no-such-item/similar")).status_code == 404


async def test_out_of_stock_and_deleted_items_never_appear(shop, planted):
    gone, empty = planted.items["markers"][0], planted.items["markers"][1]
    await StockStore(shop.state.mysql).set_levels(empty, {"WH-BLR-01": 0})
    await shop.state.item_store.items.update_one({"_id": gone}, {"$set": {"deleted": True}})
    await asyncio.sleep(ITEM_SECONDS + 0.2)  # documents read before are kept this long
    try:
        shown = [entry["item_id"] for user in ("boarder", "office-0", "office-1", "nobody")
                 for entry in (await recommended(shop, f"{planted.tag}-{user}", limit=20))["items"]]
        shown += [entry["item_id"] for entry in
                  (await shop.http.get(f"/v1/items/{planted.items['whiteboard'][0]}/similar",
                                       params={"limit": 20})).json()["items"]]
        assert shown and gone not in shown and empty not in shown
    finally:
        await StockStore(shop.state.mysql).set_levels(empty, {"WH-BLR-01": 100})
        await shop.state.item_store.items.update_one({"_id": gone}, {"$set": {"deleted": False}})
        await asyncio.sleep(ITEM_SECONDS + 0.2)  # the tests after this one see the item live again


async def test_what_a_shopper_did_since_training_changes_their_list_without_a_retrain(shop, planted):
    cook = f"{planted.tag}-cook"
    before = await recommended(shop, cook, limit=5)
    assert "markers" not in kinds_of(before)
    made = await shop.buyer()  # the cook signs up (their lake history was theirs under this id)
    async with shop.state.mysql.begin() as conn:
        await conn.execute(text("UPDATE users SET user_id = :cook WHERE user_id = :made"),
                           {"cook": cook, "made": made.user_id})
    try:
        added = await shop.http.put(f"/v1/cart/items/{planted.items['whiteboard'][2]}", json={"quantity": 1},
                                    headers=await shopper(shop, cook))
        assert added.status_code == 200, added.text
        after = await recommended(shop, cook, limit=5)
    finally:
        async with shop.state.mysql.begin() as conn:
            await conn.execute(text("DELETE FROM cart_lines WHERE user_id = :u"), {"u": cook})
            await conn.execute(text("DELETE FROM users WHERE user_id = :u"), {"u": cook})

    assert after["source"] == "folded"
    assert "markers" in kinds_of(after), after


async def test_folding_in_a_shoppers_trained_history_gives_back_their_trained_factors(shop, planted, settings):
    reader = shop.state.recommender.reader
    version = await reader.current()
    factors = await reader.item_factors(version)
    for user in (f"{planted.tag}-office-3", f"{planted.tag}-kitchen-7"):
        trained, history = await reader.profile(version, user)
        rows = [factors.index[item] for item in history]
        again = fold_in(version.gram, factors.matrix[rows], np.log1p([history[item][0] for item in history]),
                        PARAMS.alpha, PARAMS.reg)
        assert np.dot(again, trained) / (np.linalg.norm(again) * np.linalg.norm(trained)) > 0.99


async def test_readers_see_the_old_model_whole_until_the_switch_and_the_new_one_whole_after(
        shop, planted, settings, spark):
    boarder = f"{planted.tag}-boarder"
    old = await recommended(shop, boarder, limit=5)
    # A version half written: its header and one shopper's list, not switched to.
    cluster = connections.cassandra(settings)
    try:
        writer = ModelWriter(cluster.connect(), planted.keyspace)
        current = await shop.state.recommender.reader.current()
        half = ModelVersion(current.version + 1, current.trained_at, current.data_until, current.params,
                            current.rebuy_categories, current.item_buckets, current.gram)
        writer.begin(half, users=1, items=1)
        writer.for_users(half.version, [(boarder, "", [{"item_id": planted.items["kettle"][0], "score": 1.0,
                                                        "category": "kitchen", "reason": "half"}])])
    finally:
        cluster.shutdown()
    await asyncio.sleep(1.1)  # past the readers' pointer cache
    assert await recommended(shop, boarder, limit=5) == old

    # A whole new version trained on more shopping, while readers keep asking: each answer is one version's.
    for n in range(10):
        planted.order(f"{planted.tag}-office-late-{n}", [planted.items["whiteboard"][0], planted.items["notebook"][0]],
                      STARTED + timedelta(days=3, hours=n))
    await asyncio.to_thread(planted.write_lake, spark, 1)
    answers: list[dict] = []
    training = asyncio.ensure_future(asyncio.to_thread(train, settings, spark, planted))
    while not training.done():
        answers.append(await recommended(shop, boarder, limit=5))
        await asyncio.sleep(0.05)
    newer = await training
    await asyncio.sleep(1.1)
    new = await recommended(shop, boarder, limit=5)

    assert new["model_version"] == newer != old["model_version"]
    assert {answer["model_version"] for answer in answers} <= {old["model_version"], newer}
    assert all(answer == (old if answer["model_version"] == old["model_version"] else new) for answer in answers)
    assert "half" not in json.dumps(answers)
