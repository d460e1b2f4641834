"""Which store errors retrying can fix (waited out) and which a record causes (dead-lettered), with the exceptions each
library really raises, wrapped as the application sees them: no services needed."""

from __future__ import annotations

import pytest
from asyncmy import errors as asyncmy
from bson.errors import InvalidDocument
from elasticsearch import exceptions as es
from pymongo import errors as mongo
from sqlalchemy import exc as sql

from infra.store_errors import elasticsearch_transient, mongo_transient, mysql_transient, refusal_reason

pytestmark = pytest.mark.unit


def from_mysql(error: asyncmy.MySQLError) -> sql.DBAPIError:
    """The driver's error as SQLAlchemy hands it over (DataError, OperationalError, ... by the driver's class)."""
    return sql.DBAPIError.instance("INSERT INTO stock_levels ...", {}, error, asyncmy.Error)


@pytest.mark.parametrize("error", [
    from_mysql(asyncmy.OperationalError(2003, "Can't connect to MySQL server on '127.0.0.1' ([Errno 111])")),
    from_mysql(asyncmy.OperationalError(2013, "Lost connection to MySQL server during query")),
    from_mysql(asyncmy.OperationalError(2006, "MySQL server has gone away")),
    from_mysql(asyncmy.OperationalError(1205, "Lock wait timeout exceeded; try restarting transaction")),
    from_mysql(asyncmy.OperationalError(1213, "Deadlock found when trying to get lock; try restarting transaction")),
    from_mysql(asyncmy.OperationalError(1040, "Too many connections")),
    from_mysql(asyncmy.OperationalError(1969, "Query execution was interrupted (max_statement_time exceeded)")),
    from_mysql(asyncmy.OperationalError(1045, "Access denied for user 'shop'@'localhost'")),
    from_mysql(asyncmy.ProgrammingError(1146, "Table 'shop.stock_levels' doesn't exist")),
    from_mysql(asyncmy.InterfaceError(0, "Not connected")),
    sql.TimeoutError("QueuePool limit of size 20 overflow 20 reached"),
    sql.DisconnectionError("stale MySQL connection"),
    ConnectionResetError(104, "Connection reset by peer"),
    TimeoutError(),
])
def test_mysql_away_busy_or_locked_is_waited_out(error):
    assert mysql_transient(error)


@pytest.mark.parametrize("error", [
    from_mysql(asyncmy.DataError(1406, "Data too long for column 'warehouse_id' at row 1")),
    from_mysql(asyncmy.DataError(1264, "Out of range value for column 'feed_version' at row 1")),
    from_mysql(asyncmy.IntegrityError(1062, "Duplicate entry 'x' for key 'PRIMARY'")),
    from_mysql(asyncmy.IntegrityError(1452, "Cannot add or update a child row: a foreign key constraint fails")),
    # The driver files these under OperationalError: a CHECK constraint, arithmetic out of range, a bad value.
    from_mysql(asyncmy.OperationalError(4025, "CONSTRAINT `stock_never_negative` failed for `shop`.`stock_levels`")),
    from_mysql(asyncmy.OperationalError(1690, "BIGINT value is out of range in `feed_version` + 1")),
    from_mysql(asyncmy.OperationalError(1292, "Truncated incorrect DECIMAL value: 'x'")),
    from_mysql(asyncmy.OperationalError(1153, "Got a packet bigger than 'max_allowed_packet' bytes")),
    KeyError("ABC123"),  # the store cannot use what the record says
    UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"),
])
def test_what_mysql_refuses_about_the_values_is_permanent(error):
    assert not mysql_transient(error)


@pytest.mark.parametrize("error", [
    mongo.ServerSelectionTimeoutError("127.0.0.1:27017: [Errno 111] Connection refused"),
    mongo.AutoReconnect("connection closed"),
    mongo.NetworkTimeout("127.0.0.1:27017: timed out"),
    mongo.NotPrimaryError("not primary", {"code": 10107, "errmsg": "not primary"}),
    mongo.WaitQueueTimeoutError("timed out waiting for a connection from the pool"),
    mongo.ExecutionTimeout("operation exceeded time limit", 50),
    mongo.OperationFailure("interrupted at shutdown", 11600),
    mongo.OperationFailure("write conflict", 112),
    mongo.OperationFailure("no longer primary", 999, {"errorLabels": ["RetryableWriteError"]}),
    mongo.BulkWriteError({"writeErrors": [{"index": 0, "code": 91, "errmsg": "shutdown in progress"}],
                          "writeConcernErrors": []}),
    TimeoutError(),
])
def test_mongodb_away_stepping_down_or_slow_is_waited_out(error):
    assert mongo_transient(error)


@pytest.mark.parametrize("error", [
    mongo.BulkWriteError({"writeErrors": [{"index": 1, "code": 2, "errmsg": "invalid value: { \"dims\": [ [ 1 ] ] } "
                                                                          "(nested arrays are not supported)"}],
                          "writeConcernErrors": []}),
    mongo.BulkWriteError({"writeErrors": [{"index": 0, "code": 91, "errmsg": "shutdown in progress"},
                                          {"index": 1, "code": 2, "errmsg": "invalid value"}],
                          "writeConcernErrors": []}),
    mongo.WriteError("invalid value (nested arrays are not supported)", 2, {"code": 2}),
    mongo.DuplicateKeyError("E11000 duplicate key error", 11000),
    mongo.OperationFailure("unknown operator: $foo", 2),
    mongo.OperationFailure("internal error", 1),
    InvalidDocument("Key names must not contain the NULL byte"),
    mongo.DocumentTooLarge("BSON document too large (17000000 bytes)"),
    OverflowError("MongoDB can only handle up to 8-byte ints"),
    KeyError("nModified"),
])
def test_what_mongodb_refuses_about_the_document_is_permanent(error):
    assert not mongo_transient(error)


@pytest.mark.parametrize("error", [
    es.ConnectionError("N/A", "Connection refused", ConnectionRefusedError(111, "Connection refused")),
    es.ConnectionTimeout("TIMEOUT", "Read timed out", TimeoutError()),
    es.TransportError(503, "unavailable_shards_exception", {"error": {"type": "unavailable_shards_exception"}}),
    es.TransportError(500, "internal_server_error", {}),
    es.TransportError(429, "es_rejected_execution_exception", {"error": {"type": "es_rejected_execution_exception"}}),
    es.TransportError(429, "circuit_breaking_exception",
                      {"error": {"type": "circuit_breaking_exception", "durability": "TRANSIENT"}}),
    es.AuthenticationException(401, "security_exception", {}),
    TimeoutError(),
])
def test_elasticsearch_away_or_overloaded_is_waited_out(error):
    assert elasticsearch_transient(error)


@pytest.mark.parametrize("error", [
    es.RequestError(400, "action_request_validation_exception", {"error": {"type": "parse_exception"}}),
    es.TransportError(413, "Request Entity Too Large", ""),
    es.TransportError(429, "circuit_breaking_exception",
                      {"error": {"type": "circuit_breaking_exception", "durability": "PERMANENT"}}),
    es.SerializationError({"script": "..."}, TypeError("Integer exceeds 64-bit range")),
    KeyError("item_id"),
])
def test_what_elasticsearch_refuses_about_the_request_is_permanent(error):
    assert not elasticsearch_transient(error)


def test_a_dead_letter_gives_the_store_s_own_words_not_the_statement_or_the_body():
    too_long = from_mysql(asyncmy.DataError(1406, "Data too long for column 'warehouse_id' at row 1"))
    nested = mongo.BulkWriteError({"writeErrors": [{"index": 0, "code": 2, "errmsg": "nested arrays are not supported"}]})
    unsendable = es.SerializationError({"params": "x" * 10_000}, TypeError("Integer exceeds 64-bit range"))

    reasons = [refusal_reason(error) for error in (too_long, nested, unsendable, ValueError("y" * 10_000))]

    assert reasons[:3] == ["DataError: (1406, \"Data too long for column 'warehouse_id' at row 1\")",
                           "BulkWriteError: nested arrays are not supported",
                           "SerializationError: Integer exceeds 64-bit range"]
    assert len(reasons[3]) == 500 and reasons[3].startswith("ValueError: yyy")
