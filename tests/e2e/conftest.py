"""The whole-flow tests reuse the order builders (an in-process API over the real stack)."""

from tests.orders.conftest import sample_network, shop  # noqa: F401  (fixtures)
