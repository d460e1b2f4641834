"""Stock per item and warehouse: units on hand and units reserved for open orders, kept non-negative by the database."""
