"""Builds the Elasticsearch search request from the shopper's parameters and reads the answer back (no I/O).

Facet filters go in `post_filter`, and each facet counts with every filter but its own, so picking a category
still shows how many items the other categories hold.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from itertools import pairwise
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from search.service import attribute_pair, delivery_eta, delivery_slot

SortOrder = Literal["relevance", "price_asc", "price_desc", "newest"]
MAX_WINDOW = 10_000  # Elasticsearch's max_result_window: deeper pages go through search_after
PRICE_EDGES = (0, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000)
FACET_SIZE = 20
ATTRIBUTE_FACETS = 5
TEXT_FIELDS = ["title^3", "description"]
# Typos are rare in a word's first letter; keeping it fixed spares Elasticsearch most of the term dictionary walk.
FUZZY = {"fuzziness": "AUTO", "prefix_length": 1, "max_expansions": 25}
MOST_WORDS = "2<75%"  # up to two words: all of them; more: three in four
SOURCE_FIELDS = ["item_id", "title", "price", "currency", "category", "brand", "in_stock", "size_class",
                 "stock_warehouses"]
# Prices are indexed in hundredths in 64 bits: a bound beyond this means nothing to the index (and 1e400 is infinite).
PRICE_BOUND_LIMIT = Decimal(10) ** 15
MAX_CURSOR_LENGTH = 1000  # the cursors this API hands out are a few dozen characters


class InvalidSearch(ValueError):
    def __init__(self, code: str, detail: str, limit: int | None = None) -> None:
        super().__init__(detail)
        self.code, self.detail, self.limit = code, detail, limit


class SearchLimits(BaseModel):
    """What one search may ask for. Every facet's aggregation repeats every other filter, so these bound the size and
    the cost of the request Elasticsearch gets."""

    model_config = ConfigDict(frozen=True)

    max_page_size: int = 100
    max_query_length: int = 200
    max_attribute_filters: int = 10  # attr.<name> names
    max_filter_values: int = 20  # values of one repeatable filter: category, brand, one attr.<name>
    max_facets: int = 10  # attribute names in `facets`
    max_name_length: int = 64  # of an attribute name (the feed's own limit)
    max_value_length: int = 100  # of a filter value (the feed takes categories and brands of up to 100)


class SearchParams(BaseModel):
    model_config = ConfigDict(frozen=True)

    q: str | None = None
    categories: list[str] = []
    brands: list[str] = []
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    attributes: dict[str, list[str]] = {}  # attr.<name>=<value>: any of the values of one name, all of the names
    pincode: str | None = None
    in_stock: bool = True  # hide out-of-stock items unless asked not to
    sort: SortOrder = "relevance"
    page: int = 1
    size: int = 20
    cursor: str | None = None
    facet_names: list[str] = []


def check(params: SearchParams, limits: SearchLimits) -> None:
    """Refuse what Elasticsearch would refuse, what cannot mean anything and what costs more than a search may, with a
    reason the caller can act on."""
    if params.size < 1 or params.size > limits.max_page_size:
        raise InvalidSearch("invalid_page_size", f"size must be between 1 and {limits.max_page_size}",
                            limits.max_page_size)
    if params.page < 1:
        raise InvalidSearch("invalid_page", "page starts at 1")
    if params.q is not None and len(params.q) > limits.max_query_length:
        raise InvalidSearch("query_too_long", f"q is at most {limits.max_query_length} characters",
                            limits.max_query_length)
    check_prices(params)
    check_filters(params, limits)
    check_facets(params, limits)
    if params.cursor is not None:
        read_cursor(params.cursor, params)
    elif params.page * params.size > MAX_WINDOW:
        raise InvalidSearch("page_too_deep", f"pages beyond {MAX_WINDOW} results are reached with the next_cursor "
                                             "of the previous page", MAX_WINDOW)


def check_prices(params: SearchParams) -> None:
    for name, bound in (("min_price", params.min_price), ("max_price", params.max_price)):
        if bound is not None and not abs(bound) < PRICE_BOUND_LIMIT:
            raise InvalidSearch("invalid_price", f"{name} must be below {PRICE_BOUND_LIMIT:,}")
    if params.min_price is not None and params.max_price is not None and params.min_price > params.max_price:
        raise InvalidSearch("invalid_price_range", "min_price is above max_price")


def check_filters(params: SearchParams, limits: SearchLimits) -> None:
    if len(params.attributes) > limits.max_attribute_filters:
        raise InvalidSearch("too_many_attribute_filters", f"at most {limits.max_attribute_filters} attr.<name> "
                            "filters per search", limits.max_attribute_filters)
    check_attribute_names(params.attributes, limits)
    repeatable = {"category": params.categories, "brand": params.brands,
                  **{f"attr.{name}": values for name, values in params.attributes.items()}}
    for name, values in repeatable.items():
        if len(values) > limits.max_filter_values:
            raise InvalidSearch("too_many_filter_values", f"at most {limits.max_filter_values} values of {name} per "
                                "search", limits.max_filter_values)
        if any(len(value) > limits.max_value_length for value in values):
            raise InvalidSearch("filter_value_too_long", f"values of {name} are at most {limits.max_value_length} "
                                "characters", limits.max_value_length)


def check_facets(params: SearchParams, limits: SearchLimits) -> None:
    if len(set(params.facet_names)) > limits.max_facets:
        raise InvalidSearch("too_many_facets", f"at most {limits.max_facets} attribute names in facets",
                            limits.max_facets)
    check_attribute_names(params.facet_names, limits)


def check_attribute_names(names: Iterable[str], limits: SearchLimits) -> None:
    for name in names:
        if not name:
            raise InvalidSearch("invalid_attribute_name", "an attribute name may not be empty")
        if len(name) > limits.max_name_length:
            raise InvalidSearch("attribute_name_too_long", f"attribute names are at most {limits.max_name_length} "
                                "characters", limits.max_name_length)


def build_search(params: SearchParams, deliverable: dict | None, attribute_facets: list[str]) -> dict[str, Any]:
    filters = facet_filters(params)
    body: dict[str, Any] = {
        "query": matching(params, deliverable), "aggs": aggregations(filters, attribute_facets),
        "sort": sort_clauses(params), "size": params.size, "track_total_hits": True, "_source": SOURCE_FIELDS,
    }
    if filters:
        body["post_filter"] = {"bool": {"filter": list(filters.values())}}
    if params.cursor is not None:
        body["search_after"] = read_cursor(params.cursor, params)["after"]
    else:
        body["from"] = (params.page - 1) * params.size
    return body


def attribute_names_search(params: SearchParams, deliverable: dict | None) -> dict[str, Any]:
    """The most common attribute names among the matching items: the attribute facets worth offering."""
    query = matching(params, deliverable)
    query["bool"]["filter"].extend(facet_filters(params).values())
    return {"query": query, "size": 0,
            "aggs": {"names": {"terms": {"field": "attribute_names", "size": ATTRIBUTE_FACETS}}}}


def matching(params: SearchParams, deliverable: dict | None) -> dict[str, Any]:
    filters: list[dict] = [{"term": {"deleted": False}}]
    if params.in_stock:
        filters.append({"term": {"in_stock": True}})
    if params.pincode is not None:
        filters.append(deliverable_filter(deliverable or {}))
    return {"bool": {"must": [text_query(params.q)] if params.q else [], "filter": filters}}


def text_query(q: str) -> dict[str, Any]:
    """All words, exact or with typos; when that finds nothing, most of the words still match (lower score)."""
    all_words = {"multi_match": {"query": q, "fields": TEXT_FIELDS, "operator": "and", **FUZZY}}
    if at_most_two_words(q):
        # "Most" of one or two words is all of them: the fallback would match the same items with half the score,
        # so one clause scored 1.5 ranks exactly as both would, for one fuzzy walk of the terms instead of two.
        typo_tolerant = [{"multi_match": {**all_words["multi_match"], "boost": 1.5}}]
    else:
        typo_tolerant = [all_words, {"multi_match": {"query": q, "fields": TEXT_FIELDS, **FUZZY,
                                                     "minimum_should_match": MOST_WORDS, "boost": 0.5}}]
    return {"bool": {"should": [
        {"multi_match": {"query": q, "fields": TEXT_FIELDS, "operator": "and", "boost": 2}},
        *typo_tolerant,
        {"match_phrase": {"title": {"query": q, "boost": 3}}},
        {"match_phrase_prefix": {"title": {"query": q, "boost": 1.5}}},
    ], "minimum_should_match": 1}}


def at_most_two_words(q: str) -> bool:
    """Whether the analyser surely makes at most two terms of `q`. Non-ASCII text may split finer than `\\w+` does
    (each CJK ideograph is a term), so it never counts as short."""
    words = re.findall(r"\w+", q)
    return len(words) <= 2 and q.isascii()


def deliverable_filter(deliverable: dict[str, dict[str, float]]) -> dict[str, Any]:
    """An item is deliverable when a warehouse holding it can carry its size class to the pincode: one terms query on
    the item's (size class, warehouse) slots, about half the cost of a clause per size class."""
    slots = sorted(delivery_slot(size, warehouse) for size, warehouses in deliverable.items() for warehouse in warehouses)
    return {"terms": {"delivery_slots": slots}} if slots else {"match_none": {}}


def facet_filters(params: SearchParams) -> dict[str, dict]:
    filters: dict[str, dict] = {}
    if params.categories:
        filters["category"] = {"terms": {"category": params.categories}}
    if params.brands:
        filters["brand"] = {"terms": {"brand": params.brands}}
    if params.min_price is not None or params.max_price is not None:
        bounds = {"gte": params.min_price, "lte": params.max_price}
        filters["price"] = {"range": {"price": {k: float(v) for k, v in bounds.items() if v is not None}}}
    for name, values in params.attributes.items():
        filters[f"attr.{name}"] = {"terms": {"attribute_pairs": [attribute_pair(name, value) for value in values]}}
    return filters


def aggregations(filters: dict[str, dict], attribute_facets: list[str]) -> dict[str, Any]:
    # Aggregation names are positional: facet names may hold characters aggregation names cannot.
    return {f"f{i}": {"filter": {"bool": {"filter": [c for n, c in filters.items() if n != name]}},
                      "aggs": {"values": agg}}
            for i, (name, agg) in enumerate(facet_aggs(attribute_facets).items())}


def facet_aggs(attribute_facets: list[str]) -> dict[str, dict]:
    ranges = [{"from": low, "to": high} for low, high in pairwise(PRICE_EDGES)]
    aggs: dict[str, dict] = {"category": {"terms": {"field": "category", "size": FACET_SIZE}},
                             "brand": {"terms": {"field": "brand", "size": FACET_SIZE}},
                             "price": {"range": {"field": "price", "ranges": [*ranges, {"from": PRICE_EDGES[-1]}]}}}
    for name in attribute_facets:
        aggs[f"attr.{name}"] = {"terms": {"field": "attribute_pairs", "include": pairs_named(name), "size": FACET_SIZE}}
    return aggs


def pairs_named(name: str) -> str:
    """The regular expression (Lucene's syntax) of the attribute pairs of `name`; every character of the name but a
    letter, digit or '_' is escaped, so the name is only ever literal text."""
    return re.sub(r"[^0-9A-Za-z_]", lambda found: "\\" + found.group(), name) + "=.*"


def sort_clauses(params: SearchParams) -> list[dict]:
    newest = {"created_at": {"order": "desc", "missing": "_last"}}
    first = {"relevance": {"_score": "desc"} if params.q else newest, "newest": newest,
             "price_asc": {"price": "asc"}, "price_desc": {"price": "desc"}}[params.sort]
    return [first, {"item_id": "asc"}]


def read_page(response: dict, params: SearchParams, deliverable: dict | None, attribute_facets: list[str]) -> dict:
    hits = response["hits"]["hits"]
    total = response["hits"]["total"]["value"]
    page = read_cursor(params.cursor, params)["page"] if params.cursor else params.page
    more = len(hits) == params.size and page * params.size < total
    return {"total": total, "page": page, "items": [result_item(hit["_source"], deliverable) for hit in hits],
            "facets": read_facets(response["aggregations"], attribute_facets),
            "next_cursor": cursor_token(hits[-1]["sort"], page + 1, params.sort) if more else None}


def result_item(source: dict, deliverable: dict | None) -> dict[str, Any]:
    eta = delivery_eta(source.get("size_class"), source.get("stock_warehouses") or [], deliverable or {})
    price = {"amount": str(source["price"]), "currency": source.get("currency")} if "price" in source else None
    return {"item_id": source["item_id"], "title": source.get("title"), "price": price,
            "category": source.get("category"), "brand": source.get("brand"), "in_stock": bool(source.get("in_stock")),
            "deliverable": None if deliverable is None else eta is not None, "eta_hours": eta}


def read_facets(aggregations: dict, attribute_facets: list[str]) -> dict[str, list[dict]]:
    facets: dict[str, list[dict]] = {}
    for i, name in enumerate(facet_aggs(attribute_facets)):
        buckets = aggregations[f"f{i}"]["values"]["buckets"]
        if name == "price":
            facets[name] = [{"from": _whole(b.get("from")), "to": _whole(b.get("to")), "count": b["doc_count"]}
                            for b in buckets if b["doc_count"]]
        elif name.startswith("attr."):  # the buckets are "<name>=<value>" pairs
            named = attribute_pair(name.removeprefix("attr."), "")
            facets[name] = [{"value": b["key"].removeprefix(named), "count": b["doc_count"]} for b in buckets]
        else:
            facets[name] = [{"value": b["key"], "count": b["doc_count"]} for b in buckets]
    return facets


def cursor_token(after: list, page: int, sort: str) -> str:
    raw = json.dumps({"after": after, "page": page, "sort": sort}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_cursor(token: str, params: SearchParams) -> dict[str, Any]:
    """The position a next_cursor holds. Only a cursor this API could have handed out for this search's sort order
    passes: Elasticsearch refuses (or fails on) a position of other types than the sort's."""
    cursor = _decoded(token)
    if cursor.get("sort") != params.sort:
        raise InvalidSearch("invalid_cursor", "the cursor belongs to another sort order; keep the first page's sort")
    after, page = cursor.get("after"), cursor.get("page")
    fits = [SORT_VALUES[next(iter(clause))] for clause in sort_clauses(params)]
    if not (isinstance(after, list) and len(after) == len(fits)
            and all(fit(value) for fit, value in zip(fits, after, strict=True))):
        raise InvalidSearch("invalid_cursor", "the cursor's position does not fit this search's sort order")
    if type(page) is not int or not 1 <= page < 2**31:
        raise InvalidSearch("invalid_cursor", "the cursor's page is not a page number")
    return {"after": after, "page": page}


def _decoded(token: str) -> dict[str, Any]:
    try:
        if len(token) > MAX_CURSOR_LENGTH:
            raise ValueError("longer than any cursor this API hands out")
        cursor = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError) as error:
        raise InvalidSearch("invalid_cursor", "the cursor is not one this API returned") from error
    if not isinstance(cursor, dict):
        raise InvalidSearch("invalid_cursor", "the cursor is not one this API returned")
    return cursor


def _whole_number(value: Any) -> bool:
    """A 64-bit integer, as Elasticsearch gives a date's sort value (milliseconds)."""
    return type(value) is int and -(2**63) <= value < 2**63


def _number(value: Any) -> bool:
    return _whole_number(value) or (type(value) is float and math.isfinite(value))


# What each sort key's position may be in a cursor, as Elasticsearch hands it out in a hit's `sort`.
SORT_VALUES: dict[str, Callable[[Any], bool]] = {
    "_score": _number, "price": _number, "created_at": _whole_number,
    "item_id": lambda value: isinstance(value, str),
}


def _whole(edge: float | None) -> int | None:
    return None if edge is None else int(edge)
