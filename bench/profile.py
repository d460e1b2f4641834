"""Where a server process spends its CPU: py-spy samples it during a measured run, and the samples are summed into the
shares of named parts of the request (token check, validation, the item read, SQL statement building...).

    with sampled(api_pid, "checkout-many.txt") as profile: ...run the load...
    report("API CPU by part", shares(profile.read(), CHECKOUT_PARTS))

py-spy (`--nonblocking`, so the process is never paused) writes collapsed stacks: one line per distinct stack,
`frame;frame;...;frame count`, outermost first, each frame `function (file:line)`. A sample belongs to the first part
whose pattern matches, looking from the innermost frame outwards: time in PyMongo's BSON decoding called by the item
read is "item read (PyMongo)", time in `json.dumps` called by the outbox is "outbox serialisation". Only samples of
busy threads are kept (py-spy leaves out idle ones), so the shares are of CPU, not of wall time.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PROFILE_DIR = Path(".stack/profiles")
RATE = 250  # samples per second: enough for shares of a 20 s run, small enough not to slow the process noticeably

# (part, pattern on a frame): the first part any frame matches, innermost frame first. More specific parts come first.
# py-spy names a frame's file relative to its import root: `(sqlalchemy/engine/base.py:1)`, `(orders/store.py:9)`.
CHECKOUT_PARTS = [
    ("token check (JWT)", r"\((identity/api|jwt/)"),
    ("payment window (orders/windows.py)", r"\(orders/windows\.py"),
    ("serviceability: decoding the pincode's routes (logistics/)", r"\(logistics/"),
    ("item read (PyMongo)", r"\((item_service|pymongo|bson|motor)/"),
    ("MySQL driver (asyncmy, also through infra/driver_sql.py)", r"\((asyncmy/|infra/driver_sql\.py)"),
    ("outbox serialisation", r"\((infra/outbox|orders/views)\.py"),
    ("SQLAlchemy statement building, results and its greenlet bridge", r"\(sqlalchemy/"),
    ("order rules and flow (orders/, inventory/)", r"\((orders|inventory)/"),
    ("request validation (pydantic)", r"\((pydantic|pydantic_core)/"),
    ("response building (FastAPI encoding, JSON)", r"\((fastapi/encoders|json/)|serialize_response|JSONResponse"),
    ("HTTP server and framework (uvicorn, Starlette, FastAPI)", r"\((uvicorn|starlette|fastapi|h11|httptools)/"),
    ("Redis client (the serviceability read and the payment window)", r"\(redis/"),
    ("event loop (asyncio)", r"\(asyncio/"),
]
SEARCH_PARTS = [
    ("serviceability lookup (Redis)", r"\(logistics/"),
    ("query building", r"\(search/query\.py:\d+\)$"),
    ("Elasticsearch client (transport, JSON)", r"\((elasticsearch|elastic_transport)/"),
    ("Kafka (search events)", r"\((aiokafka|kafka)/|\(search/events\.py"),
    ("search flow (search/)", r"\(search/"),
    ("request validation (pydantic)", r"\((pydantic|pydantic_core)/"),
    ("response encoding (FastAPI, JSON)", r"\((fastapi/encoders|json/)|serialize_response|JSONResponse"),
    ("HTTP server and framework (uvicorn, Starlette, FastAPI)", r"\((uvicorn|starlette|fastapi|h11|httptools)/"),
    ("Redis client", r"\(redis/"),
    ("event loop (asyncio)", r"\(asyncio/"),
]


@dataclass
class Profile:
    path: Path

    def read(self) -> Counter[tuple[str, ...]]:
        """Samples per stack (frames outermost first)."""
        stacks: Counter[tuple[str, ...]] = Counter()
        if not self.path.exists():
            return stacks
        for line in self.path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if stack and count.isdigit():
                stacks[tuple(stack.split(";"))] += int(count)
        return stacks


@contextmanager
def sampled(pid: int, name: str) -> Iterator[Profile]:
    """py-spy samples process `pid` (and its subprocesses) until the block ends; the profile is read after it."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    PROFILE_DIR.mkdir(parents=True, exist_ok=True)
    profile = Profile(PROFILE_DIR / name)
    profile.path.unlink(missing_ok=True)
    recorder = subprocess.Popen([spy, "record", "--pid", str(pid), "--rate", str(RATE), "--format", "raw",
                                 "--nonblocking", "--subprocesses", "--output", str(profile.path)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1)  # attached before the load starts
    try:
        yield profile
    finally:
        recorder.send_signal(2)  # SIGINT: py-spy writes its file and exits
        _, errors = recorder.communicate(timeout=60)
        if not profile.path.exists():
            raise RuntimeError(f"py-spy wrote no profile: {errors.decode(errors='replace')[-500:]}")


def part_of(stack: tuple[str, ...], parts: list[tuple[str, re.Pattern]]) -> str:
    for frame in reversed(stack):
        for name, pattern in parts:
            if pattern.search(frame):
                return name
    return "other"


def shares(stacks: Counter[tuple[str, ...]], parts: list[tuple[str, str]]) -> dict[str, float]:
    """Each part's share of the samples (%), largest first, with the number of samples."""
    compiled = [(name, re.compile(pattern)) for name, pattern in parts]
    by_part: Counter[str] = Counter()
    for stack, count in stacks.items():
        by_part[part_of(stack, compiled)] += count
    total = sum(by_part.values()) or 1
    return {**{name: 100 * n / total for name, n in by_part.most_common()}, "samples": total}


def top_functions(stacks: Counter[tuple[str, ...]], n: int = 15) -> dict[str, float]:
    """The functions where samples were taken (self time), as % of all samples."""
    innermost: Counter[str] = Counter()
    for stack, count in stacks.items():
        innermost[_short(stack[-1])] += count
    total = sum(innermost.values()) or 1
    return {frame: 100 * count / total for frame, count in innermost.most_common(n)}


def inclusive(stacks: Counter[tuple[str, ...]], pattern: str) -> float:
    """% of samples with any frame matching `pattern` (time in it and below it)."""
    compiled, total = re.compile(pattern), sum(stacks.values()) or 1
    return 100 * sum(count for stack, count in stacks.items() if any(compiled.search(f) for f in stack)) / total


def _short(frame: str) -> str:
    """`function (path/to/site-packages/lib/mod.py:12)` -> `function (lib/mod.py:12)`."""
    return re.sub(r"\((?:.*/site-packages/|.*/lib/python3\.\d+/|/work/[^/]+/)?", "(", frame, count=1)


def main() -> None:
    """Summarise a saved profile again: `python -m bench.profile .stack/profiles/checkout-many-items.txt checkout`."""
    import argparse

    from bench.harness import report

    parser = argparse.ArgumentParser()
    parser.add_argument("path", type=Path)
    parser.add_argument("parts", choices=("checkout", "search"))
    args = parser.parse_args()
    stacks = Profile(args.path).read()
    report(f"CPU by part ({args.path})", shares(stacks, CHECKOUT_PARTS if args.parts == "checkout" else SEARCH_PARTS))
    report("top functions (self)", top_functions(stacks))


if __name__ == "__main__":
    main()
