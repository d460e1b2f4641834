"""Serviceability rules: the logistics network file and its validation, the fastest route from every warehouse to
every pincode per size class (Dijkstra over the routes that carry that size), and which warehouse ships an item."""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from inbound.events import SIZE_CLASSES, SizeClass

PINCODE_PATTERN = r"^[1-9][0-9]{5}$"
# Hours per size class in SIZE_CLASSES order (small, medium, large, bulky); None when no route carries that size.
Etas = tuple[float | None, ...]
_NODE_KEYS = {"warehouses": "warehouse_id", "hubs": "hub_id", "pincodes": "pincode"}
_SHOWN_PROBLEMS = 25


class InvalidNetwork(Exception):
    """The network file cannot be used; `problems` lists every reason found, one line each."""

    def __init__(self, problems: list[str]) -> None:
        shown = [f"  - {problem}" for problem in problems[:_SHOWN_PROBLEMS]]
        more = [f"  ... and {len(problems) - _SHOWN_PROBLEMS} more"] if len(problems) > _SHOWN_PROBLEMS else []
        super().__init__("\n".join([f"invalid logistics network, {len(problems)} problem(s):", *shown, *more]))
        self.problems = problems


class DeliveryEstimate(NamedTuple):
    deliverable: bool
    eta_hours: float | None
    warehouse_id: str | None


# Pincodes written as JSON numbers are read as the same 6-digit strings.
_FILE_ROW = ConfigDict(coerce_numbers_to_str=True, frozen=True)


class Warehouse(BaseModel):
    model_config = _FILE_ROW
    warehouse_id: str = Field(min_length=1)
    name: str
    pincode: str = Field(pattern=PINCODE_PATTERN)


class Hub(BaseModel):
    model_config = _FILE_ROW
    hub_id: str = Field(min_length=1)
    name: str


class Pincode(BaseModel):
    model_config = _FILE_ROW
    pincode: str = Field(pattern=PINCODE_PATTERN)
    city: str
    state: str


class Route(BaseModel):
    model_config = ConfigDict(coerce_numbers_to_str=True, frozen=True, populate_by_name=True)
    source: str = Field(alias="from")
    to: str
    hours: float = Field(ge=0, allow_inf_nan=False)
    size_classes: list[SizeClass] = Field(min_length=1)


class Network(BaseModel):
    """A logistics network, read from a JSON file (optionally gzip-compressed):

        {"warehouses": [{"warehouse_id": "WH-DEL-01", "name": "Delhi FC 1", "pincode": "110020"}, ...],
         "hubs":       [{"hub_id": "HUB-NORTH", "name": "North regional hub, Delhi"}, ...],      (optional)
         "pincodes":   [{"pincode": "110001", "city": "Delhi", "state": "Delhi"}, ...],
         "routes":     [{"from": "WH-DEL-01", "to": "HUB-NORTH", "hours": 3.5,
                         "size_classes": ["small", "medium", "large", "bulky"]}, ...]}

    Nodes are warehouse ids, hub ids and pincodes, each declared once. A route is one direction of a courier lane: it
    leads from one node to another in `hours` (>= 0) and carries only the listed size classes. A pincode no route
    reaches is unserviceable. Other fields are ignored.
    """

    warehouses: list[Warehouse] = Field(min_length=1)
    hubs: list[Hub] = Field(default_factory=list)
    pincodes: list[Pincode] = Field(min_length=1)
    routes: list[Route]


def parse_network(data: Any) -> Network:
    """The validated network; raises InvalidNetwork listing every problem (shape, values and unknown nodes) at once."""
    problems = _reference_problems(data)
    try:
        network = Network.model_validate(data)
    except ValidationError as error:
        problems = [_describe(detail) for detail in error.errors()] + problems
    if problems:
        raise InvalidNetwork(problems)
    return network


def _describe(detail: ErrorDetails) -> str:
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in detail["loc"]).lstrip(".")
    value = detail.get("input")
    shown = f" (got {value!r})" if isinstance(value, str | int | float) and detail["type"] != "missing" else ""
    return f"{where or 'file'}: {detail['msg']}{shown}"


def _reference_problems(data: Any) -> list[str]:
    """Duplicate node ids and routes to or from undeclared nodes, read from the raw file so they are reported together
    with any shape problem."""
    declared = [str(row[key]) for section, key in _NODE_KEYS.items() for row in _rows(data, section)
                if isinstance(row, dict) and isinstance(row.get(key), str | int)]
    problems = [f"node {node!r} is declared more than once" for node, count in Counter(declared).items() if count > 1]
    known = set(declared)
    for index, route in enumerate(_rows(data, "routes")):
        ends = [(end, route.get(end)) for end in ("from", "to")] if isinstance(route, dict) else []
        problems += [f"routes[{index}].{end}: unknown node {node!r}" for end, node in ends
                     if isinstance(node, str | int) and str(node) not in known]
    return problems


def _rows(data: Any, section: str) -> list:
    rows = data.get(section) if isinstance(data, dict) else None
    return rows if isinstance(rows, list) else []


def fastest_routes(network: Network) -> dict[str, dict[str, Etas]]:
    """Per warehouse, every pincode it reaches with at least one size class, with the fastest hours per size class."""
    graphs = {size: _graph(network.routes, size) for size in SIZE_CLASSES}
    pincodes = {row.pincode for row in network.pincodes}
    return {row.warehouse_id: _etas_from(row.warehouse_id, graphs, pincodes) for row in network.warehouses}


def _graph(routes: list[Route], size_class: str) -> dict[str, list[tuple[str, float]]]:
    graph: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for route in routes:
        if size_class in route.size_classes:
            graph[route.source].append((route.to, route.hours))
    return dict(graph)


def _etas_from(warehouse_id: str, graphs: dict[str, dict], pincodes: set[str]) -> dict[str, Etas]:
    hours_by_size = [shortest_hours(graphs[size], warehouse_id) for size in SIZE_CLASSES]
    reached = set().union(*(hours.keys() & pincodes for hours in hours_by_size))
    return {pincode: tuple(_rounded(hours.get(pincode)) for hours in hours_by_size) for pincode in reached}


def shortest_hours(graph: dict[str, list[tuple[str, float]]], source: str) -> dict[str, float]:
    """Dijkstra: the fewest hours from `source` to every node it reaches over the directed edges of `graph`."""
    best = {source: 0.0}
    queue = [(0.0, source)]
    while queue:
        hours, node = heapq.heappop(queue)
        if hours > best[node]:
            continue
        for neighbour, step in graph.get(node, ()):
            candidate = hours + step
            if candidate < best.get(neighbour, float("inf")):
                best[neighbour] = candidate
                # A node nothing leaves (a pincode, usually) has nothing to relax, so it never needs to be queued.
                if neighbour in graph:
                    heapq.heappush(queue, (candidate, neighbour))
    return best


def _rounded(hours: float | None) -> float | None:
    return None if hours is None else round(hours, 2)


def stocked_warehouses(item: dict) -> list[str]:
    """The warehouses holding at least one unit of the stored item."""
    return [line["warehouse_id"] for line in item.get("stock") or [] if line.get("quantity", 0) > 0]


def fastest_warehouse(etas: dict[str, float], item_warehouses: list[str]) -> DeliveryEstimate:
    """The stocked warehouse that delivers soonest (ties go to the smallest id), given each warehouse's eta."""
    best = min(((etas[warehouse], warehouse) for warehouse in item_warehouses if warehouse in etas), default=None)
    if best is None:
        return DeliveryEstimate(False, None, None)
    return DeliveryEstimate(True, *best)
