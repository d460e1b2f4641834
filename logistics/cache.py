"""Deliverability per pincode for search, held in memory for a few seconds.

Every search with a pincode needs it, and it changes only when `shop logistics load` swaps in a new network, so a
search may see the previous network for at most `seconds` after a load. Checkout reads the store directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from cachetools import TTLCache

from logistics.store import ServiceabilityStore

Deliverable = dict[str, dict[str, float]]  # size class -> warehouse -> eta hours


class DeliverabilityCache:
    def __init__(self, store: ServiceabilityStore, seconds: float, pincodes: int = 50_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self._cached: TTLCache[str, Deliverable] = TTLCache(maxsize=pincodes, ttl=seconds, timer=clock)

    async def deliverable_from(self, pincode: str) -> Deliverable:
        """The store's answer, shared between searches: callers read it and never change it."""
        found = self._cached.get(pincode)
        if found is None:
            found = await self.store.deliverable_from(pincode)
            self._cached[pincode] = found
        return found
