"""Which store errors retrying can fix, per store family (pure functions of the exception, no I/O), and what a dead
letter says about the others.

Transient: the server, the network or our access to it (refused, reset or lost connections, timeouts, lock waits and
deadlocks, a server starting, stopping, overloaded or stepping down, credentials or a schema an operator has yet to fix):
the same for every record, so the consumer waits it out. Everything else is what the store says about the data (a value
out of range or too long, a constraint, a document or a mapping it refuses, one we cannot even encode), or unforeseen:
permanent, so the records that cause it are dead-lettered. When unsure, permanent: a wrong dead letter can be replayed,
a wrong retry holds every later record of the partition, for every seller, forever."""

from __future__ import annotations

from elasticsearch import exceptions as es
from pymongo import errors as mongo
from sqlalchemy import exc as sql

REASON_LIMIT = 500

# MySQL / MariaDB error numbers (server 1xxx-4xxx, client 2xxx).
MYSQL_TRANSIENT_CODES = frozenset({
    2002, 2003, 2005, 2006, 2013, 2014, 2055,  # cannot connect, server gone, connection lost or out of sync
    1040, 1203, 1043, 1152, 1158, 1159, 1160, 1161, 1927,  # too many connections, handshake, network, killed
    1053, 1290, 1836,  # shutting down; read-only (a failover)
    1205, 1213, 1020, 1637,  # lock wait timeout, deadlock, row changed since read, too many transactions
    1317, 1969, 3024,  # statement interrupted or over its time limit
    1021, 1114,  # disk or table full
    1044, 1045, 1142, 1143,  # access denied: credentials or grants an operator fixes
    1049, 1054, 1146,  # unknown database, column or table: a schema not migrated yet
})
# MongoDB codes: the driver's retryable ones (network, not primary, shutting down, step-downs), write conflicts, lock
# and time limits, and authentication.
MONGO_TRANSIENT_CODES = frozenset({
    6, 7, 89, 91, 134, 189, 262, 9001, 10058, 10107, 11600, 11602, 13435, 13436,
    112, 24, 46, 50,
    13, 18,
})
MONGO_TRANSIENT_LABELS = ("RetryableWriteError", "TransientTransactionError")


def mysql_transient(error: BaseException) -> bool:
    """Whether retrying can fix `error`, raised writing to MySQL through SQLAlchemy (the driver's error number says)."""
    if isinstance(error, sql.DisconnectionError | sql.TimeoutError | sql.InterfaceError | OSError):
        return True  # OSError: refused, reset, timed out (TimeoutError too)
    if not isinstance(error, sql.DBAPIError):
        return False
    code = error.orig.args[0] if error.orig is not None and error.orig.args else None
    return error.connection_invalidated or (isinstance(code, int) and code in MYSQL_TRANSIENT_CODES)


def mongo_transient(error: BaseException) -> bool:
    """Whether retrying can fix `error`, raised writing to MongoDB (FerretDB refuses a document with code 2, BSON one
    it cannot encode before sending: both permanent)."""
    if isinstance(error, mongo.ConnectionFailure | OSError):
        return True  # network errors, not primary, server selection and pool timeouts
    if isinstance(error, mongo.BulkWriteError):
        failures = error.details.get("writeErrors", []) + error.details.get("writeConcernErrors", [])
        return bool(failures) and all(failure.get("code") in MONGO_TRANSIENT_CODES for failure in failures)
    if isinstance(error, mongo.PyMongoError) and error.timeout:
        return True  # an operation or a write concern over its time limit
    if isinstance(error, mongo.OperationFailure):
        return error.code in MONGO_TRANSIENT_CODES or any(map(error.has_error_label, MONGO_TRANSIENT_LABELS))
    return False


def elasticsearch_transient(error: BaseException) -> bool:
    """Whether retrying can fix `error`, raised by a whole Elasticsearch request (a document the bulk answer refuses
    is the caller's to read)."""
    if isinstance(error, OSError):
        return True
    if not isinstance(error, es.TransportError):
        return False  # a SerializationError: what we would send cannot be sent
    status = error.args[0] if error.args else None
    if not isinstance(status, int):
        return True  # "N/A": no answer at all (refused, reset, timed out)
    if status == 429:
        return not _too_big_ever(error)
    return status >= 500 or status in (401, 403, 408)


def _too_big_ever(error: es.TransportError) -> bool:
    """A circuit breaker that trips on this request's size alone says so (`durability: PERMANENT`): halves may pass."""
    info = error.args[2] if len(error.args) > 2 and isinstance(error.args[2], dict) else {}
    return (info.get("error") or {}).get("durability") == "PERMANENT"


def refusal_reason(error: BaseException) -> str:
    """What a dead letter says about an error retrying cannot fix: the store's own words, without the statement."""
    if isinstance(error, sql.StatementError) and error.orig is not None:  # DBAPIError too: the driver's error
        error = error.orig
    if isinstance(error, mongo.BulkWriteError):
        failures = error.details.get("writeErrors") or error.details.get("writeConcernErrors") or [{}]
        words = "; ".join(str(failure.get("errmsg")) for failure in failures)
    elif isinstance(error, mongo.OperationFailure):
        words = str((error.details or {}).get("errmsg") or error)
    elif isinstance(error, es.SerializationError) and error.args:
        words = str(error.args[-1])  # a SerializationError's first argument is the whole body
    else:
        words = str(error)
    reason = f"{type(error).__name__}: {words}"
    return reason if len(reason) <= REASON_LIMIT else reason[:REASON_LIMIT - 1] + "…"
