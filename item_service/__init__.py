"""Items as stored in MongoDB, the source of truth, fed from the catalog stream."""
