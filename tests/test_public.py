"""Published catalogues for website teams: versions, visibility, caching, renderings, feed."""

import csv
import io
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.render import table
from app.services import published_cache
from tests.factories import HULI, SIMING, add_item, publish, token

PUBLIC = "/api/v1/public"
ONE = f"{PUBLIC}/units/{HULI}/catalogues/01"


@pytest.fixture
def published(client: TestClient, editor: dict[str, str]) -> list[dict[str, Any]]:
    """HULI 01 published once: two items under one first-level item, one under another."""
    items = [
        add_item(client, editor, name="办事指南"),
        add_item(client, editor, name="审批结果", method="依申请", audience="特定群体:项目单位"),
        add_item(
            client, editor, first_level="规划编制", name="控制性详细规划", levels=["县级", "乡级"]
        ),
    ]
    assert publish(client, editor) == 1
    return items


def patch_item(
    client: TestClient, headers: dict[str, str], item: dict[str, Any], **changes: Any
) -> None:
    etag = client.get(f"/api/v1/items/{item['id']}", headers=headers).headers["ETag"]
    response = client.patch(
        f"/api/v1/items/{item['id']}", json=changes, headers=headers | {"If-Match": etag}
    )
    assert response.status_code == 200, response.text


# ---- versions ----------------------------------------------------------------------------


def test_publish_answers_number_date_url_and_public_address(
    client: TestClient, editor: dict[str, str]
) -> None:
    add_item(client, editor)
    base = f"/api/v1/units/{HULI}/catalogues/01"
    client.post(f"{base}/compile", json={"compiled_on": "2020-10-20"}, headers=editor)
    response = client.post(
        f"{base}/publish",
        json={"published_on": "2020-11-05", "url": "http://www.huli.gov.cn/gk/01"},
        headers=editor,
    )
    assert response.json() == {
        "unit_code": HULI,
        "domain_code": "01",
        "version": 1,
        "published_on": "2020-11-05",
        "published_url": "http://www.huli.gov.cn/gk/01",
        "href": f"{ONE}?version=1",
    }
    assert client.get(response.json()["href"]).json()["version"] == 1


def test_published_tree_groups_second_level_items_under_first_level(
    client: TestClient, published: list[dict[str, Any]]
) -> None:
    response = client.get(ONE)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert {k: body[k] for k in ("unit_code", "unit_name", "domain_code", "domain_name")} == {
        "unit_code": HULI,
        "unit_name": "湖里区",
        "domain_code": "01",
        "domain_name": "城乡规划",
    }
    assert (body["version"], body["published_on"]) == (1, "2020-11-05")
    assert body["published_url"] == f"http://www.xm.gov.cn/{HULI}/01"
    assert body["href"] == f"{ONE}?version=1"
    assert [(f["name"], [i["name"] for i in f["items"]]) for f in body["first_level_items"]] == [
        ("批准服务信息", ["办事指南", "审批结果"]),
        ("规划编制", ["控制性详细规划"]),
    ]
    second = body["first_level_items"][0]["items"][1]
    assert second["method"] == "依申请"
    assert second["audience"] == "特定群体:项目单位"
    assert "missing" not in second
    assert second["id"] == published[1]["id"]  # records are matched to items by it


def test_edits_change_only_the_draft_until_the_next_publish(
    client: TestClient, editor: dict[str, str], published: list[dict[str, Any]]
) -> None:
    patch_item(client, editor, published[0], content="修改后的内容")
    add_item(client, editor, name="新增事项")
    assert "修改后的内容" not in client.get(ONE).text
    assert "新增事项" not in client.get(f"{ONE}?format=html").text

    assert publish(client, editor, published_on="2020-11-20") == 2
    latest = client.get(ONE).json()
    assert latest["version"] == 2
    assert latest["published_on"] == "2020-11-20"
    assert "修改后的内容" in client.get(ONE).text

    old = client.get(f"{ONE}?version=1")
    assert old.json()["version"] == 1
    assert "修改后的内容" not in old.text
    assert "新增事项" not in old.text
    assert old.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.get(ONE).headers["Cache-Control"] == "public, max-age=60"
    assert client.get(f"{ONE}?version=2").json() == latest


def test_a_new_publish_is_visible_at_once(
    client: TestClient, editor: dict[str, str], published: list[dict[str, Any]]
) -> None:
    assert client.get(ONE).json()["version"] == 1  # now remembered by this process
    assert client.get(f"{PUBLIC}/units/{HULI}/catalogues").json()["catalogues"][0]["version"] == 1
    assert client.get(f"{ONE}?version=2").status_code == 404
    patch_item(client, editor, published[0], content="第二版")
    publish(client, editor)
    assert client.get(ONE).json()["version"] == 2
    assert client.get(f"{ONE}?version=2").status_code == 200
    assert client.get(f"{PUBLIC}/units/{HULI}/catalogues").json()["catalogues"][0]["version"] == 2


def test_unknown_unit_domain_or_version_is_404_in_both_languages(
    client: TestClient, published: list[dict[str, Any]]
) -> None:
    for url in (
        f"{PUBLIC}/units/999999/catalogues/01",
        f"{PUBLIC}/units/{HULI}/catalogues/99",
        f"{ONE}?version=7",
        f"{PUBLIC}/units/999999/catalogues",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        detail = response.json()["detail"]
        assert " / " in detail
        assert any("\u4e00" <= ch <= "\u9fff" for ch in detail)
    assert client.get(f"{ONE}?format=pdf").status_code == 422
    assert client.get(f"{ONE}?version=0").status_code == 422


# ---- nothing unpublished is visible --------------------------------------------------------


def test_no_public_route_shows_a_draft_only_catalogue(
    client: TestClient, editor: dict[str, str]
) -> None:
    secret = "草稿里的秘密事项"
    add_item(client, editor, name=secret, content=secret)
    compiled = client.post(
        f"/api/v1/units/{HULI}/catalogues/01/compile",
        json={"compiled_on": "2020-10-20"},
        headers=editor,
    )
    assert compiled.status_code == 200  # compiled, still not published
    spec = client.get("/openapi.json").json()
    public = [path for path in spec["paths"] if path.startswith(PUBLIC)]
    assert len(public) == 5  # three catalogue routes, the records column, the annual report
    values = {"unit_code": HULI, "domain_code": "01", "year": 2020}
    for path in public:
        url = path.format(**values)
        queries = [""]
        if "{domain_code}" in path:
            formats: tuple[str, ...] = ("json", "html", "xlsx", "csv")
            if path.endswith("/records"):
                formats = ("json", "html", "fragment")
            queries = [f"?format={f}" for f in formats] + ["?version=1"]
        for query in queries:
            for headers in ({}, editor):  # a token changes nothing here
                response = client.get(url + query, headers=headers)
                assert secret not in response.text, url + query
                if "{domain_code}" in path:
                    assert response.status_code == 404, url + query
    assert client.get(f"{PUBLIC}/units/{HULI}/catalogues").json()["catalogues"] == []
    assert client.get(f"{PUBLIC}/changes").json()["changes"] == []


# ---- caching -------------------------------------------------------------------------------


def test_etag_last_modified_and_cache_control(
    client: TestClient, published: list[dict[str, Any]]
) -> None:
    response = client.get(ONE)
    etag = response.headers["ETag"]
    assert etag.startswith('"v')
    assert etag.endswith('"')
    assert not etag.startswith("W/")
    modified = parsedate_to_datetime(response.headers["Last-Modified"])
    assert modified.tzinfo is not None
    assert response.headers["Cache-Control"] == "public, max-age=60"
    formats = {client.get(f"{ONE}?format={f}").headers["ETag"] for f in ("html", "xlsx", "csv")}
    assert len(formats | {etag}) == 4
    assert client.get(f"{ONE}?version=1").headers["ETag"] == etag


@pytest.mark.parametrize(
    "if_none_match",
    ["{etag}", "W/{etag}", '"other", {etag}', "*"],
)
def test_if_none_match_answers_304(
    client: TestClient, published: list[dict[str, Any]], if_none_match: str
) -> None:
    first = client.get(ONE)
    etag = first.headers["ETag"]
    response = client.get(ONE, headers={"If-None-Match": if_none_match.format(etag=etag)})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["ETag"] == etag
    assert response.headers["Last-Modified"] == first.headers["Last-Modified"]
    assert response.headers["Cache-Control"] == "public, max-age=60"


def test_a_different_etag_gets_the_body_even_when_if_modified_since_would_match(
    client: TestClient, published: list[dict[str, Any]]
) -> None:
    modified = client.get(ONE).headers["Last-Modified"]
    response = client.get(
        ONE, headers={"If-None-Match": '"v0.json.x"', "If-Modified-Since": modified}
    )
    assert response.status_code == 200
    html_etag = client.get(f"{ONE}?format=html").headers["ETag"]
    assert client.get(ONE, headers={"If-None-Match": html_etag}).status_code == 200


def test_if_modified_since_answers_304_when_nothing_is_newer(
    client: TestClient, published: list[dict[str, Any]]
) -> None:
    modified = parsedate_to_datetime(client.get(ONE).headers["Last-Modified"])
    later = format_datetime(modified.replace(year=modified.year + 1), usegmt=True)
    earlier = format_datetime(modified.replace(year=2000), usegmt=True)
    same = format_datetime(modified, usegmt=True)
    assert client.get(ONE, headers={"If-Modified-Since": same}).status_code == 304
    assert client.get(ONE, headers={"If-Modified-Since": later}).status_code == 304
    assert client.get(ONE, headers={"If-Modified-Since": earlier}).status_code == 200
    assert client.get(ONE, headers={"If-Modified-Since": "yesterday"}).status_code == 200


def test_unit_list_etag_follows_the_set_of_latest_versions(
    client: TestClient, editor: dict[str, str], published: list[dict[str, Any]]
) -> None:
    url = f"{PUBLIC}/units/{HULI}/catalogues"
    first = client.get(url)
    assert [c["domain_code"] for c in first.json()["catalogues"]] == ["01"]
    assert first.json()["unit_name"] == "湖里区"
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    add_item(client, editor, domain="02")
    publish(client, editor, domain="02")
    second = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200
    assert [c["domain_code"] for c in second.json()["catalogues"]] == ["01", "02"]
    assert second.json()["catalogues"][0] == client.get(ONE).json()
    assert second.headers["ETag"] != first.headers["ETag"]


def test_renderings_are_made_once_per_version_and_format(
    client: TestClient, published: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = table.render_html

    def counting(view: table.CatalogueView) -> bytes:
        calls.append(view["unit_code"])
        return real(view)

    monkeypatch.setattr(table, "render_html", counting)
    bodies = {client.get(f"{ONE}?format=html").content for _ in range(5)}
    assert len(bodies) == 1
    assert calls == [HULI]
    client.get(f"{ONE}?format=html&version=1")
    assert calls == [HULI]  # the same version, whichever way it is named


# ---- CORS ----------------------------------------------------------------------------------


def test_public_routes_allow_any_origin_and_expose_the_etag(
    client: TestClient, published: list[dict[str, Any]]
) -> None:
    origin = {"Origin": "https://www.huli.gov.cn"}
    for url in (ONE, f"{PUBLIC}/units/{HULI}/catalogues", f"{PUBLIC}/changes", f"{ONE}?version=9"):
        response = client.get(url, headers=origin)
        assert response.headers["Access-Control-Allow-Origin"] == "*", url
        assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    preflight = client.options(
        ONE,
        headers=origin
        | {
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "If-None-Match" in preflight.headers["Access-Control-Allow-Headers"]


def test_head_answers_like_get(client: TestClient, published: list[dict[str, Any]]) -> None:
    for _ in range(2):  # through the route, then from memory
        response = client.head(f"{ONE}?format=html")
        assert response.status_code == 200
        assert response.headers["ETag"] == client.get(f"{ONE}?format=html").headers["ETag"]
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert client.head(f"{ONE}?version=9").status_code == 404


def test_the_rest_of_the_api_gets_no_cors(client: TestClient, editor: dict[str, str]) -> None:
    origin = {"Origin": "https://evil.example"}
    for url in ("/api/v1/domains", f"/api/v1/units/{HULI}/catalogues/01"):
        response = client.get(url, headers=origin | editor)
        assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Origin" not in client.options("/api/v1/domains").headers
    response = client.post(f"{PUBLIC}/changes", headers=origin)
    assert response.status_code == 405
    assert "Access-Control-Allow-Origin" not in response.headers


# ---- renderings ------------------------------------------------------------------------------


def test_html_is_the_standard_table_escaped_and_locked_down(
    client: TestClient, editor: dict[str, str]
) -> None:
    add_item(client, editor, name="<script>alert(1)</script>", basis='"&<b>依据</b>')
    add_item(client, editor, name="第二项")
    publish(client, editor)
    response = client.get(f"{ONE}?format=html")
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = response.text
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>" not in page
    for label in ("序号", "公开事项", "一级事项", "二级事项", "公开内容（要素）", "公开渠道和载体"):
        assert label in page
    assert 'rowspan="2">批准服务信息' in page.replace("\n", "")
    assert "■政府网站" in page
    assert "□政府公报" in page
    assert "第1版" in page


def test_xlsx_and_csv_are_downloads_of_the_same_table(
    client: TestClient, published: list[dict[str, Any]]
) -> None:
    response = client.get(f"{ONE}?format=xlsx")
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=\"350206-01-v1.xlsx\"; filename*=UTF-8''")
    assert "%E6%B9%96%E9%87%8C%E5%8C%BA" in disposition  # 湖里区, percent-encoded UTF-8
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet["A1"].value == "湖里区城乡规划领域基层政务公开标准目录"
    assert sheet["B4"].value == "批准服务信息"
    assert sheet["C5"].value == "审批结果"
    assert "B4:B5" in {str(r) for r in sheet.merged_cells.ranges}
    assert sheet["D4"].alignment.wrap_text

    csv_response = client.get(f"{ONE}?format=csv")
    assert csv_response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="350206-01-v1.csv"' in csv_response.headers["Content-Disposition"]
    assert csv_response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["序号", "公开事项", ""]
    assert [r[2] for r in rows[2:]] == ["办事指南", "审批结果", "控制性详细规划"]


# ---- change feed -----------------------------------------------------------------------------


def test_change_feed_pages_oldest_first_with_an_opaque_cursor(
    client: TestClient, session: Session, editor: dict[str, str]
) -> None:
    siming = token(session, "editor", SIMING)
    add_item(client, editor)
    add_item(client, siming, unit=SIMING)
    publish(client, editor)
    publish(client, siming, unit=SIMING)
    publish(client, editor)

    first = client.get(f"{PUBLIC}/changes", params={"limit": 2}).json()
    assert [(c["unit_code"], c["version"]) for c in first["changes"]] == [(HULI, 1), (SIMING, 1)]
    assert first["has_more"] is True
    assert not first["next"].isdigit()
    assert first["changes"][0]["href"] == f"{ONE}?version=1"
    second = client.get(f"{PUBLIC}/changes", params={"since": first["next"], "limit": 2}).json()
    assert [(c["unit_code"], c["version"]) for c in second["changes"]] == [(HULI, 2)]
    assert second["has_more"] is False
    # polling at the end: nothing new, and the same cursor to keep polling with
    idle = client.get(f"{PUBLIC}/changes", params={"since": second["next"]}).json()
    assert idle == {"changes": [], "next": second["next"], "has_more": False}
    publish(client, siming, unit=SIMING)
    later = client.get(f"{PUBLIC}/changes", params={"since": second["next"]}).json()
    assert [(c["unit_code"], c["version"]) for c in later["changes"]] == [(SIMING, 2)]


@pytest.mark.parametrize("since", ["abc", "42", "c2VxOng", "!!!"])
def test_a_bad_cursor_is_422_in_both_languages(client: TestClient, since: str) -> None:
    response = client.get(f"{PUBLIC}/changes", params={"since": since})
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"] == ["query", "since"]
    assert "游标" in error["msg"]
    assert "cursor" in error["msg"]


def test_change_feed_limit_is_bounded(client: TestClient) -> None:
    assert client.get(f"{PUBLIC}/changes", params={"limit": 1001}).status_code == 422
    assert client.get(f"{PUBLIC}/changes", params={"limit": 0}).status_code == 422


@pytest.mark.parametrize(
    "url",
    [
        ONE,
        f"{ONE}?format=html",
        f"{ONE}?format=fragment",
        f"{ONE}?format=xlsx&version=1",
        f"{ONE}?version=1&format=csv",
        f"{PUBLIC}/units/{HULI}/catalogues",
    ],
)
def test_answers_from_memory_equal_the_routes_answers(
    client: TestClient, published: list[dict[str, Any]], url: str
) -> None:
    """The first request goes through the route and fills the memory; the next are answered
    by the edge from memory: same status, headers and bytes, for 200 and for 304."""
    first = client.get(url)
    again = client.get(url)
    assert (again.status_code, again.headers, again.content) == (
        first.status_code,
        first.headers,
        first.content,
    )
    conditional = {"If-None-Match": first.headers["ETag"]}
    published_cache.clear_caches()
    via_route = client.get(url, headers=conditional)
    via_memory = client.get(url, headers=conditional)
    assert via_route.status_code == via_memory.status_code == 304
    assert via_memory.headers == via_route.headers


def test_odd_queries_are_left_to_the_route(
    client: TestClient, published: list[dict[str, Any]]
) -> None:
    client.get(ONE)  # remembered now
    assert client.get(f"{ONE}?format=html&format=pdf").status_code == 422
    assert client.get(f"{ONE}?version=01").json()["version"] == 1
    assert client.get(f"{ONE}?version=abc").status_code == 422
    assert client.get(f"{ONE}?unrelated=1").json()["version"] == 1


def test_the_unit_listing_names_its_only_format_instead_of_ignoring_one(
    client: TestClient,
) -> None:
    response = client.get(f"{PUBLIC}/units/{HULI}/catalogues", params={"format": "html"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "format"]
    assert "json" in response.json()["detail"][0]["msg"]
