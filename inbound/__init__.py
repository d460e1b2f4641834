"""The seller feed: HTTP and file ingestion, validated record by record, published to Kafka."""
