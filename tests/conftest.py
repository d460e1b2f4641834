"""Shared test wiring: service-backed tests are marked `stack` and skip nothing: a missing stack is an error."""

from __future__ import annotations

import uuid

import pytest

from infra.settings import Settings, get_settings


def pytest_collection_modifyitems(config, items):
    # Tests that stop and restart the whole stack run last, so the rest see a steady stack.
    items.sort(key=lambda item: item.get_closest_marker("restarts_stack") is not None)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


@pytest.fixture
def unique_name() -> str:
    return f"t{uuid.uuid4().hex[:12]}"
