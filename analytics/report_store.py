"""Redis adapter of the streaming reports: the stream writes each 5-minute bucket's figures (a hash per report kind and
bucket, a field per item, term or category: overwritten, never incremented, so a micro-batch written twice after a
restart changes nothing); the API adds up the buckets of the last 30 minutes or hour as it reads them."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from analytics.config import BUCKET_SECONDS

WINDOW_BUCKETS = {"30m": 6, "1h": 12}  # the current bucket and the ones before it
KEEP_SECONDS = 3 * 3600  # a bucket stays readable this long after it was last written


def bucket_key(prefix: str, kind: str, start: datetime) -> str:
    return f"{prefix}:{kind}:{int(start.replace(tzinfo=UTC).timestamp())}"


def write_counts(redis: Any, prefix: str, rows: list[Any], as_of: datetime) -> None:
    """Rows of `reports.counts` (bucket_start, kind, key, units, title, category, zero_results) into their buckets."""
    pipe = redis.pipeline(transaction=False)
    for row in rows:
        key = bucket_key(prefix, row["kind"], row["bucket_start"])
        pipe.hset(key, row["key"], json.dumps([row["units"], row["title"], row["category"], row["zero_results"]]))
        pipe.expire(key, KEEP_SECONDS)
    pipe.set(f"{prefix}:as_of", as_of.isoformat())
    pipe.execute()


def write_revenue(redis: Any, prefix: str, rows: list[Any], as_of: datetime) -> None:
    """Rows of `reports.revenue` (bucket_start, category, currency, revenue, orders) into their buckets."""
    pipe = redis.pipeline(transaction=False)
    for row in rows:
        key = bucket_key(prefix, "revenue", row["bucket_start"])
        pipe.hset(key, f"{row['category']}\t{row['currency']}", json.dumps([str(row["revenue"]), row["orders"]]))
        pipe.expire(key, KEEP_SECONDS)
    pipe.set(f"{prefix}:as_of", as_of.isoformat())
    pipe.execute()


def bucket_starts(window: str, now: datetime) -> list[datetime]:
    """The buckets a report over `window` adds up at `now`: the current one and those before it, newest first."""
    current = int(now.timestamp()) // BUCKET_SECONDS * BUCKET_SECONDS
    return [datetime.fromtimestamp(current - n * BUCKET_SECONDS, UTC) for n in range(WINDOW_BUCKETS[window])]


@dataclass
class ReportReader:
    redis: Any  # redis.asyncio.Redis
    prefix: str

    async def as_of(self) -> str | None:
        value = await self.redis.get(f"{self.prefix}:as_of")
        return value.decode() if isinstance(value, bytes) else value

    async def _buckets(self, kind: str, starts: list[datetime]) -> list[dict]:
        pipe = self.redis.pipeline(transaction=False)
        for start in starts:
            pipe.hgetall(bucket_key(self.prefix, kind, start))
        return [{_text(k): json.loads(v) for k, v in found.items()} for found in await pipe.execute()]

    async def trending(self, kind: str, starts: list[datetime], category: str | None, limit: int) -> list[dict]:
        """The most counted items (or terms) over the buckets, most first; for items, only `category`'s if given."""
        units: dict[str, int] = defaultdict(int)
        zero: dict[str, int] = defaultdict(int)
        about: dict[str, tuple[str | None, str | None]] = {}
        for bucket in await self._buckets(kind, starts):
            for key, (count, title, item_category, zero_results) in bucket.items():
                if category is not None and item_category != category:
                    continue
                units[key] += count
                zero[key] += zero_results or 0
                known = about.get(key, (None, None))
                about[key] = (title or known[0], item_category or known[1])
        top = sorted(units, key=lambda key: (-units[key], key))[:limit]
        if kind == "searched":
            return [{"term": key, "count": units[key], "zero_results": zero[key]} for key in top]
        return [{"item_id": key, "title": about[key][0], "category": about[key][1], "count": units[key]} for key in top]

    async def revenue(self, starts: list[datetime]) -> list[dict]:
        totals: dict[tuple[str, str], list] = {}
        for bucket in await self._buckets("revenue", starts):
            for field, (amount, orders) in bucket.items():
                category, currency = field.split("\t")
                total = totals.setdefault((category, currency), [Decimal(0), 0])
                total[0] += Decimal(amount)
                total[1] += orders
        ranked = sorted(totals.items(), key=lambda entry: (-entry[1][0], entry[0]))
        return [{"category": category, "currency": currency, "revenue": f"{amount:.2f}", "orders": orders}
                for (category, currency), (amount, orders) in ranked]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
