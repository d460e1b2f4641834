"""Round trips the MySQL pool would spend on every checkout and return, made conditional.

SQLAlchemy's defaults cost two of the ~nine round trips of a placed order: `pool_pre_ping` pings on every checkout,
and reset-on-return sends ROLLBACK even after the transaction committed. Instead, a connection is pinged only when it
sat idle long enough for the server or a network hop to have dropped it, and rolled back only when the server's
status flags say a transaction is still open."""

from __future__ import annotations

import time

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine

IDLE_BEFORE_PING_SECONDS = 5.0


def ping_only_when_idle(engine: AsyncEngine, idle_seconds: float = IDLE_BEFORE_PING_SECONDS) -> AsyncEngine:
    """Install the conditional ping and reset on an engine made with `pool_pre_ping=False, pool_reset_on_return=None`."""

    @event.listens_for(engine.sync_engine, "checkout")
    def ping_if_idle(dbapi_connection, record, proxy) -> None:
        if time.monotonic() - record.info.get("returned_at", 0.0) < idle_seconds:
            return
        try:
            dbapi_connection.ping(False)
        except Exception as error:  # the pool discards this connection and checks out another (up to 3 tries)
            raise DisconnectionError("stale MySQL connection") from error

    @event.listens_for(engine.sync_engine, "reset")
    def roll_back_if_open(dbapi_connection, record, state) -> None:
        record.info["returned_at"] = time.monotonic()
        if state.terminate_only or not state.asyncio_safe:
            return
        if dbapi_connection.driver_connection.get_transaction_status():  # SERVER_STATUS_IN_TRANS
            dbapi_connection.rollback()

    return engine
