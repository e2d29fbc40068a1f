"""Request body caps, enforced before a body is buffered: 413 instead of reading it all."""

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import too_large


class BodyLimit:
    """Pure ASGI (no BaseHTTPMiddleware on the hot path): checks Content-Length up front and
    counts streamed bytes, so a chunked upload cannot slip past the cap either."""

    def __init__(self, app: ASGIApp, *, default: int, uploads: int) -> None:
        self.app = app
        self.default = default
        self.uploads = uploads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.uploads if scope["path"].endswith("/import") else self.default
        refused = too_large(limit)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            response = JSONResponse(refused.content(), status_code=refused.status_code)
            await response(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            incoming = await receive()
            if incoming["type"] == "http.request":
                received += len(incoming.get("body", b""))
                if received > limit:
                    # FastAPI re-raises HTTPException from body reading; others become 400.
                    raise HTTPException(refused.status_code, refused.message)
            return incoming

        await self.app(scope, limited, send)
