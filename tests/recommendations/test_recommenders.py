"""The single recommenders and the blend, on small hand-made data."""

from __future__ import annotations

import json

import numpy as np
import pytest

from recommendations.blend import ALS_ONLY, POPULARITY_ONLY, REPEAT_ONLY, Blend, choose, grid, served
from recommendations.evaluate import evaluate
from recommendations.metrics import NONE, HeldOut
from recommendations.model import learn
from recommendations.recommenders import Factors, Signals, als, popularity, recommend, repeat, top
from recommendations.split import train_test
from tests.recommendations.conftest import browsers, interactions, no_factors, rebuyers

pytestmark = pytest.mark.unit


def names(data, lists: np.ndarray) -> list[list[str]]:
    return [[data.item_ids[i] for i in row if i != NONE] for row in lists]


def test_repeat_offers_the_users_most_frequent_items_and_breaks_ties_by_recency():
    data = interactions(("u", "milk", 1), ("u", "milk", 2), ("u", "eggs", 3), ("u", "bread", 4), ("v", "tea", 1))
    signals = Signals.of(data, no_factors(data))

    lists = recommend(repeat, signals, np.array([0]), 4)

    assert names(data, lists) == [["milk", "bread", "eggs"]]  # and nothing it never had: the last slot stays empty


def test_popularity_offers_the_most_taken_items_the_user_does_not_have_yet():
    data = interactions(("u", "a", 1), ("v", "a", 1), ("w", "a", 1), ("v", "b", 1), ("w", "b", 1), ("w", "c", 1))
    signals = Signals.of(data, no_factors(data))

    assert names(data, recommend(popularity, signals, np.array([0]), 2)) == [["b", "c"]]


def test_als_ranks_by_factors_leaves_out_past_items_and_gives_newcomers_popularity():
    data = interactions(("u", "a", 1), ("v", "b", 1), ("w", "c", 1), ("w", "b", 1), ("x", "c", 1), ("x", "b", 1),
                        ("y", "c", 1))
    factors = Factors(np.ones((5, 1)), np.array([[3.0], [2.0], [1.0]]))  # a, b, c
    signals = Signals.of(data.where(data.users != 1), factors)  # v is new

    lists = recommend(als, signals, np.array([0, 1]), 2)

    assert names(data, lists) == [["b", "c"], ["c", "b"]]  # u had a; v gets the most taken: c three times, b twice


def test_top_keeps_the_best_first_and_leaves_slots_past_the_scored_items_empty():
    scores = np.array([[0.1, -np.inf, 0.7, 0.3]])

    assert top(scores, 6).tolist() == [[2, 3, 0, NONE, NONE, NONE]]


def test_the_single_recommenders_lead_the_grid():
    blends = grid()

    assert blends[:3] == [ALS_ONLY, REPEAT_ONLY, POPULARITY_ONLY]
    assert len(set(blends)) == len(blends)


def test_where_everybody_rebuys_the_blend_brings_back_past_items():
    train, _ = train_test(rebuyers())

    blend = learn(train, 3, no_factors).blend

    assert blend.rebuy and blend.repeat > 0


def test_where_nobody_rebuys_the_blend_keeps_past_items_out():
    train, _ = train_test(browsers())

    blend = learn(train, 3, no_factors).blend

    assert not blend.rebuy


def test_a_user_with_no_past_gets_popularity_from_the_model():
    data = interactions(("u", "a", 1), ("v", "a", 1), ("v", "b", 1), ("w", "c", 9))
    signals = Signals.of(data.where(data.users != 2), no_factors(data))

    lists = recommend(served(Blend(1, 1, 0, rebuy=True)), signals, np.array([2]), 2)

    assert names(data, lists) == [["a", "b"]]


def test_choose_reports_every_blend_and_picks_the_best():
    fit, validation = train_test(rebuyers())
    held_out = HeldOut.of(validation.users, validation.items, len(fit.item_ids))

    best, results = choose(Signals.of(fit, no_factors(fit)), held_out, 3)

    assert set(results) == set(grid()) and results[best] == max(results.values())
    assert results[best] > results[POPULARITY_ONLY]


def test_evaluate_scores_the_four_recommenders_and_the_model_beats_repeat_on_rebuyers():
    evaluation = evaluate(rebuyers(), 5, no_factors)

    figures = json.loads(evaluation.json())

    assert list(figures) == ["model", "als", "popularity", "repeat"]
    assert list(figures["model"]) == ["ndcg@5", "recall@5", "recall@10", "map@5", "coverage"]
    assert figures["model"]["ndcg@5"] >= figures["repeat"]["ndcg@5"] > figures["popularity"]["ndcg@5"]
