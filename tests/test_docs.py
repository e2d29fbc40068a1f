"""/docs and /redoc work on an intranet: every asset they load is served by the service."""

import re

from fastapi.testclient import TestClient


def test_docs_pages_load_nothing_from_elsewhere(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        response = client.get(page)
        assert response.status_code == 200
        html = response.text
        assert "cdn" not in html.lower()
        assert "googleapis" not in html
        urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
        urls += re.findall(r"""url: ?['"]([^'"]+)['"]""", html)
        assert urls
        for url in urls:
            assert url.startswith("/"), f"{page} loads {url} from elsewhere"
            assert client.get(url).status_code == 200, url


def test_swagger_ui_is_a_version_that_reads_openapi_3_1(client: TestClient) -> None:
    assert client.get("/openapi.json").json()["openapi"].startswith("3.1")
    bundle = client.get("/docs/assets/swagger-ui-bundle.js").text
    versions = re.findall(r'"(5\.\d+\.\d+)"', bundle)
    assert versions, "Swagger UI 5 reads OpenAPI 3.1; 4.x shows an error instead"
