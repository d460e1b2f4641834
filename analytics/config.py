"""Where the lake is and how its streaming job reads Kafka (built from the settings by `app.builder.lake_config`)."""

from __future__ import annotations

from dataclasses import dataclass

BUCKET_SECONDS = 300  # the streaming reports count in tumbling buckets this long (a report adds up its span's buckets)


@dataclass(frozen=True)
class LakeConfig:
    root: str  # a folder or an s3a:// URI
    bootstrap: str
    trigger_seconds: float = 5.0
    max_offsets_per_trigger: int = 200_000
    starting_offsets: str = "earliest"

    def table(self, name: str) -> str:
        return f"{self.root.rstrip('/')}/{name}"

    @property
    def checkpoint(self) -> str:
        return self.table("_checkpoints/events")
