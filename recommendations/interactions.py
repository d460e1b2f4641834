"""Who interacted with what, and when: the interactions file (`user_id,item_id,timestamp[,weight]`) read into columns,
and each user's interactions with an item added up into one preference, older ones counting less with a half-life."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

REQUIRED = ("user_id", "item_id", "timestamp")
DAY = 86_400.0


class InvalidInteractions(ValueError):
    """The interactions file cannot be read; the message names the line."""


@dataclass(frozen=True)
class Interactions:
    """One row per interaction, as columns: `users[i]` interacted with `items[i]` at `times[i]` (epoch seconds) with
    `weights[i]`. Users and items are indexes into `user_ids` / `item_ids`; subsets keep the whole file's indexes."""

    user_ids: tuple[str, ...]
    item_ids: tuple[str, ...]
    users: np.ndarray
    items: np.ndarray
    times: np.ndarray
    weights: np.ndarray

    def __len__(self) -> int:
        return len(self.users)

    def where(self, rows: np.ndarray) -> Interactions:
        """The rows picked by a boolean mask (or an index array)."""
        return Interactions(self.user_ids, self.item_ids, self.users[rows], self.items[rows], self.times[rows],
                            self.weights[rows])


@dataclass(frozen=True)
class Preferences:
    """One row per (user, item) pair, ordered by user then item: the summed (decayed) weight, how many interactions
    and the latest one's time."""

    users: np.ndarray
    items: np.ndarray
    strength: np.ndarray
    count: np.ndarray
    last: np.ndarray


def index_ids(ids: Iterable[str]) -> tuple[tuple[str, ...], np.ndarray]:
    """Consecutive ints for ids, in order of first appearance: (the ids by index, each value's index)."""
    index: dict[str, int] = {}
    codes = [index.setdefault(value, len(index)) for value in ids]
    return tuple(index), np.array(codes, dtype=np.int32)


def parse(lines: Iterable[str]) -> Interactions:
    """The rows of an interactions file, header first. Timestamps are epoch seconds or ISO 8601 (UTC unless the
    value says otherwise); `weight` is optional (1 when the column is absent) and never negative."""
    rows = csv.reader(lines)
    header = [name.strip() for name in next(rows, [])]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise InvalidInteractions(f"line 1: missing column {', '.join(missing)} (the header must name "
                                  f"{', '.join(REQUIRED)} and optionally weight)")
    at = {name: header.index(name) for name in (*REQUIRED, "weight") if name in header}
    users, items, times, weights = [], [], [], []
    for number, row in enumerate(rows, start=2):
        if not row:
            continue
        if len(row) < len(header):
            raise InvalidInteractions(f"line {number}: {len(row)} values for {len(header)} columns")
        user, item = row[at["user_id"]].strip(), row[at["item_id"]].strip()
        if not user or not item:
            raise InvalidInteractions(f"line {number}: empty {'user_id' if not user else 'item_id'}")
        users.append(user)
        items.append(item)
        times.append(timestamp(row[at["timestamp"]], number))
        weights.append(weight(row[at["weight"]], number) if "weight" in at else 1.0)
    user_ids, user_codes = index_ids(users)
    item_ids, item_codes = index_ids(items)
    return Interactions(user_ids, item_ids, user_codes, item_codes, np.array(times, dtype=np.float64),
                        np.array(weights, dtype=np.float64))


def timestamp(value: str, line: int) -> float:
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInteractions(f"line {line}: timestamp {value[:40]!r} is neither epoch seconds nor ISO 8601")
        seconds = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    if not math.isfinite(seconds):
        raise InvalidInteractions(f"line {line}: timestamp {value[:40]!r} is not a moment")
    return seconds


def weight(value: str, line: int) -> float:
    try:
        number = float(value)
    except ValueError:
        raise InvalidInteractions(f"line {line}: weight {value.strip()[:40]!r} is not a number")
    if not number >= 0:  # also refuses NaN
        raise InvalidInteractions(f"line {line}: weight {number:g} is negative")
    return number


def read_csv(path: Path) -> Interactions:
    with path.open(newline="", encoding="utf-8") as file:
        return parse(file)


def csv_rows(interactions: Interactions) -> Iterator[tuple]:
    """The interactions as the file's rows, header first (epoch seconds, weights as given)."""
    yield "user_id", "item_id", "timestamp", "weight"
    users, items = np.array(interactions.user_ids), np.array(interactions.item_ids)
    for user, item, time, amount in zip(users[interactions.users].tolist(), items[interactions.items].tolist(),
                                        interactions.times.tolist(), interactions.weights.tolist(), strict=True):
        yield user, item, int(time) if time.is_integer() else time, int(amount) if amount.is_integer() else amount


def write_csv(interactions: Interactions, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file, lineterminator="\n").writerows(csv_rows(interactions))


def decayed(interactions: Interactions, half_life_days: float | None) -> np.ndarray:
    """Each interaction's weight, halved for every `half_life_days` it is older than the newest interaction given
    (no decay when None)."""
    if half_life_days is None or not len(interactions):
        return interactions.weights
    age = interactions.times.max() - interactions.times
    return interactions.weights * np.exp2(-age / (half_life_days * DAY))


def preferences(interactions: Interactions, half_life_days: float | None = None) -> Preferences:
    """The interactions added up per (user, item): the decayed weights summed, counted, and the latest time."""
    key = interactions.users.astype(np.int64) * len(interactions.item_ids) + interactions.items
    pairs, pair_of = np.unique(key, return_inverse=True)
    last = np.full(len(pairs), -np.inf)
    np.maximum.at(last, pair_of, interactions.times)
    return Preferences(users=(pairs // len(interactions.item_ids)).astype(np.int32),
                       items=(pairs % len(interactions.item_ids)).astype(np.int32),
                       strength=np.bincount(pair_of, weights=decayed(interactions, half_life_days),
                                            minlength=len(pairs)),
                       count=np.bincount(pair_of, minlength=len(pairs)), last=last)
