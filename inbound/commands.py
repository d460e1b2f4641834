"""Command-line entry points of the seller feed: register a seller, ingest a feed file the way the API does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from inbound.feed import FeedLimits, ingest_feed
from inbound.parse import Parser, parse_csv, parse_json_array, parse_ndjson
from inbound.store import FeedStore

FILE_PARSERS: dict[str, Parser] = {".csv": parse_csv, ".jsonl": parse_ndjson, ".ndjson": parse_ndjson,
                                   ".json": parse_json_array}
READ_BYTES = 256 * 1024


class CannotIngest(Exception):
    """The file or seller is not one `shop ingest` can take; the message says why."""


async def create_seller(feeds: FeedStore, name: str) -> dict[str, str]:
    seller_id, api_key = await feeds.create_seller(name)
    return {"seller_id": seller_id, "api_key": api_key}


async def ingest_file(path: Path, seller_id: str, *, feeds: FeedStore, producer: Any,
                      limits: FeedLimits) -> dict[str, Any]:
    """Ingest a .csv / .jsonl / .ndjson / .json file as one feed, with a progress bar on stderr; returns the summary."""
    if not path.is_file():
        raise CannotIngest(f"{path}: no such file")
    parse = FILE_PARSERS.get(path.suffix.lower())
    if parse is None:
        raise CannotIngest(f"{path.name}: the format is told by the extension, one of {', '.join(FILE_PARSERS)}")
    if not await feeds.seller_exists(seller_id):
        raise CannotIngest(f"no seller {seller_id}; create one with `shop sellers create NAME`")
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
               TextColumn("{task.fields[records]:,} records"), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True)) as progress:
        task = progress.add_task(path.name, total=path.stat().st_size, records=0)
        summary = await ingest_feed(parse(_read(path, progress, task)), seller_id, feeds=feeds, producer=producer,
                                    limits=limits, on_chunk=lambda taken: progress.update(task, records=taken))
    return summary.as_json()


async def _read(path: Path, progress: Progress, task: Any) -> AsyncIterator[bytes]:
    with path.open("rb") as file:
        while chunk := file.read(READ_BYTES):
            progress.advance(task, len(chunk))
            yield chunk
