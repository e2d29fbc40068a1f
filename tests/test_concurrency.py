"""Real concurrent transactions (committed data, one session per request)."""

import threading
import time
from collections.abc import Callable, Iterator

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.main import app
from app.models.catalogue import CatalogueVersion
from tests.factories import HULI, add_item, item_body, token


def run_together(n: int, work: Callable[[int], int]) -> list[int]:
    barrier = threading.Barrier(n)
    results: list[int] = [0] * n

    def worker(index: int) -> None:
        barrier.wait()
        results[index] = work(index)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_racing_writers_on_one_etag_exactly_one_wins(live: Engine) -> None:
    with Session(live) as session:
        headers = token(session, "editor", HULI)
        session.commit()
    with TestClient(app) as client:
        item = add_item(client, headers)

    def patch(index: int) -> int:
        with TestClient(app) as client:
            response = client.patch(
                f"/api/v1/items/{item['id']}",
                json={"content": f"writer {index}"},
                headers=headers | {"If-Match": item["etag"]},
            )
            status: int = response.status_code
            return status

    statuses = run_together(8, patch)
    assert sorted(statuses) == [200] + [412] * 7
    with TestClient(app) as client:
        final = client.get(f"/api/v1/items/{item['id']}", headers=headers).json()
        history = client.get(f"/api/v1/units/{HULI}/catalogues/01/history", headers=headers).json()[
            "items"
        ]
    winner = statuses.index(200)
    assert final["content"] == f"writer {winner}"
    assert [c["action"] for c in history] == ["update", "create"]


def replay(
    changes: list[dict[str, object]],
) -> Iterator[tuple[dict[str, object], dict[int, object]]]:
    """Walk a catalogue's history oldest first, yielding each change and the items after it."""
    state: dict[int, object] = {}
    for change in changes:
        if change["entity"] == "item":
            after = change["after"]
            item_id = int(str(change["entity_id"]))
            if after is None:
                state.pop(item_id, None)
            else:
                state[item_id] = after
        yield change, dict(state)


def test_sixteen_editors_and_a_publisher(live: Engine) -> None:
    """Every accepted write is in the final state and the history, every rejected one got
    412, and every published version is exactly the catalogue at its place in the history."""
    with Session(live) as session:
        headers = token(session, "editor", HULI)
        session.commit()
    with TestClient(app) as client:
        own = [add_item(client, headers, name=f"item {n}") for n in range(16)]
        shared = add_item(client, headers, name="shared")
    accepted: list[tuple[int, str]] = []
    statuses: list[int] = []
    lock = threading.Lock()
    deadline = time.monotonic() + 4

    def edit(index: int) -> int:
        etags = {own[index]["id"]: own[index]["etag"], shared["id"]: shared["etag"]}
        n = 0
        with TestClient(app) as client:
            while time.monotonic() < deadline:
                n += 1
                target = shared["id"] if n % 3 == 0 else own[index]["id"]
                content = f"editor {index} write {n}"
                response = client.patch(
                    f"/api/v1/items/{target}",
                    json={"content": content},
                    headers=headers | {"If-Match": etags[target]},
                )
                with lock:
                    statuses.append(response.status_code)
                if response.status_code == 200:
                    etags[target] = response.headers["ETag"]
                    with lock:
                        accepted.append((target, content))
                elif response.status_code == 412:
                    etags[target] = client.get(f"/api/v1/items/{target}", headers=headers).headers[
                        "ETag"
                    ]
        return n

    def publish_loop(_: int) -> int:
        published = 0
        base = f"/api/v1/units/{HULI}/catalogues/01"
        with TestClient(app) as client:
            while time.monotonic() < deadline:
                if not published:
                    compiled = client.post(
                        f"{base}/compile", json={"compiled_on": "2020-10-20"}, headers=headers
                    )
                    assert compiled.status_code == 200, compiled.text
                response = client.post(
                    f"{base}/publish",
                    json={"published_on": "2020-11-05", "url": "http://www.huli.gov.cn/01"},
                    headers=headers,
                )
                assert response.status_code == 200, response.text
                published += response.status_code == 200
        return published

    results = run_together(17, lambda i: publish_loop(i) if i == 16 else edit(i))
    assert set(statuses) <= {200, 412}
    assert accepted
    assert results[16] >= 1, "the publisher never got a version out"

    with TestClient(app) as client:
        url = f"/api/v1/units/{HULI}/catalogues/01/history"
        changes: list[dict[str, object]] = []
        cursor = None
        while True:
            params: dict[str, str | int] = {"limit": 1000}
            if cursor:
                params["cursor"] = cursor
            page = client.get(url, params=params, headers=headers).json()
            changes += page["items"]
            if not (cursor := page["next"]):
                break
        final = client.get(f"/api/v1/units/{HULI}/catalogues/01", headers=headers).json()
    changes.reverse()  # oldest first

    written = {
        (int(str(c["entity_id"])), c["after"]["content"])  # type: ignore[index]
        for c in changes
        if c["action"] == "update"
    }
    assert set(accepted) <= written
    assert len([c for c in changes if c["action"] == "update"]) == len(accepted)

    *_, (_, last_state) = replay(changes)
    assert {i["id"]: i["content"] for i in final["items"]} == {
        item_id: item["content"]  # type: ignore[index]
        for item_id, item in last_state.items()
    }

    with Session(live) as session:
        versions = {v.number: v.items for v in session.exec(select(CatalogueVersion))}
    checked = 0
    for change, state in replay(changes):
        if change["action"] == "publish":
            number = change["after"]["version"]  # type: ignore[index]
            frozen = {i["id"]: i["content"] for i in versions[number]}
            assert frozen == {k: v["content"] for k, v in state.items()}  # type: ignore[index]
            checked += 1
    assert checked == len(versions) == results[16]


def test_racing_inserts_and_deletes_keep_positions_1_to_n(live: Engine) -> None:
    """Positions are renumbered under the catalogue's lock: writers racing to insert at the
    top and to delete leave 1..n, no duplicates, no gaps."""
    with Session(live) as session:
        headers = token(session, "editor", HULI)
        session.commit()
    with TestClient(app) as client:
        first = [add_item(client, headers, name=f"old {n}") for n in range(4)]

    def write(index: int) -> int:
        with TestClient(app) as client:
            if index < 4:
                doomed = first[index]
                etag = client.get(f"/api/v1/items/{doomed['id']}", headers=headers).headers["ETag"]
                deleted = client.delete(
                    f"/api/v1/items/{doomed['id']}", headers=headers | {"If-Match": etag}
                )
                gone: int = deleted.status_code
                return gone
            response = client.post(
                f"/api/v1/units/{HULI}/catalogues/01/items",
                json=item_body(name=f"new {index}", position=1),
                headers=headers,
            )
            status: int = response.status_code
            return status

    statuses = run_together(10, write)
    assert statuses.count(201) == 6
    with TestClient(app) as client:
        items = client.get(f"/api/v1/units/{HULI}/catalogues/01", headers=headers).json()["items"]
    assert [i["position"] for i in items] == list(range(1, len(items) + 1))
    assert len(items) == 4 + 6 - statuses.count(204)
