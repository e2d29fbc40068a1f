"""The change feed under real concurrency: publishers commit while a reader pages through."""

import threading
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from app.main import app
from tests.factories import HULI, add_item, token

PUBLISHERS = 4
ROUNDS = 6


def test_a_reader_paging_during_concurrent_publishes_sees_each_exactly_once(
    live: Engine,
) -> None:
    with Session(live) as session:
        headers = token(session, "editor", HULI)
        session.commit()
    domains = [f"{n:02d}" for n in range(1, PUBLISHERS + 1)]
    with TestClient(app) as client:
        for domain in domains:
            add_item(client, headers, domain=domain)

    failures: list[str] = []
    start = threading.Barrier(PUBLISHERS + 1)
    publishing = threading.Event()
    publishing.set()

    def publisher(domain: str) -> None:
        base = f"/api/v1/units/{HULI}/catalogues/{domain}"
        start.wait()
        with TestClient(app) as client:
            for _ in range(ROUNDS):
                for step, body in (
                    ("compile", {"compiled_on": "2020-10-20"}),
                    ("publish", {"published_on": "2020-11-05", "url": "http://www.xm.gov.cn/"}),
                ):
                    response = client.post(f"{base}/{step}", json=body, headers=headers)
                    if response.status_code != 200:
                        failures.append(f"{domain} {step}: {response.status_code}")

    seen: list[tuple[str, int]] = []

    def reader() -> None:
        since: str | None = None
        start.wait()
        with TestClient(app) as client:
            while True:
                still_publishing = publishing.is_set()
                params: dict[str, str | int] = {"limit": 3}
                if since is not None:
                    params["since"] = since
                page = client.get("/api/v1/public/changes", params=params).json()
                seen.extend((c["domain_code"], c["version"]) for c in page["changes"])
                since = page["next"]
                if not page["changes"] and not still_publishing:
                    return  # drained after the last publish committed
                if not page["changes"]:
                    time.sleep(0.001)

    threads = [threading.Thread(target=publisher, args=(d,)) for d in domains]
    reading = threading.Thread(target=reader)
    for thread in [*threads, reading]:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    publishing.clear()
    reading.join(timeout=60)

    assert failures == []
    expected = {(domain, number) for domain in domains for number in range(1, ROUNDS + 1)}
    assert len(seen) == len(set(seen)), "a publish was repeated"
    assert set(seen) == expected, "a publish was skipped"
    for domain in domains:  # and each catalogue's versions arrive in order
        assert [n for d, n in seen if d == domain] == list(range(1, ROUNDS + 1))


def test_published_at_is_written_the_same_way_everywhere(
    client: TestClient, session: Session
) -> None:

    editor = token(session, "editor", HULI)
    add_item(client, editor)
    for path, body in (
        ("compile", {"compiled_on": "2020-10-20"}),
        ("publish", {"published_on": "2020-11-05", "url": "http://www.huli.gov.cn/a/"}),
    ):
        assert (
            client.post(
                f"/api/v1/units/{HULI}/catalogues/01/{path}", json=body, headers=editor
            ).status_code
            == 200
        )
    feed = client.get("/api/v1/public/changes").json()["changes"]
    stamp = next(c["published_at"] for c in feed if c["unit_code"] == HULI)
    assert stamp.endswith("Z")
    assert "+00:00" not in client.get(f"/api/v1/public/units/{HULI}/catalogues/01").text


@pytest.mark.parametrize(
    ("path", "param", "value"),
    [
        ("/api/v1/public/changes", "since", "c2VxOjkyMjMzNzIwMzY4NTQ3NzU4MDg"),  # seq:2**63
        ("/api/v1/public/changes", "since", "c2VxOsKy"),  # seq:² (a digit to str.isdigit)
        (f"/api/v1/units/{HULI}/catalogues/01/history", "cursor", "9223372036854775808"),
        (f"/api/v1/units/{HULI}/catalogues/01/history", "cursor", "²"),
        ("/api/v1/public/changes", "since", "c2VxOjE7cmVjOjI7cmVjOjM"),  # three numbers
        (f"/api/v1/units/{HULI}/records", "cursor", "cmVjOjEsMg"),  # rec:1,2
    ],
)
def test_a_cursor_that_cannot_be_ours_is_422(
    client: TestClient, session: Session, path: str, param: str, value: str
) -> None:
    response = client.get(path, params={param: value}, headers=token(session, "editor", HULI))
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "cursor_invalid"
