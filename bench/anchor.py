"""The anchors the publishing benchmark compares against: bare FastAPI, nothing else.

`/bytes` returns the file named by BENCH_BODY (the app's own published JSON, read once at
start), `/tiny` a tiny JSON; `/gzip` and `/br` the files named by BENCH_GZIP and BENCH_BR
(the app's own compressed bytes) with their Content-Encoding. Served by the same uvicorn
settings as the app.
"""

import os
from pathlib import Path

from fastapi import FastAPI, Response


def _read(name: str) -> bytes:
    return Path(os.environ[name]).read_bytes() if name in os.environ else b"{}"


BODY = _read("BENCH_BODY")
ENCODED = {"gzip": _read("BENCH_GZIP"), "br": _read("BENCH_BR")}

app = FastAPI()


@app.get("/bytes")
async def precomputed() -> Response:
    return Response(BODY, media_type="application/json")


@app.get("/tiny")
async def tiny() -> dict[str, bool]:
    return {"ok": True}


@app.get("/gzip")
async def precomputed_gzip() -> Response:
    return Response(
        ENCODED["gzip"], media_type="application/json", headers={"Content-Encoding": "gzip"}
    )


@app.get("/br")
async def precomputed_br() -> Response:
    return Response(
        ENCODED["br"], media_type="application/json", headers={"Content-Encoding": "br"}
    )
