"""`GET /v1/search` on the real stack: text with typos, filters, facets, sorts, pages, stock, delivery and analytics."""

from __future__ import annotations

import base64
import copy
import json

import pytest

from search.api import search_index
from search.events import SEARCH_PERFORMED_TOPIC
from search.store import SearchIndex
from tests.conftest import next_matching
from tests.search.conftest import ITEMS_BODY, PINCODE, record

pytestmark = pytest.mark.stack


def search(client, **params) -> dict:
    response = client.get("/v1/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def ids(page: dict) -> list[str]:
    return [item["item_id"] for item in page["items"]]


async def test_a_query_with_typos_still_finds_the_item(client, catalog, unique_name):
    [headphones, _] = await catalog(record(category=unique_name, title="Wireless noise cancelling headphones"),
                                    record(category=unique_name, title="Garden hose"))

    page = search(client, q="wirelss headphnes", category=unique_name)

    assert ids(page) == [headphones.item_id]


async def test_prefix_of_a_word_finds_the_item(client, catalog, unique_name):
    [kettle] = await catalog(record(category=unique_name, title="Electric kettle"))

    page = search(client, q="electric ket", category=unique_name)

    assert ids(page) == [kettle.item_id]


async def test_facets_count_the_matching_in_stock_items(client, catalog, unique_name):
    await catalog(record(category=unique_name, brand=f"{unique_name}-a", price="100"),
                  record(category=unique_name, brand=f"{unique_name}-a", price="700"),
                  record(category=unique_name, brand=f"{unique_name}-b", price="800"),
                  record(category=unique_name, brand=f"{unique_name}-b", stock=[]))

    facets = search(client, category=unique_name, brand=[f"{unique_name}-a", f"{unique_name}-b"])["facets"]

    assert facets["category"] == [{"value": unique_name, "count": 3}]
    assert facets["brand"] == [{"value": f"{unique_name}-a", "count": 2}, {"value": f"{unique_name}-b", "count": 1}]
    assert facets["price"] == [{"from": 0, "to": 500, "count": 1}, {"from": 500, "to": 1000, "count": 2}]


async def test_brand_filter_narrows_the_hits_but_the_brand_facet_still_shows_the_others(client, catalog, unique_name):
    acme, zeta = f"{unique_name}-a", f"{unique_name}-b"
    await catalog(record(category=unique_name, brand=acme), record(category=unique_name, brand=acme),
                  record(category=unique_name, brand=zeta))

    page = search(client, category=unique_name, brand=acme)

    assert page["total"] == 2
    assert page["facets"]["brand"] == [{"value": acme, "count": 2}, {"value": zeta, "count": 1}]
    assert page["facets"]["category"] == [{"value": unique_name, "count": 2}]


async def test_picking_a_category_still_counts_the_other_categories(client, catalog, unique_name):
    brand, shirts, socks = unique_name, f"{unique_name}-shirts", f"{unique_name}-socks"
    await catalog(record(category=shirts, brand=brand), record(category=shirts, brand=brand),
                  record(category=socks, brand=brand))

    page = search(client, category=socks, brand=brand)

    assert page["total"] == 1
    assert page["facets"]["category"] == [{"value": shirts, "count": 2}, {"value": socks, "count": 1}]


async def test_attribute_filter_and_its_facet(client, catalog, unique_name):
    [red, _, _] = await catalog(record(category=unique_name, attributes={"color": "red", "fit": "slim"}),
                                record(category=unique_name, attributes={"color": "blue"}),
                                record(category=unique_name, attributes={"color": "blue"}))

    page = search(client, **{"category": unique_name, "attr.color": "red"})

    assert ids(page) == [red.item_id]
    assert page["facets"]["attr.color"] == [{"value": "blue", "count": 2}, {"value": "red", "count": 1}]
    assert page["facets"]["attr.fit"] == [{"value": "slim", "count": 1}]


async def test_attribute_names_and_values_of_any_characters_filter_and_facet_apart(client, catalog, unique_name):
    [eu, _, _] = await catalog(record(category=unique_name, attributes={"size (EU)": "42", "size": "M=L"}),
                               record(category=unique_name, attributes={"size": "S", "size_eu": "41"}),
                               record(category=unique_name, attributes={"size (EU)": 41.5, "size": "M"}))

    everything = search(client, category=unique_name, facets="size (EU),size")
    filtered = search(client, **{"category": unique_name, "attr.size (EU)": ["42", "43"]})

    assert everything["facets"]["attr.size"] == [{"value": v, "count": 1} for v in ("M", "M=L", "S")]
    assert everything["facets"]["attr.size (EU)"] == [{"value": "41.5", "count": 1}, {"value": "42", "count": 1}]
    assert ids(filtered) == [eu.item_id]


async def test_price_range_filter(client, catalog, unique_name):
    [_, middle, _] = await catalog(*(record(category=unique_name, price=p) for p in ("99", "450.50", "2000")))

    page = search(client, category=unique_name, min_price="100", max_price="1000")

    assert ids(page) == [middle.item_id]
    assert page["items"][0]["price"] == {"amount": "450.50", "currency": "INR"}


async def test_sorts_by_price_both_ways_and_by_newest(client, catalog, unique_name):
    cheap, dear, mid = await catalog(record(category=unique_name, price="10", version=3),
                                     record(category=unique_name, price="30", version=1),
                                     record(category=unique_name, price="20", version=2))

    assert ids(search(client, category=unique_name, sort="price_asc")) == [cheap.item_id, mid.item_id, dear.item_id]
    assert ids(search(client, category=unique_name, sort="price_desc")) == [dear.item_id, mid.item_id, cheap.item_id]
    assert ids(search(client, category=unique_name, sort="newest")) == [cheap.item_id, mid.item_id, dear.item_id]


async def test_pages_and_the_cursor_walk_the_same_order_without_overlap(client, catalog, unique_name):
    await catalog(*(record(category=unique_name, price=str(10 + n % 3)) for n in range(7)))
    by_page = [ids(search(client, category=unique_name, sort="price_asc", size=3, page=p)) for p in (1, 2, 3)]

    first = search(client, category=unique_name, sort="price_asc", size=3)
    second = search(client, category=unique_name, sort="price_asc", size=3, cursor=first["next_cursor"])
    third = search(client, category=unique_name, sort="price_asc", size=3, cursor=second["next_cursor"])

    assert [ids(first), ids(second), ids(third)] == by_page
    assert len({i for page in by_page for i in page}) == 7
    assert (second["page"], third["page"], third["next_cursor"]) == (2, 3, None)


async def test_out_of_stock_items_are_hidden_unless_asked_for(client, catalog, unique_name):
    [in_stock, sold_out] = await catalog(record(category=unique_name),
                                         record(category=unique_name, stock=[{"warehouse_id": "W1", "quantity": 0}]))

    default = search(client, category=unique_name)
    everything = search(client, category=unique_name, in_stock="false")

    assert ids(default) == [in_stock.item_id]
    assert sorted(ids(everything)) == sorted([in_stock.item_id, sold_out.item_id])


async def test_pincode_leaves_out_undeliverable_items_and_gives_the_fastest_eta(client, catalog, unique_name,
                                                                                delivery_network):
    await delivery_network(("WA", PINCODE, 10, "small medium"), ("WB", PINCODE, 4, "small large bulky"))
    both, _bulky_a, _elsewhere, bulky_b = await catalog(
        record(category=unique_name, size_class="small",
               stock=[{"warehouse_id": "WA", "quantity": 1}, {"warehouse_id": "WB", "quantity": 1}]),
        record(category=unique_name, size_class="bulky", stock=[{"warehouse_id": "WA", "quantity": 1}]),
        record(category=unique_name, size_class="small", stock=[{"warehouse_id": "WC", "quantity": 1}]),
        record(category=unique_name, size_class="bulky", stock=[{"warehouse_id": "WB", "quantity": 1}]))

    page = search(client, category=unique_name, pincode=PINCODE)

    assert sorted(ids(page)) == sorted([both.item_id, bulky_b.item_id])
    assert {(item["deliverable"], item["eta_hours"]) for item in page["items"]} == {(True, 4.0)}


async def test_unknown_pincode_finds_nothing(client, catalog, unique_name, delivery_network):
    await delivery_network(("WA", PINCODE, 10, "small"))
    await catalog(record(category=unique_name, stock=[{"warehouse_id": "WA", "quantity": 1}]))

    page = search(client, category=unique_name, pincode="999999")

    assert page["total"] == 0


async def test_each_search_publishes_a_search_performed_event(client, catalog, unique_name, tail):
    [item] = await catalog(record(category=unique_name, title=f"Teapot {unique_name}"))
    events = await tail(SEARCH_PERFORMED_TOPIC)

    search(client, q=f"teapot {unique_name}", category=unique_name)

    message = await next_matching(events, lambda m: json.loads(m.value)["query"] == f"teapot {unique_name}")
    event = json.loads(message.value)
    assert event["top_item_ids"] == [item.item_id] and event["total"] == 1
    assert event["filters"]["categories"] == [unique_name]


@pytest.mark.parametrize("params, error", [
    ({"size": 1000}, "invalid_page_size"),
    ({"page": 200, "size": 100}, "page_too_deep"),
    ({"min_price": 50, "max_price": 10}, "invalid_price_range"),
    ({"cursor": "garbage"}, "invalid_cursor"),
    ({"pincode": "abc"}, "invalid_request"),
    ({"sort": "cheapest"}, "invalid_request"),
    ({"min_price": "1e400"}, "invalid_price"),
])
def test_unusable_parameters_get_422_with_a_reason(client, params, error):
    response = client.get("/v1/search", params=params)

    assert response.status_code == 422
    assert response.json()["error"] == error


MANY = [f"v{n}" for n in range(21)]


@pytest.mark.parametrize("params, error, limit", [
    ({"q": "x" * 201}, "query_too_long", 200),
    ({f"attr.a{n}": "x" for n in range(11)}, "too_many_attribute_filters", 10),
    ({"attr.color": MANY}, "too_many_filter_values", 20),
    ({"category": MANY}, "too_many_filter_values", 20),
    ({"facets": ",".join(f"a{n}" for n in range(11))}, "too_many_facets", 10),
    ({"attr." + "n" * 65: "x"}, "attribute_name_too_long", 64),
    ({"facets": "n" * 65}, "attribute_name_too_long", 64),
    ({"attr.color": "x" * 101}, "filter_value_too_long", 100),
    ({"brand": "x" * 101}, "filter_value_too_long", 100),
])
def test_a_search_beyond_a_cap_gets_422_naming_the_limit(client, params, error, limit):
    response = client.get("/v1/search", params=params)

    assert response.status_code == 422
    body = response.json()
    assert (body["error"], body["limit"]) == (error, limit)
    assert str(limit) in body["detail"]


def forged(after: object, sort: str = "price_asc") -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after, "page": 2, "sort": sort}).encode()).decode()


@pytest.mark.parametrize("cursor", [
    forged(["cheap", "id-1"]), forged([None, "id-1"]), forged([10.5]), forged([{"a": 1}, "id-1"]),
    forged([2**70, "id-1"], sort="newest"),
])
def test_a_forged_cursor_gets_422_not_a_server_error(client, cursor):
    sort = json.loads(base64.urlsafe_b64decode(cursor))["sort"]

    response = client.get("/v1/search", params={"sort": sort, "cursor": cursor})

    assert response.status_code == 422
    assert response.json()["error"] == "invalid_cursor"


def test_a_page_beyond_the_result_window_gets_422_pointing_to_the_cursor(client):
    response = client.get("/v1/search", params={"page": 501, "size": 20})  # from 10,000: past max_result_window

    assert response.status_code == 422
    assert response.json()["error"] == "page_too_deep"
    assert "next_cursor" in response.json()["detail"]


@pytest.fixture
async def unsortable_index(client, es, unique_name):
    """An item index whose item_id is text, which Elasticsearch refuses to sort on; the API searches it."""
    body = copy.deepcopy(ITEMS_BODY)
    body["mappings"]["properties"]["item_id"] = {"type": "text"}
    alias = f"{unique_name}-items"
    await es.indices.create(index=f"{alias}-v1", aliases={alias: {}}, **body)
    index = SearchIndex(client.app.state.stores.elasticsearch, alias)  # the app's own client, on the app's loop
    client.app.dependency_overrides[search_index] = lambda: index
    yield
    client.app.dependency_overrides.pop(search_index)
    await es.indices.delete(index=f"{alias}-v1")


async def test_a_search_elasticsearch_refuses_gets_400_with_its_reason(client, unsortable_index):
    response = client.get("/v1/search", params={"q": "mug"})

    assert response.status_code == 400
    assert response.json()["error"] == "search_refused"
    assert "item_id" in response.json()["detail"]
