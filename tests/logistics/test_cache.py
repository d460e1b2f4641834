"""Search's in-memory deliverability on the real Redis store: a reload shows once the cached answer has expired."""

from __future__ import annotations

import pytest

from logistics.cache import DeliverabilityCache
from tests.logistics.conftest import ALL, load, network

pytestmark = pytest.mark.stack


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_search_sees_a_reloaded_network_once_its_cached_answer_expires(store):
    clock = Clock()
    cache = DeliverabilityCache(store, seconds=5, clock=clock)
    await load(store, network(("W1", "110001", 4, ALL)))
    assert (await cache.deliverable_from("110001"))["small"] == {"W1": 4.0}

    await load(store, network(("W2", "110001", 9, "small"), ("W2", "560001", 7, "small")))
    clock.now = 4.9
    assert (await cache.deliverable_from("110001"))["small"] == {"W1": 4.0}
    assert (await cache.deliverable_from("560001"))["small"] == {"W2": 7.0}  # not cached yet: the new network

    clock.now = 5.0
    assert await cache.deliverable_from("110001") == {"small": {"W2": 9.0}, "medium": {}, "large": {}, "bulky": {}}


async def test_with_no_seconds_every_search_reads_the_store(store):
    cache = DeliverabilityCache(store, seconds=0)
    await load(store, network(("W1", "110001", 4, ALL)))
    assert (await cache.deliverable_from("110001"))["bulky"] == {"W1": 4.0}

    await load(store, network(("W1", "110001", 6, "small")))

    assert (await cache.deliverable_from("110001"))["bulky"] == {}
