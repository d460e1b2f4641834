"""What Elasticsearch spends on a search, by part: the search requests are sent again with `"profile": true`, and
the profile's times (nanoseconds, per shard) are summed into named parts per search.

Query clauses are counted by their own time (a node's time less its children's), named by what they are in the
shop's search: the exact words, the typo-tolerant (fuzzy) words, phrases, the pincode's delivery-slot filter, the
facet filters and the deleted/in-stock flags; the rest of the boolean tree (combining and scoring) is its own part.
Aggregations are counted by their top-level time, named by facet. The collector's time (gathering and sorting the top
hits, counting the total) is reported apart: in Elasticsearch 7 it contains the aggregations' collection too, so it
is not added to the parts. The profiler itself slows the search down; the shares, not the times, are the finding.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

QUERY_PARTS = [
    ("pincode filter (delivery_slots)", r"^delivery_slots:|delivery_slots:"),
    ("deleted / in-stock flags", r"^(deleted|in_stock):"),
    ("facet filters (category, brand, price, attributes)", r"^(category|brand|price|attribute_pairs):"),
    ("typo tolerance (fuzzy words)", r"~\d"),
    ("phrase and phrase prefix", r'"'),
    ("exact words", r"^(title|description):\w+$"),
]
FACET_NAMES = {"f0": "facet: category", "f1": "facet: brand", "f2": "facet: price ranges", "names": "attribute names"}


def query_part(node: dict) -> str:
    description = node.get("description", "")
    for name, pattern in QUERY_PARTS:
        if re.search(pattern, description):
            return name
    if node.get("type") in ("PhraseQuery", "MultiPhraseQuery", "SpanNearQuery"):
        return "phrase and phrase prefix"
    return "boolean combination and scoring"


def _self_times(node: dict) -> Iterable[tuple[str, int]]:
    children = node.get("children", [])
    own = node["time_in_nanos"] - sum(child["time_in_nanos"] for child in children)
    yield query_part(node), max(own, 0)
    for child in children:
        yield from _self_times(child)


def search_parts(profile: dict) -> Counter[str]:
    """Nanoseconds by part in one search's profile (all shards)."""
    parts: Counter[str] = Counter()
    for shard in profile["shards"]:
        for search in shard["searches"]:
            for root in search["query"]:
                for name, nanos in _self_times(root):
                    parts[name] += nanos
            parts["query rewrite (fuzzy and prefix expansion)"] += search.get("rewrite_time", 0)
            for collector in search.get("collector", []):
                parts["(collector: top hits, total, and the aggregations' collection)"] += collector["time_in_nanos"]
        for aggregation in shard.get("aggregations", []):
            name = aggregation["description"]
            label = FACET_NAMES.get(name, "facet: attribute values" if re.fullmatch(r"f\d+", name) else name)
            parts[label] += aggregation["time_in_nanos"]
    return parts


def per_search_ms(profiles: list[dict], searches: int) -> dict[str, float]:
    """Mean milliseconds per search by part over the `profiles` of `searches` searches (a search may send two
    requests), largest first (the collector's line apart, last)."""
    total: Counter[str] = Counter()
    for profile in profiles:
        total.update(search_parts(profile))
    n = searches or 1
    collector = [k for k in total if k.startswith("(collector")]
    ranked = [(k, v) for k, v in total.most_common() if k not in collector]
    return {**{k: v / n / 1e6 for k, v in ranked}, **{k: total[k] / n / 1e6 for k in collector}}
