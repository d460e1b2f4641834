"""Counting SQL statements: the server's own counters (all sessions, or one session), and what SQLAlchemy sends."""

from __future__ import annotations

import asyncio
from collections import Counter
from contextlib import asynccontextmanager

from sqlalchemy import event, text

COUNTERS = ("Questions", "Com_select", "Com_insert", "Com_update", "Com_delete", "Com_commit", "Com_rollback")


async def server_counters(conn) -> Counter:
    """MariaDB's global statement counters, read on a raw asyncmy connection. `Questions` counts every statement
    clients send (COMMIT and ROLLBACK included); it leaves out COM_PING, which is how the pool checks a connection
    that sat idle, so pings are not in these figures."""
    async with conn.cursor() as cursor:
        names = ", ".join(f"'{c}'" for c in COUNTERS)
        await cursor.execute(f"SHOW GLOBAL STATUS WHERE Variable_name IN ({names})")
        return Counter({name: int(value) for name, value in await cursor.fetchall()})


async def background_rate(conn, seconds: float = 5.0) -> Counter:
    """Statements per second other sessions (and this probe) send while the benchmark is idle."""
    before = await server_counters(conn)
    await asyncio.sleep(seconds)
    after = await server_counters(conn)
    return Counter({name: (after[name] - before[name]) / seconds for name in COUNTERS})


async def session_questions(engine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SHOW SESSION STATUS LIKE 'Questions'"))).one()[1])


@asynccontextmanager
async def statements_sent(engine):
    """Counts what `engine` sends while the block runs: statements by first keyword, commits, rollbacks, pool
    checkouts, and the server's own count for the session (use an engine of one connection)."""
    counts: Counter = Counter()
    sync = engine.sync_engine
    listening = False

    def on_statement(conn, cursor, statement, parameters, context, executemany):
        if listening:
            counts[statement.split(None, 1)[0].upper()] += 1

    def on_commit(conn):
        if listening:
            counts["COMMIT"] += 1

    def on_rollback(conn):
        if listening:
            counts["ROLLBACK"] += 1

    def on_checkout(*_):
        if listening:
            counts["pool checkouts (pinged only after 5 s idle)"] += 1

    # A ROLLBACK the pool sends on return is not seen by these hooks; the server's count for the session includes it.
    hooks = [(sync, "before_cursor_execute", on_statement), (sync, "commit", on_commit),
             (sync, "rollback", on_rollback), (sync.pool, "checkout", on_checkout)]
    for target, name, hook in hooks:
        event.listen(target, name, hook)
    # The probe's own statements (SHOW, the reset on return) are measured with nothing in between and subtracted.
    probe = -await session_questions(engine)
    probe += await session_questions(engine)
    before = await session_questions(engine)
    listening = True
    try:
        yield counts
    finally:
        listening = False
        counts["server Questions (this session)"] = await session_questions(engine) - before - probe
        for target, name, hook in hooks:
            event.remove(target, name, hook)
