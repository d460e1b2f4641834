"""Serviceability rules: fastest routes per size class, network validation, and the warehouse that ships an item."""

from __future__ import annotations

import gzip
import json

import pytest

from logistics.commands import SAMPLE_NETWORK, read_network_file
from logistics.sample.generate import build_network
from logistics.service import (
    DeliveryEstimate,
    InvalidNetwork,
    fastest_routes,
    fastest_warehouse,
    parse_network,
    stocked_warehouses,
)
from tests.logistics.conftest import ALL, network, network_file

pytestmark = pytest.mark.unit


def test_fastest_path_via_a_hub_beats_a_slower_direct_route():
    given = network(("W1", "110002", 12, ALL), ("W1", "H1", 5, ALL), ("H1", "110002", 3, ALL))

    etas = fastest_routes(given)

    assert etas["W1"]["110002"] == (8.0, 8.0, 8.0, 8.0)


def test_a_lane_that_cannot_carry_the_size_forces_the_slower_path():
    given = network(("W1", "H1", 2, ALL), ("H1", "H2", 6, "small"), ("H1", "H2", 20, "small medium large bulky"),
                    ("H2", "400001", 2, ALL))

    etas = fastest_routes(given)

    assert etas["W1"]["400001"] == (10.0, 24.0, 24.0, 24.0)


def test_a_size_no_route_carries_cannot_be_delivered():
    given = network(("W1", "H1", 2, ALL), ("H1", "795001", 9.5, "small medium"))

    etas = fastest_routes(given)

    assert etas["W1"]["795001"] == (11.5, 11.5, None, None)


def test_routes_are_one_way():
    given = network(("W1", "H1", 2, ALL), ("H2", "H1", 3, ALL), ("W2", "H2", 1, ALL), ("H1", "110001", 1, ALL))

    etas = fastest_routes(given)

    assert etas["W1"] == {"110001": (3.0, 3.0, 3.0, 3.0)}
    assert etas["W2"] == {"110001": (5.0, 5.0, 5.0, 5.0)}
    assert fastest_routes(network(("H1", "W1", 2, ALL), ("H1", "110001", 1, ALL)))["W1"] == {}


def test_a_pincode_no_route_reaches_is_left_out():
    given = network(("W1", "110001", 4, ALL), extra_pincodes=("190001",))

    etas = fastest_routes(given)

    assert etas["W1"] == {"110001": (4.0, 4.0, 4.0, 4.0)}


def test_hours_add_up_without_float_noise():
    given = network(("W1", "H1", 0.1, ALL), ("H1", "110001", 0.2, ALL))

    etas = fastest_routes(given)

    assert etas["W1"]["110001"][0] == 0.3


def test_an_invalid_file_lists_every_problem_at_once():
    data = network_file(("W1", "H1", 2, ALL), ("H1", "110001", 1, ALL))
    data["routes"] += [{"from": "H1", "to": "999999", "hours": 1, "size_classes": ["small"]},
                       {"from": "W1", "to": "H1", "hours": -3, "size_classes": ["small"]},
                       {"from": "W1", "to": "H1", "hours": 1, "size_classes": ["huge"]}]

    with pytest.raises(InvalidNetwork) as raised:
        parse_network(data)

    problems = raised.value.problems
    assert "routes[2].to: unknown node '999999'" in problems
    assert any(p.startswith("routes[3].hours: Input should be greater than or equal to 0") for p in problems)
    assert any(p.startswith("routes[4].size_classes[0]:") and "'huge'" in p for p in problems)
    assert len(problems) == 3


def test_a_node_declared_twice_and_a_malformed_pincode_are_rejected():
    data = network_file(("W1", "H1", 2, ALL), ("H1", "110001", 1, ALL))
    data["hubs"].append({"hub_id": "W1", "name": "clash"})
    data["pincodes"].append({"pincode": "1100", "city": "Delhi", "state": "Delhi"})

    with pytest.raises(InvalidNetwork) as raised:
        parse_network(data)

    assert "node 'W1' is declared more than once" in raised.value.problems
    assert any(p.startswith("pincodes[1].pincode: String should match pattern") for p in raised.value.problems)


def test_a_file_that_is_not_a_network_says_so():
    with pytest.raises(InvalidNetwork) as raised:
        parse_network(["not", "a", "network"])

    assert raised.value.problems == ["file: Input should be a valid dictionary or instance of Network"]


def test_pincodes_written_as_numbers_are_read_as_strings():
    data = network_file(("W1", "110001", 4, ALL))
    data["pincodes"][0]["pincode"] = 110001
    data["routes"][0]["to"] = 110001

    given = parse_network(data)

    assert fastest_routes(given)["W1"] == {"110001": (4.0, 4.0, 4.0, 4.0)}


def test_the_fastest_stocked_warehouse_ships():
    etas = {"W1": 30.0, "W2": 12.0, "W3": 4.0}

    estimate = fastest_warehouse(etas, ["W1", "W2"])

    assert estimate == DeliveryEstimate(True, 12.0, "W2")


def test_an_item_stocked_only_where_no_route_reaches_is_not_deliverable():
    estimate = fastest_warehouse({"W1": 5.0}, ["W9"])

    assert estimate == DeliveryEstimate(False, None, None)


def test_only_warehouses_holding_units_count_as_stocked():
    item = {"stock": [{"warehouse_id": "W1", "quantity": 0}, {"warehouse_id": "W2", "quantity": 4}]}

    assert stocked_warehouses(item) == ["W2"]
    assert stocked_warehouses({"stock": None}) == []


def test_network_files_are_read_plain_or_gzipped(tmp_path):
    data = network_file(("W1", "110001", 4, ALL))
    (tmp_path / "n.json").write_text(json.dumps(data))
    (tmp_path / "n.json.gz").write_bytes(gzip.compress(json.dumps(data).encode()))

    assert read_network_file(tmp_path / "n.json") == read_network_file(tmp_path / "n.json.gz") == data
    with pytest.raises(InvalidNetwork, match="cannot read"):
        read_network_file(tmp_path / "missing.json")


def test_the_committed_sample_is_what_the_generator_makes():
    committed = read_network_file(SAMPLE_NETWORK)

    assert committed == build_network()
    assert SAMPLE_NETWORK.stat().st_size < 1_000_000


def test_the_sample_network_serves_most_pincodes_and_restricts_bulky_in_the_hills():
    sample = parse_network(build_network())

    etas = fastest_routes(sample)

    served = set().union(*etas.values())
    assert len(sample.warehouses) >= 30 and len(sample.pincodes) >= 5000
    assert 0.9 * len(sample.pincodes) < len(served) < len(sample.pincodes)
    assert etas["WH-DEL-01"]["110001"][3] is not None
    assert all(etas[warehouse]["795001"][3] is None for warehouse in etas)
