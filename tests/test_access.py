"""Every operation the app serves × every kind of caller: a new route cannot appear without
a decision about who may use it (add it to ACCESS), nor a write without a decision about
If-Match (add it to WRITES). Both lists are checked against the routes of the app itself,
pages included, not against the OpenAPI document a route may be hidden from."""

from typing import Any, NamedTuple

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app import auth
from app.models.common import Role
from app.models.guide import GuideItem
from tests.factories import (
    HULI,
    SIMING,
    add_item,
    add_opinion,
    add_request,
    report_body,
    token,
)

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
    "read_waiver": "reader",
    "put_waiver": "writer",
    "delete_waiver": "writer",
    "audit_completeness": "auditor",
    "audit_statistics": "auditor",
    "list_milestones": "public",
    "read_milestone": "public",
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


# Every write the app serves (POST, PUT, PATCH, DELETE; pages too) and its If-Match rule:
#   existing   a write to an existing resource: If-Match required, 428 without, 412 stale
#   upsert     a PUT that creates the resource when missing (no If-Match then); once it
#              exists, as `existing`
#   create     makes a new resource in a collection (or new records by key): nothing to match
#   catalogue  changes a unit × domain's catalogue, which always exists (an empty draft until
#              written): If-Match is optional and checked when sent (412); compile and publish
#              are refused in the wrong state (409) and the contract lets clients send them
#              without one
#   optional   If-Match checked when sent, not required (the reason is in the route's doc)
#   session    signs in or out of the dashboard (no resource)
WRITES: dict[str, str] = {
    "create_domain": "create",
    "create_unit": "create",
    "set_applicability": "catalogue",
    "create_item": "create",
    "compile_catalogue": "catalogue",
    "publish_catalogue": "catalogue",
    "correct_catalogue_dates": "existing",
    "update_item": "existing",
    "delete_item": "existing",
    "put_waiver": "upsert",
    "delete_waiver": "existing",
    "create_milestone": "create",
    "update_milestone": "existing",
    "create_opinion": "create",
    "update_opinion": "existing",
    "load_calendar": "upsert",
    "import_catalogue": "catalogue",
    "catalogue_from_guide": "catalogue",
    "create_records": "create",
    "delete_record": "optional",  # the record list gives no ETag; a CMS deletes by id
    "import_records": "create",
    "put_annual_report": "upsert",
    "publish_annual_report": "optional",  # an action, like a catalogue's publish
    "set_annual_report_due_date": "existing",
    "create_request": "create",
    "import_requests": "create",
    "add_request_event": "existing",
    "create_token": "create",
    "revoke_token": "existing",
    "dashboard_login": "session",
    "dashboard_logout": "session",
    "dashboard_import_preview": "catalogue",  # a dry run: changes nothing
    "dashboard_import_apply": "catalogue",
}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
BODIES: dict[str, Any] = {
    "put_waiver": {"reason": "不适用"},
    "load_calendar": {"source": "国务院办公厅通知", "holidays": ["2031-01-01"]},
    "put_annual_report": report_body(),
    "set_annual_report_due_date": {"due": "02-15"},
}
"""Valid bodies for the writes whose If-Match check follows the body's validation."""


class Route(NamedTuple):
    methods: set[str]
    path: str
    name: str
    documented: bool


def routes(client: TestClient) -> list[Route]:
    """Every API route of the app as it serves it (prefix included), documented or not."""
    app: FastAPI = client.app  # type: ignore[assignment]
    return [
        Route(set(route.methods or ()), str(route.path), str(route.name), route.include_in_schema)
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute)
    ]


def operations(client: TestClient) -> list[tuple[str, str, str]]:
    """(method, path, name) of every documented operation the app routes; the pages (cookie
    sessions, HTML forms) are only in WRITES."""
    return [
        (method, route.path, route.name)
        for route in routes(client)
        if route.documented
        for method in sorted(route.methods)
        if method != "HEAD"
    ]


def test_every_operation_has_an_access_decision(client: TestClient) -> None:
    served = {operation_id for _, _, operation_id in operations(client)}
    assert served - ACCESS.keys() == set(), "add the new operations to ACCESS"
    assert ACCESS.keys() - served == set(), "ACCESS names operations the app does not serve"
    spec = client.get("/openapi.json").json()
    documented = {
        op["operationId"] for methods in spec["paths"].values() for op in methods.values()
    }
    assert documented == served


def test_every_write_has_an_if_match_decision(client: TestClient) -> None:
    writes = {route.name for route in routes(client) if route.methods & WRITE_METHODS}
    assert writes - WRITES.keys() == set(), "add the new writes to WRITES"
    assert WRITES.keys() - writes == set(), "WRITES names writes the app does not serve"


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
    # the resources the upserts write exist, so that their If-Match rule is the existing one
    auditor = token(session, "auditor")
    loaded = client.put("/api/v1/calendar/2031", json=BODIES["load_calendar"], headers=auditor)
    assert loaded.status_code == 200, loaded.text
    guide = session.exec(
        select(GuideItem).where(GuideItem.domain_code == "01").order_by(col(GuideItem.id))
    ).first()
    assert guide is not None
    waived = client.put(
        f"/api/v1/units/{HULI}/catalogues/01/waivers/{guide.id}",
        json={"reason": "不适用"},
        headers=own,
    )
    assert waived.status_code == 200, waived.text
    report = client.put(
        f"/api/v1/units/{HULI}/annual-reports/2031", json=report_body(), headers=own
    )
    assert report.status_code == 201, report.text
    return {
        "unit_code": HULI,
        "domain_code": "01",
        "item_id": item["id"],
        "opinion_id": opinion["id"],
        "request_id": request["id"],
        "code": "compiled",
        "year": 2031,
        "version": 1,
        "guide_item_id": guide.id,
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


def test_every_write_to_an_existing_resource_needs_if_match(
    client: TestClient, session: Session, samples: dict[str, Any]
) -> None:
    """Issue 19.2: no lost updates. Each write marked existing or upsert (its resource made
    in `samples`) answers 428 without If-Match and 412 with a stale one, and changes nothing."""
    admin = token(session, "admin")
    wrong: list[str] = []
    for route in routes(client):
        if WRITES.get(route.name) not in ("existing", "upsert"):
            continue
        url = route.path.format(**samples)
        for method in route.methods & WRITE_METHODS:
            body = BODIES.get(route.name, {}) if method != "DELETE" else None
            for if_match, expected in ((None, 428), ('"stale.0"', 412)):
                headers = admin | ({"If-Match": if_match} if if_match else {})
                status = client.request(method, url, json=body, headers=headers).status_code
                if status != expected:
                    wrong.append(f"{method} {route.path} If-Match {if_match}: {status}")
    assert wrong == []
