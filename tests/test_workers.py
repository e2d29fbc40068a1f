"""Monotonic reads across workers: with WORKERS=4, once a publish has answered, every
worker answers the new version (PostgreSQL: within about 50 ms, by NOTIFY; SQLite: at
once, by data_version); no reader sees an older version after a newer one.

Before, each worker trusted its remembered "latest version" for a second: 716 reads went
back in time over 10 publishes. Every read here opens a new connection, so the reads
spread over the workers.
"""

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.factories import HULI, item_body
from tests.servers import cli, free_port, scratch_database, serving

PUBLISHES = 3
READS = 24
BASE = f"/api/v1/units/{HULI}/catalogues/01"
LATEST = f"/api/v1/public/units/{HULI}/catalogues/01"


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """This run's kind of database: a SQLite file, or a scratch PostgreSQL database."""
    with scratch_database("workers", tmp_path) as url:
        yield url


def publish(client: httpx.Client, editor: dict[str, str], n: int) -> int:
    """Change the draft, compile and publish it: the new version number."""
    if n == 0:
        response = client.post(f"{BASE}/items", json=item_body(), headers=editor)
    else:
        item = client.get(BASE, headers=editor).json()["items"][0]
        etag = client.get(f"/api/v1/items/{item['id']}", headers=editor).headers["ETag"]
        response = client.patch(
            f"/api/v1/items/{item['id']}",
            json={"content": f"第{n}次修订"},
            headers=editor | {"If-Match": etag},
        )
    assert response.status_code in (200, 201), response.text
    response = client.post(f"{BASE}/compile", json={"compiled_on": "2020-10-20"}, headers=editor)
    assert response.status_code == 200, response.text
    response = client.post(
        f"{BASE}/publish",
        json={"published_on": "2020-11-05", "url": "http://www.xm.gov.cn/a"},
        headers=editor,
    )
    assert response.status_code == 200, response.text
    version: int = response.json()["version"]
    return version


def read_version(fresh: httpx.Client) -> int:
    response = fresh.get(LATEST)
    assert response.status_code == 200, response.text
    version: int = response.json()["version"]
    return version


def test_after_a_publish_every_worker_answers_the_new_version(
    database_url: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": database_url, "HOST": "127.0.0.1"}
    cli(env, "migrate")
    cli(env, "seed")
    secret = cli(env, "tokens", "create", "--role", "editor", "--unit", HULI).splitlines()[-1]
    editor = {"Authorization": f"Bearer {secret}"}
    settle = 0.05 if database_url.startswith("postgresql") else 0.0
    with (
        serving(env | {"PORT": str(free_port()), "WORKERS": "4"}, tmp_path / "s.log") as server,
        # No keep-alive: a new connection for each read, and uvicorn's workers take turns
        # accepting them.
        httpx.Client(
            base_url=server.base, timeout=10, limits=httpx.Limits(max_keepalive_connections=0)
        ) as fresh,
    ):
        seen = 0
        for n in range(PUBLISHES):
            version = publish(server.client, editor, n)
            time.sleep(settle)
            versions = [read_version(fresh) for _ in range(READS)]
            assert versions == [version] * READS, (n, versions)
            assert version > seen
            seen = version
            # Warm every worker's memory with this version before the next publish, so a
            # worker that did not forget it would answer it again.
            for _ in range(READS):
                read_version(fresh)
