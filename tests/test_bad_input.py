"""Malformed, oversized and hostile input: a clear 4xx or a faithful round trip, never a 500."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import HULI, add_item, item_body, token

URL = f"/api/v1/units/{HULI}/catalogues/01/items"


def post_raw(client: TestClient, headers: dict[str, str], body: bytes) -> int:
    json_headers = headers | {"Content-Type": "application/json"}
    status: int = client.post(URL, content=body, headers=json_headers).status_code
    return status


def test_body_over_the_limit_is_413(client: TestClient, editor: dict[str, str]) -> None:
    huge = b'{"first_level": "a", "name": "' + b"x" * 3_000_000 + b'"}'
    assert post_raw(client, editor, huge) == 413


def test_streamed_body_over_the_limit_is_413(client: TestClient, editor: dict[str, str]) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(300):
            yield b"x" * 10_000
        yield b'"}'

    response = client.post(
        URL, content=chunks(), headers=editor | {"Content-Type": "application/json"}
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe not utf-8",
        b'{"first_level": "\xe6\x94", "name": "x"}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"first_level": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5000 + b', "name": "x"}',
        b"",
        b"null",
        b"[]",
        '{"first_level": "a", "name": "b", "channels": "政府网站"}'.encode(),
        b'{"first_level": 1, "name": true}',
    ],
)
def test_malformed_json_is_a_4xx(client: TestClient, editor: dict[str, str], body: bytes) -> None:
    status = post_raw(client, editor, body)
    assert 400 <= status < 500, status


def test_overlong_strings_are_422(client: TestClient, editor: dict[str, str]) -> None:
    response = client.post(URL, json=item_body(name="名" * 201), headers=editor)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "name"]


def test_control_characters_are_refused(client: TestClient, editor: dict[str, str]) -> None:
    response = client.post(URL, json=item_body(basis="依据\x07"), headers=editor)
    assert response.status_code == 422
    assert "控制字符" in response.json()["detail"][0]["msg"]


def test_sql_and_html_looking_text_is_stored_verbatim(
    client: TestClient, editor: dict[str, str]
) -> None:
    hostile = {
        "name": "'; DROP TABLE items; --",
        "content": '<script>alert("x")</script> & <b>',
        "basis": "《条例》 OR 1=1 /* */ \\x00",
        "responsible_body": "第一行\n第二行\t制表",
    }
    item = add_item(client, editor, **hostile)
    stored = client.get(f"/api/v1/items/{item['id']}", headers=editor).json()
    assert {key: stored[key] for key in hostile} == hostile


def test_wrong_types_in_query_and_path_are_422(client: TestClient, editor: dict[str, str]) -> None:
    assert client.get("/api/v1/items/abc", headers=editor).status_code == 422
    too_big = client.get("/api/v1/items/99999999999999999999", headers=editor)
    assert too_big.status_code == 422
    assert client.get("/api/v1/units", params={"kind": "province"}).status_code == 422
    assert client.get("/api/v1/units", params={"limit": "-1"}).status_code == 422


def test_integers_beyond_the_database_range_are_422(client: TestClient, session: Session) -> None:
    """Found by fuzzing on PostgreSQL: 2**31 reached the driver and failed with a 500."""
    huge = 2**31
    public = "/api/v1/public/units/350206/catalogues/01"
    assert client.get(public, params={"version": huge}).status_code == 422
    assert client.get("/api/v1/units", params={"offset": huge}).status_code == 422
    auditor = token(session, "auditor")
    assert client.get(f"/api/v1/opinions/{huge}", headers=auditor).status_code == 422


def test_every_integer_parameter_is_bounded(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    unbounded = [
        f"{method} {path} {parameter['name']}"
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
        for parameter in operation.get("parameters", [])
        for schema in [parameter["schema"], *parameter["schema"].get("anyOf", [])]
        if schema.get("type") == "integer" and "maximum" not in schema
    ]
    assert unbounded == []
