"""The kinds of interaction training learns from, weakest to strongest, and what each weighs (settings
`SHOP_RECOMMEND_WEIGHT_*`)."""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("searched", "wished", "carted", "ordered")  # an interaction's kind code is its index here
DEEDS = {"ordered": "bought {}", "carted": "added {} to your cart", "wished": "wished for {}", "searched": "searched for {}"}


def you_did(kind: str, what: str) -> str:
    """What the shopper did, in words: `you_did("carted", "it")` is "you added it to your cart"."""
    return "you " + DEEDS[kind].replace("{}", what)


@dataclass(frozen=True)
class KindWeights:
    """How much each kind of interaction says about a shopper's taste (ordered > carted > wished > searched)."""

    ordered: float = 4.0
    carted: float = 2.0
    wished: float = 1.5
    searched: float = 0.5
