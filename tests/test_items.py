"""Items through HTTP: validation, missing attributes, If-Match, order, history."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import HULI, HULI_STREET, SIMING, add_item, item_body, publish, token

URL = f"/api/v1/units/{HULI}/catalogues/01/items"


def test_create_returns_item_with_etag_and_location(
    client: TestClient, editor: dict[str, str]
) -> None:
    response = client.post(URL, json=item_body(name="办事指南"), headers=editor)
    assert response.status_code == 201
    item = response.json()
    assert item["name"] == "办事指南"
    assert item["missing"] == []
    assert item["channels"] == ["政府网站", "政务服务中心"]
    assert response.headers["ETag"].startswith('"')
    assert response.headers["Location"] == f"/api/v1/items/{item['id']}"
    again = client.get(f"/api/v1/items/{item['id']}", headers=editor)
    assert again.json() == item
    assert again.headers["ETag"] == response.headers["ETag"]


def test_draft_item_lists_what_it_lacks(client: TestClient, editor: dict[str, str]) -> None:
    body = item_body(basis="", time_limit=None, channels=[], audience="  ")
    item = client.post(URL, json=body, headers=editor).json()
    assert item["missing"] == ["basis", "time_limit", "channels", "audience"]
    assert item["basis"] is None


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("method", "公开", "主动"),
        ("audience", "部分群众", "全社会"),
        ("channels", ["微博"], "channel"),
        ("channels", ["政府网站:首页"], "channel"),
        ("levels", ["省级"], "县级"),
        ("name", "   ", "name"),
        ("first_level", None, "first_level"),
        ("basis", "x" * 2001, "2000"),
        ("content", "bad\x00byte", "control"),
    ],
)
def test_invalid_value_is_422_naming_field_and_rule(
    client: TestClient, editor: dict[str, str], field: str, value: Any, rule: str
) -> None:
    response = client.post(URL, json=item_body(**{field: value}), headers=editor)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"][:2] == ["body", field]
    assert rule in error["msg"]
    assert " / " in error["msg"]  # Chinese / English
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["msg"])


def test_unknown_field_is_rejected(client: TestClient, editor: dict[str, str]) -> None:
    response = client.post(URL, json=item_body(id=5, colour="red"), headers=editor)
    assert response.status_code == 422
    assert {tuple(e["loc"]) for e in response.json()["detail"]} == {
        ("body", "id"),
        ("body", "colour"),
    }


def test_other_channel_and_specific_audience_take_text(
    client: TestClient, editor: dict[str, str]
) -> None:
    body = item_body(channels=["其他：村民微信群", "政府网站"], audience="特定群体：项目单位")
    item = client.post(URL, json=body, headers=editor).json()
    assert item["channels"] == ["政府网站", "其他:村民微信群"]
    assert item["audience"] == "特定群体:项目单位"


def test_unknown_unit_or_domain_is_404(client: TestClient, session: Session) -> None:
    admin = token(session, "admin")
    assert (
        client.post(
            "/api/v1/units/999999/catalogues/01/items", json=item_body(), headers=admin
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/v1/units/{HULI}/catalogues/99/items", json=item_body(), headers=admin
        ).status_code
        == 404
    )
    assert client.get("/api/v1/items/987654", headers=admin).status_code == 404


def test_patch_needs_if_match(client: TestClient, editor: dict[str, str]) -> None:
    item = add_item(client, editor)
    url = f"/api/v1/items/{item['id']}"
    assert client.patch(url, json={"basis": "新依据"}, headers=editor).status_code == 428
    stale = client.patch(url, json={"basis": "新依据"}, headers=editor | {"If-Match": '"i0.9"'})
    assert stale.status_code == 412
    ok = client.patch(url, json={"basis": "新依据"}, headers=editor | {"If-Match": item["etag"]})
    assert ok.status_code == 200
    assert ok.json()["basis"] == "新依据"
    assert ok.headers["ETag"] != item["etag"]
    again = client.patch(url, json={"basis": "再改"}, headers=editor | {"If-Match": item["etag"]})
    assert again.status_code == 412


def test_patch_changes_only_what_is_sent_and_may_clear(
    client: TestClient, editor: dict[str, str]
) -> None:
    item = add_item(client, editor)
    url = f"/api/v1/items/{item['id']}"
    response = client.patch(
        url, json={"basis": None, "channels": []}, headers=editor | {"If-Match": item["etag"]}
    )
    assert response.status_code == 200
    data = response.json()
    assert data["basis"] is None
    assert data["content"] == item["content"]
    assert data["missing"] == ["basis", "channels"]
    cleared = client.patch(
        url, json={"name": ""}, headers=editor | {"If-Match": response.headers["ETag"]}
    )
    assert cleared.status_code == 422


def test_delete_needs_if_match_then_is_gone(client: TestClient, editor: dict[str, str]) -> None:
    item = add_item(client, editor)
    url = f"/api/v1/items/{item['id']}"
    assert client.delete(url, headers=editor).status_code == 428
    assert client.delete(url, headers=editor | {"If-Match": item["etag"]}).status_code == 204
    assert client.get(url, headers=editor).status_code == 404


def test_a_deleted_items_id_and_etag_never_come_back(
    client: TestClient, editor: dict[str, str]
) -> None:
    add_item(client, editor, name="A")
    b = add_item(client, editor, name="B")
    client.delete(f"/api/v1/items/{b['id']}", headers=editor | {"If-Match": b["etag"]})
    c = add_item(client, editor, name="C")
    assert c["id"] > b["id"]
    assert c["etag"] != b["etag"]
    stale = client.patch(
        f"/api/v1/items/{b['id']}", json={"name": "X"}, headers=editor | {"If-Match": b["etag"]}
    )
    assert stale.status_code == 404
    assert client.get(f"/api/v1/items/{c['id']}", headers=editor).json()["name"] == "C"


def _order(client: TestClient, editor: dict[str, str]) -> list[tuple[str, int]]:
    items = client.get(f"/api/v1/units/{HULI}/catalogues/01", headers=editor).json()["items"]
    return [(i["name"], i["position"]) for i in items]


def _move(client: TestClient, editor: dict[str, str], item_id: int, position: int) -> Any:
    etag = client.get(f"/api/v1/items/{item_id}", headers=editor).headers["ETag"]
    return client.patch(
        f"/api/v1/items/{item_id}", json={"position": position}, headers=editor | {"If-Match": etag}
    )


def test_order_is_kept_by_position(client: TestClient, editor: dict[str, str]) -> None:
    first = add_item(client, editor, first_level="A", name="a1")
    add_item(client, editor, first_level="B", name="b1")
    inserted = add_item(client, editor, first_level="A", name="a0", position=first["position"])
    assert first["position"] == 1
    assert inserted["position"] == 1
    assert _order(client, editor) == [("a0", 1), ("a1", 2), ("b1", 3)]
    # an item moved by the insert has a new ETag: its representation changed
    moved = client.get(f"/api/v1/items/{first['id']}", headers=editor)
    assert moved.headers["ETag"] != first["etag"]


def test_positions_stay_1_to_n_after_moves_out_of_range_and_back(
    client: TestClient, editor: dict[str, str]
) -> None:
    """PATCH position 99 then 2 used to leave two items at 2 and none at 1."""
    items = [add_item(client, editor, first_level="A", name=f"n{n}") for n in range(1, 4)]
    too_far = _move(client, editor, items[0]["id"], 99)
    assert too_far.status_code == 422
    assert too_far.json()["detail"][0]["loc"] == ["body", "position"]
    assert too_far.json()["detail"][0]["type"] == "position_range"
    assert "1 到 3" in too_far.json()["detail"][0]["msg"]
    assert _order(client, editor) == [("n1", 1), ("n2", 2), ("n3", 3)]
    assert _move(client, editor, items[0]["id"], 3).json()["position"] == 3
    assert _order(client, editor) == [("n2", 1), ("n3", 2), ("n1", 3)]
    assert _move(client, editor, items[0]["id"], 2).status_code == 200
    assert _order(client, editor) == [("n2", 1), ("n1", 2), ("n3", 3)]
    assert _move(client, editor, items[2]["id"], 1).status_code == 200
    assert _order(client, editor) == [("n3", 1), ("n2", 2), ("n1", 3)]
    assert _move(client, editor, items[2]["id"], 0).status_code == 422


def test_insert_and_delete_keep_positions_without_gaps(
    client: TestClient, editor: dict[str, str]
) -> None:
    a = add_item(client, editor, name="a")
    b = add_item(client, editor, name="b")
    add_item(client, editor, name="c")
    add_item(client, editor, name="x", position=2)
    assert _order(client, editor) == [("a", 1), ("x", 2), ("b", 3), ("c", 4)]
    add_item(client, editor, name="end", position=5)  # n + 1 appends
    too_far = client.post(URL, json=item_body(position=7), headers=editor)
    assert too_far.status_code == 422
    assert too_far.json()["detail"][0]["loc"] == ["body", "position"]
    etag = client.get(f"/api/v1/items/{b['id']}", headers=editor).headers["ETag"]
    deleted = client.delete(f"/api/v1/items/{b['id']}", headers=editor | {"If-Match": etag})
    assert deleted.status_code == 204
    assert _order(client, editor) == [("a", 1), ("x", 2), ("c", 3), ("end", 4)]
    etag = client.get(f"/api/v1/items/{a['id']}", headers=editor).headers["ETag"]
    client.delete(f"/api/v1/items/{a['id']}", headers=editor | {"If-Match": etag})
    assert _order(client, editor) == [("x", 1), ("c", 2), ("end", 3)]


def test_the_published_tree_shows_each_first_level_item_once(
    client: TestClient, editor: dict[str, str]
) -> None:
    a1 = add_item(client, editor, first_level="A", name="a1")
    add_item(client, editor, first_level="A", name="a2")
    add_item(client, editor, first_level="B", name="b1")
    assert _move(client, editor, a1["id"], 3).status_code == 200  # A, B, A by position
    publish(client, editor)
    tree = client.get(f"/api/v1/public/units/{HULI}/catalogues/01").json()
    groups = [(g["name"], [i["name"] for i in g["items"]]) for g in tree["first_level_items"]]
    assert groups == [("A", ["a2", "a1"]), ("B", ["b1"])]
    csv_rows = client.get(f"/api/v1/public/units/{HULI}/catalogues/01?format=csv").text
    assert csv_rows.count("\r\nA,") + csv_rows.count(",A,") == 1


def test_district_editor_writes_its_streets_but_not_another_district(
    client: TestClient, session: Session, editor: dict[str, str]
) -> None:
    street_url = f"/api/v1/units/{HULI_STREET}/catalogues/01/items"
    assert client.post(street_url, json=item_body(), headers=editor).status_code == 201
    other = f"/api/v1/units/{SIMING}/catalogues/01/items"
    assert client.post(other, json=item_body(), headers=editor).status_code == 403
    street_editor = token(session, "editor", HULI_STREET)
    assert client.post(URL, json=item_body(), headers=street_editor).status_code == 403


def test_auditor_reads_but_does_not_write(
    client: TestClient, session: Session, editor: dict[str, str]
) -> None:
    item = add_item(client, editor)
    auditor = token(session, "auditor")
    assert client.get(f"/api/v1/items/{item['id']}", headers=auditor).status_code == 200
    assert client.post(URL, json=item_body(), headers=auditor).status_code == 403
    patch = client.patch(
        f"/api/v1/items/{item['id']}",
        json={"name": "x"},
        headers=auditor | {"If-Match": item["etag"]},
    )
    assert patch.status_code == 403


def test_no_token_reads_nothing_unpublished(client: TestClient, editor: dict[str, str]) -> None:
    item = add_item(client, editor)
    assert client.get(f"/api/v1/items/{item['id']}").status_code == 401
    assert client.get(f"/api/v1/units/{HULI}/catalogues/01").status_code == 401
    assert client.get(f"/api/v1/units/{HULI}/catalogues").status_code == 401
    bad = client.get(f"/api/v1/units/{HULI}/catalogues", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def test_every_write_is_in_the_history_newest_first(
    client: TestClient, editor: dict[str, str]
) -> None:
    item = add_item(client, editor, name="原名")
    client.patch(
        f"/api/v1/items/{item['id']}",
        json={"name": "新名"},
        headers=editor | {"If-Match": item["etag"]},
    )
    history = client.get(f"/api/v1/units/{HULI}/catalogues/01/history", headers=editor).json()
    update, create = history["items"]
    assert (update["action"], create["action"]) == ("update", "create")
    assert update["before"]["name"] == "原名"
    assert update["after"]["name"] == "新名"
    assert update["actor_role"] == "editor"
    assert update["actor_unit"] == HULI
    assert update["at"]
    assert create["before"] is None


def test_history_pages_with_a_cursor(client: TestClient, editor: dict[str, str]) -> None:
    for n in range(5):
        add_item(client, editor, name=f"n{n}")
    url = f"/api/v1/units/{HULI}/catalogues/01/history"
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get(url, params=params, headers=editor).json()
        seen += [c["after"]["name"] for c in page["items"]]
        if not (cursor := page["next"]):
            break
    assert seen == ["n4", "n3", "n2", "n1", "n0"]
    assert client.get(url, params={"limit": 1001}, headers=editor).status_code == 422
    assert client.get(url, params={"cursor": "x"}, headers=editor).status_code == 422


def test_failed_write_leaves_nothing_behind(client: TestClient, editor: dict[str, str]) -> None:
    before = client.get(f"/api/v1/units/{HULI}/catalogues/01/history", headers=editor).json()
    assert client.post(URL, json=item_body(method="bad"), headers=editor).status_code == 422
    after = client.get(f"/api/v1/units/{HULI}/catalogues/01/history", headers=editor).json()
    assert after == before


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "\u200b"), ("first_level", "\ufeff\u200d"), ("name", "\u00a0\u3000\u2060")],
)
def test_invisible_text_is_blank_and_blank_names_are_refused(
    client: TestClient, editor: dict[str, str], field: str, value: str
) -> None:
    response = client.post(URL, json=item_body(**{field: value}), headers=editor)
    assert response.status_code == 422
    assert [e["loc"][:2] for e in response.json()["detail"]] == [["body", field]]


def test_invisible_characters_are_stripped_from_every_text_attribute(
    client: TestClient, editor: dict[str, str]
) -> None:
    body = item_body(
        name="办事\u200b指南\ufeff",
        content="\u200b",
        basis="《条例》\u200d",
        time_limit="20\u00a0个工作日",
        responsible_body="\u202e区发展改革局",
        method="\u200b主动",
        audience="特定群体:\u200b项目单位",
        channels=["政府网站\u200b", "其他:\ufeff村民微信群"],
        levels=["县级\u200b"],
    )
    response = client.post(URL, json=body, headers=editor)
    assert response.status_code == 201, response.text
    item = response.json()
    assert (item["name"], item["content"], item["basis"]) == ("办事指南", None, "《条例》")
    assert (item["time_limit"], item["responsible_body"]) == ("20 个工作日", "区发展改革局")
    assert (item["method"], item["audience"]) == ("主动", "特定群体:项目单位")
    assert (item["channels"], item["levels"]) == (["政府网站", "其他:村民微信群"], ["县级"])
    assert "content" in item["missing"]
    # NFC: a decomposed character is stored composed, so equal texts compare equal.
    patched = client.patch(
        f"/api/v1/items/{item['id']}",
        json={"name": "Cafe\u0301"},
        headers=editor | {"If-Match": response.headers["ETag"]},
    )
    assert patched.json()["name"] == "Caf\u00e9"


def test_a_channel_in_other_words_is_refused_with_the_entry_it_probably_means(
    client: TestClient, editor: dict[str, str]
) -> None:
    response = client.post(URL, json=item_body(channels=["政府门户网站"]), headers=editor)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert "可能是指“政府网站”" in error["msg"]
    assert "其他:政府门户网站" in error["msg"]
    # The same channel spelled with other bracket widths or separators is that channel.
    body = item_body(channels=["社区/企事业单位、村公示栏（电子屏）", "其他:政府门户网站"])
    item = client.post(URL, json=body, headers=editor).json()
    assert item["channels"] == ["社区/企事业单位/村公示栏(电子屏)", "其他:政府门户网站"]


def test_text_cut_short_in_the_source_counts_as_missing_and_blocks_compile(
    client: TestClient, editor: dict[str, str]
) -> None:
    item = add_item(client, editor, content="征收范围、补偿标准…（截断）")
    assert item["missing"] == ["content"]
    compiled = client.post(
        f"/api/v1/units/{HULI}/catalogues/01/compile",
        json={"compiled_on": "2020-10-20"},
        headers=editor,
    )
    assert compiled.status_code == 422
    fixed = client.patch(
        f"/api/v1/items/{item['id']}",
        json={"content": "征收范围、补偿标准"},
        headers=editor | {"If-Match": item["etag"]},
    )
    assert fixed.json()["missing"] == []


def test_a_malformed_if_match_is_400_and_star_matches_the_current_item(
    client: TestClient, editor: dict[str, str]
) -> None:
    item = add_item(client, editor)
    url = f"/api/v1/items/{item['id']}"
    unquoted = client.patch(url, json={"name": "X"}, headers=editor | {"If-Match": "i3.4"})
    assert unquoted.status_code == 400
    assert item["etag"] in unquoted.json()["detail"]
    listed = client.patch(
        url, json={"name": "Y"}, headers=editor | {"If-Match": f'"i0.1", {item["etag"]}'}
    )
    assert listed.status_code == 200
    star = client.patch(url, json={"name": "Z"}, headers=editor | {"If-Match": "*"})
    assert star.status_code == 200
    assert star.json()["name"] == "Z"
    weak = client.patch(
        url, json={"name": "W"}, headers=editor | {"If-Match": "W/" + star.headers["ETag"]}
    )
    assert weak.status_code == 412  # If-Match compares strongly
