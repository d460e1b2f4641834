"""Each figure worked out by hand on two users."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recommendations.metrics import NONE, HeldOut, coverage, mean_average_precision, ndcg, recall, scores

pytestmark = pytest.mark.unit

# User 0 held out items 1 and 2 (R = 2) and was shown [1, 7, 2, 8]: hits at ranks 1 and 3.
# User 1 held out item 3 (R = 1) and was shown [7, 3, 8, 9]: a hit at rank 2.
HELD_OUT = HeldOut.of(np.array([0, 0, 1, 1]), np.array([1, 2, 3, 3]), catalog=10)  # item 3 twice: it counts once
SHOWN = np.array([[1, 7, 2, 8], [7, 3, 8, 9]])


def test_ndcg_discounts_each_hit_by_its_rank_against_the_best_possible_order():
    hits = HELD_OUT.hits(SHOWN)

    # @2 user 0: DCG = 1/log2(2) = 1, IDCG = 1 + 1/log2(3) = 1.6309 -> 0.6131; user 1: (1/log2(3)) / 1 = 0.6309
    assert ndcg(hits, HELD_OUT.relevant, 2) == pytest.approx((1 / (1 + 1 / math.log2(3)) + 1 / math.log2(3)) / 2)
    # @4 user 0: DCG = 1 + 1/log2(4) = 1.5, IDCG still 1.6309 (only 2 relevant) -> 0.9197; user 1 as before
    assert ndcg(hits, HELD_OUT.relevant, 4) == pytest.approx((1.5 / (1 + 1 / math.log2(3)) + 1 / math.log2(3)) / 2)


def test_recall_is_the_share_of_held_out_items_shown():
    hits = HELD_OUT.hits(SHOWN)

    assert recall(hits, HELD_OUT.relevant, 2) == pytest.approx((1 / 2 + 1 / 1) / 2)  # user 0: 1 of 2; user 1: 1 of 1
    assert recall(hits, HELD_OUT.relevant, 4) == pytest.approx((2 / 2 + 1 / 1) / 2)


def test_map_averages_the_precision_at_each_hit_over_what_could_be_hit():
    hits = HELD_OUT.hits(SHOWN)

    # @4 user 0: (precision@1 = 1/1 + precision@3 = 2/3) / min(2, 4) = 0.8333; user 1: (precision@2 = 1/2) / 1 = 0.5
    assert mean_average_precision(hits, HELD_OUT.relevant, 4) == pytest.approx((5 / 3 / 2 + 0.5) / 2)
    # @1 user 0: (1/1) / min(2, 1) = 1; user 1: no hit in the top 1 -> 0
    assert mean_average_precision(hits, HELD_OUT.relevant, 1) == pytest.approx(0.5)


def test_coverage_counts_distinct_items_in_anybodys_top_k_against_the_whole_catalog():
    shown = np.array([[1, 7, 2, 8], [7, NONE, NONE, NONE]])

    assert coverage(shown, 2, catalog=10) == pytest.approx(2 / 10)  # items 1 and 7; an empty slot is no item
    assert coverage(shown, 4, catalog=10) == pytest.approx(4 / 10)


def test_empty_slots_are_never_hits_and_the_report_names_k_and_2k():
    shown = np.array([[1, NONE, NONE, NONE], [NONE, NONE, NONE, NONE]])

    report = scores(shown, HELD_OUT, 2)

    assert list(report) == ["ndcg@2", "recall@2", "recall@4", "map@2", "coverage"]
    assert report["recall@4"] == pytest.approx((1 / 2 + 0) / 2)
    assert report["coverage"] == pytest.approx(1 / 10)
