"""MySQL adapter of the seller feed: sellers and their API keys, feeds and per-record verdicts."""


class FeedStore:
    def __init__(self, engine) -> None:
        self.engine = engine
