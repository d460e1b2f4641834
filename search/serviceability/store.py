"""Redis adapter of the precomputed warehouse x pincode serviceability."""


class ServiceabilityStore:
    def __init__(self, redis) -> None:
        self.redis = redis
