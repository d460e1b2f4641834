"""A shopper's factors from their interactions and the model's item factors, without a retrain: the least-squares step
implicit ALS itself takes for a user with the item factors fixed (Hu, Koren and Volinsky 2008; regularisation
scaled by the user's count of interactions, as Spark MLlib's ALS does). Folding a shopper's whole history (trained
items and what they did since) in this way gives the factors a retrain would give them for the same item factors,
which is why serving can take a shopper's new events into account between trainings."""

from __future__ import annotations

import numpy as np


def fold_in(gram: np.ndarray, factors: np.ndarray, strengths: np.ndarray, alpha: float, reg: float) -> np.ndarray:
    """The shopper's factors x solving (YᵀY + Σ c_j y_j y_jᵀ + reg·n·I) x = Σ (1 + c_j) y_j, where y_j are the factors
    of the n items they interacted with (`factors`, n x rank), c_j = alpha·strength_j, and YᵀY is `gram`, the Gram
    matrix of all item factors. A shopper with no interactions has zero factors."""
    rank = gram.shape[0]
    if len(strengths) == 0:
        return np.zeros(rank, dtype=np.float32)
    y = np.asarray(factors, dtype=np.float64)
    c = alpha * np.abs(np.asarray(strengths, dtype=np.float64))
    a = gram.astype(np.float64) + (y * c[:, None]).T @ y + reg * len(c) * np.eye(rank)
    b = ((1.0 + c)[:, None] * y).sum(axis=0)
    return np.linalg.solve(a, b).astype(np.float32)
