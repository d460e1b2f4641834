"""Hypothesis strategies for catalog record streams: a few items, upserts / patches / deletes whose versions collide,
replays of earlier records, shuffled, cut into consumer batches. Records are raw JSON-ready values, as any producer could
publish them: some are ones the record contract (`inbound.events.ItemRecord`) refuses, which every consumer dead-letters
unparsed, and some ones the item store refuses given what it holds (a patch of only the price or only the currency)."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from hypothesis import strategies as st

from inbound.events import REQUIRED_ON_UPSERT

# Item slots per stream; the test gives each slot a fresh item id, so examples never share items.
SLOTS = 2
TOO_BIG = 2**63  # one past the largest 64-bit integer: the record contract refuses it

# Currencies with 2, 3 and 0 decimals (INR the most); prices that fit all, some or none of them, or whose minor amount
# does not fit in 64 bits.
CURRENCIES = ("INR", "INR", "KWD", "JPY")
PRICES = ("1500.00", "19.99", "2.5", "0.125", "7")
HUGE_PRICES = ("1E+17", "1E+40")
ATTRIBUTE_NAMES = ("colour", "size", "fit")
UNSTORABLE_NAMES = ("dims.width", "$ref")  # the record contract refuses a '.' in a field name or a leading '$'
WAREHOUSES = ("W1", "W2", "W3")


@dataclass(frozen=True)
class Spec:
    """A record before it has an item id: which slot it is for, and what it carries (unchecked, as published)."""

    slot: int
    op: str
    version: int
    fields: dict[str, Any] = field(default_factory=dict)
    # Inbound leaves null fields out of what it publishes; another producer may send every field, null or not.
    with_nulls: bool = False


def mostly(common: st.SearchStrategy, rare: st.SearchStrategy) -> st.SearchStrategy:
    """`common` nine times in ten, else `rare` (shrinks towards `common`)."""
    return st.integers(0, 9).flatmap(lambda n: rare if n == 9 else common)


attribute_values = mostly(
    st.one_of(st.sampled_from(["blue", "red", "M", ""]), st.integers(-3, 3), st.booleans(),
              st.sampled_from([4.5, -0.25]), st.lists(st.sampled_from(["a", "b", 1, None]), max_size=3),
              st.just({"depth": 2})),
    st.sampled_from([TOO_BIG, -TOO_BIG - 1, float("inf"), {"a.b": 1}, [{"$x": 1}]]),
)
attribute_names = mostly(st.sampled_from(ATTRIBUTE_NAMES), st.sampled_from(UNSTORABLE_NAMES))
attributes = st.dictionaries(attribute_names, attribute_values, max_size=3)
# A patch removes an attribute with a null value.
attribute_changes = st.dictionaries(attribute_names, st.none() | attribute_values, min_size=1, max_size=3)
stock = st.lists(st.tuples(st.sampled_from(WAREHOUSES), mostly(st.sampled_from([0, 1, 5]), st.just(TOO_BIG))),
                 max_size=2, unique_by=lambda line: line[0]).map(
    lambda lines: [{"warehouse_id": w, "quantity": q} for w, q in lines])
# Mostly colliding small versions; now and then one too big for the stores.
versions = mostly(st.integers(1, 6), st.just(TOO_BIG))

item_fields = {
    "title": st.sampled_from(["Cotton shirt", "Linen shirt", "Mug"]),
    "description": st.sampled_from(["", "Plain", "Striped"]),
    "category": st.sampled_from(["shirts", "mugs"]),
    "brand": st.sampled_from(["Acme", "Zenith"]),
    "price": mostly(st.sampled_from(PRICES), st.sampled_from(HUGE_PRICES)),
    "currency": st.sampled_from(CURRENCIES),
    "attributes": attributes,
    "size_class": st.sampled_from(["small", "medium", "bulky"]),
    # Upserts always state stock: an upsert without stock leaves the index's stock to inventory (stock_version),
    # while the item store keeps none; that split is by design and not this rule's.
    "stock": stock,
}


@st.composite
def upsert_fields(draw) -> dict[str, Any]:
    optional = draw(st.sets(st.sampled_from(["description", "brand", "attributes"])))
    # Now and then an upsert lacking a required field, which the record contract refuses.
    lacking = draw(mostly(st.none(), st.sampled_from(REQUIRED_ON_UPSERT)))
    names = [name for name in item_fields if name in optional or name in (*REQUIRED_ON_UPSERT, "stock")]
    return {name: draw(item_fields[name]) for name in names if name != lacking}


@st.composite
def patch_fields(draw) -> dict[str, Any]:
    names = draw(st.sets(st.sampled_from(sorted(item_fields)), min_size=1, max_size=3))
    # A null field is one the patch does not change.
    return {name: draw(mostly(attribute_changes if name == "attributes" else item_fields[name], st.none()))
            for name in sorted(names)}


@st.composite
def specs(draw) -> Spec:
    op = draw(st.sampled_from(["upsert", "upsert", "upsert", "patch", "patch", "delete"]))
    fields = {"upsert": upsert_fields, "patch": patch_fields}.get(op, lambda: st.just({}))()
    return Spec(draw(st.integers(0, SLOTS - 1)), op, draw(versions), draw(fields), draw(st.booleans()))


@st.composite
def streams(draw) -> list[list[Spec]]:
    """Records as one consumer takes them from the topic: shuffled, with replays, in consecutive batches."""
    records = draw(st.lists(specs(), min_size=1, max_size=12))
    replays = draw(st.lists(st.sampled_from(records), max_size=3))
    delivered = draw(st.permutations(records + replays))
    cuts = draw(st.sets(st.integers(1, len(delivered) - 1), max_size=3)) if len(delivered) > 1 else set()
    bounds = [0, *sorted(cuts), len(delivered)]
    return [delivered[start:end] for start, end in pairwise(bounds)]
