"""Builders for the serviceability tests: small networks written as routes, and a store on its own key prefix."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from infra import connections
from logistics.service import Network, fastest_routes, parse_network
from logistics.store import ServiceabilityStore

ALL = "small medium large bulky"


def network_file(*routes: tuple[str, str, float, str], extra_pincodes: tuple[str, ...] = ()) -> dict:
    """A network file from routes written ("W1", "H1", 5, "small medium"): ids starting with W are warehouses,
    6-digit ids pincodes, the rest hubs; every node a route names is declared."""
    nodes = list(dict.fromkeys([end for route in routes for end in route[:2]] + list(extra_pincodes)))
    return {
        "warehouses": [{"warehouse_id": n, "name": f"Warehouse {n}", "pincode": "110001"}
                       for n in nodes if n.startswith("W")],
        "hubs": [{"hub_id": n, "name": f"Hub {n}"} for n in nodes if not (n.startswith("W") or n.isdigit())],
        "pincodes": [{"pincode": n, "city": "Delhi", "state": "Delhi"} for n in nodes if n.isdigit()],
        "routes": [{"from": a, "to": b, "hours": hours, "size_classes": sizes.split()}
                   for a, b, hours, sizes in routes],
    }


def network(*routes: tuple[str, str, float, str], extra_pincodes: tuple[str, ...] = ()) -> Network:
    return parse_network(network_file(*routes, extra_pincodes=extra_pincodes))


async def load(store: ServiceabilityStore, network: Network) -> None:
    await store.load_network(network, fastest_routes(network))


@pytest.fixture
async def redis(settings) -> AsyncIterator:
    client = connections.redis(settings)
    yield client
    await client.aclose()


@pytest.fixture
async def store(redis, unique_name) -> AsyncIterator[ServiceabilityStore]:
    store = ServiceabilityStore(redis, prefix=f"serviceability-{unique_name}")
    yield store
    await store.clear()
