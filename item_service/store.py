"""MongoDB adapter of the items collection."""


class ItemStore:
    def __init__(self, db) -> None:
        self.items = db["items"]
