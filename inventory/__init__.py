"""Stock counts per item and warehouse, kept non-negative by the database."""
