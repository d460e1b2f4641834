"""Serviceability and delivery time: the fastest route from every warehouse to every pincode, precomputed and cached."""
