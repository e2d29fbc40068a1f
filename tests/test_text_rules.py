"""Every text field follows the same rules (no control characters, at most its column's
length), including the audience's group text, `其他:` channel text and an import's
filename: on PostgreSQL a NUL or an overlong value used to answer 500 (SQLite stored it).
Run with TEST_DATABASE_URL on PostgreSQL to see the difference it makes there."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import HULI, add_item, item_body

ITEMS = f"/api/v1/units/{HULI}/catalogues/01/items"
IMPORT = f"/api/v1/units/{HULI}/catalogues/01/import"


BAD: dict[str, dict[str, Any]] = {
    "audience group with NUL": {"audience": "特定群体:项目\x00单位"},
    "audience group over 200": {"audience": "特定群体:" + "单" * 200},
    "audience of a megabyte": {"audience": "特定群体:" + "x" * 1_000_000},
    "其他 text with NUL": {"channels": ["其他:微信\x00群"]},
    "其他 text over 100": {"channels": ["其他:" + "群" * 100]},
    "50 distinct 其他 channels": {"channels": [f"其他:{n}" for n in range(50)]},
    "name with a bell": {"name": "办事\x07指南"},
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_text_is_422_naming_the_field_on_create_and_update(
    client: TestClient, editor: dict[str, str], case: str
) -> None:
    field = next(iter(BAD[case]))
    created = client.post(ITEMS, json=item_body(**BAD[case]), headers=editor)
    assert created.status_code == 422, created.text[:300]
    assert created.json()["detail"][0]["loc"][-1] == field
    assert len(created.content) < 5000  # the answer does not echo a megabyte back
    item = add_item(client, editor)
    patched = client.patch(
        f"/api/v1/items/{item['id']}", json=BAD[case], headers=editor | {"If-Match": item["etag"]}
    )
    assert patched.status_code == 422, patched.text[:300]


def test_longest_allowed_texts_are_stored_and_read_back(
    client: TestClient, editor: dict[str, str]
) -> None:
    audience = "特定群体:" + "单" * (200 - len("特定群体:"))
    channel = "其他:" + "群" * (100 - len("其他:"))
    item = add_item(client, editor, audience=audience, channels=[channel])
    read = client.get(f"/api/v1/items/{item['id']}", headers=editor).json()
    assert (read["audience"], read["channels"]) == (audience, [channel])


def csv_file(audience: str = "全社会") -> bytes:
    head = "一级事项,二级事项,公开对象\n"
    return (head + f"批准服务信息,办事指南,{audience}\n").encode()


def multipart(filename: str, data: bytes) -> tuple[bytes, dict[str, str]]:
    """Built by hand: clients percent-encode a NUL in a filename, a raw one must get in."""
    boundary = "gkml-boundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="'.encode()
        + filename.encode()
        + b'"\r\nContent-Type: text/csv\r\n\r\n'
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


@pytest.mark.parametrize("name", ["a\x00.csv", "a\x01.csv", "a" * 256 + ".csv"])
def test_an_import_filename_breaking_the_rules_is_422(
    client: TestClient, editor: dict[str, str], name: str
) -> None:
    body, headers = multipart(name, csv_file())
    response = client.post(IMPORT, content=body, headers=editor | headers)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "file"]
    body, headers = multipart("目录.csv", csv_file())
    assert client.post(IMPORT, content=body, headers=editor | headers).status_code == 200


def test_an_imported_audience_breaking_the_rules_is_an_error_of_its_row(
    client: TestClient, editor: dict[str, str]
) -> None:
    response = client.post(
        IMPORT, files={"file": ("a.csv", csv_file("特定群体:" + "x" * 300))}, headers=editor
    )
    assert response.status_code == 422, response.text
    assert [(e["row"], e["field"]) for e in response.json()["errors"]] == [(2, "audience")]
