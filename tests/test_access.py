"""Every operation the app serves × every kind of caller: a new route cannot appear without
a decision about who may use it (add it to ACCESS)."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import auth
from app.models.common import Role
from tests.factories import HULI, SIMING, add_item, add_opinion, add_request, token

# operationId → who may call it:
#   public   anyone, no token
#   reader   editors in scope, auditors, admins
#   writer   editors in scope, admins
#   auditor  auditors, admins
#   admin    admins only
#   token    any valid token; the unit scope is checked against the body or narrows the list
#   recorder editors in scope, auditors, admins (writes an auditor may also make)
ACCESS: dict[str, str] = {
    "health": "public",
    "list_domains": "public",
    "create_domain": "auditor",
    "list_guide_items": "public",
    "list_units": "public",
    "read_unit": "public",
    "create_unit": "admin",
    "list_catalogues": "reader",
    "read_catalogue": "reader",
    "list_items": "reader",
    "catalogue_history": "reader",
    "set_applicability": "writer",
    "create_item": "writer",
    "compile_catalogue": "writer",
    "publish_catalogue": "writer",
    "read_item": "reader",
    "update_item": "writer",
    "delete_item": "writer",
    "list_waivers": "reader",
    "put_waiver": "writer",
    "delete_waiver": "writer",
    "audit_completeness": "auditor",
    "audit_statistics": "auditor",
    "list_milestones": "public",
    "create_milestone": "auditor",
    "update_milestone": "auditor",
    "milestone_status": "auditor",
    "create_opinion": "token",
    "list_opinions": "token",
    "read_opinion": "recorder",
    "update_opinion": "recorder",
    "evaluate_time_limit": "public",
    "read_calendar": "public",
    "load_calendar": "auditor",
    "correct_catalogue_dates": "auditor",
    "import_catalogue": "writer",
    "catalogue_from_guide": "writer",
    "read_published_catalogues": "public",
    "read_published_catalogue": "public",
    "list_published_changes": "public",
    "create_records": "writer",
    "list_records": "reader",
    "delete_record": "writer",
    "import_records": "writer",
    # district editors get their own district (the other editor here is a district's too)
    "audit_timeliness": "token",
    "read_published_records": "public",
    "put_annual_report": "writer",
    "read_annual_report": "reader",
    "annual_report_draft": "reader",
    "publish_annual_report": "writer",
    "annual_report_history": "reader",
    "read_published_annual_report": "public",
    "list_annual_report_due_dates": "public",
    "read_annual_report_due_date": "public",
    "set_annual_report_due_date": "auditor",
    "audit_annual_reports": "auditor",
    "create_request": "writer",
    "list_requests": "reader",
    "request_table_three": "reader",
    "import_requests": "writer",
    "read_request": "reader",
    "add_request_event": "writer",
    "audit_requests": "token",  # auditors; a district's editors for their own district
    "list_tokens": "admin",
    "create_token": "admin",
    "read_token": "admin",
    "revoke_token": "admin",
}

ALLOWED: dict[str, set[str]] = {
    "public": {"anonymous", "editor_own", "editor_other", "auditor", "admin"},
    "reader": {"editor_own", "auditor", "admin"},
    "writer": {"editor_own", "admin"},
    "auditor": {"auditor", "admin"},
    "admin": {"admin"},
    "token": {"editor_own", "editor_other", "auditor", "admin"},
    "recorder": {"editor_own", "auditor", "admin"},
}
HIDDEN = {"read_item", "update_item", "delete_item"}
"""Another unit's item answers 404 as a missing id does, so ids do not leak across units."""
CALLERS = ("anonymous", "editor_other", "auditor", "editor_own", "admin")


def operations(client: TestClient) -> list[tuple[str, str, str]]:
    spec = client.get("/openapi.json").json()
    return [
        (method.upper(), path, operation["operationId"])
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
    ]


def test_every_operation_has_an_access_decision(client: TestClient) -> None:
    served = {operation_id for _, _, operation_id in operations(client)}
    assert served - ACCESS.keys() == set(), "add the new operations to ACCESS"
    assert ACCESS.keys() - served == set(), "ACCESS names operations the app does not serve"


@pytest.fixture
def samples(client: TestClient, session: Session) -> dict[str, Any]:
    """Path values that exist, so an allowed caller meets a real resource."""
    own = token(session, "editor", HULI)
    item = add_item(client, own)
    opinion = add_opinion(client, own)
    saved = client.post(
        f"/api/v1/units/{HULI}/records",
        json={
            "records": [
                {
                    "item_id": item["id"],
                    "title": "批复",
                    "url": "http://www.huli.gov.cn/a.html",
                    "formed_on": "2020-09-28",
                    "published_on": "2020-10-30",
                }
            ]
        },
        headers=own,
    )
    assert saved.status_code == 200, saved.text
    request = add_request(client, own)
    spare = auth.create_token(session, role=Role.auditor, label="to revoke")[0]
    return {
        "unit_code": HULI,
        "domain_code": "01",
        "item_id": item["id"],
        "opinion_id": opinion["id"],
        "request_id": request["id"],
        "code": "compiled",
        "year": 2031,
        "version": 1,
        "guide_item_id": 1,
        "record_id": saved.json()["records"][0]["id"],
        "kind": "street",
        "token_id": spare.id,
    }


def test_each_caller_gets_what_its_role_allows(
    client: TestClient, session: Session, samples: dict[str, Any]
) -> None:
    headers: dict[str, dict[str, str]] = {
        "anonymous": {},
        "editor_own": token(session, "editor", HULI),
        "editor_other": token(session, "editor", SIMING),
        "auditor": token(session, "auditor"),
        "admin": token(session, "admin"),
    }
    wrong: list[str] = []
    for method, path, operation_id in operations(client):
        url = path.format(**samples)
        allowed = ALLOWED[ACCESS.get(operation_id, "admin")]
        for caller in CALLERS:
            kwargs: dict[str, Any] = {"headers": headers[caller]}
            if method in ("POST", "PUT", "PATCH"):
                kwargs["json"] = {}  # an empty body: authorised callers get 422, nothing changes
            status = client.request(method, url, **kwargs).status_code
            if caller in allowed:
                ok = status not in (401, 403) and status < 500
            elif caller == "editor_other" and operation_id in HIDDEN:
                ok = status == 404
            else:
                ok = status == (401 if caller == "anonymous" else 403)
            if not ok:
                wrong.append(f"{method} {path} as {caller}: {status}")
    assert wrong == []
