"""The load generator of the register's write bench, in its own process (never the server's
interpreter or the bench's): `python -m bench.clerks SPEC.json` prints its results as JSON.

CLERKS asyncio tasks on one event loop, each with its own keep-alive connection and token,
speaking plain HTTP/1.1 over asyncio streams (no client library, so the client's own CPU
time per request stays small; the bench reports it). Each clerk registers an application,
then records its answer with If-Match, and starts again. Before each operation it waits:
not at all (think = 0: the closed loop), or for a pause drawn from an exponential
distribution of mean `think` seconds (the clerk model: each clerk's operations then arrive
as a Poisson process). Every operation is one sample, timed from the moment
the clerk sends it.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from typing import Any

BODY = json.dumps(
    {
        "received_on": "2020-09-25",
        "channel": "网络",
        "applicant_type": "natural",
        "summary": "申请公开某地块征收补偿方案",
    },
    ensure_ascii=False,
).encode()
ANSWER = json.dumps({"kind": "answered", "on": "2020-10-20", "outcome": "granted"}).encode()


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def post(self, path: str, body: bytes, headers: str) -> tuple[int, dict[str, str], bytes]:
        self.writer.write(
            (
                f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n{headers}\r\n"
            ).encode()
            + body
        )
        status = int((await self.reader.readline()).split()[1])
        found: dict[str, str] = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            found[name.strip().lower()] = value.strip()
        data = await self.reader.readexactly(int(found.get("content-length", "0")))
        return status, found, data


async def pair(connection: Connection, unit: str, auth: str) -> None:
    status, headers, data = await connection.post(f"/api/v1/units/{unit}/requests", BODY, auth)
    assert status == 201, data
    status, _, data = await connection.post(
        f"/api/v1/requests/{json.loads(data)['id']}/events",
        ANSWER,
        auth + f"If-Match: {headers['etag']}\r\n",
    )
    assert status == 200, data


async def clerk(
    spec: dict[str, Any], index: int, ready: asyncio.Event, go: asyncio.Event
) -> list[float]:
    rng = random.Random(index)
    reader, writer = await asyncio.open_connection(spec["host"], spec["port"])
    connection = Connection(reader, writer)
    auth = f"Authorization: Bearer {spec['tokens'][index]}\r\n"
    unit = spec["units"][index % len(spec["units"])]
    think = float(spec["think"])
    samples: list[float] = []
    await pair(connection, unit, auth)  # warm-up (a worker's first requests), not counted
    ready.set()
    await go.wait()
    stop = time.monotonic() + float(spec["seconds"])
    while True:
        if think:
            await asyncio.sleep(rng.expovariate(1 / think))
        if time.monotonic() >= stop:
            break
        began = time.perf_counter()
        status, headers, data = await connection.post(f"/api/v1/units/{unit}/requests", BODY, auth)
        middle = time.perf_counter()
        assert status == 201, data
        request_id = json.loads(data)["id"]
        if think:
            await asyncio.sleep(rng.expovariate(1 / think))
        event_began = time.perf_counter()
        status, _, data = await connection.post(
            f"/api/v1/requests/{request_id}/events",
            ANSWER,
            auth + f"If-Match: {headers['etag']}\r\n",
        )
        end = time.perf_counter()
        assert status == 200, data
        samples += [(middle - began) * 1000, (end - event_began) * 1000]
    writer.close()
    return samples


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Every clerk connects and warms up; then "ready" on stdout, and the run starts when
    a line comes on stdin (the bench reads the server's CPU time in between)."""
    clerks = int(spec["clerks"])
    readies = [asyncio.Event() for _ in range(clerks)]
    go = asyncio.Event()
    tasks = [asyncio.create_task(clerk(spec, i, readies[i], go)) for i in range(clerks)]
    for ready in readies:
        await ready.wait()
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    cpu = time.process_time()
    go.set()
    results = await asyncio.gather(*tasks)
    return {
        "latencies": [value for values in results for value in values],
        "elapsed": float(spec["seconds"]),
        "client_cpu": time.process_time() - cpu,
    }


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as file:
        print(json.dumps(asyncio.run(run(json.load(file)))))
