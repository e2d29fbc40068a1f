"""Reference data: domains, units, guides, and the seed behind them."""

from fastapi.testclient import TestClient
from sqlmodel import Session

from seed import load
from tests.factories import CITY, HULI, HULI_STREET, SIMING, token

PILOT = [
    "城乡规划",
    "重大建设项目",
    "公共资源交易",
    "财政预决算",
    "安全生产",
    "税收管理",
    "农村集体土地征收",
    "国有土地上房屋征收与补偿",
    "保障性住房",
    "农村危房改造",
    "生态环境",
    "公共文化服务",
    "公共法律服务",
    "扶贫",
    "救灾",
    "食品药品监管",
    "城市综合执法",
    "就业",
    "社会保险",
    "社会救助",
    "养老服务",
    "户籍管理",
    "涉农补贴",
    "义务教育",
    "卫生健康",
    "市政服务",
]


def test_the_26_pilot_domains_in_the_notices_order(client: TestClient) -> None:
    domains = client.get("/api/v1/domains").json()
    assert [(d["code"], d["name"], d["is_pilot"]) for d in domains] == [
        (f"{n:02d}", name, True) for n, name in enumerate(PILOT, start=1)
    ]


def test_xiamen_units_tree(client: TestClient) -> None:
    districts = client.get("/api/v1/units", params={"parent_code": CITY}).json()
    assert {(u["code"], u["name"]) for u in districts} == {
        ("350203", "思明区"),
        ("350205", "海沧区"),
        ("350206", "湖里区"),
        ("350211", "集美区"),
        ("350212", "同安区"),
        ("350213", "翔安区"),
    }
    everything = client.get("/api/v1/units").json()
    kinds = [u["kind"] for u in everything]
    assert (kinds.count("street"), kinds.count("town")) == (26, 12)
    huli = client.get("/api/v1/units", params={"parent_code": HULI}).json()
    assert {u["name"] for u in huli} == {"湖里街道", "殿前街道", "禾山街道", "江头街道", "金山街道"}
    assert all(len(u["code"]) == 9 and u["code"].startswith(HULI) for u in huli)


def test_units_page_with_a_link_header(client: TestClient) -> None:
    response = client.get("/api/v1/units", params={"limit": 10})
    assert len(response.json()) == 10
    assert 'rel="next"' in response.headers["Link"]
    rest = client.get("/api/v1/units", params={"limit": 1000, "offset": 10}).json()
    assert "Link" not in client.get("/api/v1/units", params={"limit": 1000}).headers
    assert len(rest) == 45 - 10


def test_guide_items_per_domain(client: TestClient) -> None:
    guide = client.get("/api/v1/domains/08/guide-items").json()
    assert guide
    assert all(g["domain_code"] == "08" for g in guide)
    assert [g["position"] for g in guide] == sorted(g["position"] for g in guide)
    assert client.get("/api/v1/domains/99/guide-items").status_code == 404


def test_seed_twice_changes_nothing(session: Session) -> None:
    assert set(load(session).values()) == {0}


def test_reseeding_replaces_the_guide_and_leaves_editors_items_alone(
    client: TestClient, session: Session
) -> None:
    from app.models.guide import GuideItem
    from tests.factories import add_item

    editor = token(session, "editor", HULI)
    started = client.post(f"/api/v1/units/{HULI}/catalogues/08/from-guide", headers=editor)
    assert started.status_code == 200
    before = client.get(f"/api/v1/units/{HULI}/catalogues/08", headers=editor).json()["items"]
    add_item(client, editor, domain="08", first_level="征收", name="本区自加事项")
    old = GuideItem(domain_code="08", first_level="征收启动要件", name="旧的二级事项", position=99)
    session.add(old)
    session.flush()

    assert load(session)["guide_items"] == 1  # the item no longer in the file is gone
    assert session.get(GuideItem, old.id) is None
    names = [g["name"] for g in client.get("/api/v1/domains/08/guide-items").json()]
    assert "旧的二级事项" not in names
    after = client.get(f"/api/v1/units/{HULI}/catalogues/08", headers=editor).json()["items"]
    assert after[: len(before)] == before
    assert after[-1]["name"] == "本区自加事项"


def test_auditor_adds_a_26_plus_n_domain(client: TestClient, session: Session) -> None:
    body = {"code": "27", "name": "社会信用体系建设", "is_pilot": False}
    editor = token(session, "editor", HULI)
    assert client.post("/api/v1/domains", json=body, headers=editor).status_code == 403
    auditor = token(session, "auditor")
    response = client.post("/api/v1/domains", json=body, headers=auditor)
    assert response.status_code == 201
    assert client.post("/api/v1/domains", json=body, headers=auditor).status_code == 409
    assert client.get("/api/v1/domains").json()[-1]["name"] == "社会信用体系建设"


AUDITS = [
    "/api/v1/audit/completeness",
    "/api/v1/audit/timeliness",
    "/api/v1/audit/requests",
    "/api/v1/audit/annual-reports?year=2025",
    "/api/v1/milestones/compiled/status",
]


def test_the_same_bad_district_or_domain_is_the_same_422_everywhere(
    client: TestClient, session: Session
) -> None:
    auditor = token(session, "auditor")
    for url in AUDITS:
        response = client.get(url, params={"district": HULI_STREET}, headers=auditor)
        assert response.status_code == 422, url
        assert response.json()["detail"][0]["type"] == "unknown_district", url
        if "requests" in url or "annual" in url:
            continue  # these take no domain
        response = client.get(url, params={"domain": "99"}, headers=auditor)
        assert response.status_code == 422, url
        assert response.json()["detail"][0]["type"] == "unknown_domain", url


def test_a_district_editor_audits_only_its_district_on_both_registers(
    client: TestClient, session: Session
) -> None:
    street, district = token(session, "editor", HULI_STREET), token(session, "editor", HULI)
    for url in ("/api/v1/audit/timeliness", "/api/v1/audit/requests"):
        refused = client.get(url, headers=street)
        assert refused.status_code == 403, url
        assert "区编辑" in refused.json()["detail"], url
        assert client.get(url, params={"district": SIMING}, headers=district).status_code == 403
        assert client.get(url, headers=district).status_code == 200, url
