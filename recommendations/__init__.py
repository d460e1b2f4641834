"""Spark jobs: streaming reports, the event lake and ALS recommendations."""
