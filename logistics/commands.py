"""`shop logistics load`: read and validate a network file, precompute every warehouse x pincode route, swap it in."""

from __future__ import annotations

import asyncio
import gzip
import json
import time
from dataclasses import dataclass
from pathlib import Path

from logistics.service import InvalidNetwork, fastest_routes, parse_network
from logistics.store import ServiceabilityStore

SAMPLE_NETWORK = Path(__file__).with_name("sample") / "network.json.gz"

__all__ = ["SAMPLE_NETWORK", "InvalidNetwork", "LoadReport", "load_file", "read_network_file"]


@dataclass(frozen=True)
class LoadReport:
    path: Path
    warehouses: int
    pincodes: int
    routes: int
    serviceable_pincodes: int
    pairs: int  # (warehouse, pincode) pairs with at least one size class deliverable
    compute_seconds: float
    write_seconds: float

    def lines(self) -> list[str]:
        return [
            f"loaded {self.path}",
            (f"{self.warehouses} warehouses, {self.pincodes} pincodes ({self.serviceable_pincodes} serviceable), "
             f"{self.routes} routes"),
            (f"{self.pairs:,} warehouse x pincode routes: computed in {self.compute_seconds:.2f}s, "
             f"written to Redis in {self.write_seconds:.2f}s"),
        ]


def read_network_file(path: Path) -> dict:
    """The parsed JSON of a .json or .json.gz file; an unreadable file is an InvalidNetwork too."""
    try:
        raw = path.read_bytes()
        return json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidNetwork([f"cannot read {path}: {error}"]) from None


async def load_file(path: Path | None, store: ServiceabilityStore) -> LoadReport:
    """Validates the file (the sample network when None), computes, and swaps it in; nothing is written when invalid."""
    path = path or SAMPLE_NETWORK
    network = parse_network(read_network_file(path))
    began = time.perf_counter()
    # The computation is pure CPU; a thread keeps the event loop (and the Redis client's connections) responsive.
    computed = await asyncio.to_thread(fastest_routes, network)
    computed_at = time.perf_counter()
    await store.load_network(network, computed)
    return LoadReport(
        path=path, warehouses=len(network.warehouses), pincodes=len(network.pincodes), routes=len(network.routes),
        serviceable_pincodes=len(set().union(*computed.values())), pairs=sum(map(len, computed.values())),
        compute_seconds=computed_at - began, write_seconds=time.perf_counter() - computed_at,
    )
