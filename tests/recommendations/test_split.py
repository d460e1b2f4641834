"""The per-user holdout: the latest fifth by time, at least one, baskets kept whole."""

from __future__ import annotations

import pytest

from recommendations.split import held_out, train_test
from tests.recommendations.conftest import interactions

pytestmark = pytest.mark.unit


def held_items(data) -> set[tuple[str, str]]:
    hidden = held_out(data)
    return {(data.user_ids[u], data.item_ids[i]) for u, i in zip(data.users[hidden], data.items[hidden], strict=True)}


def test_the_latest_fifth_of_each_users_interactions_is_held_out():
    data = interactions(*(("u", f"i{day}", day) for day in range(10)), *(("v", f"j{day}", day) for day in range(15)))

    assert held_items(data) == {("u", "i8"), ("u", "i9"), ("v", "j12"), ("v", "j13"), ("v", "j14")}


def test_every_user_holds_out_at_least_one_even_with_a_single_interaction():
    data = interactions(("u", "a", 1), ("v", "a", 1), ("v", "b", 2), ("w", "a", 1), ("w", "b", 2), ("w", "c", 3))

    assert held_items(data) == {("u", "a"), ("v", "b"), ("w", "c")}


def test_a_basket_at_the_cut_off_is_held_out_whole():
    # 20% of 5 is one, but the latest interaction shares its basket (day 4) with two others
    data = interactions(("u", "a", 1), ("u", "b", 2), ("u", "c", 4), ("u", "d", 4), ("u", "e", 4))

    assert held_items(data) == {("u", "c"), ("u", "d"), ("u", "e")}


def test_a_user_with_one_basket_has_nothing_left_to_learn_from():
    data = interactions(("u", "a", 3), ("u", "b", 3), ("v", "a", 1), ("v", "c", 2))

    train, test = train_test(data)

    assert [data.user_ids[u] for u in train.users] == ["v"]
    assert len(test) == 3


def test_the_count_rounds_to_the_nearest_whole_number():
    counts = {7: 1, 8: 2, 12: 2, 13: 3}
    data = interactions(*((f"u{n}", f"i{day}", day) for n in counts for day in range(n)))

    hidden = held_out(data)

    assert {user: int(hidden[data.users == data.user_ids.index(f"u{user}")].sum()) for user in counts} == counts


def test_splitting_the_training_part_again_carves_out_a_validation_part():
    data = interactions(*(("u", f"i{day}", day) for day in range(13)))

    train, _ = train_test(data)
    fit, validation = train_test(train)

    assert (len(train), len(fit), len(validation)) == (10, 8, 2)
