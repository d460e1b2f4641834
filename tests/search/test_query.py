"""The search request built from the shopper's parameters, and the page read back from Elasticsearch's answer."""

from __future__ import annotations

import base64
import json

import pytest

from search.query import (
    MOST_WORDS,
    InvalidSearch,
    SearchLimits,
    SearchParams,
    build_search,
    check,
    cursor_token,
    read_cursor,
    read_page,
)

pytestmark = pytest.mark.unit
LIMITS = SearchLimits()  # the defaults: pages of at most 100, 10 attribute filters of 20 values, 10 facets, ...


def filters_of(body: dict) -> list[dict]:
    return body["query"]["bool"]["filter"]


def aggregation(body: dict, facet: str, attribute_facets: tuple[str, ...] = ()) -> dict:
    names = ["category", "brand", "price", *(f"attr.{n}" for n in attribute_facets)]
    return body["aggs"][f"f{names.index(facet)}"]


def test_text_query_tolerates_typos_and_falls_back_to_most_words():
    body = build_search(SearchParams(q="organic cotton shrit"), None, [])

    clauses = body["query"]["bool"]["must"][0]["bool"]["should"]

    fuzzy = [c["multi_match"] for c in clauses if "multi_match" in c and c["multi_match"].get("fuzziness") == "AUTO"]
    assert any(m.get("operator") == "and" for m in fuzzy)
    assert any("minimum_should_match" in m for m in fuzzy)
    assert fuzzy[0]["fields"] == ["title^3", "description"]


@pytest.mark.parametrize("q", ["shrit", "cotton shrit", "don't"])
def test_one_or_two_words_need_one_typo_tolerant_clause_since_most_of_them_is_all(q):
    clauses = build_search(SearchParams(q=q), None, [])["query"]["bool"]["must"][0]["bool"]["should"]

    fuzzy = [c["multi_match"] for c in clauses if "multi_match" in c and c["multi_match"].get("fuzziness") == "AUTO"]
    assert fuzzy == [{"query": q, "fields": ["title^3", "description"], "operator": "and", "fuzziness": "AUTO",
                      "prefix_length": 1, "max_expansions": 25, "boost": 1.5}]


@pytest.mark.parametrize("q", ["t-shirt xl", "red cotton shirt", "中文"])
def test_three_words_or_text_that_may_split_finer_keep_the_most_words_fallback(q):
    clauses = build_search(SearchParams(q=q), None, [])["query"]["bool"]["must"][0]["bool"]["should"]

    assert any(c.get("multi_match", {}).get("minimum_should_match") == MOST_WORDS for c in clauses)


def test_out_of_stock_and_deleted_items_are_hidden_by_default():
    body = build_search(SearchParams(), None, [])

    assert {"term": {"deleted": False}} in filters_of(body)
    assert {"term": {"in_stock": True}} in filters_of(body)


def test_in_stock_false_shows_out_of_stock_but_never_deleted_items():
    body = build_search(SearchParams(in_stock=False), None, [])

    assert filters_of(body) == [{"term": {"deleted": False}}]


def test_pincode_keeps_items_whose_warehouse_carries_their_size_there():
    deliverable = {"small": {"W1": 10.0, "W2": 20.0}, "medium": {}, "large": {}, "bulky": {"W3": 40.0}}

    body = build_search(SearchParams(pincode="560001"), deliverable, [])

    assert filters_of(body)[-1] == {"terms": {"delivery_slots": ["bulky@W3", "small@W1", "small@W2"]}}


def test_pincode_no_warehouse_reaches_matches_nothing():
    deliverable = {"small": {}, "medium": {}, "large": {}, "bulky": {}}

    body = build_search(SearchParams(pincode="560001"), deliverable, [])

    assert filters_of(body)[-1] == {"match_none": {}}


def test_facet_filters_narrow_hits_but_each_facet_counts_without_its_own_filter():
    params = SearchParams(categories=["shirts"], brands=["acme"], attributes={"color": ["red", "blue"]})

    body = build_search(params, None, ["color"])

    assert len(body["post_filter"]["bool"]["filter"]) == 3
    category_filters = aggregation(body, "category", ("color",))["filter"]["bool"]["filter"]
    assert category_filters == [{"terms": {"brand": ["acme"]}},
                                {"terms": {"attribute_pairs": ["color=red", "color=blue"]}}]
    color = aggregation(body, "attr.color", ("color",))
    assert color["filter"]["bool"]["filter"] == [{"terms": {"category": ["shirts"]}}, {"terms": {"brand": ["acme"]}}]


def test_attribute_facet_counts_the_pairs_of_its_own_name_only():
    body = build_search(SearchParams(), None, ["size", "fit (EU)"])

    size = aggregation(body, "attr.size", ("size", "fit (EU)"))["aggs"]["values"]["terms"]
    fit = aggregation(body, "attr.fit (EU)", ("size", "fit (EU)"))["aggs"]["values"]["terms"]
    assert (size["field"], size["include"]) == ("attribute_pairs", "size=.*")
    assert fit["include"] == "fit\\ \\(EU\\)=.*"  # the name is literal text, not a regular expression


def test_attribute_facet_values_are_read_back_without_their_name():
    response = answer([], total=0, facets=4)
    response["aggregations"]["f3"] = {"values": {"buckets": [{"key": "size=M", "doc_count": 2},
                                                             {"key": "size=a=b", "doc_count": 1}]}}

    page = read_page(response, SearchParams(), None, ["size"])

    assert page["facets"]["attr.size"] == [{"value": "M", "count": 2}, {"value": "a=b", "count": 1}]


def test_price_bounds_filter_and_price_facet_has_fixed_buckets():
    body = build_search(SearchParams(min_price="100", max_price="999.5"), None, [])

    assert body["post_filter"]["bool"]["filter"] == [{"range": {"price": {"gte": 100.0, "lte": 999.5}}}]
    ranges = aggregation(body, "price")["aggs"]["values"]["range"]["ranges"]
    assert ranges[0] == {"from": 0, "to": 500} and ranges[-1] == {"from": 50_000}


@pytest.mark.parametrize("sort, first", [
    ("price_asc", {"price": "asc"}), ("price_desc", {"price": "desc"}),
    ("newest", {"created_at": {"order": "desc", "missing": "_last"}}),
])
def test_every_sort_breaks_ties_by_item_id(sort, first):
    body = build_search(SearchParams(sort=sort), None, [])

    assert body["sort"] == [first, {"item_id": "asc"}]


def test_relevance_sorts_by_score_when_there_is_text():
    body = build_search(SearchParams(q="shirt"), None, [])

    assert body["sort"] == [{"_score": "desc"}, {"item_id": "asc"}]


def test_page_becomes_an_offset():
    body = build_search(SearchParams(page=3, size=20), None, [])

    assert body["from"] == 40 and body["size"] == 20


def test_cursor_continues_after_the_last_hit_without_an_offset():
    token = cursor_token([12.5, "abc"], 501, "price_asc")

    body = build_search(SearchParams(sort="price_asc", cursor=token), None, [])

    assert body["search_after"] == [12.5, "abc"]
    assert "from" not in body


def test_pages_beyond_ten_thousand_results_need_the_cursor():
    with pytest.raises(InvalidSearch) as refused:
        check(SearchParams(page=101, size=100), LIMITS)

    assert refused.value.code == "page_too_deep"


@pytest.mark.parametrize("params, code", [
    (SearchParams(size=101), "invalid_page_size"),
    (SearchParams(size=0), "invalid_page_size"),
    (SearchParams(page=0), "invalid_page"),
    (SearchParams(min_price="10", max_price="5"), "invalid_price_range"),
    (SearchParams(cursor="not-a-cursor"), "invalid_cursor"),
    (SearchParams(cursor=cursor_token([1, "a"], 2, "price_asc"), sort="newest"), "invalid_cursor"),
    (SearchParams(min_price="1E+400"), "invalid_price"),
    (SearchParams(max_price="1E+15"), "invalid_price"),
])
def test_unusable_parameters_are_refused_with_a_reason(params, code):
    with pytest.raises(InvalidSearch) as refused:
        check(params, LIMITS)

    assert refused.value.code == code


MANY = [f"v{n}" for n in range(21)]


@pytest.mark.parametrize("params, code, limit", [
    (SearchParams(q="x" * 201), "query_too_long", 200),
    (SearchParams(attributes={f"a{n}": ["x"] for n in range(11)}), "too_many_attribute_filters", 10),
    (SearchParams(attributes={"color": MANY}), "too_many_filter_values", 20),
    (SearchParams(categories=MANY), "too_many_filter_values", 20),
    (SearchParams(brands=MANY), "too_many_filter_values", 20),
    (SearchParams(facet_names=[f"a{n}" for n in range(11)]), "too_many_facets", 10),
    (SearchParams(attributes={"n" * 65: ["x"]}), "attribute_name_too_long", 64),
    (SearchParams(facet_names=["n" * 65]), "attribute_name_too_long", 64),
    (SearchParams(attributes={"color": ["x" * 101]}), "filter_value_too_long", 100),
    (SearchParams(categories=["x" * 101]), "filter_value_too_long", 100),
    (SearchParams(brands=["x" * 101]), "filter_value_too_long", 100),
])
def test_searches_beyond_a_cap_are_refused_naming_the_limit(params, code, limit):
    with pytest.raises(InvalidSearch) as refused:
        check(params, LIMITS)

    assert (refused.value.code, refused.value.limit) == (code, limit)
    assert str(limit) in refused.value.detail


@pytest.mark.parametrize("params", [
    SearchParams(attributes={"": ["x"]}),
    SearchParams(facet_names=[""]),
])
def test_an_empty_attribute_name_is_refused(params):
    with pytest.raises(InvalidSearch) as refused:
        check(params, LIMITS)

    assert refused.value.code == "invalid_attribute_name"


def largest_search() -> SearchParams:
    """A search at every cap: 200 characters of text, 20 categories and brands, 10 attribute filters of 20 values and
    10 more facets, every name and value as long as allowed."""
    values = [f"{n:02}" + "v" * 98 for n in range(20)]
    return SearchParams(q="q" * 200, categories=values, brands=values, min_price="1", max_price="2",
                        attributes={f"{n}" + "n" * 63: values for n in range(10)},
                        facet_names=[f"{n}" + "f" * 63 for n in range(10)])


def test_the_largest_search_the_caps_allow_passes_and_stays_bounded():
    params = largest_search()

    check(params, LIMITS)
    body = build_search(params, None, params.facet_names)

    # Each facet repeats every other filter: 300 filters and 300 facets made 3.5 MB before there were caps.
    assert len(json.dumps(body)) < 600_000


def test_cursor_round_trips():
    token = cursor_token([1700000000000, "id-9"], 7, "newest")

    cursor = read_cursor(token, SearchParams(sort="newest"))

    assert cursor == {"after": [1700000000000, "id-9"], "page": 7}


def forged(after: object, page: object = 2, sort: str = "price_asc") -> str:
    raw = json.dumps({"after": after, "page": page, "sort": sort}).encode()
    return base64.urlsafe_b64encode(raw).decode()


@pytest.mark.parametrize("token, sort", [
    (forged(["cheap", "id-1"]), "price_asc"),  # a price that is no number
    (forged([10.5, 7]), "price_asc"),  # an item id that is no string
    (forged([None, "id-1"]), "price_asc"),  # Elasticsearch fails on a null with a 500
    (forged([10.5]), "price_asc"),  # fewer values than the sort has
    (forged([10.5, "id-1", "x"]), "price_asc"),
    (forged([{"a": 1}, "id-1"]), "price_asc"),
    (forged([True, "id-1"]), "price_asc"),
    (forged([2**70, "id-1"], sort="newest"), "newest"),  # beyond 64 bits: the client cannot even send it
    (forged([1.5, "id-1"], sort="newest"), "newest"),  # a time is whole milliseconds
    (forged([10.5, "id-1"], page=True), "price_asc"),
    (forged([10.5, "id-1"], page=0), "price_asc"),
    (forged([10.5, "id-1"], page="2"), "price_asc"),
    (forged([10.5, "i" * 2000]), "price_asc"),  # longer than any cursor this API hands out
    (forged({"price": 10.5}), "price_asc"),
    (base64.urlsafe_b64encode(b"[1, 2]").decode(), "price_asc"),
])
def test_a_forged_cursor_is_refused_before_elasticsearch_sees_it(token, sort):
    with pytest.raises(InvalidSearch) as refused:
        check(SearchParams(sort=sort, cursor=token), LIMITS)

    assert refused.value.code == "invalid_cursor"


def test_a_relevance_cursor_fits_only_searches_that_rank_the_same_way():
    scored = cursor_token([3.25, "id-1"], 2, "relevance")  # ranked by score: there was text

    check(SearchParams(q="mug", cursor=scored), LIMITS)
    with pytest.raises(InvalidSearch) as refused:
        check(SearchParams(cursor=scored), LIMITS)  # no text: ranked by creation time, whole milliseconds

    assert refused.value.code == "invalid_cursor"


def answer(hits: list[dict], total: int, facets: int = 3) -> dict:
    empty = {"values": {"buckets": []}}
    return {"hits": {"total": {"value": total}, "hits": hits}, "aggregations": {f"f{i}": empty for i in range(facets)}}


def hit(item_id: str, **source) -> dict:
    return {"_source": {"item_id": item_id, "title": "T", "price": "10.00", "currency": "INR", "in_stock": True,
                        "size_class": "small", "stock_warehouses": ["W1", "W2"], **source}, "sort": [10.0, item_id]}


def test_page_gives_each_hit_its_fastest_delivery_and_a_cursor_when_more_remain():
    params = SearchParams(size=2, sort="price_asc", pincode="560001")

    page = read_page(answer([hit("a"), hit("b")], total=5), params, {"small": {"W1": 30.0, "W2": 8.0}}, [])

    assert [item["eta_hours"] for item in page["items"]] == [8.0, 8.0]
    assert page["items"][0]["deliverable"] is True
    assert page["items"][0]["price"] == {"amount": "10.00", "currency": "INR"}
    assert read_cursor(page["next_cursor"], params) == {"after": [10.0, "b"], "page": 2}


def test_last_page_has_no_cursor_and_no_pincode_means_no_estimate():
    page = read_page(answer([hit("a")], total=1), SearchParams(size=2), None, [])

    assert page["next_cursor"] is None
    assert page["items"][0]["deliverable"] is None and page["items"][0]["eta_hours"] is None


def test_price_facet_reads_buckets_with_items_only():
    response = answer([], total=0)
    response["aggregations"]["f2"] = {"values": {"buckets": [
        {"from": 0.0, "to": 500.0, "doc_count": 2}, {"from": 500.0, "to": 1000.0, "doc_count": 0},
        {"from": 50000.0, "doc_count": 1}]}}

    page = read_page(response, SearchParams(), None, [])

    assert page["facets"]["price"] == [{"from": 0, "to": 500, "count": 2}, {"from": 50000, "to": None, "count": 1}]
    assert json.dumps(page)  # the page is plain JSON
