"""The served model learned from interactions: what the data says about how fast popularity fades and how to blend
ALS, repeat and popularity is decided on a validation part (each user's latest training interactions, carved out
the way the evaluation's holdout is), then ALS is trained again on everything and the choices applied."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from recommendations.blend import POPULARITY_ONLY, Blend, choose
from recommendations.interactions import Interactions
from recommendations.metrics import HeldOut, ndcg
from recommendations.recommenders import Factors, Signals, popularity, recommend
from recommendations.split import train_test

# Trains ALS on the interactions given: Spark's in the commands, anything with the same answer in tests.
Factorize = Callable[[Interactions], Factors]

# Popularity's half-lives tried, in days (None: no decay). Fads fade within weeks; films and staples sell for years.
HALF_LIVES: tuple[float | None, ...] = (None, 365.0, 90.0, 30.0, 7.0)
VALIDATION_USERS = 4000  # enough to tell the choices apart; more only costs time


@dataclass(frozen=True)
class Model:
    blend: Blend
    half_life_days: float | None  # popularity's
    signals: Signals  # learned from all the interactions given


def learn(interactions: Interactions, k: int, factorize: Factorize) -> Model:
    """The model for `interactions`, its choices made for the best NDCG@k."""
    half_life, blend = choices(interactions, k, factorize)
    return Model(blend, half_life, Signals.of(interactions, factorize(interactions), half_life))


def choices(interactions: Interactions, k: int, factorize: Factorize,
            half_lives: tuple[float | None, ...] = HALF_LIVES) -> tuple[float | None, Blend]:
    """Popularity's half-life (of `half_lives`) and the blend with the best NDCG@k on the validation part, ALS trained
    on the rest; popularity alone when there is nothing to validate on."""
    fit, validation = train_test(interactions)
    if not len(fit) or not len(validation):
        return None, POPULARITY_ONLY
    held_out = HeldOut.of(validation.users, validation.items, len(interactions.item_ids)).sample(VALIDATION_USERS)
    factors = factorize(fit)
    half_life = best_half_life(fit, factors, held_out, k, half_lives)
    blend, _ = choose(Signals.of(fit, factors, half_life), held_out, k)
    return half_life, blend


def learn_blend(interactions: Interactions, k: int, factorize: Factorize) -> Blend:
    """The blend alone, for callers that decay the weights themselves (popularity without a half-life)."""
    return choices(interactions, k, factorize, half_lives=(None,))[1]


def best_half_life(fit: Interactions, factors: Factors, held_out: HeldOut, k: int,
                   half_lives: tuple[float | None, ...] = HALF_LIVES) -> float | None:
    """The half-life with which popularity alone does best (the first of equals: the slowest decay)."""
    if len(half_lives) == 1:
        return half_lives[0]
    results = [ndcg(held_out.hits(recommend(popularity, Signals.of(fit, factors, half_life), held_out.users, k)),
                    held_out.relevant, k) for half_life in half_lives]
    return half_lives[int(np.argmax(results))]
