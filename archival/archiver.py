"""The archiver: moves finished orders from MySQL to Cassandra in batches. Per batch: read the due orders' documents,
write every one to all its Cassandra tables, read them back and compare, and only then delete from MySQL (one
transaction) the orders that verified and did not change meanwhile.

Every step can be repeated: a Cassandra write of the same document writes the same rows, a removed order is no longer
due, and an order left in MySQL is read again next time. So a crash (kill -9) between any two steps loses nothing
(nothing leaves MySQL before its verified copy is in Cassandra) and duplicates nothing (each row's key is the order's);
the next run finishes the work."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from archival.archive import OrderArchive
from archival.finished import FinishedOrders

log = logging.getLogger(__name__)


@dataclass
class Summary:
    archived: int = 0
    batches: int = 0
    unverified: list[str] = field(default_factory=list)  # written but not read back as written: left in MySQL
    changed: int = 0  # verified, but changed in MySQL before the delete: left for the next run
    late_refunds: int = 0  # refunds of late payments folded into orders archived before them

    def line(self) -> str:
        return (f"archived {self.archived} orders in {self.batches} batches; {len(self.unverified)} did not verify, "
                f"{self.changed} changed meanwhile (left in MySQL for the next run); {self.late_refunds} late refunds "
                "added to archived orders")


Progress = Callable[[str, int], None]
"""Told each step of each batch: (step, orders in it); step is `read`, `written`, `verified` or `removed`."""


@dataclass
class Archiver:
    finished: FinishedOrders
    archive: OrderArchive
    batch_size: int = 500

    async def run(self, older_than: timedelta, limit: int | None = None,
                  progress: Progress = lambda step, n: None) -> Summary:
        """Archive orders finished at least `older_than` ago (at most `limit`), batch by batch, until none is due."""
        before = datetime.now(UTC).replace(tzinfo=None) - older_than
        summary, skip = Summary(), set[str]()
        while limit is None or summary.archived < limit:
            size = self.batch_size if limit is None else min(self.batch_size, limit - summary.archived)
            due = [order_id for order_id in await self.finished.due(before, size + len(skip)) if order_id not in skip]
            if not due:
                break
            docs = await self.finished.documents(due[:size])
            progress("read", len(docs))
            await self.archive.write(docs)
            progress("written", len(docs))
            bad = set(await self.archive.unverified(docs))
            progress("verified", len(docs) - len(bad))
            removed = await self.finished.remove([doc for doc in docs if doc["order_id"] not in bad])
            progress("removed", len(removed))
            summary.batches += 1
            summary.archived += len(removed)
            summary.unverified += sorted(bad)
            summary.changed += len(docs) - len(bad) - len(removed)
            skip |= bad | ({doc["order_id"] for doc in docs} - set(removed))  # not again in this run
            if bad:
                log.warning("archive: %d orders did not read back as written; left in MySQL", len(bad))
        summary.late_refunds = await self.fold_late_refunds()
        return summary

    async def fold_late_refunds(self) -> int:
        """Refunds of late payments for orders archived before them: written into the archived documents (with the
        payment events that caused them), verified, then deleted from MySQL. Idempotent like the rest: a document
        already holding the refund is written the same again."""
        folded = 0
        while order_ids := await self.finished.late_refunds(self.batch_size):
            archived = [doc for order_id in order_ids if (doc := await self.archive.get(order_id)) is not None]
            docs = await self.finished.with_payments(archived)
            await self.archive.write(docs)
            good = [doc["order_id"] for doc in docs if doc["order_id"] not in set(await self.archive.unverified(docs))]
            if not good:
                break
            await self.finished.drop_refunds(good)
            folded += len(good)
        return folded
