"""The committed contract equals what the app serves."""

import json

from fastapi.testclient import TestClient

from app.config import ROOT


def test_openapi_json_is_current(client: TestClient) -> None:
    served = client.get("/openapi.json").json()
    committed = json.loads((ROOT / "openapi" / "openapi.json").read_text(encoding="utf-8"))
    assert served == committed, "regenerate: python -m app openapi --out openapi/openapi.json"


def test_health(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
