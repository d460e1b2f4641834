"""HTTP routes of the recommendations: a shopper's (overall or of a category) and an item's similar items, each with
a reason a person can read. 404 `not_trained_yet` before the first model is trained (there is no model to read
yet; nothing is down)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from identity.api import Shopper
from infra.errors import ApiError
from recommendations.serving import NotTrainedYet, Picked, Recommender, UnknownItem

router = APIRouter(tags=["recommendations"])


async def recommender(request: Request) -> Recommender:
    return request.app.state.stores.recommender


Recommendations = Annotated[Recommender, Depends(recommender)]
Limit = Annotated[int, Query(ge=1, le=50)]


def _body(picked: Picked) -> dict:
    return {"model_version": picked.version, "source": picked.source, "items": picked.items}


@router.get("/v1/recommendations")
async def for_shopper(shopper: Shopper, recommendations: Recommendations,
                      category: Annotated[str | None, Query(max_length=100)] = None, limit: Limit = 10) -> dict:
    """The shopper's recommendations (of `category`, if given), best first: from the current model, taking what
    they did since it was trained into account; popular items for a shopper it does not know yet. `source` says
    which: model, folded (recent events folded in) or popular."""
    try:
        return _body(await recommendations.for_shopper(shopper, category, limit))
    except NotTrainedYet as missing:
        raise ApiError(404, "not_trained_yet", str(missing))


@router.get("/v1/items/{item_id}/similar")
async def similar(item_id: str, recommendations: Recommendations, limit: Limit = 10) -> dict:
    """Items like this one ("liked by the same shoppers", or "often bought together" for items few have had),
    in stock; the popular items of its category when the model has nothing on it."""
    try:
        return _body(await recommendations.similar(item_id, limit))
    except UnknownItem as unknown:
        raise ApiError(404, "item_not_found", str(unknown), item_id=unknown.item_id)
    except NotTrainedYet as missing:
        raise ApiError(404, "not_trained_yet", str(missing))
