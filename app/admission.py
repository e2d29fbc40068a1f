"""Admission control: expensive requests take a turn, wait in a bounded queue, or get 503.

Fifty concurrent audits used to exhaust the connection pool and the thread pool at once,
so that every route, /health included, answered 500 for a minute. Here at most `limit`
expensive requests run at a time in this worker; up to `queue` more wait (in the event
loop, holding no thread and no connection) for at most `wait` seconds; anything beyond
is answered at once with 503 and Retry-After. Cheap requests never wait here.
"""

import asyncio
from dataclasses import dataclass
from urllib.parse import parse_qs
from weakref import WeakKeyDictionary

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import retry_after

BUSY = "服务繁忙，请稍后重试 / the service is busy; try again shortly"
EXPORT_FORMATS = {"csv", "xlsx", "html"}


def is_expensive(scope: Scope) -> bool:
    """Audit and statistics, a working catalogue as a file, and import."""
    path: str = scope["path"]
    if path.startswith("/api/v1/audit/") or path.endswith("/import"):
        return True
    if path.startswith("/api/v1/units/") and "/catalogues/" in path:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        return bool(EXPORT_FORMATS & set(query.get("format", [])))
    return False


@dataclass
class _Turns:
    slots: asyncio.Semaphore
    waiting: int = 0


class Admission:
    """Pure ASGI middleware; the state is per event loop (tests run several loops)."""

    def __init__(self, app: ASGIApp, *, limit: int, queue: int, wait: float) -> None:
        self.app = app
        self.limit = limit
        self.queue = queue
        self.wait = wait
        self._turns: WeakKeyDictionary[asyncio.AbstractEventLoop, _Turns] = WeakKeyDictionary()

    def turns(self) -> _Turns:
        loop = asyncio.get_running_loop()
        if (turns := self._turns.get(loop)) is None:
            turns = self._turns[loop] = _Turns(asyncio.Semaphore(self.limit))
        return turns

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_expensive(scope):
            await self.app(scope, receive, send)
            return
        turns = self.turns()
        if turns.slots.locked() and turns.waiting >= self.queue:
            await self._busy(scope, receive, send)
            return
        turns.waiting += 1
        try:
            await asyncio.wait_for(turns.slots.acquire(), self.wait)
        except TimeoutError:
            await self._busy(scope, receive, send)
            return
        finally:
            turns.waiting -= 1
        try:
            await self.app(scope, receive, send)
        finally:
            turns.slots.release()

    async def _busy(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Cheap on purpose (the access log already shows the 503): under a burst, most
        answers are these."""
        response = JSONResponse({"detail": BUSY}, status_code=503, headers=retry_after())
        await response(scope, receive, send)
