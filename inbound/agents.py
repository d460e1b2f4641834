"""Stream agents (being built)."""


def register(worker, store, *, batch_size: int, within: float) -> None:
    pass
