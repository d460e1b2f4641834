"""Item search over Elasticsearch, filtered by stock and deliverability to the shopper's pincode."""
