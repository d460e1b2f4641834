"""Shoppers' carts and wishlists in MySQL; every change is an event."""
