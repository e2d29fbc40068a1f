"""The committed contract equals what the app serves."""

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.config import ROOT
from tests.factories import HULI, token


def test_openapi_json_is_current(client: TestClient) -> None:
    served = client.get("/openapi.json").json()
    committed = json.loads((ROOT / "openapi" / "openapi.json").read_text(encoding="utf-8"))
    assert served == committed, "regenerate: python -m app openapi --out openapi/openapi.json"


def test_health(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [
            ref for k, v in node.items() if k != "$ref" for ref in _refs(v)
        ]
    if isinstance(node, list):
        return [ref for v in node for ref in _refs(v)]
    return []


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
    ]


def test_the_bearer_scheme_is_declared_and_token_routes_require_it(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["bearer"] == spec["components"]["securitySchemes"][
        "bearer"
    ] | {"type": "http", "scheme": "bearer"}
    secured = {(m, p) for m, p, op in _operations(spec) if op.get("security")}
    assert ("patch", "/api/v1/items/{item_id}") in secured
    assert ("post", "/api/v1/units/{unit_code}/catalogues/{domain_code}/import") in secured
    assert ("get", "/api/v1/public/changes") not in secured
    assert ("get", "/health") not in secured
    # /docs (Swagger UI) reads this document and offers "Authorize" for the scheme
    assert client.get("/docs").status_code == 200


def test_every_operation_and_request_field_is_described(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    undescribed = [(m, p) for m, p, op in _operations(spec) if not op.get("description")]
    assert undescribed == []
    seen: set[str] = set()
    fields: list[tuple[str, str]] = []

    def walk(ref: str) -> None:
        name = ref.rsplit("/", 1)[-1]
        if name in seen:
            return
        seen.add(name)
        for field, prop in schemas[name].get("properties", {}).items():
            if not prop.get("description"):
                fields.append((name, field))
            for inner in _refs(prop):
                walk(inner)

    for _m, _p, operation in _operations(spec):
        for ref in _refs(operation.get("requestBody", {})):
            walk(ref)
    assert seen
    assert fields == []


def test_every_request_body_has_an_example(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    without = []
    for method, path, operation in _operations(spec):
        for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
            ref = content.get("schema", {}).get("$ref", "")
            schema = schemas.get(ref.rsplit("/", 1)[-1], {}) if ref else {}
            if not ({"example", "examples"} & (set(content) | set(schema))):
                without.append((method, path, media_type))
    assert without == []


def test_the_item_example_is_a_valid_item(client: TestClient, session: Session) -> None:
    """What /docs shows a client to send is accepted as it stands."""
    spec = client.get("/openapi.json").json()
    example = spec["components"]["schemas"]["ItemCreate"]["examples"][0]
    editor = token(session, "editor", HULI)
    created = client.post(f"/api/v1/units/{HULI}/catalogues/01/items", json=example, headers=editor)
    assert created.status_code == 201, created.text
    assert created.json()["missing"] == []
