"""Statements on the MySQL driver beneath a SQLAlchemy transaction: a batch of them in one multi-statement query says
what each did, and stops at the first that fails with SQLAlchemy's error, as one-by-one execution would."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, text
from sqlalchemy.exc import IntegrityError

from infra import driver_sql
from infra.driver_sql import DriverStatement, Step

pytestmark = pytest.mark.stack

DROP = text("DROP TEMPORARY TABLE IF EXISTS batch_rows")  # the pool's connection may have made it before
CREATE = text("CREATE TEMPORARY TABLE batch_rows (id INT PRIMARY KEY, n INT NOT NULL)")
INSERT = DriverStatement(text("INSERT INTO batch_rows (id, n) VALUES (:id, :n)"))
ADD = DriverStatement(text("UPDATE batch_rows SET n = n + :by WHERE id IN :ids").bindparams(
    bindparam("ids", expanding=True)))
ADD_WHERE_AT_LEAST = DriverStatement(text("UPDATE batch_rows SET n = n + 1 WHERE id = :id AND n >= :least"))
READ = DriverStatement(text("SELECT id, n FROM batch_rows ORDER BY id"))


async def test_a_batch_runs_its_statements_in_order_and_says_what_each_changed_and_returned(mysql):
    async with mysql.begin() as conn:
        await conn.execute(DROP)
        await conn.execute(CREATE)
        done = await driver_sql.execute_batch(conn, [
            Step(INSERT, [{"id": 1, "n": 10}, {"id": 2, "n": 20}, {"id": 3, "n": 30}]),  # one multi-row insert
            Step(ADD, [{"by": 5, "ids": [1, 3]}]),
            Step(ADD_WHERE_AT_LEAST, [{"id": 2, "least": 21}]),  # n is 20: changes nothing
            Step(READ, [{}]),
        ])
        await conn.rollback()

    assert [outcome.changed for outcome in done[:3]] == [3, 2, 0]
    assert done[3].rows == [(1, 15), (2, 20), (3, 35)]


async def test_the_first_failing_statement_stops_the_batch_with_sqlalchemys_error(mysql):
    async with mysql.begin() as conn:
        await conn.execute(DROP)
        await conn.execute(CREATE)
        with pytest.raises(IntegrityError, match="Duplicate entry"):
            await driver_sql.execute_batch(conn, [
                Step(INSERT, [{"id": 1, "n": 10}]),
                Step(INSERT, [{"id": 1, "n": 99}]),
                Step(ADD, [{"by": 1, "ids": [1]}]),
            ])
        after = await driver_sql.fetch(conn, READ, {})  # the connection is usable, in the same transaction
        await conn.rollback()

    assert after == [(1, 10)]  # the statement before the failure ran; the one after it did not


async def test_many_rows_are_refused_for_a_statement_that_is_not_an_insert_of_values(mysql):
    async with mysql.begin() as conn:
        with pytest.raises(ValueError, match="INSERT ... VALUES"):
            ADD_WHERE_AT_LEAST.render_rows(conn, [{"id": 1, "least": 0}, {"id": 2, "least": 0}])
        await conn.rollback()
