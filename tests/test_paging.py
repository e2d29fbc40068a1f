"""Every paged list the contract names, sent cursors and offsets that cannot be ours: 422
(a cursor: `cursor_invalid`, "invalid cursor"), never a 500 and never a row."""

import base64
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.config import ROOT
from app.services.paging import INVALID_CURSOR
from tests.factories import HULI, token

CURSORS = ("cursor", "since")
"""Query parameters that carry a cursor a previous page gave (opaque or a bare number)."""
OFFSETS = ("offset",)


def _opaque(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


CRAFTED_CURSORS = [
    "9223372036854775808",  # 2**63
    "2147483648",  # past INTEGER
    "99999999999999999999",
    "-1",
    "+1",
    " 1",
    "1.5",
    "²",  # a digit to str.isdigit, not to int()'s callers
    "!!!",
    "%%%",
    "=",
    "x" * 64,
    _opaque("rec:2147483648"),
    _opaque("rec:-1"),
    _opaque("seq:9223372036854775808"),
    _opaque("seq:-1"),
    _opaque("seq:1;rec:-1"),
    _opaque("seq:1;rec:1;rec:1"),
    _opaque("seq:²"),
    _opaque("nothing of ours"),
    "c2VxOsKy",
]
CRAFTED_OFFSETS = ["-1", "2147483648", "9" * 40, "abc", "1e3", "1.5"]


def paged_lists() -> list[tuple[str, str, str]]:
    """(path, parameter, operationId) for every GET of openapi/openapi.json that pages."""
    spec = json.loads((ROOT / "openapi" / "openapi.json").read_text())
    return [
        (path, parameter["name"], operation["operationId"])
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
        if method == "get"
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query" and parameter["name"] in CURSORS + OFFSETS
    ]


def test_the_contract_has_paged_lists_of_every_kind() -> None:
    found = {parameter for _, parameter, _ in paged_lists()}
    assert found == {"cursor", "since", "offset"}
    assert len(paged_lists()) >= 14


@pytest.fixture
def admin(session: Session) -> dict[str, str]:
    return token(session, "admin")


def _url(client: TestClient, path: str) -> str:
    milestone = client.get("/api/v1/milestones").json()[0]["code"]
    values = {"unit_code": HULI, "domain_code": "01", "year": "2025", "code": milestone}
    for name, value in values.items():
        path = path.replace(f"{{{name}}}", value)
    assert "{" not in path, path
    return path


REQUIRED: dict[str, Any] = {"year": 2025}
"""Required query parameters of a paged list, given valid values."""


@pytest.mark.parametrize(("path", "parameter", "operation"), paged_lists())
def test_a_crafted_cursor_or_offset_is_422(
    client: TestClient, admin: dict[str, str], path: str, parameter: str, operation: str
) -> None:
    url = _url(client, path)
    spec = json.loads((ROOT / "openapi" / "openapi.json").read_text())
    required = {
        p["name"]: REQUIRED[p["name"]]
        for p in spec["paths"][path]["get"].get("parameters", [])
        if p["in"] == "query" and p.get("required")
    }
    valid = client.get(url, params=required, headers=admin)
    assert valid.status_code == 200, (operation, valid.text)
    crafted = CRAFTED_CURSORS if parameter in CURSORS else CRAFTED_OFFSETS
    for value in crafted:
        response = client.get(url, params=required | {parameter: value}, headers=admin)
        assert response.status_code == 422, (operation, value, response.status_code)
        error = response.json()["detail"][0]
        assert error["loc"] == ["query", parameter], (operation, value)
        if parameter in CURSORS:
            assert error["type"] == "cursor_invalid", (operation, value)
            assert error["msg"] == INVALID_CURSOR, (operation, value)  # one wording
            assert "invalid cursor" in error["msg"]
