"""Redis adapter of the precomputed warehouse x pincode serviceability, swapped in whole generations.

Keys (P = the prefix, G = a generation id; `P:current` names the generation readers use):
  P:G:warehouses         hash  warehouse_id -> {"warehouse_id", "name", "pincode"} as JSON
  P:G:pincode:<pincode>  hash  warehouse_id -> "small,medium,large,bulky" hours, empty where that size cannot go
  P:G:warehouse:<id>     zset  pincode scored by its fastest hours from that warehouse
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable
from operator import methodcaller

from inbound.events import SIZE_CLASSES
from logistics.service import DeliveryEstimate, Etas, Network, fastest_warehouse

Computed = dict[str, dict[str, Etas]]  # warehouse_id -> pincode -> hours per size class, as fastest_routes returns
# A generation being written expires by itself unless it is completed, so a crashed load leaves nothing behind.
_UNFINISHED_TTL_SECONDS = 3600
_PIPELINE_COMMANDS = 1000

# Each read resolves the current generation and reads it in one atomic step, so a reader never sees a generation
# half-written or already deleted.
_READ_CURRENT = """
local generation = redis.call('GET', KEYS[1])
if not generation then return false end
return redis.call(ARGV[2], ARGV[1] .. ':' .. generation .. ':' .. ARGV[3])
"""
_WAREHOUSE_PINCODES = """
local generation = redis.call('GET', KEYS[1])
if not generation then return false end
local base = ARGV[1] .. ':' .. generation .. ':'
if redis.call('HEXISTS', base .. 'warehouses', ARGV[2]) == 0 then return false end
local ranked = redis.call('ZRANGE', base .. 'warehouse:' .. ARGV[2], 0, tonumber(ARGV[3]) - 1, 'WITHSCORES')
local rows = {}
for i = 1, #ranked, 2 do
  rows[#rows + 1] = {ranked[i], ranked[i + 1], redis.call('HGET', base .. 'pincode:' .. ranked[i], ARGV[2])}
end
return rows
"""


class ServiceabilityStore:
    def __init__(self, redis, prefix: str = "serviceability") -> None:
        self.redis, self.prefix = redis, prefix
        self._current = f"{prefix}:current"
        self._read_current = redis.register_script(_READ_CURRENT)
        self._warehouse_pincodes = redis.register_script(_WAREHOUSE_PINCODES)

    async def load_network(self, network: Network, computed: Computed) -> str:
        """Writes a new generation beside the current one, then points readers at it, then deletes the old one."""
        generation = uuid.uuid4().hex[:12]
        written = await self._write_generation(generation, network, computed)
        await self._bulk(methodcaller("persist", key) for key in written)
        previous = await self.redis.set(self._current, generation, get=True)
        if previous:
            await self._delete_generation(previous)
        return generation

    async def clear(self) -> None:
        """Forgets the loaded network: every pincode becomes unserviceable."""
        previous = await self.redis.getdel(self._current)
        if previous:
            await self._delete_generation(previous)

    async def deliverable_from(self, pincode: str) -> dict[str, dict[str, float]]:
        """Per size class, the warehouses that can deliver to `pincode` with their eta in hours."""
        encoded = await self._hgetall_current(f"pincode:{pincode}")
        by_size: dict[str, dict[str, float]] = {size: {} for size in SIZE_CLASSES}
        for warehouse_id, value in encoded.items():
            for size, hours in zip(SIZE_CLASSES, _decode(value)):
                if hours is not None:
                    by_size[size][warehouse_id] = hours
        return by_size

    async def serviceability(self, item_warehouses: list[str], size_class: str | None,
                             pincode: str) -> DeliveryEstimate:
        """Whether an item of `size_class` stocked in `item_warehouses` reaches `pincode`, how soon, and from where."""
        etas = (await self.deliverable_from(pincode)).get(size_class, {}) if size_class else {}
        return fastest_warehouse(etas, item_warehouses)

    async def warehouses(self) -> list[dict]:
        rows = await self._hgetall_current("warehouses")
        return [json.loads(rows[warehouse_id]) for warehouse_id in sorted(rows)]

    async def warehouse_pincodes(self, warehouse_id: str, limit: int) -> list[dict] | None:
        """The pincodes a warehouse delivers to, fastest first; None when the warehouse is unknown."""
        rows = await self._warehouse_pincodes(keys=[self._current], args=[self.prefix, warehouse_id, limit])
        if rows is None:
            return None
        return [{"pincode": pincode, "eta_hours": float(hours), "size_classes": _carried(value)}
                for pincode, hours, value in rows]

    async def _hgetall_current(self, key: str) -> dict[str, str]:
        # A script's HGETALL reply is a flat [field, value, ...] list.
        flat = await self._read_current(keys=[self._current], args=[self.prefix, "HGETALL", key]) or []
        return dict(zip(flat[::2], flat[1::2]))

    async def _write_generation(self, generation: str, network: Network, computed: Computed) -> list[str]:
        contents = _generation_contents(f"{self.prefix}:{generation}", network, computed)
        await self._bulk(command for key, write in contents
                         for command in (write, methodcaller("expire", key, _UNFINISHED_TTL_SECONDS)))
        return [key for key, _ in contents]

    async def _delete_generation(self, generation: str) -> None:
        keys = [key async for key in self.redis.scan_iter(match=f"{self.prefix}:{generation}:*", count=5000)]
        await self._bulk(methodcaller("unlink", key) for key in keys)

    async def _bulk(self, commands: Iterable[methodcaller]) -> None:
        """Sends commands pipelined, a bounded number per round trip."""
        pipe, queued = self.redis.pipeline(transaction=False), 0
        for command in commands:
            command(pipe)
            queued += 1
            if queued == _PIPELINE_COMMANDS:
                await pipe.execute()
                queued = 0
        if queued:
            await pipe.execute()


def _generation_contents(base: str, network: Network, computed: Computed) -> list[tuple[str, methodcaller]]:
    """Every key of a generation with the command that writes it."""
    warehouses = {row.warehouse_id: row.model_dump_json() for row in network.warehouses}
    contents = [(f"{base}:warehouses", methodcaller("hset", f"{base}:warehouses", mapping=warehouses))]
    by_pincode: dict[str, dict[str, str]] = defaultdict(dict)
    for warehouse_id, etas_by_pincode in computed.items():
        for pincode, etas in etas_by_pincode.items():
            by_pincode[pincode][warehouse_id] = _encode(etas)
        if etas_by_pincode:
            fastest = {pincode: min(h for h in etas if h is not None) for pincode, etas in etas_by_pincode.items()}
            key = f"{base}:warehouse:{warehouse_id}"
            contents.append((key, methodcaller("zadd", key, fastest)))
    contents += [(f"{base}:pincode:{pincode}", methodcaller("hset", f"{base}:pincode:{pincode}", mapping=encoded))
                 for pincode, encoded in by_pincode.items()]
    return contents


def _encode(etas: Etas) -> str:
    return ",".join("" if hours is None else repr(hours) for hours in etas)


def _decode(value: str) -> list[float | None]:
    return [float(part) if part else None for part in value.split(",")]


def _carried(value: str | None) -> list[str]:
    return [size for size, hours in zip(SIZE_CLASSES, _decode(value or "")) if hours is not None]
