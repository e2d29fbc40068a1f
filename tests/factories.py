"""Plain functions that make valid things with unique defaults."""

import itertools
import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from app import auth
from app.models.common import Role, UnitKind
from app.models.unit import Unit

HULI = "350206"  # 湖里区
HULI_STREET = "350206001"  # 湖里街道
SIMING = "350203"  # 思明区
SIMING_STREET = "350203001"
CITY = "350200"
FIXTURES = Path(__file__).parent / "fixtures"

_counter = itertools.count(1)


def token(session: Session, role: str, unit: str | None = None) -> dict[str, str]:
    _, secret = auth.create_token(session, role=Role(role), unit_code=unit)
    return {"Authorization": f"Bearer {secret}"}


def item_body(**overrides: Any) -> dict[str, Any]:
    n = next(_counter)
    body: dict[str, Any] = {
        "first_level": "批准服务信息",
        "name": f"办事指南{n}",
        "content": "申报材料清单、批准流程、办理时限",
        "basis": "《中华人民共和国政府信息公开条例》",
        "time_limit": "信息形成或变更之日起20个工作日内",
        "responsible_body": "区发展改革局",
        "method": "主动",
        "channels": ["政府网站", "政务服务中心"],
        "audience": "全社会",
        "levels": ["县级"],
    }
    body.update(overrides)
    return body


def add_item(
    client: TestClient,
    headers: dict[str, str],
    unit: str = HULI,
    domain: str = "01",
    **overrides: Any,
) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/units/{unit}/catalogues/{domain}/items",
        json=item_body(**overrides),
        headers=headers,
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    data["etag"] = response.headers["ETag"]
    return data


def publish(
    client: TestClient,
    headers: dict[str, str],
    unit: str = HULI,
    domain: str = "01",
    *,
    compiled_on: str = "2020-10-20",
    published_on: str = "2020-11-05",
) -> int:
    base = f"/api/v1/units/{unit}/catalogues/{domain}"
    response = client.post(f"{base}/compile", json={"compiled_on": compiled_on}, headers=headers)
    assert response.status_code == 200, response.text
    response = client.post(
        f"{base}/publish",
        json={"published_on": published_on, "url": f"http://www.xm.gov.cn/{unit}/{domain}"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    version: int = response.json()["version"]
    return version


def opinion_body(**overrides: Any) -> dict[str, Any]:
    n = next(_counter)
    body: dict[str, Any] = {
        "domain_code": "01",
        "issuer_unit_code": HULI,
        "title": f"湖里区城乡规划领域基层政务公开标准目录落实意见{n}",
        "doc_number": f"厦湖政办〔2020〕{n}号",
        "issued_on": "2020-07-20",
        "url": f"http://www.huli.gov.cn/opinions/{n}",
    }
    body.update(overrides)
    return body


def add_opinion(client: TestClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = client.post("/api/v1/opinions", json=opinion_body(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    data["etag"] = response.headers["ETag"]
    return data


def make_unit(session: Session, *, kind: str, parent_code: str | None, **overrides: Any) -> Unit:
    """A unit with a unique test code (T…, wiped by the `committed` fixture)."""
    n = next(_counter)
    fields: dict[str, Any] = {"code": f"T{n:06d}", "name": f"测试单位{n}"} | overrides
    unit = Unit(kind=UnitKind(kind), parent_code=parent_code, **fields)
    session.add(unit)
    session.flush()
    return unit


SEED_REPORTS = (
    "000_xiamen_city_2020",
    "001_huli_district_2020",
    "002_haicang_hr_bureau_2020",
    "004_shishi_city_2020",
)
"""The four 2020 annual reports' tables, typed in from the published texts."""


def seed_report(name: str) -> dict[str, Any]:
    """A seed report as fixture data: `unit`, `year` and the PUT body under `body`."""
    raw = json.loads((FIXTURES / "annual_reports" / f"{name}.json").read_text("utf-8"))

    def rows(table: dict[str, list[int]], columns: list[str]) -> dict[str, dict[str, int]]:
        return {row: dict(zip(columns, values, strict=True)) for row, values in table.items()}

    body = {
        "template": raw["template"],
        "active": raw["active"],
        "requests": rows(raw["requests"], raw["requests_columns"]),
        "reviews": rows(raw["reviews"], raw["reviews_columns"]),
    }
    return {"unit": raw["unit"], "year": raw["year"], "body": body, "raw": raw}


def report_body(template: str = "2021", **overrides: Any) -> dict[str, Any]:
    """A balanced report: 5 received (4 natural, 1 business), 1 carried in, 5 answered,
    1 carried out; one review upheld."""
    requests = {
        "received": {"natural": 4, "business": 1, "total": 5},
        "carried_in": {"natural": 1, "total": 1},
        "granted": {"natural": 3, "total": 3},
        "unable_not_held": {"natural": 1, "business": 1, "total": 2},
        "total": {"natural": 4, "business": 1, "total": 5},
        "carried_out": {"natural": 1, "total": 1},
    }
    body: dict[str, Any] = {
        "template": template,
        "active": {"regulations": {"made" if template == "2019" else "issued": 2}},
        "requests": requests,
        "reviews": {"review": {"upheld": 1, "total": 1}},
    }
    body.update(overrides)
    return body


def request_body(**overrides: Any) -> dict[str, Any]:
    """An application for disclosure as a clerk registers it (no names, no contacts)."""
    body: dict[str, Any] = {
        "received_on": "2020-09-25",
        "channel": "网络",
        "applicant_type": "natural",
        "summary": "申请公开某地块征收补偿方案",
    }
    body.update(overrides)
    return body


def add_request(
    client: TestClient, headers: dict[str, str], unit: str = HULI, **overrides: Any
) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/units/{unit}/requests", json=request_body(**overrides), headers=headers
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    data["etag"] = response.headers["ETag"]
    return data
