"""The throttle on password hashing, the CPU and memory lever of sign-up and login: Argon2 runs in at most
`concurrency` threads per API process (a few more callers may wait; the rest are told to come back), and fixed windows in
Redis, shared by every API process, cap the attempts of one client address and the logins to one e-mail."""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from redis.asyncio import Redis

T = TypeVar("T")


class TooManyAttempts(Exception):
    def __init__(self, what: str, retry_after: int) -> None:
        super().__init__(f"too many {what} in this window; try again in {retry_after} s")
        self.retry_after = retry_after


class HashingBusy(Exception):
    retry_after = 1


@dataclass(frozen=True)
class AttemptLimits:
    window_seconds: int
    per_address: int  # sign-ups and logins from one client address per window
    per_email: int  # logins to one e-mail per window


class PasswordThrottle:
    def __init__(self, redis: Redis, limits: AttemptLimits, *, concurrency: int, queue: int) -> None:
        self.redis, self.limits = redis, limits
        self._slots, self._room = asyncio.Semaphore(concurrency), asyncio.Semaphore(concurrency + queue)

    async def attempt(self, address: str, email: str | None = None) -> None:
        """Counts an attempt from `address` (and to `email`); TooManyAttempts past either window's limit."""
        await self._count(f"address:{address}", self.limits.per_address, "attempts from your address")
        if email is not None:
            digest = hashlib.sha256(email.encode()).hexdigest()[:32]  # no e-mail addresses in key names
            await self._count(f"email:{digest}", self.limits.per_email, "logins to this account")

    async def hashed(self, work: Callable[..., T], *args: object) -> T:
        """`work(*args)` (Argon2) in a thread once a slot is free; HashingBusy when the slots and their queue are full."""
        if self._room.locked():
            raise HashingBusy("password hashing is at capacity; try again shortly")
        async with self._room, self._slots:
            return await asyncio.to_thread(work, *args)

    async def _count(self, who: str, limit: int, what: str) -> None:
        now, window = time.time(), self.limits.window_seconds
        key = f"throttle:auth:{who}:{int(now // window)}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, window)  # the window's number is in the key: the expiry only clears it away
            count, _ = await pipe.execute()
        if count > limit:
            raise TooManyAttempts(what, max(1, math.ceil(window - now % window)))
