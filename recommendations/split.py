"""The holdout that scores recommenders: each user's latest interactions are hidden, the recommenders learn from the
rest and are judged on what they would have shown before the hidden ones happened."""

from __future__ import annotations

import numpy as np

from recommendations.interactions import Interactions

HELD_OUT_SHARE = 0.2


def held_out(interactions: Interactions, share: float = HELD_OUT_SHARE) -> np.ndarray:
    """Which rows are held out (a boolean mask): per user, the latest `share` of their interactions by time.

    The count is `share` x the user's interactions rounded to the nearest whole number (with the 20% share it is never
    exactly half-way), and at least one: 1 to 7 interactions hold out 1, 8 to 12 hold out 2, 13 to 17 hold out 3.
    The cut-off is the time of the earliest held-out interaction, and every interaction of the user at or after that
    time is held out, so a basket (interactions sharing a timestamp) is never split: a user with one basket, or with
    one interaction, has all of it held out and nothing to learn from.

    Applied again to the training part, it carves a validation part out of it the same way.
    """
    order = np.lexsort((interactions.times, interactions.users))
    users, times = interactions.users[order], interactions.times[order]
    counts = np.bincount(users, minlength=len(interactions.user_ids))
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    hold = np.maximum(1, np.floor(share * counts + 0.5).astype(np.int64))
    present = counts > 0
    cutoff = np.full(len(counts), np.inf)
    cutoff[present] = times[(starts + counts - hold)[present]]
    return interactions.times >= cutoff[interactions.users]


def train_test(interactions: Interactions, share: float = HELD_OUT_SHARE) -> tuple[Interactions, Interactions]:
    """(what the recommenders learn from, what they are scored on)."""
    hidden = held_out(interactions, share)
    return interactions.where(~hidden), interactions.where(hidden)
