"""Reading the interactions file and adding interactions up into preferences."""

from __future__ import annotations

import numpy as np
import pytest

from recommendations.interactions import InvalidInteractions, parse, preferences
from recommendations.kinds import you_did
from tests.recommendations.conftest import interactions

pytestmark = pytest.mark.unit


def test_timestamps_are_epoch_seconds_or_iso_8601_and_weight_is_optional():
    data = parse(["user_id,item_id,timestamp", "u1,i1,1700000000", "u1,i2,2023-11-14T22:13:20Z",
                  "u2,i1,2023-11-14T22:13:20"])

    assert data.user_ids == ("u1", "u2") and data.item_ids == ("i1", "i2")
    assert data.times.tolist() == [1_700_000_000.0] * 3  # an ISO time without a zone is UTC
    assert data.weights.tolist() == [1.0] * 3


@pytest.mark.parametrize(("lines", "message"), [
    (["user_id,timestamp", "u1,1"], "line 1: missing column item_id"),
    (["user_id,item_id,timestamp", "u1,i1,1", "u1,i2,yesterday"], "line 3: timestamp 'yesterday'"),
    (["user_id,item_id,timestamp,weight", "u1,i1,1,2", "u1,i1,1,-1"], "line 3: weight -1 is negative"),
    (["user_id,item_id,timestamp", "u1,i1"], "line 2: 2 values for 3 columns"),
    (["user_id,item_id,timestamp", "u1,,5"], "line 2: empty item_id"),
])
def test_a_bad_file_is_refused_naming_the_line(lines, message):
    with pytest.raises(InvalidInteractions, match=message):
        parse(lines)


def test_preferences_add_up_each_users_interactions_with_an_item():
    data = interactions(("u", "a", 1, 2.0), ("u", "a", 3, 1.0), ("u", "b", 2), ("v", "a", 5))

    had = preferences(data)

    assert list(zip(had.users.tolist(), had.items.tolist(), had.strength.tolist(), had.count.tolist(),
                    (had.last / 86_400).tolist(), strict=True)) == [(0, 0, 3.0, 2, 3.0), (0, 1, 1.0, 1, 2.0),
                                                                    (1, 0, 1.0, 1, 5.0)]


def test_with_a_half_life_older_interactions_count_less_than_the_newest():
    data = interactions(("u", "a", 0), ("u", "b", 10), ("u", "c", 20))

    had = preferences(data, half_life_days=10)

    assert np.allclose(had.strength, [0.25, 0.5, 1.0])  # 20 and 10 days before the newest: two and one half-lives


@pytest.mark.parametrize(("kind", "said"), [("ordered", "you bought Kettle"), ("carted", "you added Kettle to your cart"),
                                            ("wished", "you wished for Kettle"), ("searched", "you searched for Kettle")])
def test_a_reason_says_what_the_shopper_did_in_words(kind, said):
    assert you_did(kind, "Kettle") == said
