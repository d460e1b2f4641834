"""Moves finished orders from MySQL to Cassandra and serves order history."""
