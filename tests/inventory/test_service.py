"""Stock rules without services: on hand vs. reserved, which warehouse serves, crossings of zero, drift, the feed's
stock, the report."""

from __future__ import annotations

import pytest
from rich.console import Console

from inventory import commands
from inventory.service import (
    Change,
    Drift,
    FeedStock,
    InvalidStock,
    Level,
    Pick,
    availability,
    check_feed_stock,
    crossings,
    drifts,
    fastest_stocked,
    feed_changes,
    feed_levels,
    level_drifts,
    moved,
    newest_feed_stock,
    recounts,
    repaired_levels,
    reservations,
    sellable,
    shipments,
)

pytestmark = pytest.mark.unit


def test_fastest_stocked_picks_the_soonest_warehouse_holding_enough_units():
    on_hand = {"W1": 5, "W2": 1, "W3": 9}

    chosen = fastest_stocked(on_hand, {"W1": 30.0, "W2": 2.0, "W3": 12.0}, quantity=3)

    assert chosen == "W3"


def test_fastest_stocked_is_none_when_no_reachable_warehouse_holds_enough():
    on_hand = {"W1": 2, "W2": 50}

    chosen = fastest_stocked(on_hand, {"W1": 3.0}, quantity=3)

    assert chosen is None


def test_available_is_on_hand_less_reserved_and_never_below_zero():
    assert [Level(10, 3).available, Level(3, 3).available, Level(2, 3).available] == [7, 0, 0]


def test_a_recount_sets_on_hand_and_keeps_the_reservations():
    levels = {"i1": {"W1": Level(7, 3)}}

    changes = recounts(levels, "i1", {"W1": 10, "W2": 4})

    assert changes == [Change("i1", "W1", 3, 0), Change("i1", "W2", 4, 0)]
    assert moved(levels, changes) == {"i1": {"W1": Level(10, 3), "W2": Level(4, 0)}}
    assert sellable(moved(levels, changes)) == {"i1": {"W1": 7, "W2": 4}}


def test_a_recount_to_the_same_number_changes_nothing():
    assert recounts({"i1": {"W1": Level(10, 3)}}, "i1", {"W1": 10}) == []


def test_reserving_and_releasing_move_reserved_only():
    levels, picks = {"i1": {"W1": Level(5, 0)}}, [Pick("i1", "W1", 2)]

    reserved = moved(levels, reservations(picks, +1))
    released = moved(reserved, reservations(picks, -1))

    assert reserved == {"i1": {"W1": Level(5, 2)}} and released == levels


def test_shipping_takes_the_units_off_the_shelf_and_out_of_the_reservation():
    levels = {"i1": {"W1": Level(5, 3)}}

    changes = shipments(levels, [Pick("i1", "W1", 2)])

    assert changes == [Change("i1", "W1", -2, -2)]
    assert moved(levels, changes) == {"i1": {"W1": Level(3, 1)}}


def test_shipping_after_a_recount_below_the_promises_empties_the_shelf_without_going_below_zero():
    levels = {"i1": {"W1": Level(1, 3)}}

    changes = shipments(levels, [Pick("i1", "W1", 2), Pick("i1", "W1", 1)])

    assert changes == [Change("i1", "W1", -1, -2), Change("i1", "W1", 0, -1)]
    assert moved(levels, changes) == {"i1": {"W1": Level(0, 0)}}


def test_first_units_in_a_warehouse_are_a_crossing_with_the_stocked_warehouses():
    before, now = {"i1": {}}, {"i1": {"W1": 4, "W2": 0}}

    changed = crossings(before, now, version=7)

    assert [(c.item_id, c.in_stock, c.version) for c in changed] == [("i1", True, 7)]
    assert [(w.warehouse_id, w.available) for w in changed[0].warehouses] == [("W1", 4)]


def test_change_that_stays_above_zero_is_no_crossing():
    before, now = {"i1": {"W1": 4}}, {"i1": {"W1": 1}}

    assert crossings(before, now, version=1) == []


def test_last_unit_sold_is_a_crossing_to_out_of_stock():
    before, now = {"i1": {"W1": 1}, "i2": {"W1": 3}}, {"i1": {"W1": 0}, "i2": {"W1": 2}}

    changed = crossings(before, now, version=1)

    assert [(c.item_id, c.in_stock, c.warehouses) for c in changed] == [("i1", False, [])]


def test_one_warehouse_emptying_while_another_holds_stock_is_a_crossing_still_in_stock():
    before, now = {"i1": {"W1": 1, "W2": 5}}, {"i1": {"W1": 0, "W2": 5}}

    changed = crossings(before, now, version=1)

    assert changed[0].in_stock and [w.warehouse_id for w in changed[0].warehouses] == ["W2"]


def test_drifts_are_rows_that_differ_from_their_movements_either_side_missing():
    recorded = {"i1": {"W1": 5, "W2": 3}, "i2": {"W1": 1}}
    expected = {"i1": {"W1": 5, "W2": 2}, "i3": {"W9": 4}}

    found = drifts(recorded, expected)

    assert found == [Drift("i1", "W2", 3, 2), Drift("i2", "W1", 1, 0), Drift("i3", "W9", 0, 4)]


def test_newest_feed_stock_keeps_per_item_the_newest_version_and_the_first_of_equal_ones():
    stated = [FeedStock("i1", 2, {"W1": 1}), FeedStock("i1", 5, {"W1": 5}), FeedStock("i1", 3, {"W1": 3}),
              FeedStock("i2", 4, {"W1": 40}), FeedStock("i2", 4, {"W1": 41})]

    newest = newest_feed_stock(stated)

    assert newest == [FeedStock("i1", 5, {"W1": 5}), FeedStock("i2", 4, {"W1": 40})]


def test_feed_levels_empty_the_warehouses_the_list_no_longer_names():
    current = {"W1": 5, "W2": 3, "W3": 0}

    levels = feed_levels({"W1": 7, "W4": 1}, current)

    assert levels == {"W1": 7, "W2": 0, "W4": 1}


def test_feed_changes_write_newer_rows_and_record_only_quantities_that_move():
    before = {"i1": {"W1": 5, "W2": 3}, "i2": {"W1": 4}}
    applied = {"i1": {"W1": 10, "W2": 10}, "i2": {"W1": 30}}
    stated = [FeedStock("i1", 20, {"W1": 5, "W3": 2}), FeedStock("i2", 25, {"W1": 9})]

    changes = feed_changes(before, applied, stated)

    assert changes.rows == [("i1", "W1", 5, 20), ("i1", "W2", 0, 20), ("i1", "W3", 2, 20)]
    assert changes.movements == [(Pick("i1", "W2", 0), -3), (Pick("i1", "W3", 2), 2)]
    assert changes.now == {"i1": {"W1": 5, "W2": 0, "W3": 2}, "i2": {"W1": 4}}


def test_feed_changes_of_one_item_come_from_its_newest_statement_only():
    changes = feed_changes({"i1": {"W1": 0}}, {}, [FeedStock("i1", 7, {"W1": 7}), FeedStock("i1", 3, {"W1": 3})])

    assert changes.rows == [("i1", "W1", 7, 7)]


@pytest.mark.parametrize("item_id, lines", [("x" * 65, [("W1", 1)]), ("i1", [("W" * 65, 1)]), ("i1", [("W1", 2**31)])])
def test_feed_stock_that_cannot_be_stored_is_refused(item_id, lines):
    with pytest.raises(InvalidStock):
        check_feed_stock(item_id, lines)


def test_availability_lists_every_warehouse_and_the_total():
    picture = availability("i1", {"W2": Level(0, 0), "W1": Level(6, 2), "W3": Level(2, 0)})

    assert picture == {"item_id": "i1", "total_available": 6, "warehouses": [
        {"warehouse_id": "W1", "on_hand": 6, "reserved": 2, "available": 4},
        {"warehouse_id": "W2", "on_hand": 0, "reserved": 0, "available": 0},
        {"warehouse_id": "W3", "on_hand": 2, "reserved": 0, "available": 2}]}


def test_a_feed_statement_that_repeats_the_feeds_last_one_only_advances_the_version():
    before, applied, last = {"i1": {"W1": 4, "W2": 0}}, {"i1": {"W1": 10, "W2": 10}}, {"i1": {"W1": 10, "W2": 1}}

    changes = feed_changes(before, applied, [FeedStock("i1", 20, {"W1": 10, "W2": 3})], last)

    assert changes.rows == [("i1", "W2", 3, 20)] and changes.repeats == [("i1", "W1", 10, 20)]
    assert changes.movements == [(Pick("i1", "W2", 3), 3)] and changes.now == {"i1": {"W1": 4, "W2": 3}}


def test_a_warehouse_the_feed_already_emptied_is_not_emptied_again():
    before, applied, last = {"i1": {"W1": 5, "W2": 4}}, {"i1": {"W1": 10, "W2": 10}}, {"i1": {"W1": 5, "W2": 0}}

    changes = feed_changes(before, applied, [FeedStock("i1", 20, {"W1": 5})], last)

    assert changes.rows == [] and changes.movements == [] and changes.now == {"i1": {"W1": 5, "W2": 4}}


def test_level_drifts_name_the_column_on_hand_first():
    recorded = {"i1": {"W1": Level(9, 1)}, "i2": {"W1": Level(3, 0)}}
    expected = {"i1": {"W1": Level(5, 2)}, "i2": {"W1": Level(3, 0)}}

    found = level_drifts(recorded, expected)

    assert found == [Drift("i1", "W1", 9, 5, "on_hand"), Drift("i1", "W1", 1, 2, "reserved")]


def test_repair_sets_each_drifted_column_and_leaves_the_other():
    recorded = {"i1": {"W1": Level(9, 1)}}

    repaired = repaired_levels(recorded, [Drift("i1", "W1", 1, 2, "reserved"), Drift("i2", "W1", 0, 4, "on_hand")])

    assert repaired == {"i1": {"W1": Level(9, 2)}, "i2": {"W1": Level(4, 0)}}


def test_the_drift_table_names_the_column():
    console = Console(width=200, record=True)

    console.print(commands.drift_table([Drift("i1", "W1", 1, 2, "reserved")], repair=False))

    shown = console.export_text()
    assert "reserved" in shown and "-1" in shown


def test_reconcile_exits_1_while_drift_remains_and_0_once_repaired():
    found = [Drift("i1", "W1", 3, 2)]

    assert commands.exit_code([], repair=False) == 0
    assert commands.exit_code(found, repair=False) == 1
    assert commands.exit_code(found, repair=True) == 0


def test_drift_whose_movements_add_up_below_zero_is_left_and_keeps_the_exit_code_1():
    found = [Drift("i1", "W1", 3, 2), Drift("i2", "W1", 0, -1)]

    summary = commands.summary(found, checked_items=None, repair=True)

    assert commands.exit_code(found, repair=True) == 1
    assert summary == "2 drifted rows in 2 items (all items checked); 1 repaired, 1 left"
