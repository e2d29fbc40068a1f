"""The edges an attacker reaches first: page headers, CORS, where a token may travel, logs."""

from collections.abc import Mapping

import pytest
from fastapi.testclient import TestClient

from tests.factories import HULI, add_item
from tests.servers import cli, free_port, serving

CATALOGUE = f"/api/v1/units/{HULI}/catalogues/01"
PUBLIC = f"/api/v1/public/units/{HULI}/catalogues/01"


def assert_locked_down_page(headers: Mapping[str, str], what: str) -> None:
    policy = headers.get("content-security-policy", "")
    assert "default-src 'none'" in policy, what
    assert "script-src" not in policy, what  # nothing may run: no script source at all
    assert headers.get("x-content-type-options") == "nosniff", what
    assert headers.get("referrer-policy") == "no-referrer", what


def test_every_html_page_carries_the_security_headers(
    client: TestClient, editor: dict[str, str]
) -> None:
    add_item(client, editor)
    client.post(f"{CATALOGUE}/compile", json={"compiled_on": "2020-10-20"}, headers=editor)
    published = client.post(
        f"{CATALOGUE}/publish",
        json={"published_on": "2020-11-05", "url": "http://www.huli.gov.cn/"},
        headers=editor,
    )
    assert published.status_code == 200, published.text
    for _ in range(2):  # the public page through the route, then from memory
        page = client.get(PUBLIC, params={"format": "html"})
        assert page.headers["content-type"].startswith("text/html")
        assert_locked_down_page(page.headers, "public page")
    draft = client.get(CATALOGUE, params={"format": "html"}, headers=editor)
    assert draft.headers["content-type"].startswith("text/html")
    assert_locked_down_page(draft.headers, "editor's page")
    for fmt in ("csv", "xlsx"):  # downloads are never sniffed into something else either
        download = client.get(CATALOGUE, params={"format": fmt}, headers=editor)
        assert download.headers["x-content-type-options"] == "nosniff", fmt


def test_a_preflight_to_a_non_public_route_gets_no_cors_grant(client: TestClient) -> None:
    for method in ("GET", "POST"):
        preflight = client.options(
            f"/api/v1/units/{HULI}/catalogues",
            headers={
                "Origin": "https://evil.example",
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "authorization",
            },
        )
        assert "access-control-allow-origin" not in preflight.headers, method
        assert "access-control-allow-headers" not in preflight.headers, method


def test_a_token_in_the_query_string_is_not_accepted(
    client: TestClient, editor: dict[str, str]
) -> None:
    secret = editor["Authorization"].removeprefix("Bearer ")
    assert client.get(f"/api/v1/units/{HULI}/catalogues", headers=editor).status_code == 200
    for name in ("token", "access_token", "api_key", "authorization"):
        response = client.get(f"/api/v1/units/{HULI}/catalogues", params={name: secret})
        assert response.status_code == 401, name


def test_no_token_reaches_the_server_logs(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A real server with its access log on: bearer tokens (valid and not) and a token
    pasted into a query string never appear in what it prints."""
    directory = tmp_path_factory.mktemp("logs")
    env = {
        "DATABASE_URL": f"sqlite:///{directory / 'logs.sqlite3'}",
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
    }
    cli(env, "migrate")
    cli(env, "seed")
    secret = cli(env, "tokens", "create", "--role", "editor", "--unit", HULI).splitlines()[-1]
    forged = "gk_" + "x" * 43
    with serving(env, directory / "server.log") as server:
        for headers, path, expected in (
            ({"Authorization": f"Bearer {secret}"}, CATALOGUE, 200),
            ({"Authorization": f"Bearer {forged}"}, CATALOGUE, 401),
            ({"Authorization": f"bearer {secret}"}, f"{CATALOGUE}/history", 200),
            ({}, f"{CATALOGUE}?token={secret}", 401),
            ({}, f"{CATALOGUE}?access_token={forged}&x=1", 401),
            ({}, f"{PUBLIC}?token={secret}", 404),
            ({}, f"/api/v1/units/{secret}/catalogues", 404),
        ):
            response = server.client.get(path, headers=headers)
            assert response.status_code == expected, (path, response.text)
        server.stop()
        printed = server.output()
    assert '"GET /api/v1/units/' in printed  # the access log was on
    assert "gk_***" in printed  # and the query-string token was masked, not dropped
    for value in (secret, secret[3:], forged, forged[3:]):
        assert value not in printed
