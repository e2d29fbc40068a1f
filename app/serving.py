"""How one serving process shares its interpreter between the public pulls, answered in the
event loop from memory (app/api/public.py), and the heavy reads (the audit, milestone
states) that run in worker threads.

Python runs one thread at a time. A thread that wants the interpreter back (the event loop,
after each socket read or write) waits until the running one is asked to let go, every
`sys.getswitchinterval()` seconds, 5 ms by default: a pull makes several such waits, so a
single audit thread in the background made pulls wait tens of milliseconds each, and several
audits at once made them wait seconds. Hence two rules, set up by app/main.py:

* `tune_interpreter`: the switch interval is 1 ms, so the loop waits at most about 1 ms per
  hand-over;
* `HeavyLimit`: at most HEAVY_CONCURRENCY heavy requests run at a time in each process; the
  others wait in the event loop, where waiting costs nothing. The pulls then share the
  interpreter with one thread at most, not with every audit in flight.

docs/benchmarks.md, "Soak", has the figures.
"""

import asyncio
import sys
from weakref import WeakKeyDictionary

from starlette.types import ASGIApp, Receive, Scope, Send

from app.db import READING

SWITCH_INTERVAL = 0.001
"""Seconds a thread may run before it is asked to hand the interpreter over."""
HEAVY_CONCURRENCY = 1
"""Heavy requests running at once in one process (each is CPU-bound in one thread)."""
HEAVY_PREFIXES = ("/api/v1/audit/",)


def tune_interpreter() -> None:
    sys.setswitchinterval(SWITCH_INTERVAL)


def is_heavy(path: str) -> bool:
    """The audit, and a milestone's states (one row per obliged unit × domain)."""
    return path.startswith(HEAVY_PREFIXES) or (
        path.startswith("/api/v1/milestones/") and path.endswith("/status")
    )


class HeavyLimit:
    """Pure ASGI: heavy requests queue for one of HEAVY_CONCURRENCY places (per event loop),
    the rest pass straight through."""

    def __init__(self, app: ASGIApp, concurrency: int = HEAVY_CONCURRENCY) -> None:
        self.app = app
        self.concurrency = concurrency
        self._places: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            WeakKeyDictionary()
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_heavy(scope["path"]):
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        places = self._places.get(loop)
        if places is None:
            places = self._places[loop] = asyncio.Semaphore(self.concurrency)
        async with places:
            await self.app(scope, receive, send)


class Reads:
    """Pure ASGI: a GET or HEAD request's SQLite transactions begin DEFERRED (app/db.py,
    READING). With BEGIN IMMEDIATE for every transaction, a reader waited for the write
    lock: a public pull's look-up queued behind each audit in flight and each edit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        token = READING.set(True)
        try:
            await self.app(scope, receive, send)
        finally:
            READING.reset(token)
