"""The anchors the publishing benchmark compares against: bare FastAPI, nothing else.

`/bytes` returns the file named by BENCH_BODY (the app's own published JSON, read once at
start), `/tiny` a tiny JSON. Served by the same uvicorn settings as the app.
"""

import os
from pathlib import Path

from fastapi import FastAPI, Response

BODY = Path(os.environ["BENCH_BODY"]).read_bytes() if "BENCH_BODY" in os.environ else b"{}"

app = FastAPI()


@app.get("/bytes")
async def precomputed() -> Response:
    return Response(BODY, media_type="application/json")


@app.get("/tiny")
async def tiny() -> dict[str, bool]:
    return {"ok": True}
