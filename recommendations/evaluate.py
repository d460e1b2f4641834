"""`shop recommend evaluate`: each user's latest interactions held out, the four recommenders trained on the rest and
scored on them. `model` is exactly what the service serves, learned from the training part alone
(`recommendations.model`); the single recommenders share its popularity and its ALS factors."""

from __future__ import annotations

import json
from dataclasses import dataclass

from rich.table import Table

from recommendations import metrics
from recommendations.blend import served
from recommendations.interactions import Interactions
from recommendations.metrics import HeldOut
from recommendations.model import Factorize, Model, learn, learn_blend
from recommendations.recommenders import Scorer, als, popularity, recommend, repeat
from recommendations.split import train_test

__all__ = ["Evaluation", "evaluate", "learn_blend", "table"]  # learn_blend: where callers first found it


@dataclass(frozen=True)
class Evaluation:
    scores: dict[str, dict[str, float]]  # recommender -> figure -> value
    model: Model
    interactions: int
    held_out: int
    users: int  # with held-out interactions
    newcomers: int  # of those, the users with nothing left in the training part

    def json(self) -> str:
        return json.dumps({name: {figure: round(value, 5) for figure, value in figures.items()}
                           for name, figures in self.scores.items()})


def evaluate(interactions: Interactions, k: int, factorize: Factorize) -> Evaluation:
    if not len(interactions):
        raise ValueError("no interactions to evaluate")
    train, test = train_test(interactions)
    model = learn(train, k, factorize)
    held_out = HeldOut.of(test.users, test.items, len(interactions.item_ids))
    recommenders: dict[str, Scorer] = {"model": served(model.blend), "als": als, "popularity": popularity,
                                       "repeat": repeat}
    scores = {name: metrics.scores(recommend(scorer, model.signals, held_out.users, 2 * k), held_out, k)
              for name, scorer in recommenders.items()}
    newcomers = int((~model.signals.known[held_out.users]).sum())
    return Evaluation(scores, model, len(interactions), len(test), len(held_out.users), newcomers)


def table(evaluation: Evaluation, k: int) -> Table:
    half_life = f"{evaluation.model.half_life_days:g} days" if evaluation.model.half_life_days else "none"
    figures = [f"ndcg@{k}", f"recall@{k}", f"recall@{2 * k}", f"map@{k}", "coverage"]
    result = Table(title=f"Recommenders on each user's latest interactions ({evaluation.held_out:,} of "
                         f"{evaluation.interactions:,} held out, {evaluation.users:,} users, "
                         f"{evaluation.newcomers:,} of them with no earlier interactions)",
                   caption=f"model: {evaluation.model.blend}; popularity's half-life: {half_life}")
    result.add_column("recommender")
    for figure in figures:
        result.add_column(figure.replace("ndcg", "NDCG").replace("map", "MAP"), justify="right")
    for name, values in evaluation.scores.items():
        result.add_row(name, *(f"{values[figure]:.4f}" for figure in figures))
    return result
