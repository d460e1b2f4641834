"""HTTP routes of the streaming reports (kept in Redis by `shop lake`): what is trending over the last 30 minutes or
hour (bought, wished for, searched), and revenue per category for operations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from analytics.report_store import ReportReader, bucket_starts
from identity.api import Operator

router = APIRouter(tags=["reports"])
Window = Literal["30m", "1h"]


async def report_reader(request: Request) -> ReportReader:
    return request.app.state.stores.report_reader


Reports = Annotated[ReportReader, Depends(report_reader)]


@router.get("/v1/reports/trending")
async def trending(reports: Reports, window: Window = "1h",
                   kind: Literal["bought", "wishlisted", "searched"] = "bought",
                   category: Annotated[str | None, Query(max_length=100)] = None,
                   limit: Annotated[int, Query(ge=1, le=100)] = 10) -> dict:
    """The most bought or wished-for items (of `category`, if given), or the most searched terms with how many of
    those searches found nothing, over the last 30 minutes or hour (in 5-minute buckets, the current one included)."""
    starts = bucket_starts(window, datetime.now(UTC))
    found = await reports.trending(kind, starts, category if kind != "searched" else None, limit)
    body = {"window": window, "kind": kind, "category": category, "as_of": await reports.as_of(),
            "since": starts[-1].isoformat().replace("+00:00", "Z")}
    return {**body, ("terms" if kind == "searched" else "items"): found}


@router.get("/v1/reports/revenue")
async def revenue(reports: Reports, _: Operator, window: Window = "1h") -> dict:
    """Revenue per category and currency over the last 30 minutes or hour, and how many orders it came from."""
    starts = bucket_starts(window, datetime.now(UTC))
    return {"window": window, "as_of": await reports.as_of(), "since": starts[-1].isoformat().replace("+00:00", "Z"),
            "categories": await reports.revenue(starts)}
