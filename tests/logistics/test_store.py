"""The serviceability cache on the real Redis: loads, reads, and reloads that readers never see half done."""

from __future__ import annotations

import asyncio

import pytest

from logistics.commands import SAMPLE_NETWORK, load_file
from logistics.service import DeliveryEstimate
from tests.logistics.conftest import ALL, load, network

pytestmark = pytest.mark.stack


def two_warehouses():
    return network(("W1", "H1", 2, ALL), ("H1", "110001", 3, ALL), ("H1", "795001", 10, "small medium"),
                   ("W2", "H2", 1, ALL), ("H2", "110001", 20, "small medium large"), extra_pincodes=("190001",))


def star(pincodes: int, hours: float):
    """One warehouse reaching `pincodes` pincodes, all in `hours`."""
    return network(("W1", "H1", 1, ALL), *[("H1", str(110001 + n), hours - 1, ALL) for n in range(pincodes)])


async def test_deliverable_from_gives_each_size_its_warehouses_and_hours(store):
    await load(store, two_warehouses())

    by_size = await store.deliverable_from("110001")

    assert by_size == {"small": {"W1": 5.0, "W2": 21.0}, "medium": {"W1": 5.0, "W2": 21.0},
                       "large": {"W1": 5.0, "W2": 21.0}, "bulky": {"W1": 5.0}}
    assert await store.deliverable_from("795001") == {"small": {"W1": 12.0}, "medium": {"W1": 12.0},
                                                      "large": {}, "bulky": {}}


async def test_an_unserved_pincode_or_no_network_is_deliverable_from_nowhere(store):
    empty = {"small": {}, "medium": {}, "large": {}, "bulky": {}}
    assert await store.deliverable_from("110001") == empty
    assert await store.warehouses() == []

    await load(store, two_warehouses())

    assert await store.deliverable_from("190001") == empty
    assert await store.deliverable_from("560001") == empty


async def test_serviceability_ships_from_the_fastest_stocked_warehouse_that_carries_the_size(store):
    await load(store, two_warehouses())

    assert await store.serviceability(["W2"], "large", "110001") == DeliveryEstimate(True, 21.0, "W2")
    assert await store.serviceability(["W1", "W2"], "large", "110001") == DeliveryEstimate(True, 5.0, "W1")
    assert await store.serviceability(["W2"], "bulky", "110001") == DeliveryEstimate(False, None, None)
    assert await store.serviceability([], "small", "110001") == DeliveryEstimate(False, None, None)


async def test_warehouses_and_their_pincodes_fastest_first(store):
    await load(store, two_warehouses())

    warehouses = await store.warehouses()
    pincodes = await store.warehouse_pincodes("W1", limit=10)

    assert warehouses == [{"warehouse_id": "W1", "name": "Warehouse W1", "pincode": "110001"},
                          {"warehouse_id": "W2", "name": "Warehouse W2", "pincode": "110001"}]
    assert pincodes == [{"pincode": "110001", "eta_hours": 5.0, "size_classes": ["small", "medium", "large", "bulky"]},
                        {"pincode": "795001", "eta_hours": 12.0, "size_classes": ["small", "medium"]}]
    assert await store.warehouse_pincodes("W1", limit=1) == pincodes[:1]
    assert await store.warehouse_pincodes("W9", limit=10) is None


async def test_a_reload_replaces_the_network_and_leaves_no_old_keys(store, redis):
    await load(store, star(50, hours=10))
    keys_after_first = await _keys(redis, store.prefix)

    await load(store, two_warehouses())

    assert (await store.deliverable_from("110002"))["small"] == {}
    assert (await store.deliverable_from("110001"))["small"] == {"W1": 5.0, "W2": 21.0}
    assert len(keys_after_first) == 1 + 1 + 1 + 50  # pointer, warehouses, W1's pincodes, one hash per pincode
    assert len(await _keys(redis, store.prefix)) == 1 + 1 + 2 + 2


async def test_a_finished_load_keeps_its_keys_without_expiry(store, redis):
    await load(store, two_warehouses())

    ttls = [await redis.ttl(key) for key in await _keys(redis, store.prefix)]

    assert ttls and set(ttls) == {-1}


async def test_readers_during_reloads_see_the_old_or_the_new_network_never_a_mix(store):
    old, new = star(3000, hours=10), star(3000, hours=20)
    await load(store, old)
    answers: list[dict] = []
    reloading = True

    async def read_while_reloading() -> None:
        while reloading:
            answers.append((await store.deliverable_from(str(110001 + len(answers) % 3000)))["bulky"])

    readers = [asyncio.create_task(read_while_reloading()) for _ in range(4)]
    for network_now in (new, old, new):
        await load(store, network_now)
    reloading = False
    await asyncio.gather(*readers)

    assert len(answers) > 100
    assert {answer.get("W1") for answer in answers} == {10.0, 20.0}


async def test_load_file_loads_the_sample_network_and_reports_its_timings(store):
    report = await load_file(None, store)

    assert report.path == SAMPLE_NETWORK
    assert report.warehouses >= 30 and report.pincodes >= 5000
    assert report.pairs > report.warehouses * report.pincodes * 0.9
    assert report.compute_seconds > 0 and report.write_seconds > 0
    assert (await store.deliverable_from("110001"))["small"]


async def _keys(redis, prefix: str) -> list[str]:
    return [key async for key in redis.scan_iter(match=f"{prefix}:*", count=5000)]
