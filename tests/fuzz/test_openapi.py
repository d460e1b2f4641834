"""The live API fuzzed from its own OpenAPI document with schemathesis: every operation gets generated requests (valid
and invalid), sent with a real shopper's token, a real seller's key and the admin key, and must answer without a 5xx and
as its schema says. A real `shop serve` on a free loopback port, on the real stack; bounded by `SHOP_FUZZ_EXAMPLES`
per operation and `SHOP_FUZZ_SECONDS` in all."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.stack
EXAMPLES = os.environ.get("SHOP_FUZZ_EXAMPLES", "30")
SECONDS = os.environ.get("SHOP_FUZZ_SECONDS", "150")
CHECKS = "not_a_server_error,response_schema_conformance"


@pytest.fixture(scope="module")
def api_url(settings):
    from bench.harness import api_server

    with api_server(settings, env={"SHOP_PAYMENT_SIMULATOR": "true"}) as (url, _):
        yield url


@pytest.fixture(scope="module")
def credentials(api_url, settings) -> list[str]:
    """Headers that authenticate as a shopper, a seller and operations at once (each route reads its own)."""
    from app.builder import open_stores
    from inbound import commands

    email, password = f"fuzz-{uuid.uuid4().hex[:8]}@example.com", "fuzz-password-1"
    httpx.post(f"{api_url}/v1/users", json={"email": email, "name": "Fuzz Shopper", "password": password,
                                            "default_pincode": "560001"}).raise_for_status()
    token = httpx.post(f"{api_url}/v1/auth/token", data={"username": email, "password": password}).json()

    async def seller() -> dict:
        async with open_stores(settings) as stores:
            return await commands.create_seller(stores.feed_store, "Fuzz Traders")

    admin = settings.admin_key.get_secret_value() if settings.admin_key else ""
    return [f"Authorization: Bearer {token['access_token']}", f"X-Api-Key: {asyncio.run(seller())['api_key']}",
            f"X-Admin-Key: {admin}"]


def test_no_operation_answers_with_a_server_error_or_off_its_schema(api_url, credentials, tmp_path: Path):
    command = [sys.executable, "-m", "schemathesis.cli", "run", f"{api_url}/openapi.json", "--checks", CHECKS,
               "--max-examples", EXAMPLES, "--max-time", SECONDS, "--seed", "20261127", "--no-shrink",
               "--report", "junit", "--report-dir", str(tmp_path), "--warnings", "off",
               *(part for header in credentials for part in ("-H", header))]

    run = subprocess.run(command, capture_output=True, text=True, timeout=int(SECONDS) + 300, check=False)

    print(run.stdout[-6000:])  # the summary: operations, test cases generated, failures (shown with -s or on failure)
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-4000:]
