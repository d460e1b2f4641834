"""Shoppers: sign-up, bearer tokens and profiles (MySQL with a Redis read-through cache)."""
