"""The pages (/dashboard): sign-in, sessions and CSRF, scopes, and every figure equal to the
API's figure for the same query (the test reads both)."""

import io
import re
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook
from sqlmodel import Session, select

from app.auth import SESSION_COOKIE, hash_token
from app.models.common import utcnow
from app.models.dashboard import DashboardSession
from app.models.token import ApiToken
from tests.factories import (
    HULI,
    HULI_STREET,
    SIMING,
    SIMING_STREET,
    add_item,
    publish,
    report_body,
    token,
)
from tests.test_records import TWENTY_DAYS, push, record
from tests.test_request_audit import register

FIGURE = re.compile(r'data-figure="([^"]+)" data-value="([^"]*)"')
HIDDEN_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def secret_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def sign_in(client: TestClient, headers: dict[str, str]) -> str:
    """Sign in through the form as a browser does; the page CSRF token of the session."""
    form = client.get("/dashboard")
    assert form.status_code == 200
    login_csrf = HIDDEN_CSRF.search(form.text)
    assert login_csrf is not None
    response = client.post(
        "/dashboard/login",
        data={"token": secret_of(headers), "csrf": login_csrf.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"])
    assert page.status_code == 200, page.text
    found = HIDDEN_CSRF.search(page.text)
    assert found is not None
    return found.group(1)


def figures(html: str) -> dict[str, str]:
    return dict(FIGURE.findall(html))


@pytest.fixture
def street_editor(session: Session) -> dict[str, str]:
    return token(session, "editor", HULI_STREET)


def test_without_a_session_the_dashboard_is_a_sign_in_form(client: TestClient) -> None:
    response = client.get("/dashboard")
    assert response.status_code == 200
    assert 'name="token"' in response.text
    assert client.get("/dashboard/city", follow_redirects=False).headers["location"] == (
        "/dashboard"
    )


def test_sign_in_sets_an_httponly_strict_cookie_and_keeps_only_a_hash(
    client: TestClient, session: Session, auditor: dict[str, str]
) -> None:
    form = client.get("/dashboard")
    csrf = HIDDEN_CSRF.search(form.text)
    assert csrf is not None
    response = client.post(
        "/dashboard/login",
        data={"token": secret_of(auditor), "csrf": csrf.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/city"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)
    )
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Secure" not in cookie  # served over plain HTTP here
    session_id = cookie.split(";")[0].split("=", 1)[1]
    rows = session.exec(select(DashboardSession)).all()
    assert [row.session_hash for row in rows] == [hash_token(session_id)]
    assert all(session_id not in str(value) for value in rows[0].model_dump().values())


def test_over_https_the_session_cookie_is_secure(
    client: TestClient, auditor: dict[str, str]
) -> None:
    client.base_url = client.base_url.copy_with(scheme="https")
    form = client.get("/dashboard")
    csrf = HIDDEN_CSRF.search(form.text)
    assert csrf is not None
    response = client.post(
        "/dashboard/login",
        data={"token": secret_of(auditor), "csrf": csrf.group(1)},
        follow_redirects=False,
    )
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)
    )
    assert "Secure" in cookie


def test_a_bad_token_is_401_and_opens_no_session(client: TestClient, session: Session) -> None:
    form = client.get("/dashboard")
    csrf = HIDDEN_CSRF.search(form.text)
    assert csrf is not None
    response = client.post("/dashboard/login", data={"token": "gk_nope", "csrf": csrf.group(1)})
    assert response.status_code == 401
    assert "令牌无效" in response.text
    assert session.exec(select(DashboardSession)).all() == []


def test_sign_in_without_the_forms_csrf_token_is_403(
    client: TestClient, session: Session, auditor: dict[str, str]
) -> None:
    client.get("/dashboard")
    response = client.post("/dashboard/login", data={"token": secret_of(auditor), "csrf": "x"})
    assert response.status_code == 403
    assert session.exec(select(DashboardSession)).all() == []


def test_logout_ends_the_session_and_the_old_cookie_no_longer_works(
    client: TestClient, auditor: dict[str, str]
) -> None:
    csrf = sign_in(client, auditor)
    cookie = client.cookies[SESSION_COOKIE]
    assert client.get("/api/v1/audit/statistics").status_code == 200  # a GET rides the session
    response = client.post("/dashboard/logout", data={"csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303
    client.cookies.set(SESSION_COOKIE, cookie)  # a browser that kept it anyway
    page = client.get("/dashboard/city", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/dashboard"
    assert client.get("/api/v1/audit/statistics").status_code == 401


def test_every_post_form_needs_the_sessions_csrf_token(
    client: TestClient, editor: dict[str, str]
) -> None:
    sign_in(client, editor)
    assert client.post("/dashboard/logout", data={"csrf": "forged"}).status_code == 403
    assert client.post("/dashboard/logout").status_code == 403
    upload = client.post(
        f"/dashboard/units/{HULI}/import",
        data={"csrf": "forged", "domain": "01"},
        files={"file": ("a.csv", b"x", "text/csv")},
    )
    assert upload.status_code == 403
    apply = client.post(f"/dashboard/units/{HULI}/catalogues/01/apply", data={"csrf": "x"})
    assert apply.status_code == 403
    assert client.get(f"/dashboard/units/{HULI}").status_code == 200  # still signed in


def test_the_session_cookie_never_authorises_a_write(
    client: TestClient, editor: dict[str, str]
) -> None:
    sign_in(client, editor)
    response = client.post(
        f"/api/v1/units/{HULI}/catalogues/01/items",
        json={"first_level": "规划", "name": "规划许可"},
    )
    assert response.status_code == 401


def _age(session: Session, **ages: timedelta) -> None:
    row = session.exec(select(DashboardSession)).one()
    for name, age in ages.items():
        setattr(row, name, utcnow() - age)
    session.add(row)
    session.flush()


def test_a_session_idle_too_long_has_ended(
    client: TestClient, session: Session, auditor: dict[str, str]
) -> None:
    sign_in(client, auditor)
    _age(session, last_seen_at=timedelta(minutes=31))
    assert client.get("/dashboard/city", follow_redirects=False).status_code == 303


def test_a_session_in_use_still_ends_after_its_absolute_lifetime(
    client: TestClient, session: Session, auditor: dict[str, str]
) -> None:
    sign_in(client, auditor)
    _age(session, created_at=timedelta(hours=12, minutes=1), last_seen_at=timedelta(0))
    assert client.get("/dashboard/city", follow_redirects=False).status_code == 303


def test_revoking_the_token_ends_its_sessions(
    client: TestClient, session: Session, auditor: dict[str, str]
) -> None:
    sign_in(client, auditor)
    row = session.exec(
        select(ApiToken).where(ApiToken.token_hash == hash_token(secret_of(auditor)))
    ).one()
    row.revoked_at = utcnow()
    session.add(row)
    session.flush()
    assert client.get("/dashboard/city", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    ("role", "unit", "allowed", "refused"),
    [
        (
            "editor",
            HULI_STREET,
            [f"/dashboard/units/{HULI_STREET}"],
            [
                "/dashboard/city",
                f"/dashboard/districts/{HULI}",
                f"/dashboard/units/{HULI}",
                f"/dashboard/units/{SIMING_STREET}",
            ],
        ),
        (
            "editor",
            HULI,
            [f"/dashboard/districts/{HULI}", f"/dashboard/units/{HULI_STREET}"],
            ["/dashboard/city", f"/dashboard/districts/{SIMING}", f"/dashboard/units/{SIMING}"],
        ),
        (
            "auditor",
            None,
            [
                "/dashboard/city",
                f"/dashboard/districts/{SIMING}",
                f"/dashboard/units/{SIMING_STREET}",
            ],
            [],
        ),
    ],
)
def test_pages_have_the_apis_scopes(
    client: TestClient,
    session: Session,
    role: str,
    unit: str | None,
    allowed: list[str],
    refused: list[str],
) -> None:
    sign_in(client, token(session, role, unit))
    for path in allowed:
        assert client.get(path).status_code == 200, path
    for path in refused:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "text/html" in response.headers["content-type"]


def test_pages_load_nothing_from_elsewhere(client: TestClient, auditor: dict[str, str]) -> None:
    sign_in(client, auditor)
    page = client.get("/dashboard/city", params={"as_of": "2021-01-01"})
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    for reference in re.findall(r'(?:src|href)="([^"]+)"', page.text):
        assert reference.startswith(("/", "#")), reference
    for asset in ("/dashboard/static/dashboard.css", "/dashboard/static/sort.js"):
        assert client.get(asset).status_code == 200


def _completeness(client: TestClient, headers: dict[str, str], **params: str) -> dict[str, Any]:
    response = client.get(
        "/api/v1/audit/completeness", params={"limit": "1000", **params}, headers=headers
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def _state(row: dict[str, Any]) -> str:
    """A grid cell as docs/pages.md defines it from the row's dated fields (the seed's compile
    milestone is `compiled`)."""
    if not row["applicable"]:
        return "not_applicable"
    if row["published"] is not None:
        return "published"
    if row["status"] in ("compiled", "published"):
        entry = row["milestones"].get("compiled")
        return "draft" if entry and entry["state"] in ("pending", "overdue") else "compiled"
    return str(row["status"])


def _sample(client: TestClient, session: Session) -> dict[str, Any]:
    """湖里区 01 published on 2020-11-05, 02 a draft with an item lacking attributes; a street
    catalogue compiled; 思明区 03 not applicable. The item of 湖里区 01."""
    huli = token(session, "editor", HULI)
    first = add_item(client, huli, HULI, "01")
    publish(client, huli, HULI, "01")
    add_item(client, huli, HULI, "02", basis=None, time_limit=None)
    street = token(session, "editor", HULI_STREET)
    add_item(client, street, HULI_STREET, "01", levels=["乡级"])
    response = client.post(
        f"/api/v1/units/{HULI_STREET}/catalogues/01/compile",
        json={"compiled_on": "2020-10-25"},
        headers=street,
    )
    assert response.status_code == 200, response.text
    siming = token(session, "editor", SIMING)
    response = client.put(
        f"/api/v1/units/{SIMING}/catalogues/03/applicability",
        json={"applicable": False, "reason": "本区无此职能"},
        headers=siming,
    )
    assert response.status_code == 200, response.text
    return first


@pytest.mark.parametrize("as_of", ["2020-11-04", "2020-11-12", "2021-01-01"])
def test_every_figure_on_the_city_page_equals_the_apis(
    client: TestClient, session: Session, auditor: dict[str, str], as_of: str
) -> None:
    _sample(client, session)
    sign_in(client, auditor)
    page = client.get("/dashboard/city", params={"as_of": as_of})
    assert page.status_code == 200
    shown = figures(page.text)
    report = _completeness(client, auditor, as_of=as_of)
    expected: dict[str, str] = {}
    for row in report["rows"]:
        if row["unit_kind"] == "district":
            expected[f"cell:{row['unit_code']}:{row['domain_code']}"] = _state(row)
    for district in report["districts"]:
        code = district["district_code"]
        for name in ("rank", "score", "units", "district_score", "townships_score"):
            value = district[name]
            expected[f"rank:{code}:{name}"] = "None" if value is None else str(value)
        for name, value in district["components"].items():
            expected[f"rank:{code}:{name}"] = str(value)
        for milestone in client.get("/api/v1/milestones", headers=auditor).json():
            states = client.get(
                f"/api/v1/milestones/{milestone['code']}/status",
                params={"as_of": as_of, "district": code},
                headers=auditor,
            ).json()
            counted = Counter(s["state"] for s in states)
            if counted:
                for state in ("on_time", "late", "pending", "overdue"):
                    key = f"milestone:{code}:{milestone['code']}:{state}"
                    expected[key] = str(counted[state])
    assert {k: v for k, v in shown.items() if k.startswith(("cell:", "rank:", "milestone:"))} == (
        expected
    )
    assert any(k.startswith("milestone:") for k in shown)


def test_the_city_page_shows_the_city_as_it_stood_that_day(
    client: TestClient, session: Session, auditor: dict[str, str]
) -> None:
    _sample(client, session)
    sign_in(client, auditor)
    before = figures(client.get("/dashboard/city", params={"as_of": "2020-11-04"}).text)
    after = figures(client.get("/dashboard/city", params={"as_of": "2020-11-12"}).text)
    assert before[f"cell:{HULI}:01"] == "compiled"
    assert after[f"cell:{HULI}:01"] == "published"
    assert before[f"cell:{SIMING}:03"] == after[f"cell:{SIMING}:03"] == "not_applicable"


def test_every_figure_on_the_district_page_equals_the_apis(
    client: TestClient, session: Session, auditor: dict[str, str], editor: dict[str, str]
) -> None:
    _sample(client, session)
    sign_in(client, editor)  # the district editor sees the figures the auditor's API gives
    page = client.get(f"/dashboard/districts/{HULI}", params={"as_of": "2020-12-01"})
    shown = figures(page.text)
    report = _completeness(client, auditor, as_of="2020-12-01", district=HULI)
    for row in report["rows"]:
        assert shown[f"cell:{row['unit_code']}:{row['domain_code']}"] == _state(row)
    for unit in report["units"]:
        assert shown[f"score:{unit['unit_code']}:score"] == str(unit["score"])
        for component in unit["components"]:
            key = f"score:{unit['unit_code']}:{component['name']}"
            assert shown[key] == str(component["points"])
    counted: Counter[tuple[str, str, str]] = Counter(
        (row["unit_code"], code, entry["state"])
        for row in report["rows"]
        for code, entry in row["milestones"].items()
    )
    for key, value in shown.items():
        if key.startswith("milestone:"):
            _, unit_code, code, state = key.split(":")
            assert value == str(counted[(unit_code, code, state)]), key
    assert sum(int(v) for k, v in shown.items() if k.startswith("milestone:")) == sum(
        counted.values()
    )


def test_the_unit_page_lists_what_is_left_by_due_date_naming_items_and_attributes(
    client: TestClient, session: Session, auditor: dict[str, str], editor: dict[str, str]
) -> None:
    _sample(client, session)
    sign_in(client, editor)
    page = client.get(f"/dashboard/units/{HULI}", params={"as_of": "2020-10-01"}).text

    def table(name: str) -> str:
        start = page.index(f'id="{name}"')
        return str(page[start : page.index("</table>", start)])

    todo, lacking = table("todo"), table("lacking")
    dues = re.findall(r'<td class="date" data-sort="([0-9-]{10})">', todo)
    assert dues == sorted(dues)
    assert len(dues) >= 2  # compiled, published, completed still ahead on 2020-10-01
    assert "02 " in todo  # the draft's domain is open for them
    assert "公开依据、公开时限" in lacking  # the item, and the attributes it lacks
    # due by the earliest milestone still open for its catalogue: the first of the list
    assert re.findall(r'<td class="date" data-sort="([0-9-]{10})">', lacking) == [dues[0]]
    shown = figures(page)
    report = _completeness(client, auditor, as_of="2020-10-01", district=HULI)
    for row in report["rows"]:
        if row["unit_code"] == HULI:
            assert shown[f"items:{HULI}:{row['domain_code']}"] == str(row["items"])
            assert shown[f"lacking:{HULI}:{row['domain_code']}"] == str(row["lacking"])
    listed = client.get(f"/api/v1/units/{HULI}/catalogues").json()  # the link behind items
    assert {c["domain_code"]: str(c["item_count"]) for c in listed} == {
        k.split(":")[2]: v for k, v in shown.items() if k.startswith(f"items:{HULI}:")
    }


def _edited_draft(client: TestClient, unit: str, domain: str, names: list[str]) -> bytes:
    """The draft as the page offers it, with rows appended as a clerk would in Excel."""
    response = client.get(f"/dashboard/units/{unit}/catalogues/{domain}.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook.active
    assert sheet is not None
    template = [cell.value for cell in sheet[sheet.max_row]]
    for name in names:
        row = list(template)
        row[0] = (row[0] or 0) + 1 if isinstance(row[0], int) else row[0]
        row[2] = name
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_a_draft_downloads_as_the_editors_export(
    client: TestClient, editor: dict[str, str]
) -> None:
    add_item(client, editor, HULI, "01", name="控制性详细规划")
    sign_in(client, editor)
    page = client.get(f"/dashboard/units/{HULI}/catalogues/01.xlsx")
    api = client.get(f"/api/v1/units/{HULI}/catalogues/01", params={"format": "xlsx"})
    assert page.headers["content-disposition"] == api.headers["content-disposition"]

    def cells(data: bytes) -> list[tuple[Any, ...]]:
        sheet = load_workbook(io.BytesIO(data)).active
        assert sheet is not None
        return list(sheet.iter_rows(values_only=True))

    assert cells(page.content) == cells(api.content)
    assert any("控制性详细规划" in str(row) for row in cells(page.content))


def test_upload_shows_the_dry_run_then_one_button_applies_it(
    client: TestClient, session: Session, editor: dict[str, str]
) -> None:
    add_item(client, editor, HULI, "01", name="控制性详细规划")
    csrf = sign_in(client, editor)
    edited = _edited_draft(client, HULI, "01", ["建设工程规划许可", "乡村建设规划许可"])
    preview = client.post(
        f"/dashboard/units/{HULI}/import",
        data={"csrf": csrf, "domain": "01"},
        files={"file": ("edited.xlsx", edited, "application/octet-stream")},
    )
    assert preview.status_code == 200, preview.text
    shown = figures(preview.text)
    assert (shown["import:items"], shown["import:replaced"], shown["import:errors"]) == (
        "3",
        "1",
        "0",
    )
    assert "建设工程规划许可" in preview.text
    before = client.get(f"/api/v1/units/{HULI}/catalogues/01", headers=editor).json()
    assert len(before["items"]) == 1  # a dry run changes nothing
    applied = client.post(
        f"/dashboard/units/{HULI}/catalogues/01/apply", data={"csrf": csrf}, follow_redirects=False
    )
    assert applied.status_code == 303
    page = client.get(applied.headers["location"])
    assert f'data-figure="items:{HULI}:01" data-value="3"' in page.text
    assert 'id="imported"' in page.text
    again = client.post(f"/dashboard/units/{HULI}/catalogues/01/apply", data={"csrf": csrf})
    assert again.status_code == 409  # the file was applied once and forgotten


def test_a_file_with_errors_shows_them_and_offers_no_apply(
    client: TestClient, editor: dict[str, str]
) -> None:
    csrf = sign_in(client, editor)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["序号", "一级事项", "二级事项", "公开方式"])
    sheet.append([1, "规划", "规划许可", "随便"])
    out = io.BytesIO()
    workbook.save(out)
    preview = client.post(
        f"/dashboard/units/{HULI}/import",
        data={"csrf": csrf, "domain": "01"},
        files={"file": ("bad.xlsx", out.getvalue(), "application/octet-stream")},
    )
    assert preview.status_code == 200
    assert figures(preview.text)["import:errors"] != "0"
    assert 'id="apply"' not in preview.text
    assert client.post(
        f"/dashboard/units/{HULI}/catalogues/01/apply", data={"csrf": csrf}
    ).status_code == (409)


def test_only_a_writer_of_the_unit_may_upload(
    client: TestClient, session: Session, auditor: dict[str, str]
) -> None:
    csrf = sign_in(client, auditor)
    page = client.get(f"/dashboard/units/{HULI}")
    assert 'id="upload"' not in page.text
    response = client.post(
        f"/dashboard/units/{HULI}/import",
        data={"csrf": csrf, "domain": "01"},
        files={"file": ("a.csv", b"x", "text/csv")},
    )
    assert response.status_code == 403


# ------------------------------------------------------------------ the panels' figures

PANEL_DAY = "2021-01-25"


def _panel_sample(client: TestClient, session: Session) -> None:
    """On top of _sample: 湖里区 01's item has a record published late; 思明区 01 is published
    with an item that has no record (blank); requests open in 湖里区 and its street (one
    overdue, one due soon, one later on PANEL_DAY); 湖里区 filed its 2020 report on
    2021-01-20."""
    first = _sample(client, session)
    huli = token(session, "editor", HULI)
    late = record(first["id"], 1, formed_on="2020-11-06", published_on="2020-12-30")
    assert push(client, huli, [late]).status_code == 200
    siming = token(session, "editor", SIMING)
    add_item(client, siming, SIMING, "01", time_limit=TWENTY_DAYS)
    publish(client, siming, SIMING, "01")
    register(session, HULI, date(2020, 12, 1))
    register(session, HULI_STREET, date(2020, 12, 25))
    register(session, HULI_STREET, date(2021, 1, 20))
    response = client.put(
        f"/api/v1/units/{HULI}/annual-reports/2020", json=report_body("2019"), headers=huli
    )
    assert response.status_code in (200, 201), response.text
    response = client.post(
        f"/api/v1/units/{HULI}/annual-reports/2020/publish",
        json={"published_on": "2021-01-20", "url": "http://www.huli.gov.cn/ndbg/2020"},
        headers=huli,
    )
    assert response.status_code == 200, response.text


def _api(client: TestClient, headers: dict[str, str], path: str, **params: str) -> Any:
    response = client.get(f"/api/v1/audit/{path}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _timeliness_figures(report: dict[str, Any], code: str) -> dict[str, str]:
    """One line of the panel from the API's report: rows and units summed (a district's
    whole report on the city page, one unit's part on the district page)."""
    rows = [r for r in report["rows"] if code in (r["unit_code"], report["district"])]
    units = [u for u in report["units"] if code in (u["unit_code"], report["district"])]
    figures = {name: sum(r[name] for r in rows) for name in ("items", "records", "late")}
    figures |= {name: sum(u[name] for u in units) for name in ("blank", "stale")}
    figures["flagged"] = sum(1 for u in units if u["flagged"])
    return {f"timeliness:{code}:{k}": str(v) for k, v in figures.items()}


def _request_figures(report: dict[str, Any], code: str) -> dict[str, str]:
    units = [u for u in report["units"] if code in (u["unit_code"], report["district"])]
    return {
        f"requests:{code}:{name}": str(sum(u[name] for u in units))
        for name in ("open", "due_within_5", "overdue", "answered_late")
    }


def _only(shown: dict[str, str], *prefixes: str) -> dict[str, str]:
    return {k: v for k, v in shown.items() if k.startswith(prefixes)}


@pytest.mark.parametrize("as_of", ["2020-12-15", PANEL_DAY])
def test_the_city_pages_panels_equal_the_apis(
    client: TestClient, session: Session, auditor: dict[str, str], as_of: str
) -> None:
    _panel_sample(client, session)
    sign_in(client, auditor)
    shown = figures(client.get("/dashboard/city", params={"as_of": as_of}).text)
    districts = [
        d["district_code"] for d in _completeness(client, auditor, as_of=as_of)["districts"]
    ]
    expected: dict[str, str] = {}
    for code in districts:
        timely = _api(client, auditor, "timeliness", as_of=as_of, district=code, limit="1000")
        if timely["rows"]:
            expected |= _timeliness_figures(timely, code)
        asked = _api(client, auditor, "requests", as_of=as_of, district=code)
        if asked["units"]:
            expected |= _request_figures(asked, code)
        year = str(int(as_of[:4]) - 1)  # the report due in as_of's year
        filed = _api(client, auditor, "annual-reports", year=year, as_of=as_of, district=code)
        counted = Counter(u["state"] for u in filed["units"])
        for state in ("on_time", "late", "pending", "overdue"):
            expected[f"filing:{code}:{state}"] = str(counted[state])
        expected[f"filing:{code}:filed"] = str(counted["on_time"] + counted["late"])
        expected[f"filing:{code}:units"] = str(len(filed["units"]))
    assert _only(shown, "timeliness:", "requests:", "filing:") == expected
    if as_of == PANEL_DAY:
        assert shown[f"timeliness:{HULI}:late"] == "1"
        assert shown[f"timeliness:{SIMING}:blank"] == "1"
        assert shown[f"requests:{HULI}:open"] == "3"
        assert shown[f"requests:{HULI}:overdue"] == "1"
        assert shown[f"filing:{HULI}:on_time"] == "1"


def test_the_district_pages_panels_equal_the_apis(
    client: TestClient, session: Session, auditor: dict[str, str], editor: dict[str, str]
) -> None:
    _panel_sample(client, session)
    sign_in(client, auditor)
    page = client.get(f"/dashboard/districts/{HULI}", params={"as_of": PANEL_DAY}).text
    shown = figures(page)
    timely = _api(client, auditor, "timeliness", as_of=PANEL_DAY, district=HULI, limit="1000")
    asked = _api(client, auditor, "requests", as_of=PANEL_DAY, district=HULI)
    filed = _api(client, auditor, "annual-reports", year="2020", as_of=PANEL_DAY, district=HULI)
    expected: dict[str, str] = {}
    for unit in {r["unit_code"] for r in timely["rows"]}:
        expected |= _timeliness_figures(timely | {"district": None}, unit)
    for unit in asked["units"]:
        expected |= _request_figures(asked | {"district": None}, unit["unit_code"])
    for unit in filed["units"]:
        expected[f"filing:{unit['unit_code']}:state"] = unit["state"]
    assert _only(shown, "timeliness:", "requests:", "filing:") == expected
    assert shown[f"filing:{HULI}:state"] == "on_time"
    assert shown[f"requests:{HULI_STREET}:open"] == "2"
    # the district editor sees the same panels but filing (the annual-report audit is the
    # auditor's); the sign-out is on every page
    client.cookies.clear()
    sign_in(client, editor)
    page = client.get(f"/dashboard/districts/{HULI}", params={"as_of": PANEL_DAY}).text
    assert _only(figures(page), "timeliness:", "requests:") == _only(
        expected, "timeliness:", "requests:"
    )
    assert 'id="filing"' not in page


def test_the_unit_page_lists_requests_due_and_blank_and_stale_items_by_due_date(
    client: TestClient, session: Session, auditor: dict[str, str]
) -> None:
    _panel_sample(client, session)
    siming = token(session, "editor", SIMING)
    register(session, SIMING, date(2020, 12, 1))  # overdue on PANEL_DAY
    register(session, SIMING, date(2021, 1, 4))  # due 2021-02-01: 5 working days left
    register(session, SIMING, date(2021, 1, 22))  # later: not on the list
    sign_in(client, siming)
    page = client.get(f"/dashboard/units/{SIMING}", params={"as_of": PANEL_DAY}).text
    shown = figures(page)
    asked = _api(client, auditor, "requests", as_of=PANEL_DAY, district=SIMING)
    (row,) = [u for u in asked["units"] if u["unit_code"] == SIMING]
    for name in ("open", "due_within_5", "overdue"):
        assert shown[f"requests:{SIMING}:{name}"] == str(row[name])
    assert (row["open"], row["due_within_5"], row["overdue"]) == (3, 1, 1)
    timely = _api(client, auditor, "timeliness", as_of=PANEL_DAY, district=SIMING, limit="1000")
    mine = [r for r in timely["rows"] if r["unit_code"] == SIMING]
    assert shown[f"timeliness:{SIMING}:blank"] == str(sum(r["blank"] for r in mine)) == "1"
    assert shown[f"timeliness:{SIMING}:stale"] == str(sum(r["stale"] for r in mine))

    def table(name: str) -> str:
        start = page.index(f'id="{name}"')
        return str(page[start : page.index("</table>", start)])

    due = re.findall(r'<td class="date" data-sort="([0-9-]{10})">', table("requests-due"))
    assert len(due) == 2
    assert due == sorted(due)
    blank = mine[0]["blank_items"][0]
    assert blank["name"] in table("records-due")
    agenda = table("agenda")
    dates = re.findall(r'<td class="date" data-sort="([0-9-]{4,10})">', agenda)
    assert dates == sorted(dates)
    for kind in ("答复申请", "空白栏目", "节点"):
        assert kind in agenda


def test_the_403_page_offers_sign_out_and_the_way_back(
    client: TestClient, street_editor: dict[str, str]
) -> None:
    sign_in(client, street_editor)
    page = client.get(f"/dashboard/districts/{HULI}")
    assert page.status_code == 403
    assert 'id="error-logout"' in page.text
    assert f'href="/dashboard/units/{HULI_STREET}"' in page.text
    csrf = HIDDEN_CSRF.search(page.text)
    assert csrf is not None
    out = client.post("/dashboard/logout", data={"csrf": csrf.group(1)}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get(f"/dashboard/units/{HULI_STREET}", follow_redirects=False).status_code == 303
