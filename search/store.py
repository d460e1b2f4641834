"""Elasticsearch adapter of the item index (always through its alias)."""


class SearchIndex:
    def __init__(self, es, alias: str) -> None:
        self.es, self.alias = es, alias
