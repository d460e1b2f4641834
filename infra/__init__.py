"""Configuration, connections, schemas and the local stack launcher."""
