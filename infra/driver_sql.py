"""Statements of the hottest write path run on the MySQL driver's own connection, inside the SQLAlchemy transaction.

SQLAlchemy's async execution costs 0.2-0.3 ms of CPU per statement on top of the driver's own 0.06-0.08 ms (its
greenlet bridge, execution context and result wrapping; measured in `bench/README.md`), and on checkout's seven
statements that was the largest part of the API's CPU per order. A `DriverStatement` is still written once, as a
`text()` statement with named parameters; it is compiled once to the driver's SQL (`%s` placeholders) and runs on the
asyncmy connection beneath the caller's `AsyncConnection`, so it is part of that connection's transaction, which
SQLAlchemy commits or rolls back as usual. Driver errors come back as SQLAlchemy's (`IntegrityError`,
`OperationalError`...), so callers and `infra.store_errors` see what they would have seen.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncmy.errors
from sqlalchemy import TextClause
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.ext.asyncio import AsyncConnection

_EXPANDING = re.compile(r"__\[POSTCOMPILE_(\w+)\]")
# An INSERT that ends with one values group of placeholders (so never one with ON DUPLICATE KEY UPDATE ... VALUES(x)).
_VALUES = re.compile(r"^(INSERT\b.*\bVALUES\s*)(\((?:%s,\s*)*%s\))\s*$", re.IGNORECASE | re.DOTALL)


class DriverStatement:
    """A `text()` statement in the driver's SQL. A parameter bound as expanding (`IN :ids`) takes a non-empty list."""

    def __init__(self, statement: TextClause) -> None:
        self.statement = statement
        self._compiled: tuple[str, list[str], frozenset[str]] | None = None

    def render(self, conn: AsyncConnection, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
        """The SQL and its positional arguments for `params`."""
        if self._compiled is None:
            compiled = self.statement.compile(dialect=conn.dialect)
            expanding = frozenset(_EXPANDING.findall(compiled.string))
            self._compiled = compiled.string, list(compiled.positiontup or []), expanding
        sql, names, expanding = self._compiled
        args: list[Any] = []
        for name in names:
            if name in expanding:
                if not params[name]:
                    raise ValueError(f"{name}: an expanding parameter needs at least one value")
                args.extend(params[name])
            else:
                args.append(params[name])
        if expanding:
            sql = _EXPANDING.sub(lambda found: ", ".join(["%s"] * len(params[found.group(1)])), sql)
        return sql, args

    def render_rows(self, conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> tuple[str, list[Any]]:
        """One statement for all `rows`: the statement itself for one row; for more, an INSERT ... VALUES whose
        values group is repeated per row."""
        if len(rows) == 1:
            return self.render(conn, rows[0])
        rendered = [self.render(conn, row) for row in rows]
        found = _VALUES.match(rendered[0][0])
        if found is None:
            raise ValueError("only an INSERT ... VALUES statement takes many rows in a batch")
        head, group = found.groups()
        return head + ", ".join([group] * len(rows)), [arg for _, args in rendered for arg in args]


@dataclass(frozen=True)
class Step:
    """One statement of a batch, with its rows of parameters (more than one: a multi-row INSERT ... VALUES)."""

    statement: DriverStatement
    rows: Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class Outcome:
    """What one statement of a batch did: the rows it changed, and the rows it returned (a query's)."""

    changed: int
    rows: list[tuple]


async def execute(conn: AsyncConnection, statement: DriverStatement, params: Mapping[str, Any]) -> int:
    """Run one statement; the number of rows it changed."""
    sql, args = statement.render(conn, params)
    async with (await _driver(conn)).cursor() as cursor:
        try:
            return await cursor.execute(sql, args)
        except asyncmy.errors.Error as error:
            raise _translated(sql, args, error) from error


async def execute_many(conn: AsyncConnection, statement: DriverStatement, rows: Sequence[Mapping[str, Any]]) -> int:
    """Run one statement for every row of parameters (an INSERT ... VALUES goes as one multi-row insert)."""
    if not rows:
        return 0
    rendered = [statement.render(conn, row) for row in rows]
    sql = rendered[0][0]
    async with (await _driver(conn)).cursor() as cursor:
        try:
            return await cursor.executemany(sql, [args for _, args in rendered])
        except asyncmy.errors.Error as error:
            raise _translated(sql, rendered[0][1], error) from error


async def fetch(conn: AsyncConnection, statement: DriverStatement, params: Mapping[str, Any]) -> list[tuple]:
    """The rows a query returns, as tuples."""
    sql, args = statement.render(conn, params)
    async with (await _driver(conn)).cursor() as cursor:
        try:
            await cursor.execute(sql, args)
            return list(await cursor.fetchall())
        except asyncmy.errors.Error as error:
            raise _translated(sql, args, error) from error


async def execute_batch(conn: AsyncConnection, steps: Sequence[Step]) -> list[Outcome]:
    """Run the steps in order as one multi-statement query: one round trip instead of one per statement, in the
    caller's transaction. The server stops at the first statement that fails, whose error is raised as SQLAlchemy's;
    the ones before it have run, as they would have one by one, so the caller rolls back as it would then."""
    driver = await _driver(conn)
    async with driver.cursor() as cursor:
        parts = [cursor.mogrify(*step.statement.render_rows(conn, step.rows)) for step in steps]
        sql = ";\n".join(parts)
        outcomes: list[Outcome] = []
        try:
            changed = await cursor.execute(sql)
            outcomes.append(Outcome(changed, list(await cursor.fetchall())))
            while len(outcomes) < len(steps) and await cursor.nextset():
                outcomes.append(Outcome(cursor.rowcount, list(await cursor.fetchall())))
        except asyncmy.errors.Error as error:
            raise _translated(parts[len(outcomes)], [], error) from error
    if len(outcomes) != len(steps):
        raise RuntimeError(f"a batch of {len(steps)} statements gave {len(outcomes)} results")
    return outcomes


async def _driver(conn: AsyncConnection):
    return (await conn.get_raw_connection()).driver_connection


def _translated(sql: str, args: list[Any], error: asyncmy.errors.Error) -> StatementError:
    return DBAPIError.instance(sql, args, error, asyncmy.errors.Error)
