"""Schemas of every store, applied idempotently by `shop stack up` (see app/bootstrap.py)."""
