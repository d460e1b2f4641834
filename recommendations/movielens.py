"""MovieLens-100K as interactions, read from the copy the `recbole` package ships (a development dependency, installed
for this file only): every rating is an interaction of weight 1, whatever its stars."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from recommendations.interactions import Interactions, parse

RATINGS = "dataset_example/ml-100k/ml-100k.inter"


def ratings_file() -> Path:
    """Where the installed recbole keeps the ratings (tab-separated: user_id:token, item_id:token, rating:float,
    timestamp:float)."""
    for file in metadata.files("recbole") or []:
        if file.as_posix().endswith(RATINGS):
            return Path(str(file.locate()))
    raise FileNotFoundError(f"recbole is installed without {RATINGS}")


def interactions() -> Interactions:
    with ratings_file().open(encoding="utf-8") as file:
        rows = (line.rstrip("\n").split("\t") for line in file)
        next(rows)
        return parse(["user_id,item_id,timestamp"] + [f"{user},{item},{time}" for user, item, _, time in rows])
